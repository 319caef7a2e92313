"""Loading the lineage document for the app: decode once per generation, keep the last good one.

Pure (no streamlit): ``data.py`` wraps these in ``st.cache_resource`` keyed by (uri, generation).
The policy:

- the document's generation is asked of the store (a stat, not a download) at most once per
  ``refresh_seconds``; a new generation is decoded once and shared by every session;
- a broken newest document (truncated, invalid, unreadable) never blanks the app: the last good
  document is shown with a warning that says what is wrong with the newest one. The last good
  one comes from this process's memory or, after a restart, from the store's history
  (``lineage_core.store.read_latest_good`` when the store offers it).
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

from lineage_core import store
from lineage_core.artifact import loads_document
from lineage_core.errors import LineageError
from lineage_core.graph import LineageGraph
from lineage_core.models import LineageDocument, Query
from lineage_core.search import SearchIndex

Clock = Callable[[], float]


@dataclass(frozen=True, eq=False)
class LoadedDocument:
    document: LineageDocument
    graph: LineageGraph
    search_index: SearchIndex
    uri: str
    generation: str
    warning: str | None = None
    loaded_at: float = field(default_factory=time.time)

    @cached_property
    def writers(self) -> dict[str, list[Query]]:
        """Table → the queries (SQL files) that write it."""
        found: dict[str, list[Query]] = {}
        for query in self.document.queries:
            for target in query.targets:
                found.setdefault(target, []).append(query)
        return found

    @cached_property
    def readers(self) -> dict[str, list[Query]]:
        """Table → the queries (SQL files) that read it."""
        found: dict[str, list[Query]] = {}
        for query in self.document.queries:
            for source in query.sources:
                found.setdefault(source, []).append(query)
        return found

    @cached_property
    def queries_by_id(self) -> dict[str, Query]:
        return {query.id: query for query in self.document.queries}


@dataclass(frozen=True)
class LoadFailure:
    uri: str
    generation: str | None
    message: str


def decode_loaded(data: bytes, uri: str, generation: str) -> LoadedDocument:
    """Bytes → document, graph and search index: everything the first page needs.

    The cyclic garbage collector is paused meanwhile: decoding 100,000 tables allocates a few
    million objects, and the collections that allocation would trigger (each walking all of
    them) cost more than the decoding itself. Afterwards the objects are frozen out of future
    collections: a document lives until the next generation replaces it.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        document = loads_document(data, f"lineage document {uri}")
        graph = LineageGraph.from_document(document)
        index = SearchIndex.from_document(document)
    finally:
        if was_enabled:
            gc.enable()
    gc.freeze()
    # the typo-tolerant part of search is built while the first page is drawn
    index.warm(background=True)
    return LoadedDocument(document, graph, index, uri, generation)


def load_from_store(uri: str) -> LoadedDocument | LoadFailure:
    try:
        fetched = store.read_bytes(uri)
    except store.ObjectNotFound:
        return LoadFailure(uri, None, f"There is no lineage document at {uri}. {HOW_TO_BUILD}")
    except LineageError as exc:
        return LoadFailure(uri, None, f"Cannot read the lineage document at {uri}: {exc}")
    try:
        return decode_loaded(fetched.data, uri, fetched.generation)
    except LineageError as exc:
        return LoadFailure(uri, fetched.generation, str(exc))


HOW_TO_BUILD = (
    "Build one with `lineage build SQL_DIR --out URI` (or `make demo` for the bundled example) "
    "and point LINEAGE_URI at it."
)


def latest_good_from_store(uri: str) -> LoadedDocument | None:
    """The newest version of ``uri`` that decodes, from the store's history, if it keeps one."""
    read_latest_good: Any = getattr(store, "read_latest_good", None)
    if read_latest_good is None:
        return None
    try:
        found = read_latest_good(uri, loads_document)
    except (LineageError, OSError):
        return None
    if found is None:
        return None
    # Accept what the store returns: (document, fetched) or an object carrying both.
    if isinstance(found, tuple) and len(found) == 2:
        document, meta = found
    else:
        document = next((getattr(found, n) for n in ("document", "value", "decoded") if hasattr(found, n)), None)
        meta = found
    if not isinstance(document, LineageDocument):
        return None
    generation = str(getattr(meta, "generation", "history"))
    source = str(getattr(meta, "uri", uri))
    graph = LineageGraph.from_document(document)
    index = SearchIndex.from_document(document)
    return LoadedDocument(document, graph, index, source, generation)


class GenerationWatch:
    """Asks the store for a document's generation at most once per ``interval`` seconds."""

    def __init__(self, uri: str, interval: float, clock: Clock = time.monotonic) -> None:
        self.uri = uri
        self.interval = interval
        self._clock = clock
        self._lock = threading.Lock()
        self._checked_at: float | None = None
        self._generation: str | None = None
        self._error: str | None = None

    def current(self) -> tuple[str | None, str | None]:
        """(generation or None when there is no document, error message or None)."""
        with self._lock:
            now = self._clock()
            if self._checked_at is None or now - self._checked_at >= self.interval:
                self._checked_at = now
                try:
                    found = store.stat(self.uri)
                    self._generation, self._error = (found.generation if found else None), None
                except LineageError as exc:
                    self._error = f"Cannot check the lineage document at {self.uri}: {exc}"
            return self._generation, self._error


class LastGood:
    """The newest document that loaded, per URI, for when a newer one does not."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._documents: dict[str, LoadedDocument] = {}

    def remember(self, loaded: LoadedDocument) -> None:
        with self._lock:
            self._documents[loaded.uri] = replace(loaded, warning=None)

    def get(self, uri: str) -> LoadedDocument | None:
        with self._lock:
            return self._documents.get(uri)


def with_fallback(
    result: LoadedDocument | LoadFailure, last_good: LastGood, from_history: Callable[[str], LoadedDocument | None]
) -> LoadedDocument | LoadFailure:
    """The result itself when it loaded; else the last good document, with a warning."""
    if isinstance(result, LoadedDocument):
        last_good.remember(result)
        return result
    previous = last_good.get(result.uri) or from_history(result.uri)
    if previous is None:
        return result
    last_good.remember(previous)
    return replace(
        previous,
        warning=(
            f"The newest lineage document could not be loaded: {result.message}. "
            f"Showing the last good document (generated at {previous.document.generated_at}, "
            f"generation {previous.generation}) until a good one is published."
        ),
    )
