-- marts.dim_customers: one row per customer with first/last order and a segment.
-- Upsert: customers that vanished from staging (erased or disabled) are kept but
-- flagged inactive, so historical facts still join.
-- Airflow: dag=acme_marts_daily, task=merge_dim_customers

MERGE `{{ params.project }}.marts.dim_customers` AS d
USING (
  SELECT
    c.customer_id,
    c.country_code,
    c.sales_region,
    c.signup_date,
    c.accepts_marketing,
    c.is_employee,
    o.first_order_date,
    o.last_order_date,
    IFNULL(o.order_count, 0) AS order_count,
    CASE
      WHEN o.order_count IS NULL THEN 'prospect'
      WHEN o.order_count = 1 THEN 'new'
      WHEN o.last_order_date >= DATE_SUB(DATE '{{ ds }}', INTERVAL 180 DAY) THEN 'active'
      ELSE 'lapsed'
    END AS customer_segment
  FROM `{{ params.project }}.staging.stg_customers` AS c
  LEFT JOIN (
    SELECT
      customer_id,
      MIN(order_date) AS first_order_date,
      MAX(order_date) AS last_order_date,
      COUNT(*) AS order_count
    FROM `{{ params.project }}.staging.stg_orders`
    WHERE status = 'completed'
    GROUP BY customer_id
  ) AS o USING (customer_id)
) AS s
ON d.customer_id = s.customer_id
WHEN MATCHED AND d.customer_segment != s.customer_segment THEN
  UPDATE SET
    customer_segment = s.customer_segment,
    last_order_date = s.last_order_date,
    order_count = s.order_count,
    is_active = TRUE,
    updated_at = CURRENT_TIMESTAMP()
WHEN MATCHED THEN
  UPDATE SET last_order_date = s.last_order_date, order_count = s.order_count, is_active = TRUE
WHEN NOT MATCHED BY TARGET THEN
  INSERT (customer_id, country_code, sales_region, signup_date, accepts_marketing, is_employee,
          first_order_date, last_order_date, order_count, customer_segment, is_active, updated_at)
  VALUES (s.customer_id, s.country_code, s.sales_region, s.signup_date, s.accepts_marketing,
          s.is_employee, s.first_order_date, s.last_order_date, s.order_count, s.customer_segment,
          TRUE, CURRENT_TIMESTAMP())
WHEN NOT MATCHED BY SOURCE AND d.is_active THEN
  UPDATE SET is_active = FALSE, updated_at = CURRENT_TIMESTAMP();
