"""Staging layer: cleans the raw loads (BigQueryInsertJobOperator + Jinja includes).

The scanner of `lineage build` (source `type: airflow`) reads this file with Python's `ast`;
it is never imported, so Airflow need not be installed to build the lineage.
"""

from datetime import datetime

from airflow import DAG
from airflow.providers.google.cloud.operators.bigquery import BigQueryInsertJobOperator


def bq_query(path: str) -> dict:
    return {"query": {"query": path, "useLegacySql": False}}


with DAG(
    dag_id="acme_staging_daily",
    schedule="0 3 * * *",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    template_searchpath=["../warehouse/sql"],
    default_args={"owner": "analytics-eng"},
    tags=["staging"],
) as dag:
    build_stg_orders = BigQueryInsertJobOperator(
        task_id="build_stg_orders",
        configuration={"query": {"query": "{% include 'staging/stg_orders.sql' %}", "useLegacySql": False}},
    )
    build_stg_order_items = BigQueryInsertJobOperator(
        task_id="build_stg_order_items",
        configuration={"query": {"query": "{% include 'staging/stg_order_items.sql' %}", "useLegacySql": False}},
    )
    build_stg_sessions = BigQueryInsertJobOperator(
        task_id="build_stg_sessions",
        configuration={"query": {"query": "staging/stg_sessions.sql", "useLegacySql": False}},
    )

    build_stg_orders >> build_stg_order_items
