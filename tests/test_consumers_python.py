"""The Python/Streamlit app scanner (``type: python``) on the bundled example app repository."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from test_consumers_support import settings_with

from lineage_core.discovery.consumers import ConsumerResult, collect

REPO = Path(__file__).resolve().parents[1]
APPS = REPO / "examples" / "apps"


def scan(tmp_path: Path, root: Path, options: str = "{}") -> ConsumerResult:
    return collect(
        settings_with(
            f"default_project: acme-analytics\nsources:\n  - name: apps\n    type: python\n"
            f"    path: {root}\n    options: {options}\n",
            tmp_path,
        )
    )


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> ConsumerResult:
    return scan(tmp_path_factory.mktemp("apps"), APPS, '{app_url_template: "https://{name}-xyz.a.run.app"}')


def test_every_query_of_the_example_apps_is_found_with_its_file_and_line(example: ConsumerResult) -> None:
    found = {(r.query.path, r.query.line_start): r.query.sources for r in example.results}
    assert found == {
        ("churn_watch.py", 13): ("acme-analytics.reporting.v_churn_watchlist",),
        ("marketing/streamlit_app.py", 11): ("acme-analytics.reporting.rpt_marketing_roas",),
        ("marketing/streamlit_app.py", 15): ("acme-analytics.reporting.rpt_funnel",),
        ("marketing/streamlit_app.py", 20): (),
        ("sales_dashboard/app.py", 23): ("acme-analytics.reporting.rpt_daily_revenue",),
        ("sales_dashboard/app.py", 33): ("acme-analytics.reporting.rpt_revenue_by_country",),
        ("sales_dashboard/app.py", 37): (
            "acme-analytics.marts.customer_ltv",
            "acme-analytics.marts.dim_customers",
            "acme-analytics.reporting.rpt_customer_segments",
        ),
        ("sales_dashboard/pages/1_Orders.py", 7): ("acme-analytics.marts.fct_orders",),
    }


def test_one_node_per_app_with_url_title_and_entry(example: ConsumerResult) -> None:
    nodes = {n.id: n for n in example.nodes}
    assert sorted(nodes) == ["app:churn-watch", "app:marketing", "app:sales-dashboard"]
    sales = nodes["app:sales-dashboard"]
    assert sales.kind == "app"
    assert sales.url == "https://sales-dashboard-xyz.a.run.app"
    assert sales.description == "Sales dashboard"
    assert sales.labels["entry"] == "sales_dashboard/app.py" and sales.labels["tool"] == "streamlit"


def test_pages_and_sql_files_belong_to_their_app(example: ConsumerResult) -> None:
    by_path = {(r.query.path, r.query.line_start): r for r in example.results}
    orders_page = by_path[("sales_dashboard/pages/1_Orders.py", 7)]
    assert orders_page.query.targets == ("app:sales-dashboard",)
    assert ("acme-analytics.marts.fct_orders", "app:sales-dashboard") in orders_page.edges
    sql_file = by_path[("sales_dashboard/app.py", 37)]
    assert sql_file.query.labels["sql_file"] == "sales_dashboard/queries/top_customers.sql"
    roas = by_path[("marketing/streamlit_app.py", 11)]
    assert roas.query.labels["sql_file"] == "marketing/roas.sql"


def test_an_fstring_with_a_runtime_value_is_partial_but_keeps_its_table(example: ConsumerResult) -> None:
    funnel = next(r for r in example.results if (r.query.path, r.query.line_start) == ("marketing/streamlit_app.py", 15))
    assert funnel.query.sources == ("acme-analytics.reporting.rpt_funnel",)
    assert funnel.query.labels["partial"] == "true"
    [error] = funnel.errors
    assert (error.kind, error.path, error.line) == ("unresolved", "marketing/streamlit_app.py", 15)
    assert "{country}" in error.message and "marketing/streamlit_app.py:15" in error.message


def test_a_table_named_by_a_runtime_value_is_not_invented(example: ConsumerResult) -> None:
    sla = next(r for r in example.results if (r.query.path, r.query.line_start) == ("marketing/streamlit_app.py", 20))
    assert sla.query.sources == () and sla.edges == ()
    [error] = sla.errors
    assert error.kind == "unresolved" and "acme-analytics.{dataset}.rpt_support_sla" in error.message


def test_pandas_dataframe_query_is_not_sql(example: ConsumerResult) -> None:
    churn = [r for r in example.results if r.query.path == "churn_watch.py"]
    assert [r.query.line_start for r in churn] == [13]


def test_resolved_queries_carry_no_errors(example: ConsumerResult) -> None:
    flagged = {(e.path, e.line) for e in example.errors}
    assert flagged == {("marketing/streamlit_app.py", 15), ("marketing/streamlit_app.py", 20)}


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


def test_a_python_syntax_error_is_an_error_of_that_file_only(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    write(repo, {
        "good.py": 'import streamlit as st\nst.title("x")\nimport pandas as pd\npd.read_gbq("SELECT 1 FROM d.t")\n',
        "broken.py": "import streamlit as st\ndef f(:\n",
    })
    result = scan(tmp_path, repo)
    assert [n.id for n in result.nodes] == ["app:good"]
    [error] = result.errors
    assert (error.kind, error.path, error.line) == ("parse", "broken.py", 2)
    assert any(r.query.sources == ("acme-analytics.d.t",) for r in result.results)


def test_string_building_is_followed_through_variables(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    write(repo, {"app.py": '''
        import streamlit as st
        from google.cloud import bigquery

        DATASET = "reporting"
        client = bigquery.Client()
        st.title("t")
        base = "SELECT * FROM `acme-analytics." + DATASET + ".a`"
        client.query(base)
        client.query("SELECT * FROM {}.b".format(DATASET))
        client.query("SELECT * FROM %s.c" % DATASET)
        sql = "SELECT * FROM reporting.d"
        sql += " JOIN reporting.e USING (id)"
        client.query(sql)
    '''})
    result = scan(tmp_path, repo)
    assert [r.query.sources for r in result.results] == [
        ("acme-analytics.reporting.a",),
        ("acme-analytics.reporting.b",),
        ("acme-analytics.reporting.c",),
        ("acme-analytics.reporting.d", "acme-analytics.reporting.e"),
    ]
    assert result.errors == ()


def test_a_non_literal_sql_argument_is_reported_unresolved(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    write(repo, {"app.py": '''
        import streamlit as st
        from google.cloud import bigquery

        st.title("t")
        client = bigquery.Client()
        client.query(build_sql())
    '''})
    [error] = scan(tmp_path, repo).errors
    assert (error.kind, error.line) == ("unresolved", 7) and "build_sql()" in error.message


def test_a_missing_sql_file_is_a_read_error_at_the_call(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    write(repo, {"app.py": 'import streamlit as st\nst.title("t")\nconn = st.connection("bigquery")\n'
                           'conn.query(open("missing.sql").read())\n'})
    [error] = scan(tmp_path, repo).errors
    assert (error.kind, error.path, error.line) == ("read", "app.py", 4) and "missing.sql" in error.message


def test_sql_files_outside_the_repository_are_never_read(tmp_path: Path) -> None:
    (tmp_path / "secret.sql").write_text("SELECT * FROM private.t")
    repo = tmp_path / "repo"
    write(repo, {"app.py": 'import streamlit as st\nst.title("t")\nconn = st.connection("bigquery")\n'
                           'conn.query(open("../secret.sql").read())\n'})
    result = scan(tmp_path, repo)
    assert all(not r.query.sources for r in result.results)
    assert [e.kind for e in result.errors] == ["read"]


def test_helper_modules_importing_streamlit_are_not_apps(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    write(repo, {
        "app.py": 'import streamlit as st\nfrom lib.data import load\nst.title("Home")\nload("SELECT * FROM d.t1")\n',
        "lib/data.py": "import streamlit as st\nconn = st.connection('bigquery')\n\n"
                       "@st.cache_data\ndef load(sql):\n    return conn.query(sql)\n",
        "pages/2_More.py": 'import streamlit as st\nfrom lib.data import load\nst.title("More")\nload("SELECT * FROM d.t2")\n',
    })
    result = scan(tmp_path, repo)
    assert [n.id for n in result.nodes] == ["app:app"]
    assert sorted(s for r in result.results for s in r.query.sources) == ["acme-analytics.d.t1", "acme-analytics.d.t2"]
    assert result.errors == ()  # the wrapper's own `conn.query(sql)` is not an unresolved query
