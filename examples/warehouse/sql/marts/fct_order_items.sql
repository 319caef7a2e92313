-- marts.fct_order_items: order lines with product dimension attributes, by day.
-- Airflow: dag=acme_marts_daily, task=build_fct_order_items

DELETE FROM `{{ params.project }}.marts.fct_order_items`
WHERE order_date = DATE '{{ ds }}';

INSERT INTO `{{ params.project }}.marts.fct_order_items` (
  order_id,
  line_number,
  order_date,
  product_id,
  category,
  brand,
  margin_band,
  quantity,
  line_amount_usd,
  line_cost_usd,
  line_margin_usd
)
SELECT
  i.order_id,
  i.line_number,
  i.order_date,
  i.product_id,
  COALESCE(p.category, i.category, 'unknown') AS category,
  COALESCE(p.brand, i.brand) AS brand,
  p.margin_band,
  i.quantity,
  i.line_amount_usd,
  i.line_cost_usd,
  i.line_amount_usd - i.line_cost_usd AS line_margin_usd
FROM `{{ params.project }}.staging.stg_order_items` AS i
LEFT JOIN `{{ params.project }}.marts.dim_products` AS p
  ON p.product_id = i.product_id
WHERE i.order_date = DATE '{{ ds }}';
