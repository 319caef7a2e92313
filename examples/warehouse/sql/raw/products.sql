-- raw.products: full daily refresh of the ERP product master.
-- TRUNCATE + INSERT (not CREATE OR REPLACE) keeps the table's schema, policy tags and ACLs.
-- Airflow: dag=acme_raw_daily, task=load_raw_products

TRUNCATE TABLE `{{ params.project }}.raw.products`;

INSERT INTO `{{ params.project }}.raw.products` (
  product_id,
  sku,
  product_name,
  category,
  subcategory,
  brand,
  unit_cost,
  list_price,
  currency,
  is_active,
  _loaded_at
)
SELECT
  CAST(p.article_id AS STRING) AS product_id,
  p.sku,
  p.description AS product_name,
  p.category_l1 AS category,
  p.category_l2 AS subcategory,
  p.brand,
  SAFE_CAST(p.standard_cost AS NUMERIC) AS unit_cost,
  SAFE_CAST(p.list_price AS NUMERIC) AS list_price,
  p.currency,
  p.lifecycle_status IN ('ACTIVE', 'PHASE_OUT') AS is_active,
  CURRENT_TIMESTAMP() AS _loaded_at
FROM `{{ params.landing_project }}.landing.erp_products` AS p
WHERE p.sku IS NOT NULL;
