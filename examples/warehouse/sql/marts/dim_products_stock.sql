-- Fill the stock columns of marts.dim_products from the latest inventory snapshot.
-- UPDATE ... FROM: the dimension keeps its other columns untouched.
-- Airflow: dag=acme_marts_daily, task=update_dim_products_stock

UPDATE `{{ params.project }}.marts.dim_products` AS p
SET
  quantity_available = s.quantity_available,
  stock_snapshot_at = s.snapshot_at
FROM (
  SELECT
    product_id,
    SUM(quantity_available) AS quantity_available,
    MAX(snapshot_at) AS snapshot_at
  FROM `{{ params.project }}.staging.stg_inventory`
  GROUP BY product_id
) AS s
WHERE p.product_id = s.product_id;
