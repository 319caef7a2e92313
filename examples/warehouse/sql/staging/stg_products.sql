-- staging.stg_products: active catalogue with a margin band for merchandising.
-- Airflow: dag=acme_staging_daily, task=deploy_stg_products

CREATE OR REPLACE VIEW `{{ params.project }}.staging.stg_products` AS
SELECT
  p.product_id,
  p.sku,
  p.product_name,
  p.category,
  p.subcategory,
  p.brand,
  p.unit_cost,
  p.list_price,
  SAFE_DIVIDE(p.list_price - p.unit_cost, p.list_price) AS gross_margin_pct,
  CASE
    WHEN SAFE_DIVIDE(p.list_price - p.unit_cost, p.list_price) >= 0.6 THEN 'high'
    WHEN SAFE_DIVIDE(p.list_price - p.unit_cost, p.list_price) >= 0.3 THEN 'mid'
    ELSE 'low'
  END AS margin_band
FROM `{{ params.project }}.raw.products` AS p
WHERE p.is_active;
