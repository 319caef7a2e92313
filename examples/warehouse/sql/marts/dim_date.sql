-- marts.dim_date: calendar dimension with the company's fiscal year (starts in April)
-- and Japanese public holidays. Reads no table: the calendar is generated.
-- Airflow: dag=acme_marts_weekly, task=build_dim_date

CREATE OR REPLACE TABLE `{{ params.project }}.marts.dim_date` AS
SELECT
  d AS date_day,
  EXTRACT(YEAR FROM d) AS calendar_year,
  EXTRACT(QUARTER FROM d) AS calendar_quarter,
  EXTRACT(MONTH FROM d) AS calendar_month,
  FORMAT_DATE('%Y-%m', d) AS year_month,
  EXTRACT(ISOWEEK FROM d) AS iso_week,
  FORMAT_DATE('%A', d) AS weekday_name,
  EXTRACT(DAYOFWEEK FROM d) IN (1, 7) AS is_weekend,
  IF(EXTRACT(MONTH FROM d) >= 4, EXTRACT(YEAR FROM d), EXTRACT(YEAR FROM d) - 1) AS fiscal_year,
  FORMAT_DATE('%m-%d', d) IN ('01-01', '02-11', '02-23', '04-29', '05-03', '05-04', '05-05',
                              '08-11', '11-03', '11-23') AS is_jp_fixed_holiday
FROM UNNEST(GENERATE_DATE_ARRAY(DATE '2018-01-01', DATE_ADD(DATE '{{ ds }}', INTERVAL 2 YEAR))) AS d;
