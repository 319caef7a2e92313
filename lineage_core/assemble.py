"""Per-file results → one lineage document.

Both ``lineage build`` and ``lineage merge`` end here, so a merged sharded build is the same
document as an unsharded one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from lineage_core import __version__
from lineage_core.analysis import FileResult, Parts
from lineage_core.config import Settings
from lineage_core.graph import LineageGraph
from lineage_core.models import (
    FAILED_KINDS,
    ColumnEdge,
    Edge,
    ErrorRecord,
    LineageDocument,
    Node,
    NodeKind,
    Query,
    SourceCoverage,
    TableId,
)


@dataclass(frozen=True)
class QueryResult:
    """One file's lineage with names already qualified (strings)."""

    query: Query
    edges: tuple[tuple[str, str], ...]
    views: tuple[str, ...]
    errors: tuple[ErrorRecord, ...]
    columns: tuple[tuple[str, str], ...]
    failed: bool


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def generator_info() -> dict[str, str]:
    import platform

    from lineage_core.versions import installed_version, sqlglot_version

    return {
        "name": "lineage-dashboard",
        "version": __version__,
        "sqlglot": sqlglot_version(),
        "sqlglotc": installed_version("sqlglotc") or "not installed",
        "python": platform.python_version(),
    }


_QUALIFIED: dict[tuple[Parts, str | None, str | None], str] = {}


def qualify(parts: Parts, settings: Settings) -> str:
    key = (parts, settings.default_project, settings.default_dataset)
    found = _QUALIFIED.get(key)
    if found is None:
        if len(parts) == 1 and "://" in parts[0]:
            found = parts[0]
        else:
            found = str(TableId(parts).qualified(settings.default_project, settings.default_dataset))
        if len(_QUALIFIED) > 500_000:  # bounded: a long-lived process (the app) never grows without end
            _QUALIFIED.clear()
        _QUALIFIED[key] = found
    return found


def _qualify_column(column: str, settings: Settings) -> str:
    table, _, name = column.rpartition(".")
    if not table:
        return column
    return f"{qualify(TableId.parse(table).parts, settings)}.{name}"


def _select_target(result: FileResult, settings: Settings) -> Parts | None:
    """The table a SELECT-only file's path names, when its source has a `select_target`."""
    if result.targets:
        return None
    for source in settings.sources:
        if source.name == result.source and source.select_target is not None:
            from lineage_core.path_targets import path_target

            found = path_target(source.select_target.path, source.select_target.table, result.path)
            return TableId.parse(found).parts if found else None
    return None


def qualify_result(result: FileResult, settings: Settings, labels: dict[str, str]) -> QueryResult:
    def q(items: Iterable[Parts]) -> tuple[str, ...]:
        return tuple(sorted({qualify(p, settings) for p in items}))

    target = _select_target(result, settings)
    if target is not None:  # the path says where the SELECT's rows go: every source flows there
        result = replace(result, targets=(target,), edges=(*result.edges, *((s, target) for s in result.sources)))

    query = Query(
        id=result.file_id,
        uri=result.uri,
        path=result.path,
        line_start=1,
        line_end=result.line_end,
        source=result.source,
        labels=dict(labels),
        sources=q(result.sources),
        targets=q(result.targets),
        digest=result.digest,
    )
    edges = tuple(sorted({(qualify(a, settings), qualify(b, settings)) for a, b in result.edges}))
    columns = tuple(sorted({(_qualify_column(s, settings), _qualify_column(t, settings)) for s, t in result.columns}))
    return QueryResult(query, edges, q(result.views), result.errors, columns, result.failed)


def node_kind(node_id: str, written: set[str], views: set[str]) -> NodeKind:
    if "://" in node_id:
        return "path"
    if node_id in views:
        return "view"
    if node_id in written:
        return "table"
    return "external"


def _apply_table_settings(nodes: dict[str, Node], graph: LineageGraph, settings: Settings) -> dict[str, Node]:
    """Owners and labels from `tables:` selectors; later entries add to earlier ones."""
    from lineage_core.selectors import select

    labels: dict[str, dict[str, str]] = {n: dict(node.labels) for n, node in nodes.items()}
    owners: dict[str, list[str]] = {n: list(node.owners) for n, node in nodes.items()}
    descriptions: dict[str, str | None] = {n: node.description for n, node in nodes.items()}
    for entry in settings.tables:
        current = {n: Node(n, nodes[n].kind, labels[n], tuple(owners[n])) for n in nodes}
        for node_id in select(entry.select, graph, current):
            if node_id not in nodes:
                continue
            labels[node_id].update(entry.labels)
            owners[node_id].extend(o for o in entry.owners if o not in owners[node_id])
            if entry.description:
                descriptions[node_id] = entry.description
    return {n: Node(n, node.kind, labels[n], tuple(owners[n]), node.url, descriptions[n]) for n, node in nodes.items()}


