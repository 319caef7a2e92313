-- raw.customers: upsert of the daily customer delta exported by the shop.
-- The export can hold several versions of one customer: keep the latest (QUALIFY).
-- Disabled accounts are deleted here; GDPR erasure is handled in raw/gdpr_erasure.sql.
-- Airflow: dag=acme_raw_daily, task=merge_raw_customers

MERGE `{{ params.project }}.raw.customers` AS tgt
USING (
  SELECT
    CAST(c.id AS STRING) AS customer_id,
    LOWER(TRIM(c.email)) AS email,
    c.first_name,
    c.last_name,
    UPPER(c.default_address.country_code) AS country_code,
    c.accepts_marketing,
    c.created_at,
    c.updated_at,
    c.state = 'disabled' AS is_disabled
  FROM `{{ params.landing_project }}.landing.shop_customers` AS c
  WHERE DATE(c._ingested_at) = DATE '{{ ds }}'
  QUALIFY ROW_NUMBER() OVER (PARTITION BY c.id ORDER BY c.updated_at DESC) = 1
) AS src
ON tgt.customer_id = src.customer_id
WHEN MATCHED AND src.is_disabled THEN
  DELETE
WHEN MATCHED AND src.updated_at > tgt.updated_at THEN
  UPDATE SET
    email = src.email,
    first_name = src.first_name,
    last_name = src.last_name,
    country_code = src.country_code,
    accepts_marketing = src.accepts_marketing,
    updated_at = src.updated_at
WHEN NOT MATCHED AND NOT src.is_disabled THEN
  INSERT (customer_id, email, first_name, last_name, country_code, accepts_marketing, created_at, updated_at)
  VALUES (src.customer_id, src.email, src.first_name, src.last_name, src.country_code,
          src.accepts_marketing, src.created_at, src.updated_at);
