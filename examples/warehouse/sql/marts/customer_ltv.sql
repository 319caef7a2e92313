-- marts.customer_ltv: lifetime value per customer.
-- Two steps: marts.customer_order_summary is a persistent table (other teams query it),
-- written first and then read by the second statement.
-- Airflow: dag=acme_marts_daily, task=build_customer_ltv

CREATE OR REPLACE TABLE `{{ params.project }}.marts.customer_order_summary` AS
SELECT
  customer_id,
  COUNT(*) AS orders,
  COUNTIF(is_returned) AS returned_orders,
  SUM(gross_amount_usd) AS revenue_usd,
  SUM(gross_amount_usd - cost_usd) AS margin_usd,
  MIN(order_date) AS first_order_date,
  MAX(order_date) AS last_order_date,
  DATE_DIFF(MAX(order_date), MIN(order_date), DAY) AS tenure_days
FROM `{{ params.project }}.marts.fct_orders`
WHERE status = 'completed'
GROUP BY customer_id;

CREATE OR REPLACE TABLE `{{ params.project }}.marts.customer_ltv` AS
SELECT
  s.customer_id,
  c.sales_region,
  c.customer_segment,
  s.orders,
  s.revenue_usd,
  s.margin_usd,
  SAFE_DIVIDE(s.revenue_usd, s.orders) AS avg_order_value_usd,
  -- simple 3-year projection: margin per active month times 36
  ROUND(SAFE_DIVIDE(s.margin_usd, GREATEST(s.tenure_days / 30.4, 1)) * 36, 2) AS ltv_3y_usd,
  NTILE(10) OVER (ORDER BY s.margin_usd DESC) AS value_decile
FROM `{{ params.project }}.marts.customer_order_summary` AS s
JOIN `{{ params.project }}.marts.dim_customers` AS c
  USING (customer_id)
WHERE NOT c.is_employee;
