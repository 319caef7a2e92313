-- staging.stg_shipments: one row per order with its first shipment and delivery times.
-- Airflow: dag=acme_staging_daily, task=build_stg_shipments

CREATE OR REPLACE TABLE `{{ params.project }}.staging.stg_shipments`
CLUSTER BY order_id
AS
SELECT
  s.order_id,
  s.warehouse_country,
  s.carrier,
  MIN(s.shipped_at) AS shipped_at,
  MAX(s.delivered_at) AS delivered_at,
  COUNT(DISTINCT s.shipment_id) AS shipment_count,
  TIMESTAMP_DIFF(MAX(s.delivered_at), MIN(s.shipped_at), HOUR) AS hours_in_transit,
  LOGICAL_AND(s.status = 'delivered') AS is_fully_delivered
FROM `{{ params.project }}.raw.shipments` AS s
WHERE s.status != 'cancelled'
GROUP BY s.order_id, s.warehouse_country, s.carrier
QUALIFY ROW_NUMBER() OVER (PARTITION BY s.order_id ORDER BY MIN(s.shipped_at)) = 1;
