-- Attach returns to orders in marts.fct_orders. Returns arrive up to 60 days after
-- the order, long after fct_orders' 3-day rebuild window, hence an UPDATE ... FROM.
-- Airflow: dag=acme_marts_daily, task=update_fct_orders_returns

UPDATE `{{ params.project }}.marts.fct_orders` AS o
SET
  is_returned = TRUE,
  returned_at = r.first_return_date
FROM (
  SELECT order_id, MIN(return_date) AS first_return_date
  FROM `{{ params.project }}.staging.stg_returns`
  WHERE return_date >= DATE_SUB(DATE '{{ ds }}', INTERVAL 60 DAY)
  GROUP BY order_id
) AS r
WHERE o.order_id = r.order_id
  AND o.order_date >= DATE_SUB(DATE '{{ ds }}', INTERVAL 120 DAY)
  AND NOT o.is_returned;
