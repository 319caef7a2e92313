"""Per-file work of a build: read → render → extract. Runs inside worker processes.

Everything a worker returns is a plain frozen value that pickles cheaply and can be stored
in the incremental cache. Nothing here decides document-wide questions (qualification of
names, node kinds, labels): that is ``assemble.py``'s job, once, over all files.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from lineage_core.errors import LineageError, RenderError
from lineage_core.models import FAILED_KINDS, ErrorRecord, TableId

Parts = tuple[str, ...]


@dataclass(frozen=True)
class FileTask:
    file_id: str
    source: str
    uri: str
    path: str
    dialect: str
    content: bytes
    variables: Mapping[str, Any]
    columns: bool = False
    schema: Mapping[str, Sequence[str]] | None = None
    max_bytes: int = 4 * 1024 * 1024
    # sha256 of ``content``; given when it is known without reading the file (see cache.FileStats)
    content_sha256: str = ""


@dataclass(frozen=True)
class FileResult:
    file_id: str
    source: str
    uri: str
    path: str
    line_end: int
    digest: str
    sources: tuple[Parts, ...] = ()
    targets: tuple[Parts, ...] = ()
    views: tuple[Parts, ...] = ()
    edges: tuple[tuple[Parts, Parts], ...] = ()
    errors: tuple[ErrorRecord, ...] = ()
    columns: tuple[tuple[str, str], ...] = field(default=())

    @property
    def failed(self) -> bool:
        return any(e.kind in FAILED_KINDS for e in self.errors)


def content_digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def _decode(task: FileTask) -> tuple[str | None, ErrorRecord | None]:
    if len(task.content) > task.max_bytes:
        size_mb = len(task.content) / 1024 / 1024
        limit_mb = task.max_bytes / 1024 / 1024
        return None, ErrorRecord(
            task.uri,
            task.path,
            None,
            "read",
            f"file is {size_mb:.1f} MiB, over the {limit_mb:.1f} MiB limit (max_file_bytes in lineage.yaml); not parsed",
        )
    if b"\x00" in task.content[:8192]:
        return None, ErrorRecord(task.uri, task.path, None, "read", "binary file (contains NUL bytes); not SQL")
    try:
        return task.content.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        line = task.content[: exc.start].count(b"\n") + 1
        return None, ErrorRecord(
            task.uri,
            task.path,
            line,
            "read",
            f"not UTF-8 text: invalid byte 0x{task.content[exc.start]:02x} at byte {exc.start}",
        )


def analyze(task: FileTask) -> FileResult:
    """Read, render and extract one file; every failure becomes an ErrorRecord, never an exception."""
    from lineage_core.extract import column_lineage, rendered_lineage
    from lineage_core.templating import render_sql

    digest = content_digest(task.content)

    def failed(line_end: int, record: ErrorRecord) -> FileResult:
        return FileResult(task.file_id, task.source, task.uri, task.path, line_end, digest, errors=(record,))

    text, error = _decode(task)
    if text is None:
        assert error is not None
        return failed(max(1, task.content.count(b"\n") + 1), error)
    line_end = max(1, text.count("\n") + (0 if text.endswith("\n") else 1))
    try:
        rendered = render_sql(text, task.variables, task.path)
    except RenderError as exc:
        return failed(line_end, ErrorRecord(task.uri, task.path, exc.line, "render", str(exc), exc.variable))
    try:
        lineage = rendered_lineage(rendered, dialect=task.dialect)
    except LineageError as exc:
        return failed(line_end, ErrorRecord(task.uri, task.path, None, "parse", str(exc)))
    errors = tuple(ErrorRecord(task.uri, task.path, issue.line, issue.kind, issue.message) for issue in lineage.issues)
    columns: tuple[tuple[str, str], ...] = ()
    if task.columns and not any(e.kind == "parse" for e in errors):
        try:
            columns = tuple(
                sorted({(edge.source, edge.target) for edge in column_lineage(rendered, task.dialect, task.schema)})
            )
        except LineageError as exc:
            errors += (ErrorRecord(task.uri, task.path, None, "unresolved", f"column lineage: {exc}"),)
    return FileResult(
        task.file_id,
        task.source,
        task.uri,
        task.path,
        line_end,
        digest,
        sources=tuple(t.parts for t in lineage.sources),
        targets=tuple(t.parts for t in lineage.targets),
        views=tuple(t.parts for t in lineage.views),
        edges=tuple((s.parts, t.parts) for s, t in lineage.edges),
        errors=errors,
        columns=columns,
    )


def analyze_many(tasks: Sequence[FileTask]) -> list[FileResult]:
    return [analyze(task) for task in tasks]


def table_id(parts: Parts) -> TableId:
    return TableId(parts)
