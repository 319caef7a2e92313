"""Robustness: whatever the input, extraction returns a result or raises LineageError."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lineage_core.errors import LineageError
from lineage_core.extract import TableLineage, column_lineage, table_lineage

VALID = [
    "WITH a AS (SELECT * FROM ds.s WHERE x = 'y') INSERT INTO ds.t (a, b) SELECT a, b FROM a",
    "MERGE ds.t t USING (SELECT * FROM ds.s) s ON t.id = s.id "
    "WHEN MATCHED THEN UPDATE SET v = s.v WHEN NOT MATCHED THEN INSERT ROW",
    "CREATE TEMP TABLE tmp AS SELECT * FROM `p.ds.a`; "
    "IF (SELECT COUNT(*) FROM tmp) > 0 THEN INSERT INTO ds.b SELECT * FROM tmp; END IF;",
    "CREATE PROCEDURE ds.p() BEGIN DECLARE x INT64 DEFAULT 1; "
    "UPDATE ds.t SET v = 1 WHERE id IN (SELECT id FROM ds.u); END",
    "SELECT o.id, i FROM ds.orders o, UNNEST(o.items) i /* c */ -- d\n WHERE o.d > '2024'",
]
DIALECTS = ["bigquery", "", "tsql", "snowflake", "spark", "postgres"]
FRAGMENTS = ["(", ")", "'", '"', "`", ";", "--", "/*", "*/", "BEGIN", "END", "IF", "THEN",
             "SELECT", "FROM", "WITH", "AS", ",", ".", "\n", "$$", "#", "@", "[", "]"]

BOUNDED = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)


def _check(sql: str, dialect: str) -> None:
    try:
        result = table_lineage(sql, dialect=dialect)
    except LineageError:
        return
    assert isinstance(result, TableLineage)
    try:
        column_lineage(sql, dialect=dialect)
    except LineageError:
        return


@BOUNDED
@given(
    base=st.sampled_from(VALID),
    cut=st.integers(min_value=0, max_value=400),
    dialect=st.sampled_from(DIALECTS),
)
def test_truncated_sql_never_raises_foreign_errors(base: str, cut: int, dialect: str) -> None:
    _check(base[: cut % (len(base) + 1)], dialect)


@BOUNDED
@given(
    base=st.sampled_from(VALID),
    edits=st.lists(
        st.tuples(st.integers(min_value=0, max_value=400), st.sampled_from(FRAGMENTS)),
        min_size=1,
        max_size=6,
    ),
    dialect=st.sampled_from(DIALECTS),
)
def test_mutated_sql_never_raises_foreign_errors(
    base: str, edits: list[tuple[int, str]], dialect: str
) -> None:
    sql = base
    for pos, fragment in edits:
        pos %= len(sql) + 1
        sql = sql[:pos] + fragment + sql[pos:]
    _check(sql, dialect)


@BOUNDED
@given(text=st.text(max_size=200), dialect=st.sampled_from(DIALECTS))
def test_arbitrary_text_never_raises_foreign_errors(text: str, dialect: str) -> None:
    _check(text, dialect)


@pytest.mark.timeout(120)
def test_deeply_nested_parentheses() -> None:
    depth = 5000
    sql = "INSERT INTO ds.t SELECT " + "(" * depth + "1" + ")" * depth + " FROM ds.s"
    try:
        got = table_lineage(sql)
    except LineageError:
        return
    assert got.issues
    assert [str(t) for t in got.targets] == ["ds.t"]


@pytest.mark.timeout(120)
def test_deeply_nested_subqueries() -> None:
    depth = 2000
    sql = "SELECT * FROM " + "(SELECT * FROM " * depth + "ds.inner_t" + ")" * depth
    try:
        got = table_lineage(sql)
    except LineageError:
        return
    assert isinstance(got, TableLineage)


@pytest.mark.timeout(300)
def test_five_megabyte_statement() -> None:
    columns = ", ".join(f"col_{i} + {i} AS c{i}" for i in range(300_000))
    sql = f"INSERT INTO ds.t SELECT {columns} FROM ds.s"
    assert len(sql) > 5_000_000
    try:
        got = table_lineage(sql)
    except LineageError:
        return
    assert [str(t) for t in got.targets] == ["ds.t"]
