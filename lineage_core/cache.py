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
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import orjson

from lineage_core import __version__
from lineage_core.analysis import FileResult, FileTask
from lineage_core.build_snapshot import renew_generated_at
from lineage_core.models import ErrorRecord, LineageDocument
from lineage_core.versions import sqlglot_version

CACHE_FORMAT = 1


@lru_cache(maxsize=1)
def code_digest() -> str:
    """A digest of this package's source: results computed by other code are never served,
    even when a change did not bump ``__version__`` (a development checkout)."""
    h = hashlib.sha256()
    package = Path(__file__).resolve().parent
    for path in sorted(package.rglob("*.py")):
        h.update(path.relative_to(package).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def settings_digest(task: FileTask) -> str:
    """The part of a task's key that its file's name and bytes do not decide."""
    h = hashlib.sha256()
    for part in (
        str(CACHE_FORMAT),
        __version__,
        code_digest(),
        sqlglot_version(),
        task.dialect,
        str(task.columns),
        str(task.max_bytes),
    ):
        h.update(part.encode())
        h.update(b"\0")
    h.update(orjson.dumps(task.variables, option=orjson.OPT_SORT_KEYS, default=str))
    h.update(b"\0")
    if task.columns and task.schema:
        h.update(orjson.dumps(task.schema, option=orjson.OPT_SORT_KEYS))
    return h.hexdigest()


def task_key(task: FileTask) -> str:
    """Everything that can change a file's result: its settings, its path, its bytes."""
    return file_key(settings_digest(task), task.path, task.content_sha256 or hashlib.sha256(task.content).hexdigest())


def file_key(settings_part: str, path: str, content_sha256: str) -> str:
    """``task_key`` from its parts: callers keying many files with the same settings compute
    ``settings_digest`` once."""
    return hashlib.sha256(f"{settings_part}\0{path}\0{content_sha256}".encode()).hexdigest()


def _parts_list(items: Any) -> tuple[tuple[str, ...], ...]:
    # orjson already gives lists of str; one check per name instead of a str() per part
    parts = tuple(map(tuple, items))
    if not all(isinstance(name[0], str) for name in parts if name):
        raise TypeError("table name parts must be strings")
    return parts


def _decode(raw: Mapping[str, Any]) -> FileResult:
    return FileResult(
        file_id=str(raw["file_id"]),
        source=str(raw["source"]),
        uri=str(raw["uri"]),
        path=str(raw["path"]),
        line_end=int(raw["line_end"]),
        digest=str(raw["digest"]),
        sources=_parts_list(raw["sources"]),
        targets=_parts_list(raw["targets"]),
        views=_parts_list(raw["views"]),
        edges=tuple((tuple(s), tuple(t)) for s, t in raw["edges"]),
        errors=tuple(ErrorRecord(**e) for e in raw["errors"]),
        columns=tuple((s, t) for s, t in raw["columns"]),
    )


class BuildCache:
    """Entries found by key; on save only the entries used by this build are kept.

    A build that changed a few files appends their entries to a journal beside the cache file
    instead of rewriting it whole (:meth:`append`); reading takes both, and the next full save
    folds the journal in.
    """

    JOURNAL_LIMIT = 4 * 1024 * 1024  # bytes: past this, a build rewrites the cache instead

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.journal = path.with_suffix(".journal") if path is not None else None
        self._loaded: dict[str, Any] | None = None
        self.warning: str | None = None
        self.hits = 0
        self._used: dict[str, Any] = {}
        self._appended: dict[str, Any] = {}

    @property
    def _entries(self) -> dict[str, Any]:
        """Read on first use: a build whose document is reused never decodes the cache."""
        if self._loaded is None:
            self._loaded = self._load()
        return self._loaded

    def _load(self) -> dict[str, Any]:
        path = self.path
        entries: dict[str, Any] = {}
        if path is not None and path.is_file():
            try:
                data = orjson.loads(path.read_bytes())
                if not isinstance(data, dict) or data.get("format") != CACHE_FORMAT:
                    raise ValueError("unknown cache format")
                found = data.get("entries")
                if not isinstance(found, dict):
                    raise ValueError("no entries")
                entries = found
            except (OSError, ValueError, orjson.JSONDecodeError) as exc:
                self.warning = f"ignoring unreadable build cache {path} ({exc}); rebuilding"
        entries.update(self._journal_entries())
        return entries

    def _journal_entries(self) -> dict[str, Any]:
        """Journal lines ``[format, key, entry]``; a torn or foreign line is skipped (entries are
        checked again when decoded, so a wrong one is never served)."""
        entries: dict[str, Any] = {}
        try:
            lines = self.journal.read_bytes().splitlines() if self.journal is not None else []
        except OSError:
            return entries
        for line in lines:
            try:
                fmt, key, entry = orjson.loads(line)
            except (orjson.JSONDecodeError, ValueError, TypeError):
                continue
            if fmt == CACHE_FORMAT and isinstance(key, str) and isinstance(entry, dict):
                entries[key] = entry
        return entries

    def has(self, key: str) -> bool:
        return key in self._entries

    def get(self, key: str, file_id: str, uri: str) -> FileResult | None:
        raw = self._entries.get(key)
        if raw is None:
            return None
        try:
            result = _decode(raw)
        except (KeyError, TypeError, ValueError):
            return None
        if result.file_id != file_id or result.uri != uri:
            return None
        self._used[key] = raw
        self.hits += 1
        return result

    def keep(self, key: str) -> bool:
        """Keep an entry through the next save without decoding it (its result was taken
        from elsewhere); False when there is no such entry."""
        raw = self._entries.get(key)
        if raw is None:
            return False
        self._used[key] = raw
        return True

    def put(self, key: str, result: FileResult) -> None:
        if self.path is not None:  # orjson serializes the dataclass itself when saving
            self._used[key] = result

    def append(self, key: str, result: FileResult) -> None:
        """Add an entry without rewriting the cache (written by :meth:`save_appended`)."""
        if self.path is not None:
            self._appended[key] = result

    def journal_size(self) -> int:
        try:
            return self.journal.stat().st_size if self.journal is not None else 0
        except OSError:
            return 0

    def journal_full(self) -> bool:
        return self.journal_size() > self.JOURNAL_LIMIT

    def save_appended(self) -> None:
        if self.journal is None or not self._appended:
            return
        lines = b"".join(orjson.dumps([CACHE_FORMAT, k, v]) + b"\n" for k, v in self._appended.items())
        self.journal.parent.mkdir(parents=True, exist_ok=True)
        with open(self.journal, "ab") as handle:
            handle.write(lines)

    def save(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_bytes(orjson.dumps({"format": CACHE_FORMAT, "entries": self._used}))
        tmp.replace(self.path)
        if self.journal is not None:
            self.journal.unlink(missing_ok=True)  # what this build used of it is in the file now


@dataclass(frozen=True)
class DocumentSummary:
    """What `lineage build` prints about a document, kept so a reused document needs no decoding."""

    files: int
    nodes: int
    edges: int
    failed_files: int
    error_kinds: dict[str, int] = field(default_factory=dict)
    first_errors: tuple[ErrorRecord, ...] = ()
    total_errors: int = 0

    @classmethod
    def of(cls, document: LineageDocument) -> DocumentSummary:
        return cls(
            files=len(document.queries),
            nodes=len(document.nodes),
            edges=len(document.edges),
            failed_files=sum(c.failed for c in document.coverage),
            error_kinds=dict(Counter(e.kind for e in document.errors)),
            first_errors=document.errors[:10],
            total_errors=len(document.errors),
        )

    def line(self) -> str:
        detail = ", ".join(f"{n} {k}" for k, n in sorted(self.error_kinds.items()))
        problems = f"{self.failed_files} files with errors ({detail})" if self.total_errors else "no errors"
        return f"{self.files} files → {self.nodes} tables, {self.edges} edges; {problems}"


class DocumentMemo:
    """The last serialized document of a cache directory, found by a key over all its inputs."""

    def __init__(self, directory: Path) -> None:
        self.data_path = directory / "last-document.json"
        self.meta_path = directory / "last-document.meta.json"

    def get(self, key: str, generated_at: str) -> tuple[bytes, DocumentSummary] | None:
        try:
            meta = orjson.loads(self.meta_path.read_bytes())
            if meta.get("key") != key:
                return None
            data = self.data_path.read_bytes()
            if hashlib.sha256(data).hexdigest() != meta.get("sha256"):
                return None  # torn or edited: rebuild rather than serve it
            raw = meta["summary"]
            summary = DocumentSummary(
                files=int(raw["files"]),
                nodes=int(raw["nodes"]),
                edges=int(raw["edges"]),
                failed_files=int(raw["failed_files"]),
                error_kinds={str(k): int(v) for k, v in raw["error_kinds"].items()},
                first_errors=tuple(ErrorRecord(**e) for e in raw["first_errors"]),
                total_errors=int(raw["total_errors"]),
            )
        except (OSError, ValueError, KeyError, TypeError, orjson.JSONDecodeError):
            return None
        renewed = renew_generated_at(data, generated_at)
        return (renewed, summary) if renewed is not None else None

    def previous(self, basis: str) -> tuple[bytes, dict[str, str], dict[str, tuple[str, ...]]] | None:
        """The last document, the key of each file it was built from and the views each of
        its queries creates, if it was built on the same ``basis`` (settings, shard, options):
        its unchanged files' part of it can be kept instead of being decoded and qualified
        again."""
        try:
            meta = orjson.loads(self.meta_path.read_bytes())
            if meta.get("basis") != basis or not isinstance(meta.get("file_keys"), dict):
                return None
            views = meta.get("views")
            if not isinstance(views, dict):
                return None
            data = self.data_path.read_bytes()
            if hashlib.sha256(data).hexdigest() != meta.get("sha256"):
                return None
            return (
                data,
                {str(k): str(v) for k, v in meta["file_keys"].items()},
                {str(k): tuple(map(str, v)) for k, v in views.items()},
            )
        except (OSError, ValueError, TypeError, orjson.JSONDecodeError):
            return None

    def put(
        self,
        key: str,
        data: bytes,
        summary: DocumentSummary,
        basis: str = "",
        file_keys: Mapping[str, str] | None = None,
        views: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        self.data_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.data_path.with_suffix(".tmp")
        tmp.write_bytes(data)
        tmp.replace(self.data_path)
        meta = {
            "key": key,
            "sha256": hashlib.sha256(data).hexdigest(),
            "summary": asdict(summary),
            "basis": basis,
            "file_keys": dict(file_keys or {}),
            "views": {k: list(v) for k, v in (views or {}).items() if v},
        }
        tmp = self.meta_path.with_suffix(".tmp")
        tmp.write_bytes(orjson.dumps(meta))
        tmp.replace(self.meta_path)
