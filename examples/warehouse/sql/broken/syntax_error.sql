-- DELIBERATELY BROKEN (example of a parse error for the demo's error page).
-- A closing parenthesis is missing after COUNT(DISTINCT order_id on line 12:
-- `lineage check` must report this file with kind=parse and line 12, and the
-- build must carry on with every other file.
-- Airflow: not scheduled (kept out of every DAG)

CREATE OR REPLACE TABLE `{{ params.project }}.marts.customer_monthly_orders` AS
SELECT
  customer_id,
  FORMAT_DATE('%Y-%m', order_date) AS year_month,
  COUNT(*) AS order_lines,
  COUNT(DISTINCT order_id AS orders,
  SUM(gross_amount_usd) AS revenue_usd
FROM `{{ params.project }}.marts.fct_orders`
WHERE order_date >= DATE_SUB(DATE '{{ ds }}', INTERVAL 12 MONTH)
GROUP BY customer_id, year_month;
