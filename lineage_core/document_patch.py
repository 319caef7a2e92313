"""The next document after a few files changed: the last one, patched.

An incremental build with the last document at hand does not rebuild the document from every
file's result. It decodes the last document to plain JSON values (no model objects), takes out
what the changed and removed files contributed (their queries, their ids on edges and column
edges, their errors), puts in the new results, and derives again what depends on all of them:
the nodes and their kinds, the coverage, the header. The bytes are the ones a full assembly
gives for the same results (the tests compare them after random edits).

Not patched (the caller assembles instead): documents whose nodes carry settings of their own
(``tables:`` selectors) or consumer nodes, and anything that does not look like the document
this build would have written (another schema version, config, shard or column setting).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from itertools import chain
from typing import Any

import orjson

from lineage_core.artifact import DOCUMENT_JSON_OPTIONS, error_to_dict, node_to_dict, query_to_dict
from lineage_core.assemble import QueryResult, generator_info, node_kind, now_iso
from lineage_core.cache import DocumentSummary
from lineage_core.config import Settings
from lineage_core.models import FAILED_KINDS, SCHEMA_VERSION, ErrorRecord, Node

_Links = dict[tuple[str, str], set[str]]


class PreviousDocument:
    """The last document as plain JSON values, checked to be one this build could patch."""

    def __init__(self, doc: dict[str, Any], settings: Settings, with_columns: bool) -> None:
        self.doc, self.settings, self.with_columns = doc, settings, with_columns

    @classmethod
    def decode(
        cls, data: bytes, settings: Settings, shard: tuple[int, int] | None, with_columns: bool
    ) -> PreviousDocument | None:
        if settings.tables:
            return None
        try:
            doc = orjson.loads(data)
        except orjson.JSONDecodeError:
            return None
        expected_shard = None if shard is None else {"index": shard[0], "count": shard[1]}
        if (
            not isinstance(doc, dict)
            or doc.get("schema_version") != SCHEMA_VERSION
            or doc.get("config_digest") != settings.digest()
            or doc.get("shard") != expected_shard
            or (doc.get("columns") is None) == with_columns
        ):
            return None
        return cls(doc, settings, with_columns)

    def patched(
        self,
        kept: Mapping[str, str],
        kept_views: Mapping[str, Sequence[str]],
        added: Sequence[QueryResult],
        generated_at: str | None = None,
    ) -> tuple[bytes, DocumentSummary] | None:
        """The document of the queries ``kept`` (id → the uri it must have; ``kept_views``
        gives their views) and the ``added`` results, or None if this document does not hold
        every kept query. Call once: the decoded document is reused in place."""
        try:
            return self._patched(kept, kept_views, added, generated_at)
        except (KeyError, TypeError, AttributeError):
            return None  # not the document this build wrote: assemble instead

    def _patched(
        self,
        kept: Mapping[str, str],
        kept_views: Mapping[str, Sequence[str]],
        added: Sequence[QueryResult],
        generated_at: str | None,
    ) -> tuple[bytes, DocumentSummary] | None:
        doc, with_columns = self.doc, self.with_columns
        queries = [q for q in doc["queries"] if kept.get(q["id"]) == q["uri"]]
        new_ids = {r.query.id for r in added}
        if len(queries) != len(kept) or new_ids & kept.keys() or len(new_ids) != len(added):
            return None
        dropped = {q["id"] for q in doc["queries"]} - kept.keys()
        dropped_uris = {q["uri"] for q in doc["queries"] if q["id"] in dropped}

        queries.extend(query_to_dict(r.query) for r in added)
        queries.sort(key=lambda q: q["id"])
        new_edges: _Links = {}
        new_columns: _Links = {}
        errors = [e for e in doc["errors"] if e["uri"] not in dropped_uris]
        views: set[str] = set()
        for query_id in kept:
            views.update(kept_views.get(query_id, ()))
        for result in added:
            views.update(result.views)
            errors.extend(error_to_dict(e) for e in result.errors)
            for edge in result.edges:
                new_edges.setdefault(edge, set()).add(result.query.id)
            for column in result.columns:
                new_columns.setdefault(column, set()).add(result.query.id)
        edges = _patched_links(doc["edges"], dropped, new_edges)
        written = set(chain.from_iterable(q["targets"] for q in queries))
        mentioned = written.union(chain.from_iterable(q["sources"] for q in queries))
        for link in edges:
            mentioned.add(link["source"])
            mentioned.add(link["target"])
        errors.sort(key=lambda e: (e["path"], e["uri"], e["line"] or 0, e["kind"], e["message"]))
        last_nodes = {n["id"]: n for n in doc["nodes"]}

        def node(node_id: str) -> dict[str, Any]:
            kind = node_kind(node_id, written, views)
            last = last_nodes.get(node_id)  # without `tables:` settings a node is its id and kind
            return last if last is not None and last["kind"] == kind else node_to_dict(Node(node_id, kind))

        doc["generated_at"] = generated_at or now_iso()
        doc["generator"] = generator_info()
        doc["queries"] = queries
        doc["nodes"] = [node(n) for n in sorted(mentioned)]
        doc["edges"] = edges
        doc["columns"] = _patched_links(doc["columns"], dropped, new_columns) if with_columns else None
        doc["errors"] = errors
        doc["coverage"] = _coverage(self.settings, queries, errors)
        data = orjson.dumps(doc, option=DOCUMENT_JSON_OPTIONS) + b"\n"
        return data, _summary(doc)


def _patched_links(items: list[dict[str, Any]], dropped: set[str], added: _Links) -> list[dict[str, Any]]:
    """Edges (or column edges) without the dropped queries' ids and with the added ones; an
    edge no query touched is kept as it was."""
    links: dict[tuple[str, str], dict[str, Any]] = {}
    for item in items:
        key = (item["source"], item["target"])
        more = added.pop(key, None)
        if more is None and dropped.isdisjoint(item["query_ids"]):
            links[key] = item
            continue
        ids = {i for i in item["query_ids"] if i not in dropped} | (more or set())
        if ids:
            links[key] = {"source": key[0], "target": key[1], "query_ids": sorted(ids)}
    for (source, target), ids in added.items():
        links[(source, target)] = {"source": source, "target": target, "query_ids": sorted(ids)}
    return [links[key] for key in sorted(links)]


def _coverage(settings: Settings, queries: list[dict[str, Any]], errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    from lineage_core.discovery.sql_files import source_root

    failed_uris = {e["uri"] for e in errors if e["kind"] in FAILED_KINDS}
    files: Counter[str] = Counter(q["source"] for q in queries)
    failed: Counter[str] = Counter(q["source"] for q in queries if q["uri"] in failed_uris)
    return [
        {
            "name": s.name,
            "root": source_root(settings, s),
            "files": files[s.name],
            "ok": files[s.name] - failed[s.name],
            "failed": failed[s.name],
        }
        for s in settings.sources
        if s.type == "sql"
    ]


def _summary(doc: dict[str, Any]) -> DocumentSummary:
    errors = doc["errors"]
    return DocumentSummary(
        files=len(doc["queries"]),
        nodes=len(doc["nodes"]),
        edges=len(doc["edges"]),
        failed_files=sum(c["failed"] for c in doc["coverage"]),
        error_kinds=dict(Counter(e["kind"] for e in errors)),
        first_errors=tuple(ErrorRecord(**e) for e in errors[:10]),
        total_errors=len(errors),
    )
