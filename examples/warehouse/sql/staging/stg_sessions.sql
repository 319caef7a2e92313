-- staging.stg_sessions: GA4 events rolled up to sessions for the run day.
-- Outside production the job reads a 1% sample of the events table.
-- Airflow: dag=acme_staging_daily, task=build_stg_sessions

DELETE FROM `{{ params.project }}.staging.stg_sessions`
WHERE session_date = DATE '{{ ds }}';

INSERT INTO `{{ params.project }}.staging.stg_sessions` (
  session_id, session_date, user_pseudo_id, user_id, session_start, session_end,
  landing_page, traffic_source, traffic_medium, traffic_campaign, country,
  page_views, transaction_ids, purchase_revenue
)
WITH events AS (
  SELECT *
  {% if params.env == 'prod' -%}
  FROM `{{ params.project }}.raw.ga4_events`
  {%- else -%}
  FROM `{{ params.project }}.raw.ga4_events_sample`
  {%- endif %}
  WHERE event_date = DATE '{{ ds }}'
    AND ga_session_id IS NOT NULL
)
SELECT
  CONCAT(user_pseudo_id, '-', CAST(ga_session_id AS STRING)) AS session_id,
  DATE '{{ ds }}' AS session_date,
  user_pseudo_id,
  MAX(user_id) AS user_id,
  MIN(event_timestamp) AS session_start,
  MAX(event_timestamp) AS session_end,
  ARRAY_AGG(page_location IGNORE NULLS ORDER BY event_timestamp LIMIT 1)[SAFE_OFFSET(0)] AS landing_page,
  ANY_VALUE(traffic_source) AS traffic_source,
  ANY_VALUE(traffic_medium) AS traffic_medium,
  ANY_VALUE(traffic_campaign) AS traffic_campaign,
  ANY_VALUE(country) AS country,
  COUNTIF(event_name = 'page_view') AS page_views,
  ARRAY_AGG(DISTINCT transaction_id IGNORE NULLS) AS transaction_ids,
  SUM(IFNULL(purchase_revenue, 0)) AS purchase_revenue
FROM events
GROUP BY user_pseudo_id, ga_session_id;
