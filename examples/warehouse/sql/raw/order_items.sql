-- raw.order_items: one row per order line, exploded from the line_items array
-- of each landed order (UNNEST ... WITH OFFSET keeps the line number).
-- Airflow: dag=acme_raw_daily, task=load_raw_order_items

DELETE FROM `{{ params.project }}.raw.order_items`
WHERE order_date = DATE '{{ ds }}';

INSERT INTO `{{ params.project }}.raw.order_items` (
  order_id,
  line_number,
  order_date,
  sku,
  product_id,
  quantity,
  unit_price,
  discount_amount,
  _loaded_at
)
SELECT
  CAST(o.id AS STRING) AS order_id,
  item_offset + 1 AS line_number,
  DATE(o.created_at, 'UTC') AS order_date,
  item.sku,
  CAST(item.product_id AS STRING) AS product_id,
  item.quantity,
  SAFE_CAST(item.price AS NUMERIC) AS unit_price,
  (
    SELECT IFNULL(SUM(SAFE_CAST(d.amount AS NUMERIC)), 0)
    FROM UNNEST(item.discount_allocations) AS d
  ) AS discount_amount,
  CURRENT_TIMESTAMP() AS _loaded_at
FROM `{{ params.landing_project }}.landing.shop_orders` AS o
CROSS JOIN UNNEST(o.line_items) AS item WITH OFFSET AS item_offset
WHERE DATE(o._ingested_at) = DATE '{{ ds }}'
  AND o.test IS NOT TRUE;
