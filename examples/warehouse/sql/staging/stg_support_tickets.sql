-- staging.stg_support_tickets: tickets with response-time measures.
-- Airflow: dag=acme_staging_daily, task=deploy_stg_support_tickets

CREATE OR REPLACE VIEW `{{ params.project }}.staging.stg_support_tickets` AS
SELECT
  t.ticket_id,
  t.order_id,
  t.requester_id AS customer_id,
  t.channel,
  t.priority,
  t.status,
  t.created_at,
  t.solved_at,
  TIMESTAMP_DIFF(t.solved_at, t.created_at, MINUTE) / 60 AS hours_to_solve,
  'refund_request' IN UNNEST(t.tags) AS is_refund_request,
  'delivery_issue' IN UNNEST(t.tags) AS is_delivery_issue,
  t.satisfaction_score
FROM `{{ params.project }}.raw.support_tickets` AS t
WHERE NOT EXISTS (
  SELECT 1 FROM UNNEST(t.tags) AS tag WHERE tag IN ('spam', 'internal_test')
);
