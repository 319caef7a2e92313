"""Every page of the dashboard through Streamlit's AppTest: the real app.py router and pages."""

from __future__ import annotations

import csv
import io
import json
import os
import re
from pathlib import Path

import pytest
from e2e.documents import XSS, empty_document, small_document, star_document, write, write_sql
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[1] / "app.py")
SEARCH, TABLE, GRAPH, ERRORS = (
    "pages/1_Search.py",
    "pages/2_Table.py",
    "pages/3_Lineage_graph.py",
    "pages/4_Errors_and_coverage.py",
)


@pytest.fixture
def lineage(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    write_sql(tmp_path / "sql")
    path = write(small_document(tmp_path / "sql"), tmp_path / "docs" / "lineage.json")
    monkeypatch.setenv("LINEAGE_URI", str(path))
    monkeypatch.setenv("LINEAGE_REFRESH_SECONDS", "0")
    monkeypatch.delenv("HEALTH_URI", raising=False)
    monkeypatch.delenv("K_SERVICE", raising=False)
    return path


def app(page: str | None = None, **params: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    if page:
        for key, value in params.items():
            at.query_params[key] = value
        at.switch_page(page).run()
        assert not at.exception, at.exception
    return at


def texts(at: AppTest) -> str:
    parts = [e.value for kind in ("markdown", "caption", "error", "warning", "info", "success", "title", "subheader")
             for e in getattr(at, kind)]  # fmt: skip
    return "\n".join(str(p) for p in parts)


def frames(at: AppTest) -> list[object]:
    return [df.value for df in at.dataframe]


def srcdoc(at: AppTest) -> str:
    found = at.get("iframe")
    assert found, "the graph iframe is missing"
    return str(found[0].proto.srcdoc)  # type: ignore[attr-defined]


# -- home -------------------------------------------------------------------------------
def test_home_shows_the_document_counts_and_versions(lineage: Path) -> None:
    at = app()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Queries (SQL files)"] == "5" and metrics["Errors"] == "3" and metrics["Edges"] == "6"
    table = frames(at)[0]
    values = dict(zip(table["field"], table["value"], strict=True))  # type: ignore[index]
    assert values["URI"] == str(lineage)
    assert values["generated at"].startswith("2025-06-01T08:00:00+00:00 (") and "ago" in values["generated at"]
    assert values["generator: sqlglot"] == "30.30.0"
    assert "No health document" in texts(at)


def test_home_search_box_leads_to_search(lineage: Path) -> None:
    at = app()
    at.text_input(key="home_query").input("fct")
    at.button[0].click().run()
    assert at.title[0].value == "Search"
    assert at.query_params["q"] == "fct"
    assert "acme.marts.fct_orders" in list(frames(at)[0]["table"])  # type: ignore[index]


def test_home_shows_health_when_a_health_document_exists(lineage: Path) -> None:
    pytest.importorskip("lineage_core.health.document")
    from datetime import UTC, datetime

    from lineage_core.health.document import dumps_health
    from lineage_core.health.model import HealthDocument, LineageRef, TableHealth

    health = HealthDocument(
        evaluated_at=datetime(2025, 6, 1, 9, tzinfo=UTC),
        lineage=LineageRef(str(lineage), "2025-06-01T08:00:00+00:00", "sha256:test"),
        tables=(TableHealth("acme.marts.fct_orders", "late", "late by 2 h"), TableHealth("acme.raw.orders", "on_time", "ok")),
    )
    (lineage.parent / "health.json").write_bytes(dumps_health(health))
    at = app()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics.get("late") == "1" and metrics.get("on time") == "1"
    at = app(SEARCH, q="fct_orders")
    assert next(iter(frames(at)[0]["health"])) == "late"  # type: ignore[index]


def test_empty_document(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINEAGE_URI", str(write(empty_document(), tmp_path / "lineage.json")))
    at = app()
    assert "no tables yet" in texts(at)
    for page in (SEARCH, TABLE, GRAPH, ERRORS):
        at = app(page, table="x", q="x")
        assert not at.error, page
    assert "No errors" in texts(app(ERRORS))


def test_missing_document_says_how_to_build_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINEAGE_URI", str(tmp_path / "nope" / "lineage.json"))
    at = app()
    assert "no lineage document" in at.error[0].value and "lineage build" in at.error[0].value


def test_broken_document_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "lineage.json"
    from lineage_core.artifact import dumps_document

    path.write_bytes(dumps_document(small_document())[:300])  # truncated JSON
    monkeypatch.setenv("LINEAGE_URI", str(path))
    for page in (None, GRAPH):
        at = app(page, table="fct_orders")
        assert len(at.error) == 1
        assert "cannot be shown" in at.error[0].value and "truncated or not valid JSON" in at.error[0].value
        assert not at.dataframe  # nothing half-drawn below the error


def test_broken_newest_document_falls_back_to_the_last_good_one(lineage: Path) -> None:
    at = app()
    assert not at.warning
    good = lineage.read_bytes()
    lineage.write_bytes(good[: len(good) // 2])
    os.utime(lineage, ns=(1, 1))  # a new generation even on a coarse clock
    at = app(TABLE, table="acme.marts.fct_orders")
    assert "could not be loaded" in at.warning[0].value and "last good" in at.warning[0].value
    assert at.subheader[0].value.replace("\\", "") == "acme.marts.fct_orders"  # still served
    lineage.write_bytes(good)
    os.utime(lineage, ns=(2, 2))
    assert not app().warning  # a good document again: no warning


def test_new_document_appears_without_restart(lineage: Path) -> None:
    assert app().metric[0].value == "6"
    document = small_document()
    from dataclasses import replace

    from lineage_core.models import Node

    write(replace(document, nodes=(*document.nodes, Node("acme.marts.new_table"))), lineage)
    os.utime(lineage, ns=(10**18, 10**18))
    assert app().metric[0].value == "7"


def test_cloud_run_refuses_to_start_without_lineage_uri(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LINEAGE_URI", raising=False)
    monkeypatch.setenv("K_SERVICE", "lineage-dashboard")
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert len(at.error) == 1 and "LINEAGE_URI is not set" in at.error[0].value
    assert not at.metric and not at.title  # stopped before any page ran


# -- search -----------------------------------------------------------------------------
def test_search_results_table_and_open_result(lineage: Path) -> None:
    at = app(SEARCH, q="orders")
    result = frames(at)[0]
    assert {"table", "kind", "upstream", "downstream", "owner"} <= set(result.columns)  # type: ignore[union-attr]
    row = result[result["table"] == "acme.marts.fct_orders"].iloc[0]  # type: ignore[index]
    assert (row["kind"], row["upstream"], row["downstream"], row["owner"]) == ("table", 2, 2, "finance@acme.example")
    at.selectbox(key="search_open").select("acme.marts.fct_orders")
    at.button(key="search_open_table").click().run()
    assert at.title[0].value == "Table" and at.query_params["table"] == "acme.marts.fct_orders"


def test_search_matches_owners_labels_files_and_typos(lineage: Path) -> None:
    def found(q: str) -> list[str]:
        return list(frames(app(SEARCH, q=q))[0]["table"])  # type: ignore[index]

    assert found("finance@acme")[:2] == ["acme.marts.dim_customers", "acme.marts.fct_orders"]
    assert found("pii=yes") == ["acme.raw.customers"]
    assert "acme.marts.dim_customers" in found("dim_customers.sql")
    assert found("custmers")[0] in {"acme.raw.customers", "acme.marts.dim_customers"}


def test_search_kind_filter_is_in_the_url(lineage: Path) -> None:
    at = app(SEARCH, q="acme", kind="view")
    assert list(frames(at)[0]["kind"]) == ["view"]  # type: ignore[index]
    assert at.query_params["kind"] == "view"
    assert "Nothing matches" in texts(app(SEARCH, q="zzzzqqqq"))


# -- table view -------------------------------------------------------------------------
def test_table_view_consumers_paths_sources_sql_and_csv(lineage: Path) -> None:
    at = app(TABLE, table="acme.raw.orders", depth="3")
    consumers = frames(at)[1]
    by_table = dict(zip(consumers["table"], consumers["path"], strict=True))  # type: ignore[index]
    assert by_table["acme.staging.stg_orders"] == "acme.raw.orders → acme.staging.stg_orders"
    assert by_table["bi.revenue_dashboard"] == (
        "acme.raw.orders → acme.staging.stg_orders → acme.marts.fct_orders → bi.revenue_dashboard"
    )
    assert "1 direct consumers" in texts(at) and "4 downstream in total" in texts(at)
    # depth is a permalink parameter
    at = app(TABLE, table="acme.raw.orders", depth="1")
    assert list(frames(at)[1]["table"]) == ["acme.staging.stg_orders"]  # type: ignore[index]
    assert at.query_params["depth"] == "1"

    at = app(TABLE, table="acme.marts.fct_orders")
    sql = [c.value for c in at.code]
    assert any("INSERT INTO acme.marts.fct_orders" in s for s in sql)  # written by
    assert any("CREATE TABLE acme.marts.xss_table" in s for s in sql)  # read by
    assert {c.language for c in at.code} == {"sql"}
    assert "bi://revenue is not a SQL file" in texts(at).replace("\\", "")

    from lineage_core.ui.loader import load_from_store
    from lineage_core.ui.rows import impact_csv

    loaded = load_from_store(str(lineage))
    rows = list(csv.DictReader(io.StringIO(impact_csv(loaded, "acme.raw.orders"))))  # type: ignore[arg-type]
    assert [r["table"] for r in rows] == [
        "acme.staging.stg_orders", "acme.marts.fct_orders", "acme.marts.xss_table", "bi.revenue_dashboard",
    ]  # fmt: skip
    assert at.get("download_button"), "the impact CSV download is missing"


def test_sql_not_readable_is_said(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINEAGE_URI", str(write(small_document(None), tmp_path / "lineage.json")))
    at = app(TABLE, table="acme.marts.fct_orders")
    assert not at.code
    assert "is not readable from this server" in texts(at).replace("\\", "")


def test_table_with_no_consumers(lineage: Path) -> None:
    at = app(TABLE, table="acme.raw.lonely")
    assert "No consumers" in texts(at)
    assert "No upstream sources" in texts(at)


def test_unknown_table_in_the_url_gives_suggestions(lineage: Path) -> None:
    for page in (TABLE, GRAPH):
        at = app(page, table="acme.marts.fct_ordrs")
        assert "No table named" in at.error[0].value
        links = [link.proto.label.replace("\\", "") for link in at.get("page_link")]  # type: ignore[attr-defined]
        assert "acme.marts.fct_orders" in links
        assert not at.get("iframe")


def test_ambiguous_short_name_lists_the_candidates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dataclasses import replace

    from lineage_core.models import Node

    document = replace(small_document(), nodes=(*small_document().nodes, Node("other.raw.orders")))
    monkeypatch.setenv("LINEAGE_URI", str(write(document, tmp_path / "lineage.json")))
    at = app(TABLE, table="raw.orders")
    assert "matches 2 tables" in at.warning[0].value


# -- graph ------------------------------------------------------------------------------
def test_graph_defaults_to_one_hop_and_shows_the_same_nodes_as_a_table(lineage: Path) -> None:
    at = app(GRAPH, table="acme.staging.stg_orders")
    assert (at.number_input(key="graph_up").value, at.number_input(key="graph_down").value) == (1, 1)
    assert at.number_input(key="graph_cap").value == 150
    assert "3 of 3 nodes shown" in texts(at)
    nodes = frames(at)[0]
    assert set(nodes["table"]) == {"acme.raw.orders", "acme.staging.stg_orders", "acme.marts.fct_orders"}  # type: ignore[index]
    html = srcdoc(at)
    for node_id in nodes["table"]:  # type: ignore[index]
        assert f'"id":"{node_id}"' in html


def test_graph_controls_are_permalinks(lineage: Path) -> None:
    at = app(GRAPH, table="acme.raw.orders", up="0", down="3", cap="20", color="dataset")
    assert "5 of 5 nodes shown" in texts(at)
    at.number_input(key="graph_down").set_value(2).run()
    assert at.query_params["down"] == "2" and at.query_params["color"] == "dataset"
    assert "3 of 3 nodes shown" in texts(at)
    at.number_input(key="graph_down").set_value(1).run()
    assert "down" not in at.query_params  # defaults stay out of the link
    assert "legend" in srcdoc(at)


def test_graph_of_5000_nodes_hits_the_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINEAGE_URI", str(write(star_document(4999), tmp_path / "lineage.json")))
    at = app(GRAPH, table="acme.hub.center")
    assert "150 of 5,000 nodes shown" in texts(at)
    warning = at.warning[0].value
    assert "5,000 nodes" in warning and "lower the upstream/downstream depth" in warning
    assert len(frames(at)[0]) == 150
    drawn = json.loads(re.search(r"var nodeData = (.*?);\n", srcdoc(at)).group(1))  # type: ignore[union-attr]
    assert len(drawn) == 150  # the page draws no more than its cap


def test_xss_label_is_never_markup(lineage: Path) -> None:
    at = app(GRAPH, table="acme.marts.xss_table")
    html = srcdoc(at)
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html.replace("\\u0026", "&")
    at = app(TABLE, table="acme.marts.xss_table")
    assert [t for t in at.text if XSS in t.value], "the description is shown as plain text"
    for element in (*at.markdown, *at.caption, *at.error, *at.warning):
        assert "<img" not in element.value
    at = app(ERRORS)
    assert any(XSS in str(m) for m in frames(at)[1]["message"])  # type: ignore[index]


# -- errors & coverage -------------------------------------------------------------------
def test_errors_and_coverage(lineage: Path) -> None:
    at = app(ERRORS)
    coverage, errors = frames(at)[0], frames(at)[1]
    assert list(coverage["source"]) == ["wh", "bi"] and list(coverage["coverage %"]) == [57.1, 100.0]  # type: ignore[index]
    assert len(errors) == 3
    variables = frames(at)[3]
    assert list(variables["variable"]) == ["run_date"]  # type: ignore[index]
    at = app(ERRORS, kind="render")
    assert list(frames(at)[1]["file"]) == ["marts/broken.sql"]  # type: ignore[index]
    assert at.query_params["kind"] == "render"
