-- marts.dim_customers_history: daily snapshot of the customer dimension (SCD type 2
-- light). The guard reads the history table itself so that a re-run adds nothing.
-- Airflow: dag=acme_marts_daily, task=snapshot_dim_customers

INSERT INTO marts.dim_customers_history (
  snapshot_date,
  customer_id,
  customer_segment,
  sales_region,
  order_count,
  is_active
)
SELECT
  DATE '{{ ds }}' AS snapshot_date,
  d.customer_id,
  d.customer_segment,
  d.sales_region,
  d.order_count,
  d.is_active
FROM marts.dim_customers AS d
WHERE NOT EXISTS (
  SELECT 1
  FROM marts.dim_customers_history AS h
  WHERE h.snapshot_date = DATE '{{ ds }}'
);
