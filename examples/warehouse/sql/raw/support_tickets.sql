-- raw.support_tickets: latest version of every Zendesk ticket (the landing table
-- receives one row per ticket update).
-- Airflow: dag=acme_raw_daily, task=build_raw_support_tickets

CREATE OR REPLACE TABLE `{{ params.project }}.raw.support_tickets`
CLUSTER BY ticket_id
AS
SELECT
  CAST(t.id AS STRING) AS ticket_id,
  JSON_VALUE(t.custom_fields, '$.order_number') AS order_id,
  CAST(t.requester_id AS STRING) AS requester_id,
  LOWER(t.requester_email) AS requester_email,
  t.subject,
  t.status,
  t.priority,
  t.channel,
  ARRAY(SELECT LOWER(tag) FROM UNNEST(t.tags) AS tag) AS tags,
  t.created_at,
  t.updated_at,
  t.solved_at,
  t.satisfaction_rating.score AS satisfaction_score
FROM `{{ params.landing_project }}.landing.zendesk_tickets` AS t
WHERE t.is_deleted IS NOT TRUE
QUALIFY ROW_NUMBER() OVER (PARTITION BY t.id ORDER BY t.updated_at DESC) = 1;
