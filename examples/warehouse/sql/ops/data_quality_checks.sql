-- reporting.ops_dq_results: nightly data-quality checks on the core tables.
-- Results are recorded first (so the dashboard shows them), then a failing
-- critical check stops the DAG. A temp table collects the results of one run.
-- Airflow: dag=acme_ops_daily, task=run_data_quality_checks

DECLARE run_date DATE DEFAULT DATE '{{ ds }}';
DECLARE failed_checks INT64 DEFAULT 0;

CREATE TEMP TABLE dq_results (check_name STRING, is_critical BOOL, failing_rows INT64);

INSERT INTO dq_results
SELECT 'fct_orders.order_id unique', TRUE, COUNT(*) - COUNT(DISTINCT order_id)
FROM marts.fct_orders
WHERE order_date = run_date;

INSERT INTO dq_results
SELECT 'fct_orders.customer_id in dim_customers', TRUE, COUNT(*)
FROM marts.fct_orders AS o
LEFT JOIN marts.dim_customers AS c USING (customer_id)
WHERE o.order_date = run_date AND c.customer_id IS NULL;

INSERT INTO dq_results
SELECT 'stg_orders rows reach fct_orders', FALSE, ABS(
  (SELECT COUNT(*) FROM staging.stg_orders WHERE order_date = run_date)
  - (SELECT COUNT(*) FROM marts.fct_orders WHERE order_date = run_date))
;

INSERT INTO `{{ params.project }}.reporting.ops_dq_results` (run_date, check_name, is_critical, failing_rows, passed)
SELECT run_date, check_name, is_critical, failing_rows, failing_rows = 0
FROM dq_results;

SET failed_checks = (SELECT COUNTIF(is_critical AND failing_rows > 0) FROM dq_results);

IF failed_checks > 0 THEN
  RAISE USING MESSAGE = FORMAT('%d critical data-quality check(s) failed for %t', failed_checks, run_date);
END IF;

ASSERT (SELECT COUNT(*) FROM marts.mv_daily_revenue WHERE order_date = run_date) > 0
  AS 'mv_daily_revenue has no row for the run day';
