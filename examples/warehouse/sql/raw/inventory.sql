-- raw.inventory_<country>: the WMS stock feed holds every warehouse in one table;
-- downstream jobs (and the per-country ops teams) read one table per country.
-- Airflow: dag=acme_raw_daily, task=split_raw_inventory
{% for country in params.countries %}
CREATE OR REPLACE TABLE `{{ params.project }}.raw.inventory_{{ country }}`
OPTIONS (description = 'Stock on hand per SKU, warehouse country {{ country | upper }}')
AS
SELECT
  CAST(l.article_id AS STRING) AS product_id,
  l.sku,
  l.warehouse_code,
  l.qty_on_hand AS quantity_on_hand,
  l.qty_reserved AS quantity_reserved,
  l.snapshot_ts AS snapshot_at
FROM `{{ params.landing_project }}.landing.wms_stock_levels` AS l
WHERE l.country_code = '{{ country | upper }}'
  AND DATE(l.snapshot_ts) = DATE '{{ ds }}';
{% endfor %}
