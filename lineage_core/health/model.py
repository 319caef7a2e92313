"""Values of the health document: frozen dataclasses, times as aware UTC datetimes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, get_args

HEALTH_SCHEMA_VERSION = 1

Status = Literal["on_time", "late", "stale", "unknown", "upstream_late", "error"]
STATUSES: tuple[Status, ...] = get_args(Status)
# Statuses that mean "data someone depends on is not there yet".
PROBLEMS: frozenset[Status] = frozenset({"late", "stale", "upstream_late", "error"})
LATE: frozenset[Status] = frozenset({"late", "stale"})


@dataclass(frozen=True)
class LineageRef:
    """The lineage document an evaluation used."""

    uri: str
    generated_at: str
    config_digest: str


@dataclass(frozen=True)
class Observation:
    """What a probe saw: the last update of a table (None: the table or column has no value)."""

    table: str
    column: str | None
    last_update: datetime | None
    error: str | None = None


@dataclass(frozen=True)
class TableHealth:
    id: str
    status: Status
    message: str
    rule: str | None = None  # name of the freshness rule that applies (None: derived)
    last_update: datetime | None = None
    expected_by: datetime | None = None  # late: the missed deadline; on time: the next one
    since: datetime | None = None  # when the table entered this status
    late_upstream_roots: tuple[str, ...] = ()  # the most upstream late tables behind this one
    observed: str | None = None  # "last_modified" or "max(loaded_at)"


@dataclass(frozen=True)
class Transition:
    table: str
    before: Status | None  # None: first evaluation that saw the table
    after: Status


@dataclass(frozen=True)
class TimelineEntry:
    """One past evaluation: status counts and the tables that changed status."""

    evaluated_at: datetime
    counts: dict[str, int]
    transitions: tuple[Transition, ...] = ()
    transitions_total: int = 0  # before capping ``transitions``


@dataclass(frozen=True)
class ProbeReport:
    kind: str  # bigquery | duckdb | sqlite | none
    queries: int = 0
    bytes_estimated: int | None = None
    errors: tuple[str, ...] = ()


@dataclass(frozen=True)
class HealthDocument:
    evaluated_at: datetime
    lineage: LineageRef
    tables: tuple[TableHealth, ...]
    timeline: tuple[TimelineEntry, ...] = ()
    probe: ProbeReport = field(default_factory=lambda: ProbeReport("none"))
    warnings: tuple[str, ...] = ()
    schema_version: int = HEALTH_SCHEMA_VERSION

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = dict.fromkeys(STATUSES, 0)
        for table in self.tables:
            counts[table.status] += 1
        return counts

    def by_id(self) -> dict[str, TableHealth]:
        return {table.id: table for table in self.tables}
