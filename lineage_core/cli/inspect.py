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
from lineage_core.models import LineageDocument, Node


def register(sub: Any) -> None:
    for name, direction, text in (
        ("down", "down", "who consumes TABLE (or TABLE.COLUMN): everything downstream"),
        ("up", "up", "where TABLE (or TABLE.COLUMN) comes from: everything upstream"),
    ):
        p = sub.add_parser(name, help=text)
        p.add_argument("table", metavar="TABLE", help="table id; a unique suffix such as marts.orders works")
        p.add_argument("--depth", type=int, default=None, metavar="N", help="hops to follow (default: all)")
        _add_label_option(p)
        add_lineage_option(p)
        add_format_option(p)
        p.set_defaults(func=run_walk, direction=direction)

    s = sub.add_parser("search", help="fuzzy search over tables, datasets, labels, owners and file paths")
    s.add_argument("query", metavar="QUERY")
    s.add_argument("--limit", type=int, default=20)
    _add_label_option(s)
    add_lineage_option(s)
    add_format_option(s)
    s.set_defaults(func=run_search)

    q = sub.add_parser("sql", help="sources and targets of one SQL file (for debugging)")
    q.add_argument("file", metavar="FILE", help="a .sql file, or - for standard input")
    q.add_argument("--dialect", default=None, help="SQL dialect (default: from the config, else bigquery)")
    add_config_option(q)
    add_format_option(q)
    q.set_defaults(func=run_sql)


def _add_label_option(parser: Any) -> None:
    parser.add_argument(
        "-l", "--label", action="append", default=[], metavar="KEY=VALUE",
        help="only rows whose node has this label (repeatable: all must match; KEY alone: any value)",
    )


def _label_filter(items: list[str]) -> dict[str, str | None]:
    """``["team=growth", "pii"]`` → ``{"team": "growth", "pii": None}`` (None: any value)."""
    wanted: dict[str, str | None] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not key:
            raise UsageError(f"--label '{item}': expected KEY=VALUE")
        if key in wanted and wanted[key] != (value.strip() if sep else None):
            raise UsageError(f"--label {key} is given twice with different values (labels are ANDed)")
        wanted[key] = value.strip() if sep else None
    return wanted


def _has_labels(node: Node | None, wanted: dict[str, str | None]) -> bool:
    if not wanted:
        return True
    if node is None:
        return False
    return all(key in node.labels and (value is None or node.labels[key] == value) for key, value in wanted.items())


def _labels_text(node: Node | None) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(node.labels.items())) if node is not None else ""


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
    wanted = _label_filter(args.label)
    document = load_document(lineage_uri(args))
    graph, start = _walk_graph(document, args.table)
    reached = graph.downstream(start, args.depth) if args.direction == "down" else graph.upstream(start, args.depth)
    nodes = {n.id: n for n in document.nodes}

    def node_of(node_id: str) -> Node | None:  # a column's labels are its table's
        return nodes.get(node_id) or nodes.get(node_id.rpartition(".")[0])

    rows = [
        {
            "table": r.id,
            "depth": r.distance,
            "kind": nodes[r.id].kind if r.id in nodes else "column",
            "owners": ", ".join(nodes[r.id].owners) if r.id in nodes else "",
            "via": tuple(r.path) if args.direction == "down" else tuple(reversed(r.path)),
            **({"labels": _labels_text(node_of(r.id))} if wanted else {}),
        }
        for r in reached
        if _has_labels(node_of(r.id), wanted)
    ]
    if args.format == "table":
        arrow = "consumers of" if args.direction == "down" else "sources of"
        labelled = " with " + " and ".join(args.label) if wanted else ""
        print(f"{len(rows)} {arrow} {start}{labelled}" + (f" (depth ≤ {args.depth})" if args.depth else ""))
    emit(rows, ["table", "depth", "kind", "owners", "via", *(["labels"] if wanted else [])], args.format)
    return 0


def run_search(args: argparse.Namespace) -> int:
    from lineage_core.search import SearchIndex

    wanted = _label_filter(args.label)
    document = load_document(lineage_uri(args))
    graph = LineageGraph.from_document(document)
    nodes = {n.id: n for n in document.nodes}
    if wanted:  # search only among the labelled nodes, so --limit counts rows that are shown
        import dataclasses

        keep = {n for n, node in nodes.items() if _has_labels(node, wanted)}
        document = dataclasses.replace(
            document,
            nodes=tuple(nodes[n] for n in nodes if n in keep),
            queries=tuple(
                dataclasses.replace(q, targets=tuple(t for t in q.targets if t in keep))
                for q in document.queries
                if any(t in keep for t in q.targets)
            ),
        )
    hits = SearchIndex.from_document(document).search(args.query, limit=args.limit)
    rows = [
        {
            "table": hit.id,
            "score": round(hit.score, 1),
            "matched": hit.matched,
            "kind": graph.nodes[hit.id].kind if hit.id in graph.nodes else "",
            "upstream": len(graph.parents(hit.id)) if hit.id in graph else 0,
            "downstream": len(graph.children(hit.id)) if hit.id in graph else 0,
            **({"labels": _labels_text(nodes.get(hit.id))} if wanted else {}),
        }
        for hit in hits
        if _has_labels(nodes.get(hit.id), wanted)
    ]
    columns = ["table", "score", "matched", "kind", "upstream", "downstream", *(["labels"] if wanted else [])]
    emit(rows, columns, args.format)
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
    lineage = table_lineage(text, dialect=dialect, vars=settings.vars)
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
