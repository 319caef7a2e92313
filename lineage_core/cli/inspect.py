"""`lineage up`, `lineage down`, `lineage search`, `lineage sql`: questions to a document."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from lineage_core.cli.common import (
    add_config_option,
    add_format_option,
    add_lineage_option,
    emit,
    lineage_uri,
    load_document,
    settings_from,
)
from lineage_core.errors import UsageError
from lineage_core.graph import LineageGraph
from lineage_core.models import LineageDocument


def register(sub: Any) -> None:
    for name, direction, text in (
        ("down", "down", "who consumes TABLE (or TABLE.COLUMN): everything downstream"),
        ("up", "up", "where TABLE (or TABLE.COLUMN) comes from: everything upstream"),
    ):
        p = sub.add_parser(name, help=text)
        p.add_argument("table", metavar="TABLE", help="table id; a unique suffix such as marts.orders works")
        p.add_argument("--depth", type=int, default=None, metavar="N", help="hops to follow (default: all)")
        add_lineage_option(p)
        add_format_option(p)
        p.set_defaults(func=run_walk, direction=direction)

    s = sub.add_parser("search", help="fuzzy search over tables, datasets, labels, owners and file paths")
    s.add_argument("query", metavar="QUERY")
    s.add_argument("--limit", type=int, default=20)
    add_lineage_option(s)
    add_format_option(s)
    s.set_defaults(func=run_search)

    q = sub.add_parser("sql", help="sources and targets of one SQL file (for debugging)")
    q.add_argument("file", metavar="FILE", help="a .sql file, or - for standard input")
    q.add_argument("--dialect", default=None, help="SQL dialect (default: from the config, else bigquery)")
    add_config_option(q)
    add_format_option(q)
    q.set_defaults(func=run_sql)


def _resolve(graph: LineageGraph, name: str, what: str = "table") -> str:
    found = graph.resolve(name)
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        raise UsageError(f"'{name}' is ambiguous: {', '.join(found[:10])}")
    from lineage_core.search import SearchIndex

    hints = [hit.id for hit in SearchIndex.from_ids(graph.ids).search(name, limit=5)]
    hint = f"; did you mean: {', '.join(hints)}" if hints else ""
    raise UsageError(f"no {what} '{name}' in the document{hint}")


def _walk_graph(document: LineageDocument, name: str) -> tuple[LineageGraph, str]:
    graph = LineageGraph.from_document(document)
    if graph.resolve(name) or document.columns is None:
        return graph, _resolve(graph, name)
    columns = LineageGraph.of_columns(document)
    return columns, _resolve(columns, name, "table or column")


def run_walk(args: argparse.Namespace) -> int:
    if args.depth is not None and args.depth < 1:
        raise UsageError("--depth must be at least 1")
    document = load_document(lineage_uri(args))
    graph, start = _walk_graph(document, args.table)
    reached = graph.downstream(start, args.depth) if args.direction == "down" else graph.upstream(start, args.depth)
    nodes = graph.nodes
    rows = [
        {
            "table": r.id,
            "depth": r.distance,
            "kind": nodes[r.id].kind if r.id in nodes else "column",
            "owners": ", ".join(nodes[r.id].owners) if r.id in nodes else "",
            "via": tuple(r.path) if args.direction == "down" else tuple(reversed(r.path)),
        }
        for r in reached
    ]
    if args.format == "table":
        arrow = "consumers of" if args.direction == "down" else "sources of"
        print(f"{len(rows)} {arrow} {start}" + (f" (depth ≤ {args.depth})" if args.depth else ""))
    emit(rows, ["table", "depth", "kind", "owners", "via"], args.format)
    return 0


def run_search(args: argparse.Namespace) -> int:
    from lineage_core.search import SearchIndex

    document = load_document(lineage_uri(args))
    graph = LineageGraph.from_document(document)
    hits = SearchIndex.from_document(document).search(args.query, limit=args.limit)
    rows = [
        {
            "table": hit.id,
            "score": round(hit.score, 1),
            "matched": hit.matched,
            "kind": graph.nodes[hit.id].kind if hit.id in graph.nodes else "",
            "upstream": len(graph.parents(hit.id)) if hit.id in graph else 0,
            "downstream": len(graph.children(hit.id)) if hit.id in graph else 0,
        }
        for hit in hits
    ]
    emit(rows, ["table", "score", "matched", "kind", "upstream", "downstream"], args.format)
    return 0 if rows else 1


def run_sql(args: argparse.Namespace) -> int:
    from lineage_core.extract import table_lineage

    settings = settings_from(args)
    dialect = args.dialect if args.dialect is not None else settings.dialect
    if args.file == "-":
        text = sys.stdin.read()
        name = "<stdin>"
    else:
        try:
            with open(args.file, encoding="utf-8") as handle:
                text = handle.read()
        except OSError as exc:
            raise UsageError(f"{args.file}: {exc.strerror}") from exc
        except UnicodeDecodeError as exc:
            raise UsageError(f"{args.file}: not UTF-8 text") from exc
        name = args.file
    from lineage_core.config import deep_merge
    from lineage_core.discovery.sql_files import AIRFLOW_DEFAULTS

    lineage = table_lineage(text, dialect=dialect, vars=deep_merge(AIRFLOW_DEFAULTS, settings.vars))
    rows: list[dict[str, Any]] = []
    for st in lineage.statements:
        rows.append(
            {
                "statement": st.index + 1,
                "lines": f"{st.line_start}-{st.line_end}",
                "kind": st.kind,
                "sources": [str(t) for t in st.sources],
                "targets": [str(t) for t in st.targets],
            }
        )
    if args.format == "json":
        import json

        print(
            json.dumps(
                {
                    "file": name,
                    "sources": [str(t) for t in lineage.sources],
                    "targets": [str(t) for t in lineage.targets],
                    "statements": rows,
                    "issues": [{"kind": i.kind, "line": i.line, "message": i.message} for i in lineage.issues],
                },
                indent=2,
            )
        )
    else:
        emit(rows, ["statement", "lines", "kind", "sources", "targets"], args.format)
        if args.format == "table":
            print(f"sources: {', '.join(map(str, lineage.sources)) or '-'}")
            print(f"targets: {', '.join(map(str, lineage.targets)) or '-'}")
    for issue in lineage.issues:
        line = f":{issue.line}" if issue.line else ""
        print(f"{issue.kind}: {name}{line}: {issue.message}", file=sys.stderr)
    return 1 if any(i.kind == "parse" for i in lineage.issues) else 0
