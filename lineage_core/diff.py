"""What changed between two lineage documents: tables, edges and queries (pure, no I/O).

The thing a reviewer wants on a SQL pull request: which tables appear or disappear, which
table-to-table edges are added or removed, and which queries now read or write different
tables. Rendered as text (terminal), Markdown (a PR comment) or JSON (tools).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from lineage_core.models import LineageDocument, Query

FORMATS = ("text", "json", "markdown")


@dataclass(frozen=True)
class QueryChange:
    """A query present in both documents whose sources or targets differ."""

    id: str
    path: str
    sources_added: tuple[str, ...] = ()
    sources_removed: tuple[str, ...] = ()
    targets_added: tuple[str, ...] = ()
    targets_removed: tuple[str, ...] = ()


@dataclass(frozen=True)
class LineageDiff:
    old_label: str = "old"
    new_label: str = "new"
    tables_added: tuple[str, ...] = ()
    tables_removed: tuple[str, ...] = ()
    edges_added: tuple[tuple[str, str], ...] = ()
    edges_removed: tuple[tuple[str, str], ...] = ()
    queries_added: tuple[str, ...] = ()
    queries_removed: tuple[str, ...] = ()
    queries_changed: tuple[QueryChange, ...] = field(default=())

    @property
    def empty(self) -> bool:
        return not (
            self.tables_added
            or self.tables_removed
            or self.edges_added
            or self.edges_removed
            or self.queries_added
            or self.queries_removed
            or self.queries_changed
        )

    def counts(self) -> dict[str, int]:
        return {
            "tables_added": len(self.tables_added),
            "tables_removed": len(self.tables_removed),
            "edges_added": len(self.edges_added),
            "edges_removed": len(self.edges_removed),
            "queries_added": len(self.queries_added),
            "queries_removed": len(self.queries_removed),
            "queries_changed": len(self.queries_changed),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "old": self.old_label,
            "new": self.new_label,
            "changed": not self.empty,
            "counts": self.counts(),
            "tables": {"added": list(self.tables_added), "removed": list(self.tables_removed)},
            "edges": {
                "added": [{"source": s, "target": t} for s, t in self.edges_added],
                "removed": [{"source": s, "target": t} for s, t in self.edges_removed],
            },
            "queries": {
                "added": list(self.queries_added),
                "removed": list(self.queries_removed),
                "changed": [
                    {
                        "id": q.id,
                        "path": q.path,
                        "sources": {"added": list(q.sources_added), "removed": list(q.sources_removed)},
                        "targets": {"added": list(q.targets_added), "removed": list(q.targets_removed)},
                    }
                    for q in self.queries_changed
                ],
            },
        }


def _sorted_difference(a: Iterable[str], b: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(set(a) - set(b)))


def _query_change(old: Query, new: Query) -> QueryChange | None:
    change = QueryChange(
        id=new.id,
        path=new.path,
        sources_added=_sorted_difference(new.sources, old.sources),
        sources_removed=_sorted_difference(old.sources, new.sources),
        targets_added=_sorted_difference(new.targets, old.targets),
        targets_removed=_sorted_difference(old.targets, new.targets),
    )
    if change.sources_added or change.sources_removed or change.targets_added or change.targets_removed:
        return change
    return None


def diff_documents(
    old: LineageDocument, new: LineageDocument, *, old_label: str = "old", new_label: str = "new"
) -> LineageDiff:
    """Tables, edges and queries added, removed or changed from ``old`` to ``new``."""
    old_tables = {n.id for n in old.nodes}
    new_tables = {n.id for n in new.nodes}
    old_edges = {(e.source, e.target) for e in old.edges}
    new_edges = {(e.source, e.target) for e in new.edges}
    old_queries = {q.id: q for q in old.queries}
    new_queries = {q.id: q for q in new.queries}
    changed = []
    for qid in sorted(old_queries.keys() & new_queries.keys()):
        found = _query_change(old_queries[qid], new_queries[qid])
        if found is not None:
            changed.append(found)
    return LineageDiff(
        old_label=old_label,
        new_label=new_label,
        tables_added=tuple(sorted(new_tables - old_tables)),
        tables_removed=tuple(sorted(old_tables - new_tables)),
        edges_added=tuple(sorted(new_edges - old_edges)),
        edges_removed=tuple(sorted(old_edges - new_edges)),
        queries_added=tuple(sorted(new_queries.keys() - old_queries.keys())),
        queries_removed=tuple(sorted(old_queries.keys() - new_queries.keys())),
        queries_changed=tuple(changed),
    )


# --- rendering ------------------------------------------------------------------------------


def _limited(items: Sequence[str], limit: int | None) -> list[str]:
    if limit is None or len(items) <= limit:
        return list(items)
    return [*items[:limit], f"… and {len(items) - limit} more"]


def _summary(diff: LineageDiff) -> str:
    c = diff.counts()
    return (
        f"tables +{c['tables_added']} -{c['tables_removed']}, "
        f"edges +{c['edges_added']} -{c['edges_removed']}, "
        f"queries +{c['queries_added']} -{c['queries_removed']} ~{c['queries_changed']}"
    )


def _query_lines(q: QueryChange) -> list[str]:
    parts = []
    for what, added, removed in (
        ("sources", q.sources_added, q.sources_removed),
        ("targets", q.targets_added, q.targets_removed),
    ):
        if added:
            parts.append(f"{what} +{', +'.join(added)}")
        if removed:
            parts.append(f"{what} -{', -'.join(removed)}")
    return parts


def render_text(diff: LineageDiff, limit: int | None = None) -> str:
    lines = [f"lineage diff {diff.old_label} → {diff.new_label}"]
    if diff.empty:
        lines.append("no differences")
        return "\n".join(lines) + "\n"
    lines.append(_summary(diff))
    sections: list[tuple[str, list[str]]] = [
        ("tables added", [f"+ {t}" for t in diff.tables_added]),
        ("tables removed", [f"- {t}" for t in diff.tables_removed]),
        ("edges added", [f"+ {s} → {t}" for s, t in diff.edges_added]),
        ("edges removed", [f"- {s} → {t}" for s, t in diff.edges_removed]),
        ("queries added", [f"+ {q}" for q in diff.queries_added]),
        ("queries removed", [f"- {q}" for q in diff.queries_removed]),
        ("queries changed", [f"~ {q.path or q.id}: {'; '.join(_query_lines(q))}" for q in diff.queries_changed]),
    ]
    for title, items in sections:
        if items:
            lines.append("")
            lines.append(f"{title} ({len(items)}):")
            lines.extend(f"  {item}" for item in _limited(items, limit))
    return "\n".join(lines) + "\n"


def _code(text: str) -> str:
    return "`" + text.replace("`", "'") + "`"


def render_markdown(diff: LineageDiff, limit: int | None = None) -> str:
    lines = [f"### Lineage changes: {_code(diff.old_label)} → {_code(diff.new_label)}", ""]
    if diff.empty:
        lines.append("No table, edge or query changes.")
        return "\n".join(lines) + "\n"
    c = diff.counts()
    lines += [
        "| | added | removed | changed |",
        "|---|---:|---:|---:|",
        f"| tables | {c['tables_added']} | {c['tables_removed']} | |",
        f"| edges | {c['edges_added']} | {c['edges_removed']} | |",
        f"| queries | {c['queries_added']} | {c['queries_removed']} | {c['queries_changed']} |",
    ]
    sections: list[tuple[str, list[str]]] = [
        ("Tables added", [_code(t) for t in diff.tables_added]),
        ("Tables removed", [_code(t) for t in diff.tables_removed]),
        ("Edges added", [f"{_code(s)} → {_code(t)}" for s, t in diff.edges_added]),
        ("Edges removed", [f"{_code(s)} → {_code(t)}" for s, t in diff.edges_removed]),
        ("Queries added", [_code(q) for q in diff.queries_added]),
        ("Queries removed", [_code(q) for q in diff.queries_removed]),
        (
            "Queries changed",
            [f"{_code(q.path or q.id)}: {'; '.join(_query_lines(q))}" for q in diff.queries_changed],
        ),
    ]
    for title, items in sections:
        if items:
            lines += ["", f"**{title}** ({len(items)})", ""]
            lines += [f"- {item}" for item in _limited(items, limit)]
    return "\n".join(lines) + "\n"


def render_json(diff: LineageDiff) -> str:
    return json.dumps(diff.to_dict(), indent=2) + "\n"


def render(diff: LineageDiff, fmt: str = "text", limit: int | None = None) -> str:
    if fmt == "json":
        return render_json(diff)
    if fmt == "markdown":
        return render_markdown(diff, limit)
    if fmt == "text":
        return render_text(diff, limit)
    raise ValueError(f"unknown diff format {fmt!r} (expected one of {', '.join(FORMATS)})")
