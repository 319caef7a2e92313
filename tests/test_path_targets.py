"""`select_target`: a SELECT-only file writes the table its path names (bigquery-etl style)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lineage_core.config import parse_settings
from lineage_core.errors import ConfigError
from lineage_core.path_targets import PathPatternError, check_template, path_target
from lineage_core.pipeline import BuildOptions, build


@pytest.mark.parametrize(
    ("pattern", "table", "path", "expected"),
    [
        ("{project}/{dataset}/{table}/query.sql", None, "p-1/ds/t_v1/query.sql", "p-1.ds.t_v1"),
        ("{project}/{dataset}/{table}/query.sql", None, "p/ds/t/view.sql", None),
        ("{project}/{dataset}/{table}/query.sql", None, "x/p/ds/t/query.sql", None),
        ("**/{project}/{dataset}/{table}/query.sql", None, "sql/p/ds/t/query.sql", "p.ds.t"),
        ("**/{project}/{dataset}/{table}/query.sql", None, "p/ds/t/query.sql", "p.ds.t"),
        ("models/{dataset}/{table}.sql", None, "models/marts/orders.sql", "marts.orders"),
        ("models/{dataset}/{table}.sql", "acme.{dataset}_prod.{table}", "models/marts/orders.sql", "acme.marts_prod.orders"),
        ("{dataset}/*_{table}.sql", None, "staging/01_orders.sql", "staging.orders"),
        ("{dataset}/{table}.sql", None, "a/b/c.sql", None),  # a placeholder is one folder, never two
    ],
)
def test_path_target(pattern: str, table: str | None, path: str, expected: str | None) -> None:
    assert path_target(pattern, table, path) == expected


@pytest.mark.parametrize(
    ("pattern", "table", "message"),
    [
        ("query.sql", None, "no placeholder"),
        ("{a}/{a}.sql", None, "twice"),
        ("{dataset}/{table}.sql", "{project}.{dataset}.{table}", "does not capture"),
        ("{data set}/{table}.sql", None, "placeholders are"),
    ],
)
def test_bad_patterns_are_refused(pattern: str, table: str | None, message: str) -> None:
    with pytest.raises(PathPatternError, match=message):
        check_template(pattern, table)


def test_a_bad_pattern_is_a_config_error_with_its_line() -> None:
    text = "sources:\n  - name: s\n    select_target: {path: query.sql}\n"
    with pytest.raises(ConfigError, match=r"lineage.yaml:3: sources.0.select_target: 'query.sql' has no placeholder"):
        parse_settings(text)


def test_select_only_files_write_the_table_of_their_path(tmp_path: Path) -> None:
    root = tmp_path / "sql"
    files = {
        "p/ds/daily_v1/query.sql": "SELECT * FROM p.raw.events JOIN p.raw.users USING (id)",
        "p/ds/view_v1/view.sql": "CREATE VIEW p.ds.view_v1 AS SELECT * FROM p.ds.daily_v1",
        "p/ds/own_v1/query.sql": "INSERT INTO p.ds.elsewhere SELECT * FROM p.raw.events",  # says its own target
        "notes/adhoc.sql": "SELECT * FROM p.raw.users",  # does not match: stays a read
    }
    for rel, sql in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(sql)
    settings = parse_settings(
        "sources:\n  - name: etl\n    select_target: {path: '{project}/{dataset}/{table}/query.sql'}\n"
    ).with_root(root)
    document, _ = build(settings, BuildOptions(cache_dir=None, jobs=1, generated_at="t"))
    by_path = {q.path: q for q in document.queries}
    assert by_path["p/ds/daily_v1/query.sql"].targets == ("p.ds.daily_v1",)
    assert by_path["p/ds/own_v1/query.sql"].targets == ("p.ds.elsewhere",)
    assert by_path["notes/adhoc.sql"].targets == ()
    edges = {(e.source, e.target) for e in document.edges}
    assert {("p.raw.events", "p.ds.daily_v1"), ("p.raw.users", "p.ds.daily_v1"), ("p.ds.daily_v1", "p.ds.view_v1")} <= edges
    assert not any(t == "p.raw.users" or (s == "p.raw.users" and t != "p.ds.daily_v1") for s, t in edges)
