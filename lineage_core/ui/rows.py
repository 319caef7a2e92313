"""What the pages show, as plain rows (list of dicts), computed without Streamlit.

Every value is data for a dataframe cell or a CSV field: nothing here is ever markup.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from lineage_core.graph import LineageGraph, Neighborhood, Reached
from lineage_core.models import LineageDocument, Node
from lineage_core.search import SearchHit, SearchIndex
from lineage_core.ui.loader import LoadedDocument

Row = dict[str, Any]
ARROW = " → "


def age(timestamp: str, now: datetime | None = None) -> str:
    """'3 h 12 min ago' for an ISO 8601 time; the text itself when it does not parse."""
    try:
        then = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    except ValueError:
        return "unknown age"
    if then.tzinfo is None:
        then = then.replace(tzinfo=UTC)
    seconds = int(((now or datetime.now(UTC)) - then).total_seconds())
    if seconds < 0:
        return "in the future (clock skew?)"
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days} d {hours} h ago"
    if hours:
        return f"{hours} h {minutes} min ago"
    return f"{minutes} min ago" if minutes else "just now"


def counts(document: LineageDocument, graph: LineageGraph) -> dict[str, int]:
    kinds = Counter(node.kind for node in document.nodes)
    return {
        "tables": kinds.get("table", 0) + kinds.get("external", 0),
        "views": kinds.get("view", 0),
        "nodes": len(graph),
        "queries": len(document.queries),
        "edges": graph.edge_count,
        "errors": len(document.errors),
    }


def _kind(nodes: Mapping[str, Node], node_id: str) -> str:
    node = nodes.get(node_id)
    return node.kind if node else "table"


def _owners(nodes: Mapping[str, Node], node_id: str) -> str:
    node = nodes.get(node_id)
    return ", ".join(node.owners) if node else ""


def search_rows(loaded: LoadedDocument, hits: Sequence[SearchHit], health: Mapping[str, str] | None) -> list[Row]:
    graph, nodes = loaded.graph, loaded.graph.nodes
    rows = []
    for hit in hits:
        if hit.id not in graph:
            continue
        row: Row = {
            "table": hit.id,
            "kind": _kind(nodes, hit.id),
            "upstream": len(graph.parents(hit.id)),
            "downstream": len(graph.children(hit.id)),
            "owner": _owners(nodes, hit.id),
            "matched": hit.matched,
            "score": round(hit.score, 1),
        }
        if health is not None:
            row["health"] = health.get(hit.id, "")
        rows.append(row)
    return rows


def reached_rows(
    reached: Iterable[Reached], nodes: Mapping[str, Node], health: Mapping[str, str] | None = None
) -> list[Row]:
    rows = []
    for r in reached:
        row: Row = {
            "table": r.id,
            "distance": r.distance,
            "kind": _kind(nodes, r.id),
            "path": ARROW.join(r.path),
            "owner": _owners(nodes, r.id),
        }
        if health is not None:
            row["health"] = health.get(r.id, "")
        rows.append(row)
    return rows


def to_csv(rows: Sequence[Row], columns: Sequence[str]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        # a cell starting with = + - @ would run as a formula in a spreadsheet: keep it text
        writer.writerow({k: _inert(row.get(k, "")) for k in columns})
    return out.getvalue()


def _inert(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


IMPACT_COLUMNS = ("table", "distance", "kind", "owner", "path")


def impact_csv(loaded: LoadedDocument, table: str) -> str:
    """Everything downstream of ``table``, at any depth: the list to check before changing it."""
    return to_csv(reached_rows(loaded.graph.impact(table), loaded.graph.nodes), IMPACT_COLUMNS)


def query_rows(loaded: LoadedDocument, table: str) -> tuple[list[Row], list[Row]]:
    """(files that write ``table``, files that read it)."""

    def rows(role: str) -> list[Row]:
        found = (loaded.writers if role == "writes" else loaded.readers).get(table, [])
        return [
            {
                "file": q.path,
                "lines": f"{q.line_start}–{q.line_end}",
                "source": q.source,
                "reads": len(q.sources),
                "writes": ", ".join(q.targets),
                "id": q.id,
            }
            for q in found
        ]

    return rows("writes"), rows("reads")


def neighborhood_rows(hood: Neighborhood, nodes: Mapping[str, Node], health: Mapping[str, str] | None) -> list[Row]:
    rows = []
    for node_id in hood.nodes:
        distance = hood.distance.get(node_id, 0)
        row: Row = {
            "table": node_id,
            "direction": "center" if distance == 0 else ("upstream" if distance < 0 else "downstream"),
            "hops": abs(distance),
            "kind": _kind(nodes, node_id),
            "dataset": node_id.split(".")[-2] if node_id.count(".") >= 1 else "",
        }
        if health is not None:
            row["health"] = health.get(node_id, "")
        rows.append(row)
    return rows


def suggestions(index: SearchIndex, graph: LineageGraph, name: str, limit: int = 5) -> list[str]:
    """Tables a mistyped or unknown name probably meant."""
    if not name.strip():
        return []
    found = [hit.id for hit in index.search(name, limit=limit * 2) if hit.id in graph]
    return list(dict.fromkeys(found))[:limit]


def error_rows(document: LineageDocument, kinds: Sequence[str] | None = None) -> list[Row]:
    return [
        {"file": e.path, "line": e.line, "kind": e.kind, "message": e.message, "variable": e.variable or "", "uri": e.uri}
        for e in document.errors
        if not kinds or e.kind in kinds
    ]


def undefined_variable_rows(document: LineageDocument) -> list[Row]:
    files: dict[str, set[str]] = {}
    for error in document.errors:
        if error.variable:
            files.setdefault(error.variable, set()).add(error.path)
    return [
        {"variable": name, "files": len(paths), "example file": sorted(paths)[0]}
        for name, paths in sorted(files.items(), key=lambda item: (-len(item[1]), item[0]))
    ]


def coverage_rows(document: LineageDocument) -> list[Row]:
    rows = []
    for c in document.coverage:
        rows.append(
            {
                "source": c.name,
                "root": c.root,
                "files": c.files,
                "ok": c.ok,
                "failed": c.failed,
                "coverage %": round(100.0 * c.ok / c.files, 1) if c.files else 100.0,
            }
        )
    return rows
