-- marts.fct_marketing_spend: spend per channel and fiscal week.
-- Airflow: dag=acme_marts_daily, task=build_fct_marketing_spend

CREATE OR REPLACE TABLE `{{ params.project }}.marts.fct_marketing_spend`
PARTITION BY spend_date
AS
SELECT
  a.spend_date,
  d.fiscal_year,
  d.iso_week,
  a.channel,
  a.campaign_id,
  SUM(a.impressions) AS impressions,
  SUM(a.clicks) AS clicks,
  SUM(a.spend_usd) AS spend_usd
FROM `{{ params.project }}.staging.stg_ad_spend` AS a
JOIN `{{ params.project }}.marts.dim_date` AS d
  ON d.date_day = a.spend_date
GROUP BY a.spend_date, d.fiscal_year, d.iso_week, a.channel, a.campaign_id;
