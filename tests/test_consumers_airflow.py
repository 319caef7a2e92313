"""The Airflow / Composer DAG scanner (``type: airflow``) on the bundled example DAG folder."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from test_consumers_build import build
from test_consumers_support import settings_with

from lineage_core.discovery.consumers import ConsumerResult, collect
from lineage_core.errors import ConfigError
from lineage_core.graph import LineageGraph

REPO = Path(__file__).resolve().parents[1]
WAREHOUSE = REPO / "examples" / "warehouse"
DAGS = REPO / "examples" / "dags"

SQL_SOURCE = (
    f"  - name: composer\n    path: {WAREHOUSE / 'sql'}\n"
    "    files:\n      - match: 'reporting/*.sql'\n        vars: {params: {report_dataset: reporting}}\n"
)
VARS = "vars: {params: {project: acme-analytics, env: prod, countries: [jp], full_refresh: false}}\n"


def scan(tmp_path: Path, root: Path, options: str = "{}", *, with_sql: bool = True) -> ConsumerResult:
    return collect(
        settings_with(
            f"default_project: acme-analytics\n{VARS}sources:\n{SQL_SOURCE if with_sql else ''}"
            f"  - name: dags\n    type: airflow\n    path: {root}\n    labels: {{team: platform}}\n"
            f"    options: {options}\n",
            tmp_path,
        )
    )


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> ConsumerResult:
    return scan(tmp_path_factory.mktemp("dags"), DAGS, '{url_template: "https://composer.example/{dag_id}/{task_id}"}')


def write(root: Path, name: str, text: str) -> None:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))


def test_one_job_node_per_task_of_every_dag_style(example: ConsumerResult) -> None:
    jobs = {n.id: n for n in example.nodes}
    assert set(jobs) == {
        # `with DAG(dag_id=...)` + BigQueryInsertJobOperator ({% include %} and a bare path)
        "airflow:acme_staging_daily.build_stg_orders",
        "airflow:acme_staging_daily.build_stg_order_items",
        "airflow:acme_staging_daily.build_stg_sessions",
        # `@dag(...)` + BigQueryExecuteQueryOperator(sql=path)
        "airflow:acme_marts_daily.build_fct_orders",
        "airflow:acme_marts_daily.build_customer_ltv",
        # `dag = DAG("id")` + SQLExecuteQueryOperator(dag=dag), one inline SQL
        "airflow:acme_reporting_daily.build_rpt_daily_revenue",
        "airflow:acme_reporting_daily.build_rpt_revenue_by_country",
        "airflow:acme_reporting_daily.snapshot_order_counts",
    }
    node = jobs["airflow:acme_marts_daily.build_fct_orders"]
    assert node.kind == "job"
    assert node.labels["tool"] == "airflow"
    assert node.labels["dag_id"] == "acme_marts_daily"
    assert node.labels["task_id"] == "build_fct_orders"
    assert node.labels["team"] == "platform"  # the source's labels
    assert node.url == "https://composer.example/acme_marts_daily/build_fct_orders"
    assert not example.errors


def test_edges_run_from_what_the_sql_reads_through_the_job_to_what_it_writes(example: ConsumerResult) -> None:
    edges = {e for r in example.results for e in r.edges}
    job = "airflow:acme_staging_daily.build_stg_orders"
    assert ("acme-analytics.raw.orders", job) in edges
    assert (job, "acme-analytics.staging.stg_orders") in edges
    inline = "airflow:acme_reporting_daily.snapshot_order_counts"
    assert ("acme-analytics.marts.fct_orders", inline) in edges
    assert (inline, "acme-analytics.reporting.ops_daily_order_counts") in edges


def test_a_sql_file_of_a_sql_source_links_to_its_query_and_uses_its_vars(example: ConsumerResult) -> None:
    by_id = {r.query.id: r.query for r in example.results}
    query = by_id["dags:acme_reporting_daily.build_rpt_daily_revenue"]
    # rendered with the composer source's per-file vars (params.report_dataset comes from `files:`)
    assert "acme-analytics.reporting.rpt_daily_revenue" in query.targets
    assert query.labels["sql_query"] == "composer:reporting/rpt_daily_revenue.sql"
    assert query.path == "acme_reporting_daily.py"
    assert "sql_query" not in by_id["dags:acme_reporting_daily.snapshot_order_counts"].labels


def test_jobs_without_a_sql_source_still_resolve_paths_through_the_searchpath(tmp_path: Path) -> None:
    result = scan(tmp_path, DAGS, with_sql=False)
    targets = {t for r in result.results for t in r.query.targets}
    assert "acme-analytics.staging.stg_orders" in targets
    assert all("sql_query" not in r.query.labels for r in result.results)


def test_options_searchpath_include_nested_and_list_sql(tmp_path: Path) -> None:
    root = tmp_path / "dags"
    write(root, "queries/load.sql", "INSERT INTO ds.b SELECT * FROM ds.a")
    write(root, "queries/wrapper.sql", "{% include 'load.sql' %}")
    write(root, "pipeline/etl.py", """
        from airflow.models import DAG
        from airflow.providers.google.cloud.operators import bigquery as bq
        CONFIG = {"query": {"query": "{% include 'wrapper.sql' %}"}}
        with DAG(dag_id="etl") as d:
            bq.BigQueryInsertJobOperator(task_id="load", configuration=CONFIG)
            bq.BigQueryOperator(task_id="two", sql=["SELECT 1 FROM ds.c", "DELETE FROM ds.d WHERE x IN (SELECT x FROM ds.e)"])
    """)
    result = scan(tmp_path, root, "{template_searchpath: [queries]}", with_sql=False)
    by_id = {r.query.id: r.query for r in result.results}
    assert by_id["dags:etl.load"].sources == ("acme-analytics.ds.a",)
    assert set(by_id["dags:etl.load"].targets) == {"acme-analytics.ds.b", "airflow:etl.load"}
    assert set(by_id["dags:etl.two"].sources) == {"acme-analytics.ds.c", "acme-analytics.ds.e"}
    assert set(by_id["dags:etl.two"].targets) == {"acme-analytics.ds.d", "airflow:etl.two"}
    assert not result.errors


def test_a_syntax_error_is_an_error_of_that_file_only(tmp_path: Path) -> None:
    root = tmp_path / "dags"
    write(root, "broken.py", "from airflow import DAG\nwith DAG('x' as d:\n    pass\n")
    write(root, "good.py", """
        from airflow import DAG
        from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator
        with DAG("good"):
            SQLExecuteQueryOperator(task_id="t", sql="CREATE TABLE ds.out AS SELECT * FROM ds.src")
    """)
    result = scan(tmp_path, root, with_sql=False)
    assert [n.id for n in result.nodes] == ["airflow:good.t"]
    assert [(e.path, e.kind) for e in result.errors] == [("broken.py", "parse")]
    assert result.errors[0].line == 2


def test_missing_files_and_unfollowable_sql_are_errors_of_the_task(tmp_path: Path) -> None:
    root = tmp_path / "dags"
    write(root, "d.py", """
        from airflow import DAG
        from airflow.providers.google.cloud.operators.bigquery import BigQueryExecuteQueryOperator
        with DAG("d"):
            BigQueryExecuteQueryOperator(task_id="missing", sql="nowhere/x.sql")
            BigQueryExecuteQueryOperator(task_id="dynamic", sql=build_sql())
            BigQueryExecuteQueryOperator(task_id="undefined", sql="SELECT * FROM {{ params.nope }}.t")
    """)
    result = scan(tmp_path, root, with_sql=False)
    assert {n.id for n in result.nodes} == {"airflow:d.missing", "airflow:d.dynamic", "airflow:d.undefined"}
    assert sorted((e.path, e.line, e.kind) for e in result.errors) == [
        ("d.py", 5, "read"), ("d.py", 6, "unresolved"), ("d.py", 7, "render")]
    assert any("nowhere/x.sql" in e.message for e in result.errors)


def test_unknown_option_is_a_config_error_naming_key_and_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        scan(tmp_path, DAGS, "{template_serchpath: [x]}", with_sql=False)
    text = str(info.value)
    assert "sources.0.options.template_serchpath" in text
    assert "unknown key 'template_serchpath'" in text
    assert "lineage.yaml:" in text


def test_build_answers_which_job_writes_a_table_and_its_outputs(tmp_path: Path) -> None:
    dags = {"name": "dags", "type": "airflow", "path": str(DAGS)}
    document = build(tmp_path, dags)
    nodes = {n.id: n for n in document.nodes}
    job = "airflow:acme_marts_daily.build_fct_orders"
    assert nodes[job].kind == "job"
    graph = LineageGraph.from_document(document)
    writers = [r.id for r in graph.upstream("acme-analytics.marts.fct_orders", 1) if nodes[r.id].kind == "job"]
    assert writers == [job]
    assert "acme-analytics.marts.fct_orders" in {r.id for r in graph.downstream(job, 1)}
    assert "acme-analytics.staging.stg_orders" in {r.id for r in graph.upstream(job, 1)}
    # the SQL file's own query is still there, with the job's query pointing at it
    query_ids = {q.id for q in document.queries}
    assert "composer:marts/fct_orders.sql" in query_ids
    assert {q.labels.get("sql_query") for q in document.queries if q.id == "dags:acme_marts_daily.build_fct_orders"} == {
        "composer:marts/fct_orders.sql"}
