-- reporting.rpt_revenue_by_country: monthly revenue with one column per shop country
-- (PIVOT). The column list follows the DAG's countries.
-- Airflow: dag=acme_reporting_daily, task=build_rpt_revenue_by_country

CREATE OR REPLACE TABLE `{{ params.project }}.{{ params.report_dataset }}.rpt_revenue_by_country` AS
SELECT *
FROM (
  SELECT
    FORMAT_DATE('%Y-%m', order_date) AS year_month,
    LOWER(country_code) AS country,
    gross_amount_usd
  FROM `{{ params.project }}.marts.fct_orders`
  WHERE status = 'completed'
    AND order_date >= DATE_TRUNC(DATE_SUB(DATE '{{ ds }}', INTERVAL 24 MONTH), MONTH)
)
PIVOT (
  SUM(gross_amount_usd) AS revenue_usd
  FOR country IN ({% for country in params.countries %}'{{ country }}'{% if not loop.last %}, {% endif %}{% endfor %})
)
ORDER BY year_month;
