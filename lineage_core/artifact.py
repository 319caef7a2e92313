"""Lineage document (de)serialization.

Writing is plain JSON (orjson, sorted, deterministic for equal documents). Reading checks
the version first, so a newer document fails with a message that says what to upgrade, and
then the structure, so a truncated or hand-edited document fails naming the field instead of
surfacing as a KeyError three layers up. The JSON Schema in ``schemas/`` describes the same
shape for other tools; reading does not run it (too slow for 100,000 tables).
"""

from __future__ import annotations

import gc
import gzip
import json
from importlib import resources
from typing import Any, cast

import orjson

from lineage_core.errors import DocumentError
from lineage_core.models import (
    SCHEMA_VERSION,
    ColumnEdge,
    Edge,
    ErrorRecord,
    LineageDocument,
    Node,
    Query,
    SourceCoverage,
)

GZIP_MAGIC = b"\x1f\x8b"
DOCUMENT_JSON_OPTIONS = orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS


def document_to_dict(doc: LineageDocument) -> dict[str, Any]:
    return {
        "schema_version": doc.schema_version,
        "generated_at": doc.generated_at,
        "generator": dict(doc.generator),
        "config_digest": doc.config_digest,
        "shard": None if doc.shard is None else {"index": doc.shard[0], "count": doc.shard[1]},
        "nodes": [node_to_dict(n) for n in doc.nodes],
        "queries": [query_to_dict(q) for q in doc.queries],
        "edges": [{"source": e.source, "target": e.target, "query_ids": list(e.query_ids)} for e in doc.edges],
        "columns": None
        if doc.columns is None
        else [{"source": c.source, "target": c.target, "query_ids": list(c.query_ids)} for c in doc.columns],
        "errors": [error_to_dict(e) for e in doc.errors],
        "coverage": [
            {"name": c.name, "root": c.root, "files": c.files, "ok": c.ok, "failed": c.failed} for c in doc.coverage
        ],
    }


def node_to_dict(n: Node) -> dict[str, Any]:
    data: dict[str, Any] = {"id": n.id, "kind": n.kind, "labels": dict(n.labels), "owners": list(n.owners)}
    if n.url:
        data["url"] = n.url
    if n.description:
        data["description"] = n.description
    return data


def query_to_dict(q: Query) -> dict[str, Any]:
    return {
        "id": q.id,
        "uri": q.uri,
        "path": q.path,
        "line_start": q.line_start,
        "line_end": q.line_end,
        "source": q.source,
        "labels": dict(q.labels),
        "sources": list(q.sources),
        "targets": list(q.targets),
        "digest": q.digest,
    }


def error_to_dict(e: ErrorRecord) -> dict[str, Any]:
    return {
        "uri": e.uri,
        "path": e.path,
        "line": e.line,
        "kind": e.kind,
        "message": e.message,
        "variable": e.variable,
    }


def dumps_document(doc: LineageDocument) -> bytes:
    return orjson.dumps(document_to_dict(doc), option=DOCUMENT_JSON_OPTIONS) + b"\n"


def decode_json(data: bytes, what: str = "document") -> dict[str, Any]:
    """JSON bytes (optionally gzip-compressed) → dict, or a DocumentError that says why not."""
    if data[:2] == GZIP_MAGIC:
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise DocumentError(f"{what} is truncated or corrupt (gzip: {exc})") from exc
    if not data.strip():
        raise DocumentError(f"{what} is empty")
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise DocumentError(f"{what} is truncated or not valid JSON ({exc})") from exc
    if not isinstance(value, dict):
        raise DocumentError(f"{what} must be a JSON object, not {type(value).__name__}")
    return cast(dict[str, Any], value)


def check_version(data: dict[str, Any], what: str = "document") -> None:
    version = data.get("schema_version")
    if not isinstance(version, int):
        raise DocumentError(f"{what} has no integer schema_version: is it a lineage document?")
    if version != SCHEMA_VERSION:
        newer = "newer" if version > SCHEMA_VERSION else "older"
        raise DocumentError(
            f"{what} has schema_version {version}, {newer} than this reader supports "
            f"({SCHEMA_VERSION}): upgrade lineage-dashboard to read it"
            if version > SCHEMA_VERSION
            else f"{what} has schema_version {version}, which this reader no longer supports"
        )


def loads_document(data: bytes, what: str = "lineage document") -> LineageDocument:
    # Building a 100,000-table document allocates millions of objects and no cycles; the
    # cyclic garbage collector would rescan them all repeatedly (half the decode time).
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _loads_document(data, what)
    finally:
        if enabled:
            gc.enable()


def _loads_document(data: bytes, what: str) -> LineageDocument:
    raw = decode_json(data, what)
    check_version(raw, what)
    try:
        shard = raw.get("shard")
        columns = raw.get("columns")
        return LineageDocument(
            schema_version=raw["schema_version"],
            generated_at=str(raw["generated_at"]),
            generator={str(k): str(v) for k, v in raw.get("generator", {}).items()},
            config_digest=str(raw.get("config_digest", "")),
            shard=None if not shard else (int(shard["index"]), int(shard["count"])),
            nodes=tuple(
                Node(
                    id=n["id"],
                    kind=n.get("kind", "table"),
                    labels=n.get("labels") or {},
                    owners=tuple(n.get("owners") or ()),
                    url=n.get("url"),
                    description=n.get("description"),
                )
                for n in raw["nodes"]
            ),
            queries=tuple(
                Query(
                    id=q["id"],
                    uri=q["uri"],
                    path=q["path"],
                    line_start=int(q["line_start"]),
                    line_end=int(q["line_end"]),
                    source=q.get("source", ""),
                    labels=q.get("labels") or {},
                    sources=tuple(q.get("sources") or ()),
                    targets=tuple(q.get("targets") or ()),
                    digest=q.get("digest", ""),
                )
                for q in raw["queries"]
            ),
            edges=tuple(Edge(e["source"], e["target"], tuple(e.get("query_ids") or ())) for e in raw["edges"]),
            columns=None
            if columns is None
            else tuple(ColumnEdge(c["source"], c["target"], tuple(c.get("query_ids") or ())) for c in columns),
            errors=tuple(
                ErrorRecord(
                    uri=e["uri"],
                    path=e.get("path", e["uri"]),
                    line=e.get("line"),
                    kind=e["kind"],
                    message=e["message"],
                    variable=e.get("variable"),
                )
                for e in raw.get("errors") or ()
            ),
            coverage=tuple(
                SourceCoverage(c["name"], c["root"], int(c["files"]), int(c["ok"]), int(c["failed"]))
                for c in raw.get("coverage") or ()
            ),
        )
    except KeyError as exc:
        raise DocumentError(f"{what} is missing the field {exc.args[0]!r}") from exc
    except (TypeError, ValueError, AttributeError) as exc:
        raise DocumentError(f"{what} has a field of the wrong type ({exc})") from exc


def schema(name: str = "lineage-document.schema.json") -> dict[str, Any]:
    text = resources.files("lineage_core").joinpath("schemas", name).read_text(encoding="utf-8")
    return cast(dict[str, Any], json.loads(text))
