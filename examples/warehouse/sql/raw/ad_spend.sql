-- raw.ad_spend: daily paid-media spend of all channels in one shape.
-- Google Ads comes from the BigQuery Data Transfer Service (its table names are
-- CamelCase and end with the customer id); Meta comes from the ingest pipeline.
-- Airflow: dag=acme_raw_daily, task=build_raw_ad_spend

CREATE OR REPLACE TABLE `{{ params.project }}.raw.ad_spend`
PARTITION BY spend_date
AS
SELECT
  'google_ads' AS channel,
  g.segments_date AS spend_date,
  CAST(g.campaign_id AS STRING) AS campaign_id,
  g.metrics_impressions AS impressions,
  g.metrics_clicks AS clicks,
  g.metrics_cost_micros / 1000000 AS spend,
  'USD' AS currency
FROM `{{ params.landing_project }}.google_ads.ads_CampaignBasicStats_4817263540` AS g
WHERE g.segments_date >= DATE_SUB(DATE '{{ ds }}', INTERVAL 90 DAY)

UNION ALL

SELECT
  'meta_ads' AS channel,
  m.date_start AS spend_date,
  m.campaign_id,
  m.impressions,
  m.clicks,
  SAFE_CAST(m.spend AS NUMERIC) AS spend,
  m.account_currency AS currency
FROM `{{ params.landing_project }}.landing.meta_ads_insights` AS m
WHERE m.date_start >= DATE_SUB(DATE '{{ ds }}', INTERVAL 90 DAY);
