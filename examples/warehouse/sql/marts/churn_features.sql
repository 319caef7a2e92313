-- marts.churn_features: one row per customer of the feature snapshot the churn model
-- scores (see marts/churn_scores.sql). Reads every customer-facing fact.
-- Airflow: dag=acme_ml_daily, task=build_churn_features

CREATE OR REPLACE TABLE `{{ params.project }}.marts.churn_features` AS
WITH orders_90d AS (
  SELECT customer_id, COUNT(*) AS orders_90d, SUM(gross_amount_usd) AS revenue_90d,
         COUNTIF(is_returned) AS returns_90d
  FROM `{{ params.project }}.marts.fct_orders`
  WHERE order_date > DATE_SUB(DATE '{{ ds }}', INTERVAL 90 DAY)
  GROUP BY customer_id
),
tickets_90d AS (
  SELECT customer_id, COUNT(*) AS tickets_90d, AVG(satisfaction_score) AS csat_90d
  FROM `{{ params.project }}.marts.fct_support_tickets`
  WHERE DATE(created_at) > DATE_SUB(DATE '{{ ds }}', INTERVAL 90 DAY)
  GROUP BY customer_id
),
sessions_30d AS (
  SELECT user_id AS customer_id, COUNT(*) AS sessions_30d
  FROM `{{ params.project }}.marts.fct_sessions`
  WHERE session_date > DATE_SUB(DATE '{{ ds }}', INTERVAL 30 DAY) AND user_id IS NOT NULL
  GROUP BY user_id
)
SELECT
  DATE '{{ ds }}' AS snapshot_date,
  c.customer_id,
  c.sales_region,
  c.customer_segment,
  DATE_DIFF(DATE '{{ ds }}', c.last_order_date, DAY) AS days_since_last_order,
  l.orders AS lifetime_orders,
  l.ltv_3y_usd,
  IFNULL(o.orders_90d, 0) AS orders_90d,
  IFNULL(o.revenue_90d, 0) AS revenue_90d,
  IFNULL(o.returns_90d, 0) AS returns_90d,
  IFNULL(t.tickets_90d, 0) AS tickets_90d,
  t.csat_90d,
  IFNULL(s.sessions_30d, 0) AS sessions_30d
FROM `{{ params.project }}.marts.dim_customers` AS c
JOIN `{{ params.project }}.marts.customer_ltv` AS l USING (customer_id)
LEFT JOIN orders_90d AS o USING (customer_id)
LEFT JOIN tickets_90d AS t USING (customer_id)
LEFT JOIN sessions_30d AS s USING (customer_id)
WHERE c.is_active;
