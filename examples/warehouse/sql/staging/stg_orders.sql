-- staging.stg_orders: cleaned orders with amounts converted to USD.
-- raw.orders can hold an order twice when the shop re-exports it: keep the latest load.
-- Airflow: dag=acme_staging_daily, task=build_stg_orders

CREATE OR REPLACE TABLE `{{ params.project }}.staging.stg_orders`
PARTITION BY order_date
CLUSTER BY customer_id
AS
WITH deduplicated AS (
  SELECT *
  FROM `{{ params.project }}.raw.orders`
  WHERE status != 'test'
  QUALIFY ROW_NUMBER() OVER (PARTITION BY order_id ORDER BY _loaded_at DESC) = 1
)
SELECT
  o.order_id,
  o.customer_id,
  o.order_date,
  o.ordered_at,
  o.country_code,
  CASE o.status
    WHEN 'paid' THEN 'completed'
    WHEN 'partially_refunded' THEN 'completed'
    WHEN 'refunded' THEN 'refunded'
    WHEN 'voided' THEN 'cancelled'
    ELSE 'pending'
  END AS status,
  o.currency,
  o.discount_code IS NOT NULL AS has_discount,
  ROUND((o.subtotal_amount + o.shipping_amount) * fx.usd_per_unit, 2) AS total_amount_usd,
  ROUND(o.tax_amount * fx.usd_per_unit, 2) AS tax_amount_usd
FROM deduplicated AS o
LEFT JOIN `{{ params.project }}.raw.fx_rates` AS fx
  ON fx.rate_date = o.order_date
  AND fx.currency = o.currency;
