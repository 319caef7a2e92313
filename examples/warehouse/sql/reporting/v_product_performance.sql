-- reporting.v_product_performance: sales, margin and return rate per product and month.
-- Airflow: dag=acme_reporting_deploy, task=deploy_v_product_performance

CREATE OR REPLACE VIEW `{{ params.project }}.{{ params.report_dataset }}.v_product_performance` AS
WITH returns AS (
  SELECT sku, FORMAT_DATE('%Y-%m', return_date) AS year_month, SUM(quantity) AS units_returned
  FROM `{{ params.project }}.staging.stg_returns`
  GROUP BY sku, year_month
)
SELECT
  p.product_id,
  p.sku,
  p.product_name,
  p.category,
  p.brand,
  FORMAT_DATE('%Y-%m', i.order_date) AS year_month,
  SUM(i.quantity) AS units_sold,
  SUM(i.line_amount_usd) AS revenue_usd,
  SUM(i.line_margin_usd) AS margin_usd,
  SAFE_DIVIDE(ANY_VALUE(r.units_returned), SUM(i.quantity)) AS return_rate
FROM `{{ params.project }}.marts.fct_order_items` AS i
JOIN `{{ params.project }}.marts.dim_products` AS p
  USING (product_id)
LEFT JOIN returns AS r
  ON r.sku = p.sku AND r.year_month = FORMAT_DATE('%Y-%m', i.order_date)
GROUP BY p.product_id, p.sku, p.product_name, p.category, p.brand, year_month;
