"""Marts layer: the facts and dimensions (TaskFlow `@dag`, BigQueryExecuteQueryOperator)."""

from datetime import datetime

from airflow.decorators import dag
from airflow.providers.google.cloud.operators.bigquery import BigQueryExecuteQueryOperator

SQL_DIR = "../warehouse/sql"


@dag(
    dag_id="acme_marts_daily",
    schedule="30 3 * * *",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    template_searchpath=[SQL_DIR],
)
def acme_marts_daily():
    fct_orders = BigQueryExecuteQueryOperator(
        task_id="build_fct_orders",
        sql="marts/fct_orders.sql",
        use_legacy_sql=False,
    )
    customer_ltv = BigQueryExecuteQueryOperator(
        task_id="build_customer_ltv",
        sql="marts/customer_ltv.sql",
        use_legacy_sql=False,
    )
    fct_orders >> customer_ltv


acme_marts_daily()
