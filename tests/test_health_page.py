"""The data-health page through Streamlit's AppTest: counts, problems-only, permalinks, bad input."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from test_health_evaluate import FRESH, NOW, lineage, observed

from lineage_core.artifact import dumps_document
from lineage_core.health.document import dumps_health
from lineage_core.health.evaluate import evaluate
from lineage_core.health.rules import parse_health
from lineage_core.render.colors import HEALTH_COLORS

APP = str(Path(__file__).resolve().parents[1] / "app.py")
PAGE = "pages/5_Data_health.py"
EVIL = "raw.[click](https://evil.example)"
EDGES = [("raw.orders", "staging.stg_orders"), ("staging.stg_orders", "marts.fct_orders"),
         ("raw.customers", "marts.dim_customers"), (EVIL, "marts.fct_orders")]


@pytest.fixture
def docs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    document = lineage(EDGES)
    (tmp_path / "lineage.json").write_bytes(dumps_document(document))
    health = parse_health({"freshness": [{"select": "dataset:raw", "warn_after": {"count": 1, "period": "hour"}}]})
    first = evaluate(document, health, observed({"raw.orders": FRESH, "raw.customers": FRESH, EVIL: FRESH}),
                     now=NOW - timedelta(hours=2), lineage_uri=str(tmp_path / "lineage.json"))
    doc = evaluate(document, health,
                   observed({"raw.orders": timedelta(hours=3), "raw.customers": FRESH, EVIL: FRESH}),
                   now=NOW, lineage_uri=str(tmp_path / "lineage.json"), previous=first)
    (tmp_path / "health.json").write_bytes(dumps_health(doc))
    monkeypatch.setenv("LINEAGE_URI", str(tmp_path / "lineage.json"))
    monkeypatch.delenv("HEALTH_URI", raising=False)
    yield tmp_path


def run(**params: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30).run()  # the real app: settings from the environment
    for key, value in params.items():
        at.query_params[key] = value
    at.switch_page(PAGE).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def markdown_text(at: AppTest) -> str:
    return "\n".join(str(m.value) for m in at.markdown) + "\n".join(str(c.value) for c in at.caption)


def test_counts_graph_and_timeline(docs: Path) -> None:
    at = run()
    counts = {m.label: m.value for m in at.metric}
    assert (counts["late"], counts["upstream late"], counts["on time"], counts["unknown"]) == ("1", "2", "2", "1")
    [graph] = [e for e in at.main if getattr(e, "type", "") == "iframe"]
    page = graph.proto.srcdoc  # drawn by lineage_core.render.pyvis_html in health colors
    nodes = {n["id"]: n for n in json.loads(re.search(r"var nodeData = (\[.*?\]);\n", page).group(1))}  # type: ignore[union-attr]
    edges = json.loads(re.search(r"var edgeData = (\[.*?\]);\n", page).group(1))  # type: ignore[union-attr]
    assert nodes["acme.raw.orders"]["color"] == HEALTH_COLORS["late"]
    assert nodes["acme.marts.fct_orders"]["color"] == HEALTH_COLORS["upstream_late"]
    assert nodes["acme.raw.customers"]["color"] == HEALTH_COLORS["on_time"]
    assert {"from": "acme.raw.orders", "to": "acme.staging.stg_orders", "arrows": "to"} in edges
    assert ">upstream late</span>" in page and ">on time</span>" in page  # the legend
    assert "Recent evaluations" in [s.value for s in at.subheader]
    assert len(at.get("vega_lite_chart")) == 1  # the timeline of the two evaluations


def test_problems_only_shows_root_causes_impact_and_csv(docs: Path) -> None:
    at = run()
    at.toggle(key="health-problems").set_value(True).run()
    assert not at.exception
    assert at.query_params["problems"] in ("1", ["1"])
    headers = [s.value for s in at.subheader]
    assert "Root causes (1)" in headers and "Problems (3)" in headers
    text = markdown_text(at)
    assert "acme\\.raw\\.orders" in text and "Impacted consumers downstream: **2**" in text
    assert len(at.get("download_button")) >= 2  # impacted list + the problems table
    # the permalink reproduces the view
    linked = run(problems="1")
    assert linked.toggle(key="health-problems").value is True
    assert "Root causes (1)" in [s.value for s in linked.subheader]


def test_a_table_from_the_url_is_selected(docs: Path) -> None:
    at = run(table="acme.marts.fct_orders")
    assert at.selectbox(key="health-table").value == "acme.marts.fct_orders"
    assert "Selected table" in [s.value for s in at.subheader]
    assert any("waiting on late upstream acme.raw.orders" in t.value for t in at.text)


def test_an_unknown_table_in_the_url_is_explained(docs: Path) -> None:
    at = run(table="acme.nope.<script>alert(1)</script>")
    assert [w.value for w in at.warning] == [
        "No table with this id in the health document (the link may be out of date):"]
    assert "acme.nope.<script>alert(1)</script>" in [c.value for c in at.code]
    assert at.selectbox(key="health-table").value == ""


def test_no_health_document(docs: Path) -> None:
    (docs / "health.json").unlink()
    at = run()
    assert "No health document yet" in at.info[0].value
    assert str(docs / "health.json") in [c.value for c in at.code]
    assert not at.metric


def test_a_corrupt_health_document_is_an_error_not_a_crash(docs: Path) -> None:
    (docs / "health.json").write_bytes(b'{"schema_version": 1, "evaluated_at": "2026-')
    at = run()
    assert at.error and "truncated or not valid JSON" in at.code[0].value


def test_document_text_is_never_markup(docs: Path) -> None:
    at = run(problems="1")
    text = markdown_text(at)
    assert "[click](https://evil.example)" not in text
    at2 = run(table=f"acme.{EVIL}")
    assert f"acme.{EVIL}" == at2.selectbox(key="health-table").value
    assert "](https://evil.example)" not in markdown_text(at2)
