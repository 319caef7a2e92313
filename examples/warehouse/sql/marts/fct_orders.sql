-- marts.fct_orders: one row per order, the core fact table of the warehouse.
-- Incremental script: rebuilds the last 3 days (late payments and shipments), using
-- temp tables for the per-order aggregates and failing loudly when nothing arrived.
-- Airflow: dag=acme_marts_daily, task=build_fct_orders

DECLARE run_date DATE DEFAULT DATE '{{ ds }}';
DECLARE window_start DATE;
DECLARE changed_orders INT64 DEFAULT 0;

SET window_start = DATE_SUB(run_date, INTERVAL 3 DAY);

CREATE TEMP TABLE order_totals AS
SELECT
  i.order_id,
  COUNT(*) AS item_count,
  SUM(i.quantity) AS units,
  SUM(i.line_cost_usd) AS cost_usd
FROM `{{ params.project }}.staging.stg_order_items` AS i
WHERE i.order_date BETWEEN window_start AND run_date
GROUP BY i.order_id;

CREATE TEMP TABLE order_payments AS
SELECT
  p.order_id,
  SUM(p.amount_usd) AS paid_amount_usd,
  ARRAY_AGG(DISTINCT p.payment_method IGNORE NULLS) AS payment_methods
FROM `{{ params.project }}.staging.stg_payments` AS p
WHERE p.payment_date BETWEEN window_start AND run_date
GROUP BY p.order_id;

SET changed_orders = (SELECT COUNT(*) FROM order_totals);
IF changed_orders = 0 THEN
  RAISE USING MESSAGE = FORMAT('fct_orders: no order lines since %t', window_start);
END IF;

DELETE FROM `{{ params.project }}.marts.fct_orders`
WHERE order_date BETWEEN window_start AND run_date;

INSERT INTO `{{ params.project }}.marts.fct_orders` (
  order_id, customer_id, order_date, ordered_at, country_code, status, customer_segment,
  is_first_order, item_count, units, gross_amount_usd, cost_usd, paid_amount_usd,
  payment_methods, warehouse_country, shipped_at, delivered_at, is_returned, returned_at
)
SELECT
  o.order_id, o.customer_id, o.order_date, o.ordered_at, o.country_code, o.status,
  c.customer_segment,
  o.order_date = c.first_order_date AS is_first_order,
  t.item_count, t.units, o.total_amount_usd, t.cost_usd,
  IFNULL(p.paid_amount_usd, 0), p.payment_methods,
  s.warehouse_country, s.shipped_at, s.delivered_at,
  FALSE AS is_returned, CAST(NULL AS DATE) AS returned_at
FROM `{{ params.project }}.staging.stg_orders` AS o
JOIN order_totals AS t ON t.order_id = o.order_id
LEFT JOIN order_payments AS p ON p.order_id = o.order_id
LEFT JOIN `{{ params.project }}.staging.stg_shipments` AS s ON s.order_id = o.order_id
LEFT JOIN `{{ params.project }}.marts.dim_customers` AS c ON c.customer_id = o.customer_id
WHERE o.order_date BETWEEN window_start AND run_date;
