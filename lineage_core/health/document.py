"""Health document (de)serialization; the JSON Schema is ``schemas/health-document.schema.json``.

Times are ISO 8601 strings in UTC (``2026-11-25T07:10:00Z``). Reading checks the version first
and then every field it uses, so a truncated or hand-edited document fails with a message
naming the field (a DocumentError), never a KeyError in the page.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

import orjson

from lineage_core.artifact import decode_json
from lineage_core.errors import DocumentError
from lineage_core.health.model import (
    HEALTH_SCHEMA_VERSION,
    STATUSES,
    HealthDocument,
    LineageRef,
    ProbeReport,
    Status,
    TableHealth,
    TimelineEntry,
    Transition,
)

HEALTH_SCHEMA_NAME = "health-document.schema.json"


def format_time(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def parse_time(value: Any, field: str = "time") -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise DocumentError(f"{field} must be an ISO 8601 string, not {type(value).__name__}")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise DocumentError(f"{field} is not an ISO 8601 time: {value!r}") from exc
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def health_to_dict(doc: HealthDocument) -> dict[str, Any]:
    return {
        "schema_version": doc.schema_version,
        "evaluated_at": format_time(doc.evaluated_at),
        "lineage": {
            "uri": doc.lineage.uri,
            "generated_at": doc.lineage.generated_at,
            "config_digest": doc.lineage.config_digest,
        },
        "counts": doc.counts(),
        "probe": {
            "kind": doc.probe.kind,
            "queries": doc.probe.queries,
            "bytes_estimated": doc.probe.bytes_estimated,
            "errors": list(doc.probe.errors),
        },
        "warnings": list(doc.warnings),
        "tables": [
            {
                "id": t.id,
                "status": t.status,
                "message": t.message,
                "rule": t.rule,
                "last_update": format_time(t.last_update),
                "expected_by": format_time(t.expected_by),
                "since": format_time(t.since),
                "late_upstream_roots": list(t.late_upstream_roots),
                "observed": t.observed,
            }
            for t in doc.tables
        ],
        "timeline": [
            {
                "evaluated_at": format_time(e.evaluated_at),
                "counts": dict(e.counts),
                "transitions": [{"table": t.table, "from": t.before, "to": t.after} for t in e.transitions],
                "transitions_total": e.transitions_total,
            }
            for e in doc.timeline
        ],
    }


def dumps_health(doc: HealthDocument) -> bytes:
    return orjson.dumps(health_to_dict(doc), option=orjson.OPT_INDENT_2) + b"\n"


def _status(value: Any, field: str) -> Status:
    if value not in STATUSES:
        raise DocumentError(f"{field} has an unknown status {value!r} (expected one of {', '.join(STATUSES)})")
    return cast(Status, value)


def _text(value: Any, field: str, optional: bool = False) -> str:
    if value is None and optional:
        return ""
    if not isinstance(value, str):
        raise DocumentError(f"{field} must be a string")
    return value


def loads_health(data: bytes, what: str = "health document") -> HealthDocument:
    raw = decode_json(data, what)
    version = raw.get("schema_version")
    if not isinstance(version, int):
        raise DocumentError(f"{what} has no integer schema_version: is it a health document?")
    if version != HEALTH_SCHEMA_VERSION:
        raise DocumentError(
            f"{what} has schema_version {version}; this reader supports {HEALTH_SCHEMA_VERSION}"
            + (": upgrade lineage-dashboard to read it" if version > HEALTH_SCHEMA_VERSION else "")
        )
    try:
        lineage = raw["lineage"]
        probe = raw.get("probe") or {}
        evaluated_at = parse_time(raw["evaluated_at"], f"{what}: evaluated_at")
        if evaluated_at is None:
            raise DocumentError(f"{what}: evaluated_at is missing")
        tables = []
        for i, t in enumerate(raw["tables"]):
            where = f"{what}: tables[{i}]"
            roots = t.get("late_upstream_roots") or []
            if not isinstance(roots, list) or not all(isinstance(r, str) for r in roots):
                raise DocumentError(f"{where}.late_upstream_roots must be a list of table ids")
            tables.append(TableHealth(
                id=_text(t["id"], f"{where}.id"),
                status=_status(t["status"], f"{where}.status"),
                message=_text(t.get("message"), f"{where}.message", optional=True),
                rule=t.get("rule") if isinstance(t.get("rule"), str) else None,
                last_update=parse_time(t.get("last_update"), f"{where}.last_update"),
                expected_by=parse_time(t.get("expected_by"), f"{where}.expected_by"),
                since=parse_time(t.get("since"), f"{where}.since"),
                late_upstream_roots=tuple(roots),
                observed=t.get("observed") if isinstance(t.get("observed"), str) else None,
            ))
        timeline = []
        for i, e in enumerate(raw.get("timeline") or []):
            where = f"{what}: timeline[{i}]"
            at = parse_time(e["evaluated_at"], f"{where}.evaluated_at")
            if at is None:
                raise DocumentError(f"{where}.evaluated_at is missing")
            counts = {str(k): int(v) for k, v in (e.get("counts") or {}).items()}
            transitions = tuple(
                Transition(
                    table=_text(tr["table"], f"{where}.transitions.table"),
                    before=None if tr.get("from") is None else _status(tr["from"], f"{where}.transitions.from"),
                    after=_status(tr["to"], f"{where}.transitions.to"),
                )
                for tr in e.get("transitions") or []
            )
            timeline.append(TimelineEntry(at, counts, transitions, int(e.get("transitions_total", len(transitions)))))
        return HealthDocument(
            schema_version=version,
            evaluated_at=evaluated_at,
            lineage=LineageRef(
                uri=_text(lineage["uri"], f"{what}: lineage.uri"),
                generated_at=str(lineage.get("generated_at", "")),
                config_digest=str(lineage.get("config_digest", "")),
            ),
            tables=tuple(tables),
            timeline=tuple(timeline),
            probe=ProbeReport(
                kind=str(probe.get("kind", "none")),
                queries=int(probe.get("queries") or 0),
                bytes_estimated=None if probe.get("bytes_estimated") is None else int(probe["bytes_estimated"]),
                errors=tuple(str(x) for x in probe.get("errors") or ()),
            ),
            warnings=tuple(str(w) for w in raw.get("warnings") or ()),
        )
    except KeyError as exc:
        raise DocumentError(f"{what} is missing the field {exc.args[0]!r}") from exc
    except (TypeError, ValueError, AttributeError) as exc:
        raise DocumentError(f"{what} has a field of the wrong type ({exc})") from exc


def health_schema() -> dict[str, Any]:
    from lineage_core.artifact import schema

    return schema(HEALTH_SCHEMA_NAME)


__all__ = ["dumps_health", "format_time", "health_schema", "health_to_dict", "loads_health", "parse_time"]
