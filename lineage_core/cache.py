"""Incremental build cache: one file per build, keyed per SQL file.

A key covers everything that can change a file's result: its bytes, its effective Jinja
variables, its dialect, whether columns were asked for (and the schema), and the versions
of this package and of sqlglot. The whole cache is one orjson file so a warm build reads
one file instead of thousands, and never imports sqlglot. A corrupt cache is ignored (and
rewritten) — a wrong entry can never be served because entries are found by key only and
validated when decoded.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import asdict
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import orjson

from lineage_core import __version__
from lineage_core.analysis import FileResult, FileTask
from lineage_core.models import ErrorRecord

CACHE_FORMAT = 1


@lru_cache(maxsize=1)
def sqlglot_version() -> str:
    try:
        return version("sqlglot")
    except PackageNotFoundError:  # pragma: no cover - sqlglot is a hard dependency
        return "unknown"


def task_key(task: FileTask) -> str:
    h = hashlib.sha256()
    for part in (
        str(CACHE_FORMAT),
        __version__,
        sqlglot_version(),
        task.dialect,
        task.path,
        str(task.columns),
        str(task.max_bytes),
    ):
        h.update(part.encode())
        h.update(b"\0")
    h.update(orjson.dumps(task.variables, option=orjson.OPT_SORT_KEYS, default=str))
    h.update(b"\0")
    if task.columns and task.schema:
        h.update(orjson.dumps(task.schema, option=orjson.OPT_SORT_KEYS))
    h.update(b"\0")
    h.update(task.content)
    return h.hexdigest()


def _encode(result: FileResult) -> dict[str, Any]:
    return asdict(result)


def _decode(raw: Mapping[str, Any]) -> FileResult:
    def parts_list(items: Any) -> tuple[tuple[str, ...], ...]:
        return tuple(tuple(str(p) for p in item) for item in items)

    return FileResult(
        file_id=str(raw["file_id"]),
        source=str(raw["source"]),
        uri=str(raw["uri"]),
        path=str(raw["path"]),
        line_end=int(raw["line_end"]),
        digest=str(raw["digest"]),
        sources=parts_list(raw["sources"]),
        targets=parts_list(raw["targets"]),
        views=parts_list(raw["views"]),
        edges=tuple((tuple(s), tuple(t)) for s, t in raw["edges"]),
        errors=tuple(ErrorRecord(**e) for e in raw["errors"]),
        columns=tuple((str(s), str(t)) for s, t in raw["columns"]),
    )


class BuildCache:
    """Entries found by key; on save only the entries used by this build are kept."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._entries: dict[str, Any] = {}
        self.warning: str | None = None
        self.hits = 0
        if path is not None and path.is_file():
            try:
                data = orjson.loads(path.read_bytes())
                if not isinstance(data, dict) or data.get("format") != CACHE_FORMAT:
                    raise ValueError("unknown cache format")
                entries = data.get("entries")
                if not isinstance(entries, dict):
                    raise ValueError("no entries")
                self._entries = entries
            except (OSError, ValueError, orjson.JSONDecodeError) as exc:
                self.warning = f"ignoring unreadable build cache {path} ({exc}); rebuilding"
                self._entries = {}
        self._used: dict[str, Any] = {}

    def get(self, key: str, task: FileTask) -> FileResult | None:
        raw = self._entries.get(key)
        if raw is None:
            return None
        try:
            result = _decode(raw)
        except (KeyError, TypeError, ValueError):
            return None
        if result.file_id != task.file_id or result.uri != task.uri:
            return None
        self._used[key] = raw
        self.hits += 1
        return result

    def put(self, key: str, result: FileResult) -> None:
        self._used[key] = _encode(result)

    def save(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_bytes(orjson.dumps({"format": CACHE_FORMAT, "entries": self._used}))
        tmp.replace(self.path)
