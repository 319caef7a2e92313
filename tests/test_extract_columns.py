"""Column lineage: own cases and the corpus (exact match >= 0.85)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from extract_helpers import assert_column_lineage, corpus_cases

from lineage_core.extract import column_lineage, load_columns_schema

CASES = [
    ("INSERT INTO ds.t (a, b) SELECT x, y + 1 FROM ds.s", {("ds.s.x", "ds.t.a"), ("ds.s.y", "ds.t.b")}),
    ("CREATE TABLE ds.t AS SELECT s.id, s.v AS value FROM ds.s AS s", {("ds.s.id", "ds.t.id"), ("ds.s.v", "ds.t.value")}),
    ("CREATE VIEW ds.v AS WITH c AS (SELECT id AS k FROM ds.s) SELECT k FROM c", {("ds.s.id", "ds.v.k")}),
    ("INSERT INTO ds.t SELECT * FROM ds.s", {("ds.s.*", "ds.t.*")}),
    ("INSERT INTO ds.t SELECT a FROM ds.x UNION ALL SELECT b FROM ds.y", {("ds.x.a", "ds.t.a"), ("ds.y.b", "ds.t.a")}),
    ("INSERT INTO ds.t SELECT a FROM ds.x JOIN ds.y USING (id)", {("<unresolved>.a", "ds.t.a")}),
    ("MERGE ds.t t USING ds.s s ON t.id = s.id WHEN MATCHED THEN UPDATE SET v = s.v", {("ds.s.v", "ds.t.v")}),
    ("UPDATE ds.t t SET v = s.w FROM ds.s s WHERE t.id = s.id", {("ds.s.w", "ds.t.v")}),
    ("CREATE TEMP TABLE tmp AS SELECT a FROM ds.s; INSERT INTO ds.t SELECT a AS b FROM tmp", {("ds.s.a", "ds.t.b")}),
    ("SELECT a FROM ds.s", set()),
]


@pytest.mark.parametrize(("sql", "pairs"), CASES)
def test_columns(sql: str, pairs: set[tuple[str, str]]) -> None:
    assert_column_lineage(sql, pairs)


def test_schema_expands_star_and_attributes_join_columns() -> None:
    schema = {"ds.x": ["id", "a"], "ds.y": ["id", "b"]}
    assert_column_lineage(
        "INSERT INTO ds.t SELECT a, b FROM ds.x JOIN ds.y USING (id)",
        {("ds.x.a", "ds.t.a"), ("ds.y.b", "ds.t.b")},
        schema=schema,
    )
    assert_column_lineage(
        "INSERT INTO ds.t SELECT * FROM ds.x",
        {("ds.x.id", "ds.t.id"), ("ds.x.a", "ds.t.a")},
        schema=schema,
    )


def test_load_columns_schema(tmp_path: Path) -> None:
    rows = [
        {"table_catalog": "p", "table_schema": "ds", "table_name": "t", "column_name": "a"},
        {"table_catalog": "p", "table_schema": "ds", "table_name": "t", "column_name": "b"},
    ]
    path = tmp_path / "columns.json"
    path.write_text(json.dumps(rows), encoding="utf-8")
    assert load_columns_schema(path) == {"p.ds.t": ["a", "b"]}


def test_corpus_columns_exact_match() -> None:
    cases = [c for c in corpus_cases("sqllineage_columns.jsonl") if not c.get("nonidentifier_columns")]
    exact = 0
    for case in cases:
        config = case.get("sqllineage_config") or {}
        got = column_lineage(
            case["sql"],
            dialect=case["sqlglot_dialect"],
            schema=case.get("schema"),
            lateral_alias=config.get("SQLLINEAGE_LATERAL_COLUMN_ALIAS_REFERENCE") in ("1", "TRUE"),
        )
        pairs = {(e.source.lower(), e.target.lower()) for e in got}
        exact += pairs == {(s.lower(), t.lower()) for s, t in case["column_lineage"]}
    assert exact / len(cases) >= 0.85
