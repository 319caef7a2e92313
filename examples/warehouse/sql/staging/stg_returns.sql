-- staging.stg_returns: returns with a readable reason.
-- History: until 2025 this job read raw.returns_legacy (the old portal's table), and
-- before that `acme-analytics.raw.returns_v1`. Neither is read any more.
/* Do not join acme-analytics.staging.stg_orders here: returns arrive up to 60 days
   after the order and the join would drop them. marts/fct_orders_late_returns.sql
   attaches them to orders instead. */
-- Airflow: dag=acme_staging_daily, task=build_stg_returns

CREATE OR REPLACE TABLE `{{ params.project }}.staging.stg_returns` AS
SELECT
  r.return_id,
  r.order_id,
  r.sku,
  r.quantity,
  r.return_date,
  CASE r.reason_code
    WHEN 'DMG' THEN 'damaged'
    WHEN 'WSZ' THEN 'wrong size'
    WHEN 'NAD' THEN 'not as described'
    ELSE 'other'
  END AS return_reason,
  r.refund_amount,
  r.currency,
  'raw.returns' AS lineage_note,  -- a string literal, not a table read
  'SELECT * FROM acme-analytics.raw.returns_legacy' AS migration_hint
FROM `{{ params.project }}.raw.returns` AS r
WHERE r.quantity > 0
QUALIFY ROW_NUMBER() OVER (PARTITION BY r.return_id ORDER BY r.return_date DESC) = 1;
