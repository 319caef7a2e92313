"""Store values and errors shared by every backend."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from lineage_core.errors import LineageError

ANY_GENERATION: Final = "*"


class StoreError(LineageError):
    """A store operation failed; the message names the URI and what to do."""


class ObjectNotFound(StoreError):
    pass


class ConcurrentWriteError(StoreError):
    """Another writer published between our read of the generation and our write."""


@dataclass(frozen=True)
class ObjectStat:
    uri: str
    generation: str
    size: int
    updated: str  # ISO 8601


@dataclass(frozen=True)
class Fetched:
    uri: str
    data: bytes
    generation: str


@dataclass(frozen=True)
class Published:
    uri: str
    generation: str
    history_uri: str | None = None
