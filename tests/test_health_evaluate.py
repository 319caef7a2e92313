"""Evaluation: own verdicts, upstream_late propagation, root causes, since-when, the timeline,
the health document (round trip + JSON Schema) and `lineage health` end to end on DuckDB."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import jsonschema
import pytest

from lineage_core.artifact import dumps_document
from lineage_core.cli.main import main
from lineage_core.errors import DocumentError
from lineage_core.health.document import dumps_health, health_schema, loads_health
from lineage_core.health.evaluate import evaluate
from lineage_core.health.model import HealthDocument, Observation
from lineage_core.health.rules import HealthSettings, parse_health
from lineage_core.models import Edge, LineageDocument, Node

NOW = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
P = "acme"


def lineage(edges: Iterable[tuple[str, str]], kinds: Mapping[str, str] | None = None,
            labels: Mapping[str, dict[str, str]] | None = None, extra: Iterable[str] = ()) -> LineageDocument:
    """A lineage document from ``(source, target)`` pairs of short names (``raw.a`` → ``acme.raw.a``)."""
    full = [(f"{P}.{s}", f"{P}.{t}") for s, t in edges]
    ids = sorted({n for e in full for n in e} | {f"{P}.{x}" for x in extra})
    kinds, labels = kinds or {}, labels or {}
    nodes = tuple(
        Node(id=i, kind=kinds.get(i.removeprefix(f"{P}."), "table"), labels=labels.get(i.removeprefix(f"{P}."), {}))  # type: ignore[arg-type]
        for i in ids
    )
    return LineageDocument(
        generated_at="2026-05-01T06:00:00Z", generator={"name": "lineage-dashboard", "version": "test", "sqlglot": "test"}, config_digest="cafe",
        nodes=nodes, edges=tuple(Edge(s, t, ("q1",)) for s, t in full),
    )


def hourly(select: str, **extra: Any) -> dict[str, Any]:
    return {"select": select, "warn_after": {"count": 1, "period": "hour"},
            "error_after": {"count": 1, "period": "day"}, **extra}


def observed(ages: Mapping[str, timedelta | None], now: datetime = NOW, column: str | None = None) -> dict[Any, Observation]:
    return {
        (f"{P}.{t}", column): Observation(f"{P}.{t}", column, None if age is None else now - age)
        for t, age in ages.items()
    }


# the shop: two raw tables feed staging, marts, a view and a dashboard
SHOP = [
    ("raw.orders", "staging.stg_orders"), ("raw.fx", "staging.stg_orders"),
    ("staging.stg_orders", "marts.fct_orders"), ("raw.customers", "marts.dim_customers"),
    ("marts.fct_orders", "reporting.v_kpis"), ("marts.dim_customers", "reporting.v_kpis"),
    ("reporting.v_kpis", "bi.exec_dashboard"),
]


def shop_health(ages: Mapping[str, timedelta | None], previous: HealthDocument | None = None,
                now: datetime = NOW, rules: list[dict[str, Any]] | None = None) -> HealthDocument:
    health = parse_health({"freshness": rules if rules is not None else [hourly("dataset:raw")]})
    return evaluate(lineage(SHOP, kinds={"reporting.v_kpis": "view", "bi.exec_dashboard": "dashboard"}),
                    health, observed(ages, now), now=now, lineage_uri="mem://lineage.json", previous=previous)


FRESH = timedelta(minutes=10)


def statuses(doc: HealthDocument) -> dict[str, str]:
    return {t.id.removeprefix(f"{P}."): t.status for t in doc.tables}


def test_everything_on_time_derives_downstream() -> None:
    doc = shop_health({"raw.orders": FRESH, "raw.fx": FRESH, "raw.customers": FRESH})
    assert set(statuses(doc).values()) == {"on_time"}
    assert doc.by_id()[f"{P}.staging.stg_orders"].message.startswith("derived: 2 of 2 upstream")


def test_a_late_raw_table_makes_its_consumers_upstream_late_with_the_root_cause() -> None:
    doc = shop_health({"raw.orders": timedelta(hours=3), "raw.fx": FRESH, "raw.customers": FRESH})
    s = statuses(doc)
    assert s["raw.orders"] == "late"
    assert s["raw.fx"] == s["raw.customers"] == s["marts.dim_customers"] == "on_time"
    for table in ("staging.stg_orders", "marts.fct_orders", "reporting.v_kpis", "bi.exec_dashboard"):
        assert s[table] == "upstream_late", table
        assert doc.by_id()[f"{P}.{table}"].late_upstream_roots == (f"{P}.raw.orders",)
    root = doc.by_id()[f"{P}.raw.orders"]
    assert root.since == NOW - timedelta(hours=2) and root.expected_by == root.since
    assert doc.by_id()[f"{P}.marts.fct_orders"].since == root.since  # late since the root became late


def test_root_causes_are_the_most_upstream_late_tables() -> None:
    rules = [hourly("dataset:raw"), hourly("dataset:marts")]
    doc = shop_health({"raw.orders": timedelta(hours=5), "raw.fx": FRESH, "raw.customers": FRESH,
                       "marts.fct_orders": timedelta(hours=2), "marts.dim_customers": FRESH}, rules=rules)
    fct = doc.by_id()[f"{P}.marts.fct_orders"]
    assert fct.status == "late" and fct.late_upstream_roots == (f"{P}.raw.orders",)
    assert doc.by_id()[f"{P}.reporting.v_kpis"].late_upstream_roots == (f"{P}.raw.orders",)


def test_an_on_time_table_stops_lateness_and_two_roots_are_both_named() -> None:
    rules = [hourly("dataset:raw"), hourly("marts.fct_orders")]
    doc = shop_health({"raw.orders": timedelta(hours=5), "raw.fx": FRESH, "raw.customers": timedelta(days=2),
                       "marts.fct_orders": FRESH}, rules=rules)
    s = statuses(doc)
    assert s["staging.stg_orders"] == "upstream_late"
    assert s["marts.fct_orders"] == "on_time"  # refreshed anyway: its own rule says so
    assert s["raw.customers"] == "stale" and s["marts.dim_customers"] == "upstream_late"
    assert doc.by_id()[f"{P}.reporting.v_kpis"].late_upstream_roots == (f"{P}.raw.customers",)


def test_missing_observation_is_unknown_and_probe_failure_is_error() -> None:
    health = parse_health({"freshness": [hourly("dataset:raw")]})
    obs = observed({"raw.orders": None, "raw.fx": FRESH})
    obs[(f"{P}.raw.customers", None)] = Observation(f"{P}.raw.customers", None, None, "permission denied")
    doc = evaluate(lineage(SHOP), health, obs, now=NOW, lineage_uri="x")
    s = statuses(doc)
    assert s["raw.orders"] == "unknown" and s["raw.customers"] == "error"
    assert "permission denied" in doc.by_id()[f"{P}.raw.customers"].message
    assert s["staging.stg_orders"] == "on_time"  # fx is on time, orders has no information
    assert s["marts.dim_customers"] == "unknown"


def test_tables_without_rule_or_checked_upstream_are_unknown_and_rules_matching_nothing_warn() -> None:
    doc = shop_health({}, rules=[hourly("dataset:nowhere")])
    assert set(statuses(doc).values()) == {"unknown"}
    assert doc.warnings == ("freshness[0] (dataset:nowhere): selector 'dataset:nowhere' matches no table",)


def test_selectors_label_and_upstream_and_the_last_matching_rule_wins() -> None:
    doc_in = lineage(SHOP, labels={"marts.fct_orders": {"tier": "gold"}})
    health = parse_health({"freshness": [
        {"select": "+acme.marts.fct_orders", "warn_after": {"count": 1, "period": "hour"}, "name": "upstream"},
        {"select": "label:tier=gold", "warn_after": {"count": 3, "period": "hour"}, "name": "gold"},
        {"select": "acme.raw.f*", "warn_after": {"count": 5, "period": "hour"}, "name": "fx-glob"},
    ]})
    obs = observed({"raw.orders": timedelta(hours=2), "raw.fx": timedelta(hours=2),
                    "staging.stg_orders": FRESH, "marts.fct_orders": timedelta(hours=2)})
    doc = evaluate(doc_in, health, obs, now=NOW, lineage_uri="x")
    by = doc.by_id()
    assert (by[f"{P}.raw.orders"].rule, by[f"{P}.raw.orders"].status) == ("upstream", "late")
    assert (by[f"{P}.raw.fx"].rule, by[f"{P}.raw.fx"].status) == ("fx-glob", "on_time")
    assert (by[f"{P}.marts.fct_orders"].rule, by[f"{P}.marts.fct_orders"].status) == ("gold", "on_time")


def test_cycles_terminate_and_name_a_root() -> None:
    edges = [("raw.a", "raw.b"), ("raw.b", "raw.a"), ("raw.b", "marts.c")]
    health = parse_health({"freshness": [hourly("dataset:raw")]})
    doc = evaluate(lineage(edges), health, observed({"raw.a": timedelta(hours=3), "raw.b": timedelta(hours=3)}),
                   now=NOW, lineage_uri="x")
    assert doc.by_id()[f"{P}.marts.c"].status == "upstream_late"
    assert set(doc.by_id()[f"{P}.marts.c"].late_upstream_roots) == {f"{P}.raw.a", f"{P}.raw.b"}


def test_since_and_timeline_carry_over_between_evaluations() -> None:
    first = shop_health({"raw.orders": FRESH, "raw.fx": FRESH, "raw.customers": FRESH})
    later = NOW + timedelta(hours=2)
    second = shop_health({"raw.orders": timedelta(hours=2, minutes=10), "raw.fx": FRESH, "raw.customers": FRESH},
                         previous=first, now=later)
    third = shop_health({"raw.orders": timedelta(hours=2, minutes=40), "raw.fx": FRESH, "raw.customers": FRESH},
                        previous=second, now=later + timedelta(minutes=30))
    assert [e.evaluated_at for e in third.timeline] == [NOW, later, later + timedelta(minutes=30)]
    changed = {(t.table.removeprefix(f"{P}."), t.before, t.after) for t in third.timeline[1].transitions}
    assert ("raw.orders", "on_time", "late") in changed
    assert ("marts.fct_orders", "on_time", "upstream_late") in changed
    assert third.timeline[2].transitions == ()
    assert third.timeline[2].counts["upstream_late"] == 4
    # derived on-time tables keep the since of the first evaluation that saw them on time
    assert third.by_id()[f"{P}.marts.dim_customers"].since == NOW
    assert third.by_id()[f"{P}.raw.orders"].since == later - timedelta(hours=1, minutes=10)


def test_timeline_is_capped() -> None:
    health = parse_health({"freshness": [hourly("dataset:raw")], "timeline_keep": 3})
    doc = None
    for k in range(6):
        doc = evaluate(lineage(SHOP), health, observed({"raw.orders": FRESH}), now=NOW + timedelta(hours=k),
                       lineage_uri="x", previous=doc)
    assert doc is not None and len(doc.timeline) == 3 and doc.timeline[-1].evaluated_at == NOW + timedelta(hours=5)


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        evaluate(lineage(SHOP), HealthSettings(), {}, now=datetime(2026, 1, 1), lineage_uri="x")


# -- the document ----------------------------------------------------------------------------
def test_document_round_trips_and_matches_the_json_schema() -> None:
    first = shop_health({"raw.orders": FRESH, "raw.fx": FRESH})
    doc = shop_health({"raw.orders": timedelta(hours=3), "raw.fx": FRESH, "raw.customers": timedelta(days=3)},
                      previous=first, now=NOW + timedelta(hours=1))
    data = dumps_health(doc)
    jsonschema.Draft202012Validator(health_schema(), format_checker=jsonschema.FormatChecker()).validate(json.loads(data))
    assert loads_health(data) == doc
    raw = json.loads(data)
    assert raw["schema_version"] == 1 and raw["lineage"] == {
        "uri": "mem://lineage.json", "generated_at": "2026-05-01T06:00:00Z", "config_digest": "cafe"}
    assert raw["counts"]["late"] == 1 and raw["counts"]["stale"] == 1


@pytest.mark.parametrize(("mutate", "expected"), [
    (lambda d: d.update(schema_version=2), "schema_version 2; this reader supports 1: upgrade"),
    (lambda d: d.pop("tables"), "missing the field 'tables'"),
    (lambda d: d["tables"][0].update(status="sleepy"), "tables[0].status has an unknown status 'sleepy'"),
    (lambda d: d["tables"][0].update(since="yesterday"), "tables[0].since is not an ISO 8601 time"),
    (lambda d: d["tables"][0].update(late_upstream_roots="x"), "late_upstream_roots must be a list"),
    (lambda d: d.update(evaluated_at=5), "evaluated_at must be an ISO 8601 string"),
])
def test_bad_documents_fail_naming_the_field(mutate: Any, expected: str) -> None:
    raw = json.loads(dumps_health(shop_health({"raw.orders": FRESH})))
    mutate(raw)
    with pytest.raises(DocumentError, match=re.escape(expected)):
        loads_health(json.dumps(raw).encode())
    with pytest.raises(DocumentError, match="truncated or not valid JSON"):
        loads_health(dumps_health(shop_health({}))[:40])


# -- `lineage health` end to end on a real DuckDB file -------------------------------------------
def write_warehouse(path: Path, last_modified: Mapping[str, datetime], loaded_at: Mapping[str, datetime]) -> None:
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE table_freshness (table_id VARCHAR, last_modified TIMESTAMPTZ)")
    con.executemany("INSERT INTO table_freshness VALUES (?, ?)", [[t, v] for t, v in last_modified.items()])
    for table, value in loaded_at.items():
        schema, name = table.split(".")[-2:]
        con.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        con.execute(f'CREATE TABLE "{schema}"."{name}" (id INT, loaded_at TIMESTAMP)')
        con.executemany(f'INSERT INTO "{schema}"."{name}" VALUES (?, ?)',
                        [[1, (value - timedelta(days=1)).replace(tzinfo=None)], [2, value.replace(tzinfo=None)]])
    con.close()


def test_lineage_health_cli_publishes_beside_the_lineage_document(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "build").mkdir()
    lineage_path = tmp_path / "build" / "lineage.json"
    lineage_path.write_bytes(dumps_document(lineage(SHOP)))
    write_warehouse(tmp_path / "wh.duckdb",
                    {f"{P}.raw.orders": NOW - timedelta(hours=3), f"{P}.raw.fx": NOW - FRESH,
                     f"{P}.raw.customers": NOW - FRESH},
                    {f"{P}.marts.dim_customers": NOW - timedelta(hours=30)})
    config = tmp_path / "lineage.yaml"
    config.write_text(
        "freshness:\n"
        "  - {select: 'dataset:raw', warn_after: {count: 2, period: hour}}\n"
        "  - select: acme.marts.dim_customers\n"
        "    deadline: {cron: '0 9 * * *', timezone: Asia/Tokyo}\n"
        "    observe: {column: loaded_at}\n"
        "probe: {type: duckdb, path: wh.duckdb}\n",
        encoding="utf-8",
    )
    args = ["health", "--config", str(config), "--lineage", str(lineage_path), "--now", NOW.isoformat()]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "2 late, 4 upstream_late" in out and "acme.marts.fct_orders: waiting on late upstream acme.raw.orders" in out
    doc = loads_health((tmp_path / "build" / "health.json").read_bytes())
    by = doc.by_id()
    assert by[f"{P}.raw.orders"].status == "late" and by[f"{P}.raw.orders"].observed == "last_modified"
    dim = by[f"{P}.marts.dim_customers"]
    assert (dim.status, dim.observed) == ("late", "max(loaded_at)")  # due 00:00 UTC May 1, loaded Apr 30 02:00
    assert doc.probe.kind == "duckdb" and doc.probe.queries == 2
    # a second run keeps the first in the timeline; --strict exits 1 on late tables
    assert main([*args[:-1], (NOW + timedelta(minutes=5)).isoformat(), "--strict"]) == 1
    doc2 = loads_health((tmp_path / "build" / "health.json").read_bytes())
    assert len(doc2.timeline) == 2


def test_lineage_health_cli_reports_config_and_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lineage_path = tmp_path / "lineage.json"
    lineage_path.write_bytes(dumps_document(lineage(SHOP)))
    config = tmp_path / "lineage.yaml"
    config.write_text("freshness:\n  - {select: x, deadline: {cron: '0 9 * * *', timezone: Mars/Olympus}}\n")
    assert main(["health", "--config", str(config), "--lineage", str(lineage_path)]) == 2
    assert "freshness[0].deadline.timezone: unknown time zone 'Mars/Olympus'" in capsys.readouterr().err
    config.write_text("freshness:\n  - {select: 'dataset:raw', warn_after: {count: 1, period: hour}}\n"
                      "probe: {type: duckdb, path: missing.duckdb}\n")
    assert main(["health", "--config", str(config), "--lineage", str(lineage_path)]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["health", "--config", str(config), "--lineage", str(lineage_path), "--now", "08:00"]) == 2
    assert main(["health", "--config", str(config), "--lineage", str(tmp_path / "nope.json")]) == 1
