"""The demo: a real DuckDB warehouse seeded relative to `now`, in which raw.orders is late."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from lineage_core.artifact import dumps_document
from lineage_core.config import load_settings
from lineage_core.health.demo import prepare_demo
from lineage_core.health.document import loads_health
from lineage_core.models import Edge, LineageDocument, Node

NOW = datetime(2026, 11, 25, 5, 20, tzinfo=UTC)
A = "acme-analytics"
EDGES = [
    ("raw.orders", "staging.stg_orders"), ("raw.fx_rates", "staging.stg_orders"),
    ("raw.customers", "staging.stg_customers"), ("raw.support_tickets", "staging.stg_support_tickets"),
    ("staging.stg_orders", "marts.fct_orders"), ("staging.stg_customers", "marts.dim_customers"),
    ("marts.fct_orders", "reporting.v_exec_kpis"), ("marts.dim_customers", "reporting.v_exec_kpis"),
    ("staging.stg_support_tickets", "marts.fct_support_tickets"),
]


def demo_lineage() -> LineageDocument:
    edges = [(f"{A}.{s}", f"{A}.{t}") for s, t in EDGES]
    ids = sorted({n for e in edges for n in e})
    return LineageDocument(
        generated_at="2026-11-25T05:00:00Z", generator={"name": "lineage-dashboard", "version": "t", "sqlglot": "t"},
        config_digest="demo",
        nodes=tuple(Node(i, "view" if i.endswith("v_exec_kpis") else "table") for i in ids),
        edges=tuple(Edge(s, t, ("q",)) for s, t in edges),
    )


@pytest.fixture
def demo(tmp_path: Path, example_dir: Path) -> Path:
    (tmp_path / "lineage.json").write_bytes(dumps_document(demo_lineage()))
    return prepare_demo(tmp_path, str(tmp_path / "lineage.json"), load_settings(example_dir / "lineage.yaml"), now=NOW)


def test_demo_shows_a_late_table_its_root_cause_and_its_impact(demo: Path) -> None:
    assert demo.name == "health.json"
    doc = loads_health(demo.read_bytes())
    by = {t.id.removeprefix(f"{A}."): t for t in doc.tables}
    assert by["raw.orders"].status == "late" and by["raw.orders"].rule == "raw-loads"
    assert by["raw.support_tickets"].status == "stale"
    assert by["raw.fx_rates"].status == by["raw.customers"].status == "on_time"
    assert by["staging.stg_orders"].status == "upstream_late"
    assert by["staging.stg_orders"].late_upstream_roots == (f"{A}.raw.orders",)
    assert by["marts.fct_orders"].status == "late"  # its build waited: it missed 09:00 JST too
    assert by["marts.fct_orders"].late_upstream_roots == (f"{A}.raw.orders",)
    assert by["marts.fct_orders"].observed == "max(loaded_at)"
    assert by["marts.dim_customers"].status == "on_time"
    assert by["reporting.v_exec_kpis"].status == "upstream_late"
    assert by["reporting.v_exec_kpis"].late_upstream_roots == (f"{A}.raw.orders",)
    assert not doc.probe.errors and doc.probe.kind == "duckdb"
    # the timeline saw raw.orders turn late during the last four hours
    assert len(doc.timeline) == 9 and doc.timeline[-1].evaluated_at == NOW
    turned = [(e.evaluated_at, t.after) for e in doc.timeline for t in e.transitions if t.table == f"{A}.raw.orders"]
    assert turned and turned[0][1] == "late" and turned[0][0] < NOW


def test_demo_seeds_a_real_duckdb_file(demo: Path) -> None:
    con = duckdb.connect(str(demo.parent / "warehouse.duckdb"), read_only=True)
    ids = {row[0] for row in con.execute("SELECT table_id FROM table_freshness").fetchall()}
    assert f"{A}.raw.orders" in ids and f"{A}.reporting.v_exec_kpis" not in ids  # views have no storage
    [(latest,)] = con.execute('SELECT max(loaded_at) FROM "marts"."dim_customers"').fetchall()
    assert latest is not None
    con.close()


def test_demo_can_run_twice(tmp_path: Path, example_dir: Path, demo: Path) -> None:
    again = prepare_demo(tmp_path, str(tmp_path / "lineage.json"), load_settings(example_dir / "lineage.yaml"), now=NOW)
    assert loads_health(again.read_bytes()).counts()["late"] >= 1
