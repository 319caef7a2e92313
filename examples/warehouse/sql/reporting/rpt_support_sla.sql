-- reporting.rpt_support_sla: support SLA attainment per week, channel and priority.
-- Airflow: dag=acme_reporting_daily, task=build_rpt_support_sla

CREATE OR REPLACE TABLE `{{ params.project }}.{{ params.report_dataset }}.rpt_support_sla` AS
SELECT
  d.fiscal_year,
  d.iso_week,
  t.channel,
  t.priority,
  COUNT(*) AS tickets,
  COUNTIF(t.hours_to_solve <= CASE t.priority WHEN 'urgent' THEN 4 WHEN 'high' THEN 24 ELSE 72 END)
    AS tickets_within_sla,
  APPROX_QUANTILES(t.hours_to_solve, 100)[OFFSET(90)] AS p90_hours_to_solve,
  AVG(t.satisfaction_score) AS csat,
  COUNTIF(t.is_refund_request) AS refund_requests,
  SUM(IF(t.is_refund_request, t.order_amount_usd, 0)) AS refund_request_amount_usd
FROM `{{ params.project }}.marts.fct_support_tickets` AS t
JOIN `{{ params.project }}.marts.dim_date` AS d
  ON d.date_day = DATE(t.created_at)
WHERE t.solved_at IS NOT NULL
GROUP BY d.fiscal_year, d.iso_week, t.channel, t.priority;