def assemble(
    results: Sequence[QueryResult],
    settings: Settings,
    coverage: Sequence[SourceCoverage],
    *,
    generated_at: str | None = None,
    shard: tuple[int, int] | None = None,
    with_columns: bool = False,
    extra_nodes: Sequence[Node] = (),
) -> LineageDocument:
    ordered = sorted(results, key=lambda r: r.query.id)
    edge_queries: dict[tuple[str, str], set[str]] = {}
    column_queries: dict[tuple[str, str], set[str]] = {}
    written: set[str] = set()
    views: set[str] = set()
    mentioned: set[str] = set()
    for result in ordered:
        written.update(result.query.targets)
        views.update(result.views)
        mentioned.update(result.query.sources)
        mentioned.update(result.query.targets)
        for edge in result.edges:
            edge_queries.setdefault(edge, set()).add(result.query.id)
            mentioned.update(edge)
        for column_edge in result.columns:
            column_queries.setdefault(column_edge, set()).add(result.query.id)
    extra = {n.id: n for n in extra_nodes}
    nodes = {n: Node(n, node_kind(n, written, views)) for n in sorted(mentioned) if n not in extra}
    nodes.update(extra)
    if settings.tables:  # selectors such as `+t` need the graph; nothing else here does
        graph = LineageGraph(sorted(nodes), sorted(edge_queries), nodes=nodes)
        nodes = _apply_table_settings(nodes, graph, settings)
    errors = tuple(
        sorted(
            (e for r in ordered for e in r.errors),
            key=lambda e: (e.path, e.uri, e.line or 0, e.kind, e.message),
        )
    )
    return LineageDocument(
        generated_at=generated_at or now_iso(),
        generator=generator_info(),
        config_digest=settings.digest(),
        nodes=tuple(nodes[n] for n in sorted(nodes)),
        queries=tuple(r.query for r in ordered),
        edges=tuple(Edge(s, t, tuple(sorted(q))) for (s, t), q in sorted(edge_queries.items())),
        errors=errors,
        columns=tuple(ColumnEdge(s, t, tuple(sorted(q))) for (s, t), q in sorted(column_queries.items()))
        if with_columns
        else None,
        coverage=tuple(coverage),
        shard=shard,
    )


def results_from_document(document: LineageDocument) -> list[QueryResult]:
    """Recover per-query results from a (partial) document, for `lineage merge`."""
    by_query: dict[str, list[tuple[str, str]]] = {}
    for edge in document.edges:
        for query_id in edge.query_ids:
            by_query.setdefault(query_id, []).append((edge.source, edge.target))
    column_edges: dict[str, list[tuple[str, str]]] = {}
    for column in document.columns or ():
        for query_id in column.query_ids:
            column_edges.setdefault(query_id, []).append((column.source, column.target))
    view_ids = {n.id for n in document.nodes if n.kind == "view"}
    errors: dict[str, list[ErrorRecord]] = {}
    for error in document.errors:
        errors.setdefault(error.uri, []).append(error)
    results = []
    for query in document.queries:
        query_errors = tuple(errors.get(query.uri, ()))
        results.append(
            QueryResult(
                query=query,
                edges=tuple(sorted(by_query.get(query.id, ()))),
                views=tuple(sorted(t for t in query.targets if t in view_ids)),
                errors=query_errors,
                columns=tuple(sorted(column_edges.get(query.id, ()))),
                failed=any(e.kind in FAILED_KINDS for e in query_errors),
            )
        )
    return results


def link_jobs(
    queries: list[QueryResult], consumer_results: Sequence[QueryResult], job_ids: set[str]
) -> list[QueryResult]:
    """Label every SQL file's query with the scheduled job(s) that run it (label ``job``)."""
    runs: dict[str, set[str]] = {}
    for result in consumer_results:
        sql_query = result.query.labels.get("sql_query")
        if sql_query:
            runs.setdefault(sql_query, set()).update(n for edge in result.edges for n in edge if n in job_ids)
    if not runs:
        return queries
    linked = []
    for result in queries:
        jobs = runs.get(result.query.id)
        if jobs:
            labels = {**result.query.labels, "job": ", ".join(sorted(jobs))}
            result = replace(result, query=replace(result.query, labels=labels))
        linked.append(result)
    return linked
