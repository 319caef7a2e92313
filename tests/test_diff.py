"""`lineage diff`: the pure comparison, its three renderings, and the command (exit codes, --since)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from lineage_core import store
from lineage_core.artifact import dumps_document
from lineage_core.cli.main import main
from lineage_core.cli.publishing import nearest_entry, parse_age
from lineage_core.diff import diff_documents, render
from lineage_core.errors import UsageError
from lineage_core.models import Edge, LineageDocument, Node, Query


def make_document(lineage: dict[str, list[str]]) -> LineageDocument:
    """target table → source tables; one query per target, id ``sql:<target>.sql``."""
    tables = sorted(set(lineage) | {s for sources in lineage.values() for s in sources})
    return LineageDocument(
        generated_at="2025-01-01T00:00:00+00:00",
        generator={"name": "lineage-dashboard", "version": "test", "sqlglot": "test"},
        config_digest="test",
        nodes=tuple(Node(t) for t in tables),
        queries=tuple(
            Query(f"sql:{t}.sql", f"sql/{t}.sql", f"{t}.sql", 1, 3, "sql", {}, tuple(sorted(s)), (t,), "")
            for t, s in sorted(lineage.items())
        ),
        edges=tuple(Edge(s, t, (f"sql:{t}.sql",)) for t, sources in sorted(lineage.items()) for s in sorted(sources)),
    )


OLD = make_document({"p.d.t": ["p.d.s"], "p.d.u": ["p.d.t", "p.d.legacy"], "p.d.gone": ["p.d.s"]})
NEW = make_document({"p.d.t": ["p.d.s"], "p.d.u": ["p.d.t", "p.d.fresh"], "p.d.v": ["p.d.u"]})


def test_same_document_has_no_differences() -> None:
    diff = diff_documents(OLD, OLD)
    assert diff.empty
    assert "no differences" in render(diff, "text")
    assert json.loads(render(diff, "json"))["changed"] is False


def test_tables_edges_and_queries() -> None:
    diff = diff_documents(OLD, NEW, old_label="a.json", new_label="b.json")
    assert diff.tables_added == ("p.d.fresh", "p.d.v")
    assert diff.tables_removed == ("p.d.gone", "p.d.legacy")
    assert diff.edges_added == (("p.d.fresh", "p.d.u"), ("p.d.u", "p.d.v"))
    assert diff.edges_removed == (("p.d.legacy", "p.d.u"), ("p.d.s", "p.d.gone"))
    assert diff.queries_added == ("sql:p.d.v.sql",)
    assert diff.queries_removed == ("sql:p.d.gone.sql",)
    [changed] = diff.queries_changed
    assert changed.id == "sql:p.d.u.sql"
    assert changed.sources_added == ("p.d.fresh",) and changed.sources_removed == ("p.d.legacy",)
    assert changed.targets_added == changed.targets_removed == ()
    assert not diff.empty


def test_a_query_that_changes_its_target_is_reported() -> None:
    old = make_document({"p.d.t": ["p.d.s"]})
    query = old.queries[0]
    new = LineageDocument(
        generated_at=old.generated_at, generator=old.generator, config_digest="test",
        nodes=(Node("p.d.s"), Node("p.d.t2")),
        queries=(Query(query.id, query.uri, query.path, 1, 3, "sql", {}, ("p.d.s",), ("p.d.t2",), ""),),
        edges=(Edge("p.d.s", "p.d.t2", (query.id,)),),
    )
    [changed] = diff_documents(old, new).queries_changed
    assert changed.targets_added == ("p.d.t2",) and changed.targets_removed == ("p.d.t",)


def test_renderings() -> None:
    diff = diff_documents(OLD, NEW, old_label="a.json", new_label="b.json")
    text = render(diff, "text")
    assert "a.json → b.json" in text
    assert "+ p.d.u → p.d.v" in text and "- p.d.legacy → p.d.u" in text
    assert "~ p.d.u.sql: sources +p.d.fresh; sources -p.d.legacy" in text
    markdown = render(diff, "markdown")
    assert markdown.startswith("### Lineage changes: `a.json` → `b.json`")
    assert "| tables | 2 | 2 | |" in markdown and "- `p.d.u` → `p.d.v`" in markdown
    data = json.loads(render(diff, "json"))
    assert data["changed"] is True and data["counts"]["edges_added"] == 2
    assert data["edges"]["removed"][0] == {"source": "p.d.legacy", "target": "p.d.u"}
    assert data["queries"]["changed"][0]["sources"] == {"added": ["p.d.fresh"], "removed": ["p.d.legacy"]}
    limited = render(diff, "text", limit=1)
    assert "… and 1 more" in limited


def _write(path: Path, doc: LineageDocument) -> str:
    store.write_bytes(str(path), dumps_document(doc))
    return str(path)


def test_cli_diff_exit_codes_and_formats(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = _write(tmp_path / "old.json", OLD)
    new = _write(tmp_path / "new.json.gz", NEW)
    assert main(["diff", old, old]) == 0
    assert "no differences" in capsys.readouterr().out
    assert main(["diff", old, new, "--format", "json"]) == 1
    assert json.loads(capsys.readouterr().out)["tables"]["added"] == ["p.d.fresh", "p.d.v"]
    assert main(["diff", old, Path(new).as_uri(), "--format", "markdown"]) == 1
    assert "**Edges added** (2)" in capsys.readouterr().out


def test_cli_diff_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = _write(tmp_path / "old.json", OLD)
    assert main(["diff", old]) == 2
    assert "OLD NEW" in capsys.readouterr().err
    assert main(["diff", "--since", "7d", old, old]) == 2
    assert main(["diff", "--since", "soon", old]) == 2
    assert main(["diff", old, str(tmp_path / "missing.json")]) == 1
    assert "missing.json" in capsys.readouterr().err


def test_cli_diff_since_uses_the_history_copy_nearest_to_that_age(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = str(tmp_path / "lineage.json")
    now = datetime.now(UTC)
    ten_days = make_document({"p.d.t": ["p.d.s"], "p.d.ten": ["p.d.s"]})
    six_days = make_document({"p.d.t": ["p.d.s"], "p.d.six": ["p.d.s"]})
    store.publish(out, dumps_document(ten_days), now=now - timedelta(days=10))
    store.publish(out, dumps_document(six_days), now=now - timedelta(days=6))
    store.publish(out, dumps_document(NEW), now=now - timedelta(hours=1))
    assert main(["diff", "--since", "7d", out, "--format", "json"]) == 1
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert "p.d.six" in data["tables"]["removed"] and "p.d.ten" not in data["tables"]["removed"]
    assert "nearest to 7d ago" in captured.err
    # the nearest copy to one hour ago is the current document itself
    assert main(["diff", "--since", "1h", out]) == 0
    assert main(["diff", "--since", "7d", str(tmp_path / "never-published.json")]) == 1
    assert "no history copies" in capsys.readouterr().err


def test_parse_age_and_nearest() -> None:
    assert parse_age("7d") == timedelta(days=7)
    assert parse_age("12h") == timedelta(hours=12)
    assert parse_age("2w") == timedelta(weeks=2)
    with pytest.raises(UsageError):
        parse_age("7 days")
    when = datetime(2025, 1, 8, tzinfo=UTC)
    entries = [
        store.HistoryEntry("c", datetime(2025, 1, 9, 12, tzinfo=UTC).isoformat(), "c", "3"),
        store.HistoryEntry("b", datetime(2025, 1, 7, 12, tzinfo=UTC).isoformat(), "b", "2"),
        store.HistoryEntry("a", datetime(2025, 1, 1, tzinfo=UTC).isoformat(), "a", "1"),
    ]
    assert nearest_entry(entries, when).uri == "b"  # type: ignore[union-attr]
    assert nearest_entry([], when) is None
