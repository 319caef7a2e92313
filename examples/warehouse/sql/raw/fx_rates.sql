-- raw.fx_rates: daily ECB reference rates, pivoted to "1 unit of currency = x USD".
-- ECB publishes EUR-based rates only on TARGET business days; weekends carry Friday's rate
-- forward (LAST_VALUE ... IGNORE NULLS over a generated calendar).
-- Airflow: dag=acme_raw_daily, task=build_raw_fx_rates

CREATE OR REPLACE TABLE `{{ params.project }}.raw.fx_rates` AS
WITH calendar AS (
  SELECT rate_date
  FROM UNNEST(GENERATE_DATE_ARRAY(DATE '2020-01-01', DATE '{{ ds }}')) AS rate_date
),
ecb AS (
  SELECT
    r.rate_date,
    r.currency,
    r.rate_per_eur,
    usd.rate_per_eur AS usd_per_eur
  FROM `{{ params.landing_project }}.landing.ecb_fx_rates` AS r
  JOIN `{{ params.landing_project }}.landing.ecb_fx_rates` AS usd
    ON usd.rate_date = r.rate_date AND usd.currency = 'USD'
),
currencies AS (
  SELECT DISTINCT currency FROM ecb
  UNION DISTINCT
  SELECT 'EUR'
)
SELECT
  c.rate_date,
  cur.currency,
  LAST_VALUE(
    CASE WHEN cur.currency = 'EUR' THEN e_usd.usd_per_eur ELSE e.usd_per_eur / e.rate_per_eur END
    IGNORE NULLS
  ) OVER (PARTITION BY cur.currency ORDER BY c.rate_date) AS usd_per_unit
FROM calendar AS c
CROSS JOIN currencies AS cur
LEFT JOIN ecb AS e ON e.rate_date = c.rate_date AND e.currency = cur.currency
LEFT JOIN (SELECT DISTINCT rate_date, usd_per_eur FROM ecb) AS e_usd ON e_usd.rate_date = c.rate_date;
