-- reporting.rpt_weekly_orders: the last 7 days of orders per region, for the Monday
-- operations review. marts.orders_between is a table-valued function (maintained in
-- Terraform with the other routines): it is called here, not read as a table.
-- Airflow: dag=acme_reporting_daily, task=build_rpt_weekly_orders

CREATE OR REPLACE TABLE `{{ params.project }}.{{ params.report_dataset }}.rpt_weekly_orders` AS
SELECT
  c.sales_region,
  o.order_date,
  COUNT(*) AS orders,
  COUNTIF(o.is_returned) AS returned_orders,
  SUM(o.gross_amount_usd) AS revenue_usd,
  APPROX_QUANTILES(TIMESTAMP_DIFF(o.shipped_at, o.ordered_at, HOUR), 100)[OFFSET(50)] AS median_hours_to_ship
FROM `{{ params.project }}.marts.orders_between`(
  DATE_SUB(DATE '{{ ds }}', INTERVAL 6 DAY),
  DATE '{{ ds }}'
) AS o
JOIN `{{ params.project }}.marts.dim_customers` AS c
  ON c.customer_id = o.customer_id
GROUP BY c.sales_region, o.order_date;
