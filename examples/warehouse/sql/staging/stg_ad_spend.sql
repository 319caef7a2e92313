-- staging.stg_ad_spend: paid-media spend per channel, campaign and day, in USD.
-- Airflow: dag=acme_staging_daily, task=deploy_stg_ad_spend

CREATE OR REPLACE VIEW `{{ params.project }}.staging.stg_ad_spend` AS
SELECT
  a.channel,
  a.spend_date,
  a.campaign_id,
  a.impressions,
  a.clicks,
  ROUND(a.spend * IF(a.currency = 'USD', 1, fx.usd_per_unit), 2) AS spend_usd,
  SAFE_DIVIDE(a.clicks, a.impressions) AS ctr
FROM `{{ params.project }}.raw.ad_spend` AS a
LEFT JOIN `{{ params.project }}.raw.fx_rates` AS fx
  ON fx.rate_date = a.spend_date
  AND fx.currency = a.currency
WHERE a.spend > 0;
