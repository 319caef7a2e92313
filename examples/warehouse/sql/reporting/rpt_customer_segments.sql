-- reporting.rpt_customer_segments: customers, value and churn risk per segment and region.
-- Airflow: dag=acme_reporting_daily, task=build_rpt_customer_segments

CREATE OR REPLACE TABLE `{{ params.project }}.{{ params.report_dataset }}.rpt_customer_segments` AS
SELECT
  c.sales_region,
  c.customer_segment,
  COUNT(*) AS customers,
  COUNTIF(c.accepts_marketing) AS marketable_customers,
  SUM(l.revenue_usd) AS lifetime_revenue_usd,
  AVG(l.ltv_3y_usd) AS avg_ltv_3y_usd,
  COUNTIF(s.risk_band = 'high') AS high_churn_risk_customers,
  AVG(s.churn_probability) AS avg_churn_probability
FROM `{{ params.project }}.marts.dim_customers` AS c
LEFT JOIN `{{ params.project }}.marts.customer_ltv` AS l
  ON l.customer_id = c.customer_id
LEFT JOIN `{{ params.project }}.marts.churn_scores` AS s
  ON s.customer_id = c.customer_id
  AND s.snapshot_date = DATE '{{ ds }}'
WHERE c.is_active
  AND NOT c.is_employee
GROUP BY c.sales_region, c.customer_segment;
