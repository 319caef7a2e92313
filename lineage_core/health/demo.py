"""The demo warehouse: a real DuckDB file whose timestamps make some tables late.

``prepare_demo`` seeds ``out_dir/warehouse.duckdb`` relative to ``now``:

* ``table_freshness(table_id, last_modified)`` for every physical table of the lineage
  document (what a loader's audit table or INFORMATION_SCHEMA would say);
* a real table with a ``loaded_at`` column for every table whose rule observes a column, so
  the ``max(column)`` path runs too;
* every table with a rule is fresh, except ``raw.orders`` (late: its load stopped five hours
  ago) and ``raw.support_tickets`` (stale: nothing for two days) and the tables with rules
  downstream of them (their builds wait for their inputs, so they miss their deadline too).

Then it evaluates health every 30 minutes over the last four hours — the timestamps are
fixed, so earlier evaluations see raw.orders still on time — and writes ``out_dir/health.json``
with that timeline: the page can say "late since …" and draw the transition.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from lineage_core.config import Settings
from lineage_core.graph import LineageGraph
from lineage_core.health.check import HEALTH_NAME, check_health
from lineage_core.health.document import dumps_health
from lineage_core.health.evaluate import assign_rules
from lineage_core.health.model import HealthDocument
from lineage_core.health.probes import table_parts
from lineage_core.health.probes.sql import SqlProbe, quote
from lineage_core.health.rules import FreshnessRule, SqlProbeSettings, health_settings

DUCKDB_NAME = "warehouse.duckdb"
LATE_SUFFIXES = ("raw.orders",)
STALE_SUFFIXES = ("raw.support_tickets",)
HISTORY = [timedelta(minutes=30 * k) for k in range(8, 0, -1)]


def _previous_run(rule: FreshnessRule, now: datetime, back: int = 1) -> datetime:
    """The ``back``-th most recent scheduled run whose deadline (run + grace) has passed."""
    from croniter import croniter

    assert rule.deadline is not None
    it = croniter(rule.deadline.cron, (now - rule.deadline.grace).astimezone(rule.deadline.zone))
    run: datetime = it.get_prev(datetime)
    for _ in range(back - 1):
        run = it.get_prev(datetime)
    return run.astimezone(UTC)


def seeded_time(rule: FreshnessRule | None, now: datetime, state: str) -> datetime:
    """A last update that makes ``rule`` report ``state`` (fresh, late or stale) at ``now``."""
    if rule is None:
        return now - timedelta(minutes=40)
    if rule.deadline is not None:
        if state == "fresh":
            return min(_previous_run(rule, now) + timedelta(minutes=5), now - timedelta(minutes=1))
        back = 2 if state == "late" else 3
        return _previous_run(rule, now, back) + timedelta(minutes=5)
    warn = rule.warn_after.delta if rule.warn_after else None
    error = rule.error_after.delta if rule.error_after else None
    if state == "fresh":
        return now - (min(d for d in (warn, error) if d) / 4)
    if state == "late" and warn:
        target = warn * 2.5 if error is None else min(warn * 2.5, (warn + error) / 2)
        return now - target
    return now - (error or warn or timedelta(days=1)) * 2


def seed(path: Path, graph: LineageGraph, rules: dict[str, FreshnessRule], now: datetime,
         metadata_table: str = "table_freshness", table_name: str = "{dataset}.{name}") -> dict[str, str]:
    """Write the DuckDB file; return the seeded state (fresh/late/stale) of each table with a rule."""
    import duckdb

    late = {t for t in graph.ids if t.endswith(LATE_SUFFIXES)}
    stale = {t for t in graph.ids if t.endswith(STALE_SUFFIXES)}
    held_up = {r.id for root in late | stale for r in graph.impact(root)}
    states: dict[str, str] = {}
    for table in rules:
        states[table] = "stale" if table in stale else "late" if table in late | held_up else "fresh"

    path.parent.mkdir(parents=True, exist_ok=True)
    for leftover in (path, path.with_name(path.name + ".wal")):
        leftover.unlink(missing_ok=True)
    connection = duckdb.connect(str(path))
    try:
        meta = ".".join(quote(p) for p in metadata_table.split("."))
        connection.execute(f"CREATE TABLE {meta} (table_id VARCHAR PRIMARY KEY, last_modified TIMESTAMPTZ)")
        physical = {t for t in graph.ids if graph.nodes.get(t) is None or graph.nodes[t].kind == "table"}
        for table in sorted(physical | set(rules)):
            rule = rules.get(table)
            stamp = seeded_time(rule, now, states.get(table, "fresh"))
            if table in physical:
                connection.execute(f"INSERT INTO {meta} VALUES (?, ?)", [table, stamp])
            if rule is not None and rule.column:  # views too: max(column) works on a view
                project, dataset, name = table_parts(table)
                rendered = table_name.format(project=project, dataset=dataset, name=name).split(".")
                if len(rendered) > 1:
                    connection.execute(f"CREATE SCHEMA IF NOT EXISTS {quote(rendered[-2])}")
                target = ".".join(quote(p) for p in rendered)
                connection.execute(f"CREATE TABLE {target} (id INTEGER, {quote(rule.column)} TIMESTAMPTZ)")
                rows = [(i, stamp - timedelta(hours=24 * i)) for i in range(3)]
                connection.executemany(f"INSERT INTO {target} VALUES (?, ?)", rows)
    finally:
        connection.close()
    return states


def prepare_demo(out_dir: Path, lineage_uri: str, settings: Settings, now: datetime | None = None) -> Path:
    """Seed ``out_dir/warehouse.duckdb``, evaluate the demo's health, write ``out_dir/health.json``."""
    from lineage_core.artifact import loads_document
    from lineage_core.store import publish, read_bytes

    now = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    out_dir = Path(out_dir)
    health = health_settings(settings)
    document = loads_document(read_bytes(lineage_uri).data, f"lineage document {lineage_uri}")
    graph = LineageGraph.from_document(document)
    rules, _ = assign_rules(graph, health.freshness)
    configured = health.probe if isinstance(health.probe, SqlProbeSettings) else None
    probe_settings = SqlProbeSettings(
        type="duckdb",
        path=str(out_dir / DUCKDB_NAME),
        metadata_table=(configured.metadata_table if configured else None) or "table_freshness",
        table_name=configured.table_name if configured else "{dataset}.{name}",
    )
    database = out_dir / DUCKDB_NAME
    assert probe_settings.metadata_table is not None
    seed(database, graph, rules, now, probe_settings.metadata_table, probe_settings.table_name)

    previous: HealthDocument | None = None
    for moment in [*(now - back for back in HISTORY), now]:
        probe = SqlProbe.open(probe_settings, database)
        previous = check_health(document, health, lineage_uri=lineage_uri, now=moment, previous=previous, probe=probe)
    assert previous is not None
    out = out_dir / HEALTH_NAME
    publish(str(out), dumps_health(previous), force=True, keep=settings.history_keep)
    return out
