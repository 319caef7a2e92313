-- raw.ga4_events: flattened GA4 events of the run day.
-- The GA4 export writes one date-sharded table per day (events_YYYYMMDD); the wildcard
-- table with _TABLE_SUFFIX picks the run day's shard.
-- Airflow: dag=acme_raw_daily, task=load_raw_ga4_events

DELETE FROM `{{ params.project }}.raw.ga4_events`
WHERE event_date = DATE '{{ ds }}';

INSERT INTO `{{ params.project }}.raw.ga4_events` (
  event_date,
  event_timestamp,
  event_name,
  user_pseudo_id,
  user_id,
  ga_session_id,
  page_location,
  traffic_source,
  traffic_medium,
  traffic_campaign,
  transaction_id,
  purchase_revenue,
  country
)
SELECT
  PARSE_DATE('%Y%m%d', e.event_date) AS event_date,
  TIMESTAMP_MICROS(e.event_timestamp) AS event_timestamp,
  e.event_name,
  e.user_pseudo_id,
  e.user_id,
  (SELECT ep.value.int_value FROM UNNEST(e.event_params) AS ep WHERE ep.key = 'ga_session_id') AS ga_session_id,
  (SELECT ep.value.string_value FROM UNNEST(e.event_params) AS ep WHERE ep.key = 'page_location') AS page_location,
  e.traffic_source.source AS traffic_source,
  e.traffic_source.medium AS traffic_medium,
  e.traffic_source.name AS traffic_campaign,
  e.ecommerce.transaction_id,
  e.ecommerce.purchase_revenue,
  e.geo.country
FROM `{{ params.landing_project }}.analytics_284751936.events_*` AS e
WHERE _TABLE_SUFFIX = '{{ ds_nodash }}'
  AND e.event_name IN ('session_start', 'page_view', 'view_item', 'add_to_cart', 'begin_checkout', 'purchase');
