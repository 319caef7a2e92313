SELECT
  channel,
  campaign,
  spend_usd,
  revenue_usd,
  SAFE_DIVIDE(revenue_usd, spend_usd) AS roas
FROM `acme-analytics.reporting.rpt_marketing_roas`
WHERE report_date >= DATE_SUB(CURRENT_DATE(), INTERVAL 28 DAY)
