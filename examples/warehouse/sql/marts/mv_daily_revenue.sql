-- marts.mv_daily_revenue: revenue per day and country, kept fresh by BigQuery itself
-- (materialized view with automatic refresh every 30 minutes).
-- Airflow: dag=acme_marts_deploy, task=deploy_mv_daily_revenue

CREATE MATERIALIZED VIEW IF NOT EXISTS `{{ params.project }}.marts.mv_daily_revenue`
PARTITION BY order_date
OPTIONS (enable_refresh = true, refresh_interval_minutes = 30)
AS
SELECT
  order_date,
  country_code,
  COUNT(*) AS orders,
  SUM(gross_amount_usd) AS revenue_usd,
  SUM(cost_usd) AS cost_usd,
  COUNTIF(is_first_order) AS first_orders
FROM `{{ params.project }}.marts.fct_orders`
WHERE status = 'completed'
GROUP BY order_date, country_code;
