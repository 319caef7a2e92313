"""Train-style delay notices: health changes × subscriptions → one message per subscriber.

A table's *level* is ok (on time), late (late or upstream late), stale or error; unknown
changes nothing. A subscriber hears about a table when its level differs from the level it
was last told about (kept per subscriber in ``notify-state.json`` beside the health
document), so a repeat evaluation sends nothing, a failed delivery is tried again next run,
and a recovery (back to ok) is a notice too. A table first seen on time is recorded silently.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from lineage_core.graph import LineageGraph
from lineage_core.health.document import format_time
from lineage_core.health.evaluate import impacted, when
from lineage_core.health.model import HealthDocument, Status, TableHealth
from lineage_core.health.rules import Channel, EmailChannel, HealthSettings, SlackChannel
from lineage_core.selectors import select

Level = Literal["ok", "late", "stale", "error"]
STATE_VERSION = 1
_LEVEL: dict[Status, Level | None] = {
    "on_time": "ok", "late": "late", "upstream_late": "late", "stale": "stale", "error": "error", "unknown": None,
}


def level(status: Status) -> Level | None:
    return _LEVEL[status]


@dataclass(frozen=True)
class Change:
    table: TableHealth
    before: Level | None  # None: never told before
    after: Level


@dataclass(frozen=True)
class Message:
    subscriber: str  # "slack:ENV_NAME" or "email:address": never a secret
    channel: Channel
    subject: str
    text: str
    changes: tuple[Change, ...]
    levels: dict[str, Level] = field(default_factory=dict)  # the state after delivery


@dataclass
class NotifyState:
    evaluated_at: str | None = None
    subscribers: dict[str, dict[str, Level]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"schema_version": STATE_VERSION, "evaluated_at": self.evaluated_at, "subscribers": self.subscribers}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> NotifyState:
        subscribers: dict[str, dict[str, Level]] = {}
        raw = data.get("subscribers")
        if isinstance(raw, Mapping):
            for key, tables in raw.items():
                if isinstance(tables, Mapping):
                    subscribers[str(key)] = {
                        str(t): v for t, v in tables.items() if v in ("ok", "late", "stale", "error")
                    }
        at = data.get("evaluated_at")
        return cls(at if isinstance(at, str) else None, subscribers)


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def subscribers_of(graph: LineageGraph, health: HealthSettings) -> dict[str, tuple[Channel, set[str]]]:
    """Every channel and the tables it subscribes to (through any subscription)."""
    found: dict[str, tuple[Channel, set[str]]] = {}
    for subscription in health.subscriptions:
        tables = select(subscription.select, graph, graph.nodes)
        for channel in subscription.notify:
            entry = found.setdefault(channel.key, (channel, set()))
            entry[1].update(tables)
    return found


def plan(
    doc: HealthDocument, graph: LineageGraph, health: HealthSettings, state: NotifyState
) -> tuple[list[Message], NotifyState]:
    """The messages to send and the state to keep if they are all delivered."""
    tables = doc.by_id()
    messages: list[Message] = []
    new_state = NotifyState(format_time(doc.evaluated_at), {k: dict(v) for k, v in state.subscribers.items()})
    for key, (channel, selected) in sorted(subscribers_of(graph, health).items()):
        told = state.subscribers.get(key, {})
        levels = dict(told)
        changes: list[Change] = []
        for table_id in sorted(selected):
            table = tables.get(table_id)
            if table is None:
                continue
            now_level = level(table.status)
            if now_level is None:
                continue
            before = told.get(table_id)
            levels[table_id] = now_level
            if before == now_level or (before is None and now_level == "ok"):
                continue
            changes.append(Change(table, before, now_level))
        if changes:
            subject, text = compose(changes, doc, graph, health, slack=isinstance(channel, SlackChannel))
            messages.append(Message(key, channel, subject, text, tuple(changes), levels))
        else:
            new_state.subscribers[key] = levels
    return messages, new_state


def compose(
    changes: Sequence[Change], doc: HealthDocument, graph: LineageGraph, health: HealthSettings, *, slack: bool
) -> tuple[str, str]:
    """Subject and text of one message; late tables grouped by their shared root cause."""
    esc = _slack_escape if slack else (lambda s: s)
    tables = doc.by_id()
    problems = [c for c in changes if c.after != "ok"]
    recovered = [c for c in changes if c.after == "ok"]
    groups: dict[tuple[str, ...], list[Change]] = {}
    for change in problems:
        roots = change.table.late_upstream_roots or (change.table.id,)
        groups.setdefault(tuple(roots), []).append(change)

    lines: list[str] = []
    for roots, members in sorted(groups.items()):
        causes = [tables[r] for r in roots if r in tables]
        for cause in causes or [members[0].table]:
            lines.append(_cause_line(cause, esc))
        affected = impacted(graph, roots)
        listed = [c.table for c in members if c.table.id not in roots]
        if listed:
            lines.append(f"  delayed because of it: {', '.join(esc(t.id) for t in listed)}")
        lines.append(f"  {len(affected)} table{'s' if len(affected) != 1 else ''} downstream affected")
        link = health.page_url(roots[0])
        if link:
            lines.append(f"  {link}")
    for change in recovered:
        t = change.table
        lines.append(f"BACK ON TIME {esc(t.id)}: last update {when(t.last_update)} (was {change.before})")
        link = health.page_url(t.id)
        if link:
            lines.append(f"  {link}")
    first = (problems or recovered)[0].table.id
    if problems:
        roots_all = sorted({r for roots in groups for r in roots})
        subject = (f"{health.notify.subject_prefix} {len(problems)} table{'s' if len(problems) != 1 else ''} "
                   f"delayed: {', '.join(roots_all[:3])}{' …' if len(roots_all) > 3 else ''}")
    else:
        subject = f"{health.notify.subject_prefix} back on time: {first}" + (
            f" (+{len(recovered) - 1})" if len(recovered) > 1 else "")
    header = f"Data health at {when(doc.evaluated_at)}: " + ", ".join(
        part for part in (
            f"{len(problems)} delayed" if problems else "",
            f"{len(recovered)} back on time" if recovered else "",
        ) if part
    )
    page = health.page_url()
    footer = [f"Data health page: {page}"] if page else []
    return subject, "\n".join([header, "", *lines, *(["", *footer] if footer else [])])


def _cause_line(cause: TableHealth, esc: Any) -> str:
    label = {"late": "LATE", "stale": "STALE", "error": "CHECK FAILED", "upstream_late": "DELAYED"}.get(
        cause.status, cause.status.upper())
    parts = [f"{label} {esc(cause.id)}"]
    if cause.since:
        parts.append(f"since {when(cause.since)}")
    if cause.expected_by and cause.status != "on_time":
        parts.append(f"expected by {when(cause.expected_by)}")
    parts.append(f"last update {when(cause.last_update)}")
    detail = f"; {esc(cause.message)}" if cause.status == "error" else ""
    return parts[0] + " — " + ", ".join(parts[1:]) + f" (root cause{detail})"


__all__ = ["Change", "EmailChannel", "Message", "NotifyState", "SlackChannel", "compose", "level", "plan"]
