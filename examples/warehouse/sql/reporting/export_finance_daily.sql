-- Daily revenue export for the finance team's ERP import (CSV files in a bucket).
-- EXPORT DATA writes files, not a table: the bucket URI is not part of the lineage.
-- Airflow: dag=acme_reporting_daily, task=export_finance_daily

EXPORT DATA
  OPTIONS (
    uri = 'gs://acme-finance-exchange/revenue/dt={{ ds }}/revenue_*.csv',
    format = 'CSV',
    overwrite = true,
    header = true,
    field_delimiter = ','
  )
AS
SELECT
  date_day,
  fiscal_year,
  orders,
  ROUND(revenue_usd, 2) AS revenue_usd,
  ROUND(gross_margin_usd, 2) AS gross_margin_usd,
  ROUND(marketing_spend_usd, 2) AS marketing_spend_usd
FROM `{{ params.project }}.{{ params.report_dataset }}.rpt_daily_revenue`
WHERE date_day BETWEEN DATE_TRUNC(DATE '{{ ds }}', MONTH) AND DATE '{{ ds }}'
ORDER BY date_day;
