-- raw.orders: daily incremental copy of shop orders from the ingest project's landing zone.
-- Idempotent: the run day's partition is deleted first, then inserted again.
-- Airflow: dag=acme_raw_daily, task=load_raw_orders

DELETE FROM `{{ params.project }}.raw.orders`
WHERE order_date = DATE '{{ ds }}';

INSERT INTO `{{ params.project }}.raw.orders` (
  order_id,
  customer_id,
  order_date,
  ordered_at,
  status,
  currency,
  subtotal_amount,
  shipping_amount,
  tax_amount,
  discount_code,
  country_code,
  _loaded_at
)
SELECT
  CAST(o.id AS STRING) AS order_id,
  CAST(o.customer.id AS STRING) AS customer_id,
  DATE(o.created_at, 'UTC') AS order_date,
  o.created_at AS ordered_at,
  LOWER(o.financial_status) AS status,
  o.currency,
  SAFE_CAST(o.subtotal_price AS NUMERIC) AS subtotal_amount,
  SAFE_CAST(o.total_shipping_price AS NUMERIC) AS shipping_amount,
  SAFE_CAST(o.total_tax AS NUMERIC) AS tax_amount,
  NULLIF(o.discount_code, '') AS discount_code,
  UPPER(o.shipping_address.country_code) AS country_code,
  CURRENT_TIMESTAMP() AS _loaded_at
FROM `{{ params.landing_project }}.landing.shop_orders` AS o
WHERE DATE(o._ingested_at) = DATE '{{ ds }}'
  AND o.test IS NOT TRUE;
