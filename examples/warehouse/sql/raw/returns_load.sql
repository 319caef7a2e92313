-- raw.returns: the returns portal drops a CSV per day into a bucket; load it.
-- The run day's rows are removed first so that a re-run does not append twice.
-- Airflow: dag=acme_raw_daily, task=load_raw_returns

DELETE FROM `{{ params.project }}.raw.returns`
WHERE return_date = DATE '{{ ds }}';

LOAD DATA INTO `{{ params.project }}.raw.returns` (
  return_id STRING,
  order_id STRING,
  sku STRING,
  quantity INT64,
  reason_code STRING,
  return_date DATE,
  refund_amount NUMERIC,
  currency STRING
)
FROM FILES (
  format = 'CSV',
  skip_leading_rows = 1,
  field_delimiter = ';',
  uris = ['gs://acme-returns-portal-exports/returns/dt={{ ds }}/*.csv']
);
