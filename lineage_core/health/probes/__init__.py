"""Probes observe when tables were last updated: BigQuery, or any SQL database (DuckDB, SQLite).

A probe answers a list of (table, column) keys — column None means "table last-modified",
a column name means ``max(column)`` — with one Observation per key. A key the probe could not
answer carries an ``error``; one failing table never hides the others.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Protocol

from lineage_core.errors import ConfigError
from lineage_core.health.model import Observation, ProbeReport
from lineage_core.health.rules import BigQueryProbeSettings, HealthSettings, SqlProbeSettings

ObservationKey = tuple[str, str | None]


@dataclass(frozen=True)
class ProbeResult:
    observations: dict[ObservationKey, Observation]
    report: ProbeReport


class Probe(Protocol):
    kind: str

    def observe(self, keys: Sequence[ObservationKey]) -> ProbeResult: ...


def to_utc(value: Any) -> datetime | None:
    """A driver's timestamp (datetime, date, ISO text, epoch seconds) → aware UTC datetime."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return datetime.fromtimestamp(float(value), UTC)
    if isinstance(value, str):
        text = value.strip().replace("Z", "+00:00")
        try:
            return to_utc(datetime.fromisoformat(text))
        except ValueError as exc:
            raise ValueError(f"not a timestamp: {value!r}") from exc
    raise ValueError(f"not a timestamp: {type(value).__name__}")


def table_parts(table: str) -> tuple[str, str, str]:
    """``proj.ds.t`` → (project, dataset, name); shorter ids get empty leading parts."""
    parts = table.split(".")
    while len(parts) < 3:
        parts.insert(0, "")
    return ".".join(parts[:-2]), parts[-2], parts[-1]


def failed(keys: Sequence[ObservationKey], message: str) -> dict[ObservationKey, Observation]:
    return {k: Observation(k[0], k[1], None, message) for k in keys}


def make_probe(health: HealthSettings) -> Probe | None:
    """The probe configured under ``probe:`` (None when there is none)."""
    settings = health.probe
    if settings is None:
        return None
    if isinstance(settings, BigQueryProbeSettings):
        from lineage_core.health.probes.bigquery import BigQueryProbe

        return BigQueryProbe(settings)
    if isinstance(settings, SqlProbeSettings):
        from lineage_core.health.probes.sql import SqlProbe

        path = health.resolve_path(settings.path)
        if not path.is_file():
            raise ConfigError(f"{health.config_path}: probe.path: database file {path} does not exist")
        return SqlProbe.open(settings, path)
    raise ConfigError(f"{health.config_path}: probe: unsupported probe {settings!r}")
