-- staging.stg_payments: payments in USD, upserted (a charge changes status after refunds).
-- Script: stage the day's delta in a temp table, stop if it is empty, then MERGE.
-- Airflow: dag=acme_staging_daily, task=merge_stg_payments

DECLARE run_date DATE DEFAULT DATE '{{ ds }}';
DECLARE delta_rows INT64 DEFAULT 0;

CREATE TEMP TABLE payments_delta AS
SELECT
  p.payment_id,
  p.order_id,
  p.payment_date,
  p.created_at,
  p.status,
  p.payment_method,
  ROUND(p.amount * fx.usd_per_unit, 2) AS amount_usd,
  ROUND(p.fee_amount * fx.usd_per_unit, 2) AS fee_usd
FROM `{{ params.project }}.raw.payments` AS p
LEFT JOIN `{{ params.project }}.raw.fx_rates` AS fx
  ON fx.rate_date = p.payment_date AND fx.currency = p.currency
WHERE p.payment_date BETWEEN DATE_SUB(run_date, INTERVAL 2 DAY) AND run_date;

SET delta_rows = (SELECT COUNT(*) FROM payments_delta);

IF delta_rows = 0 THEN
  RAISE USING MESSAGE = FORMAT('stg_payments: no payments between %t and %t', DATE_SUB(run_date, INTERVAL 2 DAY), run_date);
END IF;

MERGE `{{ params.project }}.staging.stg_payments` AS tgt
USING (SELECT * FROM payments_delta) AS src
ON tgt.payment_id = src.payment_id
WHEN MATCHED AND src.status = 'refunded' AND tgt.status != 'refunded' THEN
  UPDATE SET status = src.status, amount_usd = 0, fee_usd = src.fee_usd
WHEN MATCHED AND src.status != tgt.status THEN
  UPDATE SET status = src.status
WHEN NOT MATCHED BY TARGET THEN
  INSERT (payment_id, order_id, payment_date, created_at, status, payment_method, amount_usd, fee_usd)
  VALUES (src.payment_id, src.order_id, src.payment_date, src.created_at, src.status,
          src.payment_method, src.amount_usd, src.fee_usd);
