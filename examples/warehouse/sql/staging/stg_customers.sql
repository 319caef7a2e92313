-- staging.stg_customers: customers with a sales region; a view, so erasures in
-- raw.customers are visible immediately.
-- Airflow: dag=acme_staging_daily, task=deploy_stg_customers

CREATE OR REPLACE VIEW `{{ params.project }}.staging.stg_customers`
OPTIONS (description = 'Customers of the shop, one row per customer, PII included')
AS
SELECT
  c.customer_id,
  c.email,
  INITCAP(c.first_name) AS first_name,
  INITCAP(c.last_name) AS last_name,
  c.country_code,
  CASE
    WHEN c.country_code IN ('JP', 'KR', 'TW', 'SG') THEN 'APAC'
    WHEN c.country_code IN ('US', 'CA', 'MX') THEN 'AMER'
    ELSE 'EMEA'
  END AS sales_region,
  c.accepts_marketing,
  DATE(c.created_at) AS signup_date,
  c.updated_at,
  REGEXP_CONTAINS(c.email, r'@acme\.example$') AS is_employee
FROM `{{ params.project }}.raw.customers` AS c;
