-- raw.payments: Stripe charges landed by the ingest pipeline.
-- Insert-only: a charge already present is skipped (anti-join on the table itself),
-- so re-running a day never duplicates rows.
-- Airflow: dag=acme_raw_daily, task=load_raw_payments

INSERT INTO `{{ params.project }}.raw.payments` (
  payment_id,
  order_id,
  payment_date,
  created_at,
  status,
  payment_method,
  currency,
  amount,
  fee_amount,
  _loaded_at
)
SELECT
  s.id AS payment_id,
  JSON_VALUE(s.metadata, '$.order_id') AS order_id,
  DATE(TIMESTAMP_SECONDS(s.created), 'UTC') AS payment_date,
  TIMESTAMP_SECONDS(s.created) AS created_at,
  s.status,
  s.payment_method_details.type AS payment_method,
  UPPER(s.currency) AS currency,
  s.amount / 100 AS amount,
  s.balance_transaction.fee / 100 AS fee_amount,
  CURRENT_TIMESTAMP() AS _loaded_at
FROM `{{ params.landing_project }}.landing.stripe_charges` AS s
WHERE DATE(s._ingested_at) = DATE '{{ ds }}'
  AND NOT EXISTS (
    SELECT 1
    FROM `{{ params.project }}.raw.payments` AS p
    WHERE p.payment_id = s.id
  );
