-- reporting.rpt_daily_revenue: revenue, spend and marketing efficiency per day,
-- the base of the executive dashboard and of the finance export.
-- Airflow: dag=acme_reporting_daily, task=build_rpt_daily_revenue

CREATE OR REPLACE TABLE `{{ params.project }}.{{ params.report_dataset }}.rpt_daily_revenue`
PARTITION BY date_day
AS
WITH revenue AS (
  SELECT order_date, SUM(orders) AS orders, SUM(revenue_usd) AS revenue_usd,
         SUM(cost_usd) AS cost_usd, SUM(first_orders) AS first_orders
  FROM `{{ params.project }}.marts.mv_daily_revenue`
  GROUP BY order_date
),
spend AS (
  SELECT spend_date, SUM(spend_usd) AS spend_usd
  FROM `{{ params.project }}.marts.fct_marketing_spend`
  GROUP BY spend_date
)
SELECT
  d.date_day,
  d.fiscal_year,
  d.year_month,
  d.is_weekend,
  IFNULL(r.orders, 0) AS orders,
  IFNULL(r.revenue_usd, 0) AS revenue_usd,
  IFNULL(r.revenue_usd - r.cost_usd, 0) AS gross_margin_usd,
  IFNULL(s.spend_usd, 0) AS marketing_spend_usd,
  SAFE_DIVIDE(s.spend_usd, r.first_orders) AS cac_usd,
  SUM(IFNULL(r.revenue_usd, 0)) OVER (
    PARTITION BY d.year_month ORDER BY d.date_day
  ) AS revenue_month_to_date_usd
FROM `{{ params.project }}.marts.dim_date` AS d
LEFT JOIN revenue AS r ON r.order_date = d.date_day
LEFT JOIN spend AS s ON s.spend_date = d.date_day
WHERE d.date_day BETWEEN DATE '2024-04-01' AND DATE '{{ ds }}';
