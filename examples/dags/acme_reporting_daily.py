"""Reporting layer: what the dashboards read (SQLExecuteQueryOperator, one inline query)."""

from datetime import datetime

from airflow import DAG
from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator

dag = DAG(
    "acme_reporting_daily",
    schedule="0 5 * * *",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    template_searchpath="../warehouse/sql",
)

build_rpt_daily_revenue = SQLExecuteQueryOperator(
    task_id="build_rpt_daily_revenue",
    conn_id="bigquery_default",
    sql="reporting/rpt_daily_revenue.sql",
    dag=dag,
)

build_rpt_revenue_by_country = SQLExecuteQueryOperator(
    task_id="build_rpt_revenue_by_country",
    conn_id="bigquery_default",
    sql="reporting/rpt_revenue_by_country.sql",
    dag=dag,
)

# Inline SQL: a small daily snapshot of order counts for the operations channel.
ORDERS_SNAPSHOT_SQL = """
INSERT INTO `acme-analytics.reporting.ops_daily_order_counts` (ds, orders)
SELECT DATE('{{ ds }}') AS ds, COUNT(*) AS orders
FROM `acme-analytics.marts.fct_orders`
WHERE DATE(ordered_at) = DATE('{{ ds }}')
"""

snapshot_order_counts = SQLExecuteQueryOperator(
    task_id="snapshot_order_counts",
    conn_id="bigquery_default",
    sql=ORDERS_SNAPSHOT_SQL,
    dag=dag,
)

[build_rpt_daily_revenue, build_rpt_revenue_by_country] >> snapshot_order_counts
