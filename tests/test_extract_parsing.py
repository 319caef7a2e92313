"""Parsing with the implicit-UNNEST rewrite deferred gives the trees sqlglot itself builds."""

from __future__ import annotations

import pytest
import sqlglot
from extract_helpers import corpus_cases
from sqlglot import exp
from sqlglot.errors import ParseError

from lineage_core.extract.names import dialect_of
from lineage_core.extract.parsing import make_unnests_explicit, parse_sql

IMPLICIT_UNNESTS = [
    "SELECT * FROM t, t.arr",
    "SELECT a FROM proj.ds.events AS e, e.items AS item, item.tags AS tag",
    "SELECT * FROM `proj.ds.events`, events.items",
    "SELECT * FROM Events, events.items",
    "SELECT * FROM (SELECT * FROM (SELECT x FROM ds.t) AS i, i.arr) AS s, s.items AS it",
    "SELECT * FROM ds.a, ds.b",  # two tables, not an array
    "SELECT * FROM t AS x JOIN x.arr ON TRUE",  # joined with ON: left as written
    "SELECT * FROM UNNEST([1, 2]) AS n, n.parts",
    "WITH c AS (SELECT * FROM t, t.arr) SELECT * FROM c, c.items WHERE EXISTS (SELECT 1 FROM c AS d, d.z)",
    "INSERT INTO ds.out SELECT * FROM ds.src AS s, s.lines AS l",
    "SELECT * FROM ds.t1 CROSS JOIN ds.t1.arr",
    "SELECT * FROM ds.a JOIN ds.b AS x ON TRUE, x.arr AS y, y.z",  # a joined-with-ON name is seen
    "SELECT * FROM (ds.a AS p JOIN ds.b ON TRUE), p.arr",
]


CASES = [(d, sql) for d in ("bigquery", "redshift") for sql in IMPLICIT_UNNESTS if d == "bigquery" or "`" not in sql]


@pytest.mark.parametrize(("dialect", "sql"), CASES)
def test_same_tree_as_sqlglot(dialect: str, sql: str) -> None:
    expected = sqlglot.parse(sql, read=dialect)
    got = [p.tree for p in parse_sql(dialect, sql)]
    assert [e.sql(dialect) for e in got] == [e.sql(dialect) for e in expected if e]
    assert got == [e for e in expected if e]


def test_deferred_rewrite_is_what_makes_the_trees_equal() -> None:
    sql = IMPLICIT_UNNESTS[1]
    parser_class = type(dialect_of("bigquery").parser())
    parser_class.SUPPORTS_IMPLICIT_UNNEST = False
    try:
        raw = sqlglot.parse_one(sql, read="bigquery")
    finally:
        parser_class.SUPPORTS_IMPLICIT_UNNEST = True
    expected = sqlglot.parse_one(sql, read="bigquery")
    assert raw != expected  # without the rewrite, `e.items` is a table
    make_unnests_explicit(raw, "bigquery")
    assert raw == expected
    assert raw.sql("bigquery") == expected.sql("bigquery")


@pytest.mark.parametrize(("dialect", "sql"), CASES)
def test_tables_and_with_found_in_the_same_walk(dialect: str, sql: str) -> None:
    for parsed in parse_sql(dialect, sql):
        assert [id(t) for t in parsed.tables] == [id(t) for t in parsed.tree.find_all(exp.Table)]
        assert all(t.root() is parsed.tree for t in parsed.tables)
        assert parsed.has_with == (parsed.tree.find(exp.With) is not None)


def test_switch_is_restored_after_a_parse_error() -> None:
    parser_class = type(dialect_of("bigquery").parser())
    with pytest.raises(ParseError):
        parse_sql("bigquery", "SELECT * FROM (SELECT")
    assert parser_class.SUPPORTS_IMPLICIT_UNNEST is True
    assert "UNNEST" in sqlglot.parse_one("SELECT * FROM t, t.arr", read="bigquery").sql("bigquery")


@pytest.mark.parametrize("dialect", ["bigquery", "redshift"])
def test_corpus_trees_match_sqlglot(dialect: str) -> None:
    compared = 0
    for case in corpus_cases("sqllineage_tables.jsonl"):
        sql = case["sql"]
        try:
            expected = sqlglot.parse(sql, read=dialect)
        except Exception:
            continue  # the other dialects' syntax; parse_sql raises the same error
        assert [p.tree for p in parse_sql(dialect, sql)] == [e for e in expected if e], sql
        compared += 1
    assert compared > 100
