-- reporting.ops_job_costs: BigQuery spend per user, Airflow DAG and day, from the
-- jobs metadata of this project in the US multi-region (INFORMATION_SCHEMA.JOBS).
-- The view is named with its project on purpose: `region-us` alone would mean the
-- project the job runs in, which differs between Composer environments.
-- Airflow: dag=acme_ops_daily, task=load_ops_job_costs

DELETE FROM `{{ params.project }}.reporting.ops_job_costs`
WHERE job_date = DATE '{{ ds }}';

INSERT INTO `{{ params.project }}.reporting.ops_job_costs` (
  job_date, user_email, dag_id, task_id, statement_type, jobs, total_gib_billed, est_cost_usd, total_slot_hours
)
WITH jobs AS (
  SELECT
    DATE(j.creation_time) AS job_date,
    j.user_email,
    (SELECT l.value FROM UNNEST(j.labels) AS l WHERE l.key = 'airflow-dag') AS dag_id,
    (SELECT l.value FROM UNNEST(j.labels) AS l WHERE l.key = 'airflow-task') AS task_id,
    j.statement_type,
    j.total_bytes_billed,
    j.total_slot_ms
  FROM `{{ params.project }}`.`region-us`.INFORMATION_SCHEMA.JOBS AS j
  WHERE DATE(j.creation_time) = DATE '{{ ds }}'
    AND j.job_type = 'QUERY'
    AND j.state = 'DONE'
)
SELECT
  job_date,
  user_email,
  dag_id,
  task_id,
  statement_type,
  COUNT(*) AS jobs,
  SUM(total_bytes_billed) / POW(1024, 3) AS total_gib_billed,
  ROUND(SUM(total_bytes_billed) / POW(1024, 4) * 6.25, 2) AS est_cost_usd,
  SUM(total_slot_ms) / 1000 / 3600 AS total_slot_hours
FROM jobs
GROUP BY job_date, user_email, dag_id, task_id, statement_type;
