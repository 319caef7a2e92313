-- reporting.v_exec_kpis: the one view behind the executive dashboard (Looker Studio).
-- Last 13 months of daily KPIs with the current customer mix attached.
-- Airflow: dag=acme_reporting_deploy, task=deploy_v_exec_kpis

CREATE OR REPLACE VIEW `{{ params.project }}.{{ params.report_dataset }}.v_exec_kpis`
OPTIONS (description = 'Executive KPIs, one row per day; owner: bi-team@acme.example')
AS
WITH mix AS (
  SELECT
    SUM(customers) AS active_customers,
    SUM(high_churn_risk_customers) AS high_risk_customers,
    SUM(lifetime_revenue_usd) AS lifetime_revenue_usd
  FROM `{{ params.project }}.{{ params.report_dataset }}.rpt_customer_segments`
)
SELECT
  r.date_day,
  r.fiscal_year,
  r.orders,
  r.revenue_usd,
  r.gross_margin_usd,
  r.marketing_spend_usd,
  r.cac_usd,
  r.revenue_month_to_date_usd,
  m.active_customers,
  m.high_risk_customers,
  SAFE_DIVIDE(m.high_risk_customers, m.active_customers) AS high_risk_share
FROM `{{ params.project }}.{{ params.report_dataset }}.rpt_daily_revenue` AS r
CROSS JOIN mix AS m
WHERE r.date_day >= DATE_SUB(CURRENT_DATE('Asia/Tokyo'), INTERVAL 13 MONTH);
