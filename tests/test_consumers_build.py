"""`lineage build` of the example warehouse plus the example app repository, end to end."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML
from test_consumers_support import closed_port_url

from lineage_core.artifact import loads_document
from lineage_core.cli.main import main
from lineage_core.models import LineageDocument
from lineage_core.search import SearchIndex

REPO = Path(__file__).resolve().parents[1]
WAREHOUSE = REPO / "examples" / "warehouse"
APPS = REPO / "examples" / "apps"


def config_with(tmp_path: Path, *extra_sources: dict[str, Any]) -> Path:
    """The example warehouse's lineage.yaml, with its SQL source made absolute and more sources added."""
    yaml = YAML(typ="rt")
    data = yaml.load((WAREHOUSE / "lineage.yaml").read_text())
    data["sources"][0]["path"] = str(WAREHOUSE / data["sources"][0]["path"])
    for source in extra_sources:
        data["sources"].append(source)
    path = tmp_path / "lineage.yaml"
    with path.open("w") as handle:
        yaml.dump(data, handle)
    return path


APPS_SOURCE = {"name": "apps", "type": "python", "path": str(APPS),
               "labels": {"team": "analytics"},
               "options": {"app_url_template": "https://{name}-xyz.a.run.app",
                           "apps": {"sales-dashboard": {"owners": ["sales-analytics@acme.example"]}}}}


def build(tmp_path: Path, *extra_sources: dict[str, Any]) -> LineageDocument:
    out = tmp_path / "lineage.json"
    config = config_with(tmp_path, *extra_sources)
    assert main(["build", "--config", str(config), "--out", str(out), "--no-cache"]) == 0
    return loads_document(out.read_bytes())


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> LineageDocument:
    return build(tmp_path_factory.mktemp("build"), APPS_SOURCE)


def test_app_nodes_get_edges_from_the_warehouse_tables_they_read(document: LineageDocument) -> None:
    nodes = {n.id: n for n in document.nodes}
    assert {n for n, node in nodes.items() if node.kind == "app"} == {
        "app:churn-watch", "app:marketing", "app:sales-dashboard"}
    edges = {(e.source, e.target) for e in document.edges}
    assert ("acme-analytics.reporting.rpt_daily_revenue", "app:sales-dashboard") in edges
    assert ("acme-analytics.marts.fct_orders", "app:sales-dashboard") in edges
    assert ("acme-analytics.reporting.v_churn_watchlist", "app:churn-watch") in edges
    # the tables the apps read are still the warehouse's tables, written by its SQL
    assert nodes["acme-analytics.reporting.rpt_daily_revenue"].kind == "table"
    assert nodes["acme-analytics.reporting.v_churn_watchlist"].kind == "view"


def test_app_nodes_carry_url_owners_and_the_source_labels(document: LineageDocument) -> None:
    sales = next(n for n in document.nodes if n.id == "app:sales-dashboard")
    assert sales.url == "https://sales-dashboard-xyz.a.run.app"
    assert sales.owners == ("sales-analytics@acme.example",)
    assert sales.labels["team"] == "analytics" and sales.labels["tool"] == "streamlit"


def test_the_partial_app_queries_are_in_the_document_errors(document: LineageDocument) -> None:
    unresolved = {(e.path, e.line) for e in document.errors if e.kind == "unresolved" and e.path.endswith(".py")}
    assert unresolved == {("marketing/streamlit_app.py", 15), ("marketing/streamlit_app.py", 20)}
    assert any(e.path == "broken/syntax_error.sql" for e in document.errors)  # the warehouse's own errors stay


def test_down_from_a_warehouse_table_reaches_the_apps(document: LineageDocument, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "doc.json"
    from lineage_core.artifact import dumps_document

    path.write_bytes(dumps_document(document))
    assert main(["down", "acme-analytics.marts.fct_orders", "--lineage", str(path), "--format", "json"]) == 0
    reached = {row["table"] for row in json.loads(capsys.readouterr().out)}
    assert {"app:sales-dashboard", "app:churn-watch"} <= reached


def test_search_finds_apps_by_title_and_by_file(document: LineageDocument) -> None:
    index = SearchIndex.from_document(document)
    assert index.search("sales dashboard")[0].id == "app:sales-dashboard"
    assert "app:marketing" in [hit.id for hit in index.search("streamlit_app.py")]


def test_an_unreachable_service_is_recorded_and_the_rest_is_built(tmp_path: Path) -> None:
    url = closed_port_url()
    jobs = {"name": "looker", "type": "bigquery_jobs",
            "options": {"project": "acme-analytics", "api_endpoint": url, "timeout": 2}}
    document = build(tmp_path, APPS_SOURCE, jobs)
    [error] = [e for e in document.errors if e.uri.startswith("bigquery://")]
    assert error.kind == "read" and "INFORMATION_SCHEMA.JOBS" in error.message and url in error.message
    assert any(n.kind == "app" for n in document.nodes)
    assert any(n.id == "acme-analytics.marts.fct_orders" for n in document.nodes)


def test_a_sharded_build_merges_into_the_same_document_with_its_apps(tmp_path: Path) -> None:
    config = str(config_with(tmp_path, APPS_SOURCE))
    full = tmp_path / "full.json"
    assert main(["build", "--config", config, "--out", str(full), "--no-cache"]) == 0
    parts = tmp_path / "part-{index}.json"
    for index in range(2):
        assert main(["build", "--config", config, "--out", str(parts), "--no-cache",
                     "--shard-index", str(index), "--shard-count", "2"]) == 0
    merged = tmp_path / "merged.json"
    assert main(["merge", str(parts), "--shard-count", "2", "--config", config, "--out", str(merged)]) == 0

    def normalized(path: Path) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(path.read_bytes())
        data.pop("generated_at")
        return data

    assert normalized(merged) == normalized(full)
    assert any(n["kind"] == "app" for n in normalized(merged)["nodes"])
