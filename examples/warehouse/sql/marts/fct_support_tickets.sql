-- marts.fct_support_tickets: tickets linked to the order and customer they are about.
-- Airflow: dag=acme_marts_daily, task=build_fct_support_tickets

CREATE OR REPLACE TABLE `{{ params.project }}.marts.fct_support_tickets`
PARTITION BY DATE(created_at)
AS
SELECT
  t.ticket_id,
  t.created_at,
  t.solved_at,
  t.channel,
  t.priority,
  t.hours_to_solve,
  t.is_refund_request,
  t.is_delivery_issue,
  t.satisfaction_score,
  COALESCE(o.customer_id, t.customer_id) AS customer_id,
  o.order_id,
  o.order_date,
  o.gross_amount_usd AS order_amount_usd,
  c.customer_segment
FROM `{{ params.project }}.staging.stg_support_tickets` AS t
LEFT JOIN `{{ params.project }}.marts.fct_orders` AS o
  ON o.order_id = t.order_id
LEFT JOIN `{{ params.project }}.marts.dim_customers` AS c
  ON c.customer_id = COALESCE(o.customer_id, t.customer_id);
