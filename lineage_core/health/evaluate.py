"""Freshness rules × observations × the lineage graph → a health document. Pure: the clock is ``now``.

A table with a rule gets its own verdict from its last update; every other table (views,
dashboards, tables nobody wrote a rule for) derives its state from its upstreams. Lateness
flows downstream through derived tables and through late tables, and stops at a table whose
own rule says it is on time (it was refreshed anyway). The *root causes* of a table are the
most upstream late tables that reach it that way.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from lineage_core.graph import LineageGraph
from lineage_core.health.model import (
    LATE,
    STATUSES,
    HealthDocument,
    LineageRef,
    Observation,
    ProbeReport,
    Status,
    TableHealth,
    TimelineEntry,
    Transition,
)
from lineage_core.health.rules import Deadline, FreshnessRule, HealthSettings
from lineage_core.models import LineageDocument
from lineage_core.selectors import select

MAX_TRANSITIONS_PER_ENTRY = 200
ObservationKey = tuple[str, str | None]


def when(value: datetime | None) -> str:
    """A time for messages: ``2026-11-25 07:10 UTC``."""
    if value is None:
        return "never"
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _local(value: datetime, deadline: Deadline) -> str:
    return value.astimezone(deadline.zone).strftime("%Y-%m-%d %H:%M %Z")


# -- rules ------------------------------------------------------------------------------
def assign_rules(
    graph: LineageGraph, rules: Sequence[FreshnessRule]
) -> tuple[dict[str, FreshnessRule], list[str]]:
    """The rule of each table (the last matching rule wins, as with ``tables:``) and warnings."""
    chosen: dict[str, FreshnessRule] = {}
    warnings: list[str] = []
    for index, rule in enumerate(rules):
        matched = select(rule.select, graph, graph.nodes)
        if not matched:
            warnings.append(f"freshness[{index}] ({rule.label}): selector '{rule.select}' matches no table")
        for table in matched:
            chosen[table] = rule
    return chosen, warnings


def observation_requests(assigned: Mapping[str, FreshnessRule]) -> list[ObservationKey]:
    """What the probe must observe: (table, None) for last-modified, (table, column) for max()."""
    return sorted({(table, rule.column) for table, rule in assigned.items()}, key=lambda k: (k[0], k[1] or ""))


# -- one table's own verdict ------------------------------------------------------------
@dataclass(frozen=True)
class Verdict:
    status: Status
    expected_by: datetime | None
    since: datetime | None
    message: str


def scheduled_runs_after(deadline: Deadline, moment: datetime, count: int = 2) -> list[datetime]:
    """The next ``count`` scheduled runs strictly after ``moment``, in the rule's time zone.

    When clocks go back, a run time that happens twice on the wall clock counts once (the
    first); when they go forward, a run in the skipped hour happens at the first valid time.
    """
    from croniter import croniter

    runs: list[datetime] = []
    it = croniter(deadline.cron, moment.astimezone(deadline.zone))
    while len(runs) < count:
        run: datetime = it.get_next(datetime)
        first = run.replace(tzinfo=None).replace(tzinfo=deadline.zone, fold=0)
        if first.utcoffset() != run.utcoffset():  # the second occurrence of a repeated wall time
            continue
        runs.append(run)
    return runs


def verdict(rule: FreshnessRule, last_update: datetime | None, now: datetime) -> Verdict:
    """on_time / late / stale for one observed last update (None → unknown)."""
    if last_update is None:
        return Verdict("unknown", None, None, f"no last update observed ({rule.observed_as})")
    late_at: list[tuple[datetime, str]] = []  # (moment it becomes late, why)
    stale_at: list[tuple[datetime, str]] = []
    if rule.warn_after:
        late_at.append((last_update + rule.warn_after.delta, f"older than {rule.warn_after}"))
    if rule.error_after:
        stale_at.append((last_update + rule.error_after.delta, f"older than {rule.error_after}"))
    if rule.deadline:
        d = rule.deadline
        first, second = scheduled_runs_after(d, last_update)
        grace = f" + {_minutes(d.grace)} grace" if d.grace else ""
        late_at.append((first + d.grace, f"missed the run of {_local(first, d)}{grace}"))
        if not rule.error_after:
            stale_at.append((second + d.grace, f"missed two runs ({_local(first, d)}, {_local(second, d)})"))
    updated = f"last update {when(last_update)}"
    passed_stale = sorted(s for s in stale_at if s[0] <= now)
    passed_late = sorted(s for s in late_at + stale_at if s[0] <= now)
    if passed_stale:
        since, why = passed_stale[0]
        expected = passed_late[0][0]
        return Verdict("stale", expected, since, f"stale: {why}; {updated}, was expected by {when(expected)}")
    if passed_late:
        since, why = passed_late[0]
        return Verdict("late", since, since, f"late: {why}; {updated}, was expected by {when(since)}")
    upcoming = sorted(late_at + stale_at)
    expected_next = upcoming[0][0] if upcoming else None
    due = f"; next update due by {when(expected_next)}" if expected_next else ""
    return Verdict("on_time", expected_next, last_update, f"on time: {updated}{due}")


def _minutes(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"


# -- propagation ------------------------------------------------------------------------
def late_roots(graph: LineageGraph, own: Mapping[str, Status]) -> dict[str, set[str]]:
    """For every table reached by lateness: the most upstream late tables behind it.

    Lateness starts at tables whose own status is late or stale, and flows downstream through
    every table except those whose own rule says on time or error (they stop it). A late table
    reached from another late table is not a root, unless both sit on one cycle.
    """
    sources = [t for t, s in own.items() if s in LATE and t in graph]
    blocking = {t for t, s in own.items() if s in {"on_time", "error"}}
    reached_by: dict[str, set[str]] = {}
    for start in sources:
        seen = {start}
        queue = deque([start])
        while queue:
            current = queue.popleft()
            for child in graph.children(current):
                if child in seen:
                    continue
                seen.add(child)
                reached_by.setdefault(child, set()).add(start)
                if child not in blocking:
                    queue.append(child)
        if start in reached_by and start in reached_by[start]:
            reached_by[start].discard(start)
    roots = {
        r for r in sources
        if not any(r not in reached_by.get(other, set()) for other in reached_by.get(r, set()))
    }
    result: dict[str, set[str]] = {}
    for table, starts in reached_by.items():
        behind = (starts & roots) - {table}
        if behind:
            result[table] = behind
    return result


def evaluate(
    document: LineageDocument,
    health: HealthSettings,
    observations: Mapping[ObservationKey, Observation],
    *,
    now: datetime,
    lineage_uri: str,
    previous: HealthDocument | None = None,
    probe: ProbeReport | None = None,
    graph: LineageGraph | None = None,
) -> HealthDocument:
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    now = now.astimezone(UTC)
    graph = graph or LineageGraph.from_document(document)
    assigned, warnings = assign_rules(graph, health.freshness)
    before = previous.by_id() if previous else {}

    own: dict[str, TableHealth] = {}
    for table, rule in assigned.items():
        seen = observations.get((table, rule.column))
        if seen is None or seen.error:
            error = seen.error if seen else "the probe returned nothing for this table"
            own[table] = TableHealth(table, "error", f"check failed: {error}", rule.label, observed=rule.observed_as)
            continue
        v = verdict(rule, seen.last_update, now)
        own[table] = TableHealth(
            table, v.status, v.message, rule.label, seen.last_update, v.expected_by, v.since,
            observed=rule.observed_as,
        )

    roots = late_roots(graph, {t: h.status for t, h in own.items()})
    tables: dict[str, TableHealth] = {}
    for table in graph.ids:
        behind = tuple(sorted(roots.get(table, ())))
        mine = own.get(table)
        if mine is not None and mine.status != "unknown":
            if mine.status == "on_time":
                behind = ()
            tables[table] = replace(mine, late_upstream_roots=behind)
        elif behind:
            first = behind[0] + (f" (+{len(behind) - 1} more)" if len(behind) > 1 else "")
            tables[table] = TableHealth(
                table, "upstream_late", f"waiting on late upstream {first}",
                mine.rule if mine else None, mine.last_update if mine else None,
                late_upstream_roots=behind, observed=mine.observed if mine else None,
            )

    _derive_on_time(graph, own, tables)
    for table in graph.ids:
        if table not in tables:
            fallback = TableHealth(table, "unknown", "no freshness rule and no checked upstream table")
            tables[table] = own.get(table, fallback)

    # ``since``: derivable for late/stale/on_time by rule; else carried over from the last run.
    finished: list[TableHealth] = []
    for table in sorted(tables):
        health_now = tables[table]
        old = before.get(table)
        since = health_now.since
        if health_now.status == "upstream_late":
            starts = [tables[r].since for r in health_now.late_upstream_roots if tables[r].since]
            since = min(s for s in starts if s is not None) if starts else None
        if since is None or (health_now.rule is None and health_now.status == "on_time"):
            since = old.since if old and old.status == health_now.status and old.since else now
        finished.append(replace(health_now, since=since))

    document_out = HealthDocument(
        evaluated_at=now,
        lineage=LineageRef(lineage_uri, document.generated_at, document.config_digest),
        tables=tuple(finished),
        probe=probe or ProbeReport("none"),
        warnings=tuple(warnings),
    )
    return replace(document_out, timeline=_timeline(document_out, previous, health.timeline_keep))


def _derive_on_time(graph: LineageGraph, own: Mapping[str, TableHealth], tables: dict[str, TableHealth]) -> None:
    """Tables without a verdict below an on-time table (through other such tables) are on time."""
    queue = deque(t for t, h in tables.items() if h.status == "on_time")
    while queue:
        current = queue.popleft()
        for child in graph.children(current):
            if child in tables:
                continue
            checked = [p for p in graph.parents(child) if p in tables and tables[p].status == "on_time"]
            total = len(graph.parents(child))
            mine = own.get(child)
            note = f" (own check: {mine.message})" if mine else ""
            tables[child] = TableHealth(
                child, "on_time",
                f"derived: {len(checked)} of {total} upstream tables checked and on time{note}",
                mine.rule if mine else None, mine.last_update if mine else None, observed=mine.observed if mine else None,
            )
            queue.append(child)


def _timeline(current: HealthDocument, previous: HealthDocument | None, keep: int) -> tuple[TimelineEntry, ...]:
    transitions: list[Transition] = []
    if previous is not None:
        old = {t.id: t.status for t in previous.tables}
        for table in current.tables:
            was = old.get(table.id)
            if was == table.status or (was is None and table.status in {"on_time", "unknown"}):
                continue
            transitions.append(Transition(table.id, was, table.status))
    counts = current.counts()
    entry = TimelineEntry(
        current.evaluated_at,
        {s: counts.get(s, 0) for s in STATUSES},
        tuple(transitions[:MAX_TRANSITIONS_PER_ENTRY]),
        len(transitions),
    )
    history = [e for e in (previous.timeline if previous else ()) if e.evaluated_at < current.evaluated_at]
    return (*history, entry)[-keep:]


def problems(doc: HealthDocument) -> list[TableHealth]:
    """Tables that need attention, root causes first."""
    order = {"stale": 0, "late": 1, "error": 2, "upstream_late": 3}
    found = [t for t in doc.tables if t.status in order]
    return sorted(found, key=lambda t: (order[t.status], bool(t.late_upstream_roots), t.id))


def impacted(graph: LineageGraph, roots: Iterable[str]) -> list[str]:
    """Everything downstream of ``roots`` (the consumers a late table holds up)."""
    found: set[str] = set()
    for root in roots:
        if root in graph:
            found.update(r.id for r in graph.impact(root))
    return sorted(found - set(roots))
