-- reporting.ops_table_storage: storage size and last modification of every table in
-- the US multi-region, for the cost dashboard and the stale-table report.
-- `region-us` without a project: BigQuery resolves it to the project the job runs in.
-- Airflow: dag=acme_ops_daily, task=build_ops_table_storage

CREATE OR REPLACE TABLE `{{ params.project }}.reporting.ops_table_storage` AS
SELECT
  DATE '{{ ds }}' AS snapshot_date,
  s.project_id,
  s.table_schema AS dataset_name,
  s.table_name,
  s.total_rows,
  ROUND(s.total_logical_bytes / POW(1024, 3), 2) AS logical_gib,
  ROUND(s.active_physical_bytes / POW(1024, 3), 2) AS active_physical_gib,
  ROUND(s.long_term_physical_bytes / POW(1024, 3), 2) AS long_term_physical_gib,
  ROUND(s.time_travel_physical_bytes / POW(1024, 3), 2) AS time_travel_gib,
  s.storage_last_modified_time,
  DATE_DIFF(DATE '{{ ds }}', DATE(s.storage_last_modified_time), DAY) AS days_since_modified
FROM `region-us`.INFORMATION_SCHEMA.TABLE_STORAGE AS s
WHERE s.deleted = FALSE
  AND s.table_schema IN ('raw', 'staging', 'marts', 'reporting');
