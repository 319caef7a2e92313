-- marts.dim_products: product dimension. Stock columns start empty and are filled
-- by marts/dim_products_stock.sql once the inventory snapshot has landed.
-- Airflow: dag=acme_marts_daily, task=build_dim_products

CREATE OR REPLACE TABLE `{{ params.project }}.marts.dim_products`
CLUSTER BY category
AS
SELECT
  p.product_id,
  p.sku,
  p.product_name,
  p.category,
  p.subcategory,
  p.brand,
  p.list_price,
  p.unit_cost,
  p.gross_margin_pct,
  p.margin_band,
  CAST(NULL AS INT64) AS quantity_available,
  CAST(NULL AS TIMESTAMP) AS stock_snapshot_at,
  CURRENT_TIMESTAMP() AS built_at
FROM `{{ params.project }}.staging.stg_products` AS p;
