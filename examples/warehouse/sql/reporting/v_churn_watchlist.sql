-- reporting.v_churn_watchlist: high-value customers at high churn risk, for the CRM team.
-- Written with dataset-qualified names only: the project is the default project.
-- Airflow: dag=acme_reporting_deploy, task=deploy_v_churn_watchlist

CREATE OR REPLACE VIEW {{ params.report_dataset }}.v_churn_watchlist AS
SELECT
  s.customer_id,
  c.sales_region,
  c.customer_segment,
  s.churn_probability,
  c.last_order_date,
  t.open_tickets,
  t.last_ticket_at
FROM marts.churn_scores AS s
JOIN marts.dim_customers AS c
  USING (customer_id)
LEFT JOIN (
  SELECT customer_id, COUNTIF(solved_at IS NULL) AS open_tickets, MAX(created_at) AS last_ticket_at
  FROM marts.fct_support_tickets
  GROUP BY customer_id
) AS t
  USING (customer_id)
WHERE s.snapshot_date = (SELECT MAX(snapshot_date) FROM marts.churn_scores)
  AND s.risk_band = 'high'
  AND c.customer_segment IN ('active', 'new');
