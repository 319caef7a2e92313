-- raw.shipments: the warehouse management system lands one table per country
-- (wms_shipments_jp, wms_shipments_us, ...). Union the shards into one table.
-- Airflow: dag=acme_raw_daily, task=load_raw_shipments

CREATE OR REPLACE TABLE `{{ params.project }}.raw.shipments`
PARTITION BY ship_date
CLUSTER BY order_id
AS
{% for country in params.countries %}
SELECT
  '{{ country }}' AS warehouse_country,
  CAST(s.shipment_id AS STRING) AS shipment_id,
  CAST(s.order_ref AS STRING) AS order_id,
  s.carrier,
  s.tracking_number,
  DATE(s.shipped_ts) AS ship_date,
  s.shipped_ts AS shipped_at,
  s.delivered_ts AS delivered_at,
  s.status
FROM `{{ params.landing_project }}.landing.wms_shipments_{{ country }}` AS s
WHERE DATE(s.shipped_ts) >= DATE_SUB(DATE '{{ ds }}', INTERVAL 400 DAY)
{% if not loop.last %}UNION ALL{% endif %}
{% endfor %};
