"""The Search page with apps, dashboards and jobs: kind icons and a label filter kept in the URL."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from e2e.documents import small_document, write, write_sql
from streamlit.testing.v1 import AppTest

from lineage_core.models import Edge, Node, Query

APP = str(Path(__file__).resolve().parents[1] / "app.py")
SEARCH = "pages/1_Search.py"


@pytest.fixture
def lineage(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The small test document plus a job that writes fct_orders and an app that reads it."""
    write_sql(tmp_path / "sql")
    base = small_document(tmp_path / "sql")
    job = Node("airflow:daily_marts.build_fct_orders", "job", {"tool": "airflow", "team": "finance"},
               ("platform@acme.example",))
    app_node = Node("app:orders-explorer", "app", {"tool": "streamlit", "team": "growth"}, ("growth@acme.example",),
                    url="https://orders-explorer.example")
    queries = (
        Query("dags:daily_marts.build_fct_orders", "dags/marts.py#L9", "marts.py", 9, 12, "dags",
              sources=("acme.staging.stg_orders",), targets=("airflow:daily_marts.build_fct_orders", "acme.marts.fct_orders")),
        Query("apps:orders.py:5", "apps/orders.py#L5", "orders.py", 5, 5, "apps",
              sources=("acme.marts.fct_orders",), targets=("app:orders-explorer",)),
    )  # fmt: skip
    edges = (
        Edge("acme.staging.stg_orders", job.id, (queries[0].id,)),
        Edge(job.id, "acme.marts.fct_orders", (queries[0].id,)),
        Edge("acme.marts.fct_orders", app_node.id, (queries[1].id,)),
    )
    document = dataclasses.replace(
        base,
        nodes=(*base.nodes, job, app_node),
        queries=(*base.queries, *queries),
        edges=(*base.edges, *edges),
    )
    path = write(document, tmp_path / "docs" / "lineage.json")
    monkeypatch.setenv("LINEAGE_URI", str(path))
    monkeypatch.setenv("LINEAGE_REFRESH_SECONDS", "0")
    monkeypatch.delenv("HEALTH_URI", raising=False)
    monkeypatch.delenv("K_SERVICE", raising=False)
    return path


def search(**params: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    for key, value in params.items():
        at.query_params[key] = value
    at.switch_page(SEARCH).run()
    assert not at.exception, at.exception
    return at


def test_search_lists_jobs_apps_and_dashboards_with_their_kind_icon(lineage: Path) -> None:
    at = search(q="orders")
    result = at.dataframe[0].value
    kinds = dict(zip(result["table"], result["kind"], strict=True))
    assert kinds["airflow:daily_marts.build_fct_orders"] == "job"
    assert kinds["app:orders-explorer"] == "app"
    icons = dict(zip(result["table"], result["type"], strict=True))
    assert icons["airflow:daily_marts.build_fct_orders"] == "⚙️ job"
    assert icons["app:orders-explorer"] == "🖥️ app"
    assert icons["acme.marts.fct_orders"] == "🗄️ table"
    dashboards = search(q="revenue").dataframe[0].value
    assert dict(zip(dashboards["table"], dashboards["type"], strict=True))["bi.revenue_dashboard"] == "📊 dashboard"


def test_label_filter_from_the_url_keeps_only_labelled_nodes(lineage: Path) -> None:
    at = search(q="orders", label="team=finance")
    result = at.dataframe[0].value
    assert sorted(result["table"]) == ["acme.marts.fct_orders", "airflow:daily_marts.build_fct_orders"]
    assert all("team=finance" in text for text in result["labels"])
    assert at.text_input(key="search_labels").value == "team=finance"
    assert at.query_params["label"] == "team=finance"


def test_label_filter_typed_in_is_written_to_the_url_and_anded(lineage: Path) -> None:
    at = search(q="orders")
    at.text_input(key="search_labels").input("team=finance, tool=airflow").run()
    assert not at.exception, at.exception
    assert list(at.dataframe[0].value["table"]) == ["airflow:daily_marts.build_fct_orders"]
    assert at.query_params["label"] == "team=finance,tool=airflow"


def test_labels_alone_list_the_labelled_nodes_and_kinds_combine(lineage: Path) -> None:
    at = search(label="team")
    tables = set(at.dataframe[0].value["table"])
    assert tables == {"acme.staging.stg_orders", "acme.marts.fct_orders", "airflow:daily_marts.build_fct_orders",
                      "app:orders-explorer"}
    at = search(label="team", kind="app")
    assert list(at.dataframe[0].value["table"]) == ["app:orders-explorer"]
    at = search(q="orders", label="team=nobody")
    assert not at.dataframe
    assert any("Nothing matches" in str(w.value) for w in at.warning)
