"""Health statuses for the Home and Search pages, when a health document exists.

Tolerant by design: the health document is optional and owned by ``lineage_core.health``; if
that package (or its reader) is not there, or no document was published, the pages simply show
no health column. Pure: no streamlit.
"""

from __future__ import annotations

import importlib
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lineage_core import store
from lineage_core.errors import LineageError

STATUS_ORDER = ("late", "stale", "error", "upstream_late", "unknown", "on_time")


@dataclass(frozen=True)
class HealthSnapshot:
    uri: str
    generation: str
    evaluated_at: str
    statuses: Mapping[str, str]  # table id → on_time | late | stale | unknown | upstream_late | error

    @property
    def counts(self) -> dict[str, int]:
        found = Counter(self.statuses.values())
        return {status: found[status] for status in STATUS_ORDER if found[status]}


def _reader() -> Any | None:
    try:
        module = importlib.import_module("lineage_core.health.document")
    except ImportError:
        return None
    return getattr(module, "loads_health", None)


def decode_health(data: bytes, uri: str, generation: str) -> HealthSnapshot | None:
    """None when no health reader is installed; raises LineageError for a broken document."""
    reader = _reader()
    if reader is None:
        return None
    document = reader(data)
    evaluated: Any = getattr(document, "evaluated_at", None)
    evaluated_at = evaluated.isoformat() if hasattr(evaluated, "isoformat") else str(evaluated or "")
    statuses = {str(t.id): str(t.status) for t in getattr(document, "tables", ())}
    return HealthSnapshot(uri, generation, evaluated_at, statuses)


def load_health(uri: str) -> HealthSnapshot | str | None:
    """The snapshot; an error message when a document exists but cannot be read; None when none."""
    if _reader() is None:
        return None
    try:
        fetched = store.read_bytes(uri)
    except store.ObjectNotFound:
        return None
    except LineageError as exc:
        return f"Cannot read the health document at {uri}: {exc}"
    try:
        return decode_health(fetched.data, uri, fetched.generation)
    except (LineageError, ValueError, TypeError, AttributeError) as exc:
        return f"The health document at {uri} could not be read: {exc}"
