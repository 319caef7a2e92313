-- staging.stg_order_items: order lines with product attributes and USD amounts.
-- Airflow: dag=acme_staging_daily, task=build_stg_order_items

CREATE OR REPLACE TABLE `{{ params.project }}.staging.stg_order_items`
PARTITION BY order_date
AS
SELECT
  i.order_id,
  i.line_number,
  i.order_date,
  i.product_id,
  i.sku,
  p.category,
  p.brand,
  i.quantity,
  i.unit_price,
  ROUND((i.unit_price * i.quantity - i.discount_amount) * fx.usd_per_unit, 2) AS line_amount_usd,
  ROUND(p.unit_cost * i.quantity * fx.usd_per_unit, 2) AS line_cost_usd
FROM `{{ params.project }}.raw.order_items` AS i
JOIN `{{ params.project }}.raw.orders` AS o
  USING (order_id)
LEFT JOIN `{{ params.project }}.raw.products` AS p
  ON p.product_id = i.product_id
LEFT JOIN `{{ params.project }}.raw.fx_rates` AS fx
  ON fx.rate_date = i.order_date
  AND fx.currency = o.currency
WHERE i.quantity > 0;
