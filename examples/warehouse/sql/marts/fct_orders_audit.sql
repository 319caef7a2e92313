-- marts.fct_orders_changes: which orders of the last 30 days changed since yesterday?
-- Compares the fact table with its own state 24 hours ago (time travel), so finance
-- sees restated revenue before the month closes.
-- Airflow: dag=acme_marts_daily, task=audit_fct_orders

INSERT INTO `{{ params.project }}.marts.fct_orders_changes` (
  audit_date, order_id, change_type, amount_before_usd, amount_after_usd
)
SELECT
  DATE '{{ ds }}' AS audit_date,
  COALESCE(cur.order_id, prev.order_id) AS order_id,
  CASE
    WHEN prev.order_id IS NULL THEN 'added'
    WHEN cur.order_id IS NULL THEN 'removed'
    ELSE 'changed'
  END AS change_type,
  prev.gross_amount_usd AS amount_before_usd,
  cur.gross_amount_usd AS amount_after_usd
FROM (
  SELECT order_id, gross_amount_usd, status
  FROM `{{ params.project }}.marts.fct_orders`
  WHERE order_date >= DATE_SUB(DATE '{{ ds }}', INTERVAL 30 DAY)
) AS cur
FULL OUTER JOIN (
  SELECT order_id, gross_amount_usd, status
  FROM `{{ params.project }}.marts.fct_orders`
    FOR SYSTEM_TIME AS OF TIMESTAMP_SUB(CURRENT_TIMESTAMP(), INTERVAL 24 HOUR)
  WHERE order_date >= DATE_SUB(DATE '{{ ds }}', INTERVAL 30 DAY)
) AS prev
  ON prev.order_id = cur.order_id
WHERE prev.order_id IS NULL
   OR cur.order_id IS NULL
   OR prev.gross_amount_usd != cur.gross_amount_usd
   OR prev.status != cur.status;
