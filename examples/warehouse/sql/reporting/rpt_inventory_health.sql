-- reporting.rpt_inventory_health: days of cover per product (stock / 28-day sales rate),
-- to spot stock-outs before they happen.
-- Airflow: dag=acme_reporting_daily, task=build_rpt_inventory_health

CREATE OR REPLACE TABLE `{{ params.project }}.{{ params.report_dataset }}.rpt_inventory_health` AS
WITH sales_28d AS (
  SELECT product_id, SUM(quantity) / 28 AS units_per_day
  FROM `{{ params.project }}.marts.fct_order_items`
  WHERE order_date > DATE_SUB(DATE '{{ ds }}', INTERVAL 28 DAY)
  GROUP BY product_id
)
SELECT
  p.product_id,
  p.sku,
  p.product_name,
  p.category,
  p.margin_band,
  p.quantity_available,
  s.units_per_day,
  SAFE_DIVIDE(p.quantity_available, s.units_per_day) AS days_of_cover,
  CASE
    WHEN p.quantity_available <= 0 THEN 'out_of_stock'
    WHEN SAFE_DIVIDE(p.quantity_available, s.units_per_day) < 7 THEN 'reorder_now'
    WHEN SAFE_DIVIDE(p.quantity_available, s.units_per_day) < 21 THEN 'watch'
    ELSE 'healthy'
  END AS stock_status
FROM `{{ params.project }}.marts.dim_products` AS p
LEFT JOIN sales_28d AS s USING (product_id);
