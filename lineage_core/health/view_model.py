"""What the data-health page shows, computed without Streamlit (so it is tested directly)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from lineage_core.graph import LineageGraph
from lineage_core.health.document import format_time
from lineage_core.health.evaluate import impacted
from lineage_core.health.model import LATE, PROBLEMS, STATUSES, HealthDocument, Status, TableHealth
from lineage_core.render.colors import HEALTH_COLORS

# the same colors as the lineage page's "color by health" (lineage_core.render.colors)
STATUS_COLORS: dict[Status, str] = {s: HEALTH_COLORS[s] for s in STATUSES}
STATUS_LABELS: dict[Status, str] = {
    "on_time": "on time",
    "late": "late",
    "stale": "stale",
    "error": "check failed",
    "upstream_late": "upstream late",
    "unknown": "unknown",
}
GRAPH_CAP = 150


@dataclass(frozen=True)
class RootCause:
    table: TableHealth
    impacted: tuple[str, ...]  # everything downstream of it


@dataclass(frozen=True)
class GraphView:
    nodes: tuple[str, ...]
    edges: tuple[tuple[str, str], ...]
    total: int  # how many nodes would be shown without the cap

    @property
    def truncated(self) -> bool:
        return self.total > len(self.nodes)


def table_rows(tables: Iterable[TableHealth]) -> list[dict[str, Any]]:
    return [
        {
            "table": t.id,
            "status": STATUS_LABELS[t.status],
            "since": format_time(t.since),
            "last update": format_time(t.last_update),
            "expected by": format_time(t.expected_by),
            "rule": t.rule or "",
            "root causes": ", ".join(t.late_upstream_roots),
            "message": t.message,
        }
        for t in tables
    ]


def root_causes(doc: HealthDocument, graph: LineageGraph) -> list[RootCause]:
    """Late, stale or failed tables with no late table behind them: where to start."""
    roots = [t for t in doc.tables if t.status in LATE | {"error"} and not t.late_upstream_roots]
    order = {"stale": 0, "late": 1, "error": 2}
    roots.sort(key=lambda t: (order.get(t.status, 3), t.id))
    return [RootCause(t, tuple(impacted(graph, [t.id]))) for t in roots]


def problem_tables(doc: HealthDocument) -> list[TableHealth]:
    return [t for t in doc.tables if t.status in PROBLEMS]


def graph_view(graph: LineageGraph, wanted: Iterable[str], cap: int = GRAPH_CAP) -> GraphView:
    """The subgraph of ``wanted`` (nearest the roots first), at most ``cap`` nodes."""
    present = [n for n in wanted if n in graph]
    ordered = sorted(dict.fromkeys(present), key=lambda n: (len(graph.parents(n)) > 0, n))
    kept = ordered[: max(cap, 1)]
    return GraphView(tuple(kept), tuple(graph.subgraph_edges(kept)), len(ordered))


def levels(view: GraphView) -> dict[str, int]:
    """Left-to-right layers: a node sits one layer right of its furthest parent in the view."""
    parents: dict[str, list[str]] = {n: [] for n in view.nodes}
    for source, target in view.edges:
        parents[target].append(source)
    level: dict[str, int] = {}

    def depth(node: str, trail: frozenset[str]) -> int:
        if node in level:
            return level[node]
        ups = [p for p in parents[node] if p not in trail]  # a cycle is cut where it closes
        level[node] = 1 + max((depth(p, trail | {node}) for p in ups), default=-1)
        return level[node]

    for node in view.nodes:
        depth(node, frozenset())
    return level


def timeline_rows(doc: HealthDocument) -> list[dict[str, Any]]:
    return [
        {"evaluated at": e.evaluated_at, **{STATUS_LABELS[s]: e.counts.get(s, 0) for s in STATUSES}}
        for e in doc.timeline
    ]


def transition_rows(doc: HealthDocument, table: str | None = None) -> list[dict[str, Any]]:
    rows = []
    for entry in reversed(doc.timeline):
        for tr in entry.transitions:
            if table is None or tr.table == table:
                rows.append({
                    "at": format_time(entry.evaluated_at),
                    "table": tr.table,
                    "from": STATUS_LABELS[tr.before] if tr.before else "",
                    "to": STATUS_LABELS[tr.after],
                })
    return rows


def to_csv(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return ""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        # a leading =,+,-,@ makes spreadsheets run the cell as a formula: keep it text
        writer.writerow({k: ("'" + v if isinstance(v, str) and v[:1] in "=+-@" else v) for k, v in row.items()})
    return buffer.getvalue()
