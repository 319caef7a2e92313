"""Result types of the extraction API (frozen, hashable, cheap to cache)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from lineage_core.models import TableId

IssueKind = Literal["parse", "unresolved"]


@dataclass(frozen=True)
class ExtractIssue:
    kind: IssueKind
    line: int | None
    message: str


@dataclass(frozen=True)
class StatementLineage:
    index: int
    line_start: int
    line_end: int
    kind: str
    sources: tuple[TableId, ...]
    targets: tuple[TableId, ...]
    creates_view: bool = False


@dataclass(frozen=True)
class TableLineage:
    sources: tuple[TableId, ...]
    targets: tuple[TableId, ...]
    edges: tuple[tuple[TableId, TableId], ...]
    statements: tuple[StatementLineage, ...]
    issues: tuple[ExtractIssue, ...]
    views: tuple[TableId, ...] = ()


@dataclass(frozen=True, order=True)
class ColumnEdgeRef:
    source: str
    target: str
