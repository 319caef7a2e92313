-- reporting.rpt_marketing_roas: return on ad spend per channel and week.
-- Feeds the "Marketing performance" dashboard.
-- Airflow: dag=acme_reporting_daily, task=build_rpt_marketing_roas

CREATE OR REPLACE TABLE `{{ params.project }}.{{ params.report_dataset }}.rpt_marketing_roas` AS
WITH spend AS (
  SELECT
    DATE_TRUNC(spend_date, ISOWEEK) AS week_start,
    channel,
    SUM(spend_usd) AS spend_usd,
    SUM(clicks) AS clicks
  FROM `{{ params.project }}.marts.fct_marketing_spend`
  GROUP BY week_start, channel
),
attributed AS (
  SELECT
    DATE_TRUNC(session_date, ISOWEEK) AS week_start,
    CASE
      WHEN traffic_source = 'google' AND traffic_medium = 'cpc' THEN 'google_ads'
      WHEN traffic_source IN ('facebook', 'instagram') AND traffic_medium = 'paid' THEN 'meta_ads'
      ELSE 'unpaid'
    END AS channel,
    SUM(sessions) AS sessions,
    SUM(orders) AS orders,
    SUM(revenue_usd) AS revenue_usd
  FROM `{{ params.project }}.marts.fct_sessions_daily`
  GROUP BY week_start, channel
),
all_revenue AS (
  SELECT DATE_TRUNC(order_date, ISOWEEK) AS week_start, SUM(gross_amount_usd) AS revenue_usd
  FROM `{{ params.project }}.marts.fct_orders`
  WHERE status = 'completed'
  GROUP BY week_start
)
SELECT
  s.week_start,
  s.channel,
  s.spend_usd,
  s.clicks,
  a.sessions,
  a.orders,
  a.revenue_usd AS attributed_revenue_usd,
  SAFE_DIVIDE(a.revenue_usd, s.spend_usd) AS roas,
  SAFE_DIVIDE(a.revenue_usd, r.revenue_usd) AS share_of_revenue
FROM spend AS s
LEFT JOIN attributed AS a USING (week_start, channel)
LEFT JOIN all_revenue AS r USING (week_start);
