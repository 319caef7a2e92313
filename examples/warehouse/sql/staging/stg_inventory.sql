-- staging.stg_inventory: stock on hand of every warehouse country in one table.
-- The per-country tables are written by raw/inventory.sql; the list of countries
-- comes from the DAG's params, so adding a country needs no SQL change.
-- Airflow: dag=acme_staging_daily, task=build_stg_inventory

CREATE OR REPLACE TABLE `{{ params.project }}.staging.stg_inventory` AS
WITH stock AS (
  {%- for country in params.countries %}
  SELECT '{{ country }}' AS warehouse_country, product_id, sku, warehouse_code,
         quantity_on_hand, quantity_reserved, snapshot_at
  FROM `{{ params.project }}.raw.inventory_{{ country }}`
  {%- if not loop.last %}
  UNION ALL
  {%- endif %}
  {%- endfor %}
)
SELECT
  product_id,
  sku,
  warehouse_country,
  SUM(quantity_on_hand) AS quantity_on_hand,
  SUM(quantity_on_hand - quantity_reserved) AS quantity_available,
  MAX(snapshot_at) AS snapshot_at
FROM stock
GROUP BY product_id, sku, warehouse_country;
