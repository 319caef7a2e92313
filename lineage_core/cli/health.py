"""`lineage health` (evaluate freshness, publish the health document) and `lineage notify`."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import UTC, datetime
from typing import Any

from lineage_core.cli.common import add_config_option, add_lineage_option, lineage_uri, load_document, settings_from
from lineage_core.errors import DocumentError, UsageError


def register(sub: Any) -> None:
    h = sub.add_parser("health", help="evaluate freshness rules and publish the health document")
    add_config_option(h)
    add_lineage_option(h)
    h.add_argument("--out", metavar="URI", default=None,
                   help="where to publish the health document (default: health.json beside the lineage document)")
    h.add_argument("--now", metavar="TIME", default=None,
                   help="evaluate as if it were TIME (ISO 8601, e.g. 2026-11-25T08:00:00+09:00)")
    h.add_argument("--strict", action="store_true", help="exit 1 when any table is late, stale or failed its check")
    h.add_argument("--force", action="store_true", help="publish even if another writer published meanwhile")
    h.set_defaults(func=run_health)

    n = sub.add_parser("notify", help="send delay and recovery notices for tables whose state changed")
    add_config_option(n)
    n.add_argument("--health", metavar="URI", default=None,
                   help="the health document (default: health.json beside the lineage document)")
    add_lineage_option(n)
    n.add_argument("--state", metavar="URI", default=None,
                   help="dedupe state (default: notify-state.json beside the health document)")
    n.add_argument("--dry-run", action="store_true", help="print the messages; send nothing, keep no state")
    n.set_defaults(func=run_notify)


def parse_now(text: str | None) -> datetime:
    if text is None:
        return datetime.now(UTC)
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise UsageError(f"--now {text!r} is not an ISO 8601 time") from exc
    if value.tzinfo is None:
        raise UsageError(f"--now {text!r} needs a time zone offset (e.g. Z or +09:00)")
    return value.astimezone(UTC)


def run_health(args: argparse.Namespace) -> int:
    from lineage_core.health.check import HEALTH_NAME, beside, check_health, read_previous
    from lineage_core.health.document import dumps_health
    from lineage_core.health.evaluate import problems, when
    from lineage_core.health.rules import health_settings
    from lineage_core.store import publish

    settings = settings_from(args)
    health = health_settings(settings)
    source = lineage_uri(args)
    document = load_document(source)
    out = args.out or beside(source, HEALTH_NAME)
    previous, generation = read_previous(out)
    doc = check_health(document, health, lineage_uri=source, now=parse_now(args.now), previous=previous)
    published = publish(out, dumps_health(doc), expected_generation=generation, keep=settings.history_keep,
                        force=args.force)
    counts = ", ".join(f"{n} {status}" for status, n in doc.counts().items() if n)
    print(f"health at {when(doc.evaluated_at)}: {counts or 'no tables'} → {published.uri}")
    for warning in doc.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    for error in doc.probe.errors[:10]:
        print(f"probe error: {error}", file=sys.stderr)
    found = problems(doc)
    for table in found[:15]:
        print(f"  {table.status:<13} {table.id}: {table.message}")
    if len(found) > 15:
        print(f"  … and {len(found) - 15} more")
    return 1 if args.strict and any(t.status in {"late", "stale", "error"} for t in found) else 0


def run_notify(args: argparse.Namespace) -> int:
    from lineage_core.artifact import decode_json
    from lineage_core.graph import LineageGraph
    from lineage_core.health.channels import deliver
    from lineage_core.health.check import HEALTH_NAME, NOTIFY_STATE_NAME, beside
    from lineage_core.health.document import loads_health
    from lineage_core.health.notify import NotifyState, plan
    from lineage_core.health.rules import health_settings
    from lineage_core.store import ObjectNotFound, publish, read_bytes

    settings = settings_from(args)
    health = health_settings(settings)
    health_uri = args.health or beside(lineage_uri(args), HEALTH_NAME)
    doc = loads_health(read_bytes(health_uri).data, f"health document {health_uri}")
    document = load_document(args.lineage or doc.lineage.uri)
    graph = LineageGraph.from_document(document)
    state_uri = args.state or beside(health_uri, NOTIFY_STATE_NAME)
    try:
        fetched = read_bytes(state_uri)
        raw = decode_json(fetched.data, f"notify state {state_uri}")
        state, generation = NotifyState.from_dict(raw), fetched.generation
    except ObjectNotFound:
        state, generation = NotifyState(), None
    except DocumentError as exc:
        raise DocumentError(f"{exc}; delete it to start afresh (every current problem is then notified again)") from exc

    messages, new_state = plan(doc, graph, health, state)
    if args.dry_run:
        for message in messages:
            print(f"--- to {message.subscriber}\nsubject: {message.subject}\n{message.text}\n")
        print(f"dry run: {len(messages)} message(s) would be sent; nothing sent, no state written")
        return 0
    failures = 0
    for message in messages:
        result = deliver(message, health, os.environ, time.sleep)
        if result.ok:
            new_state.subscribers[message.subscriber] = message.levels
        else:
            failures += 1
        verb = "sent" if result.ok else "FAILED"
        print(f"{verb} to {message.subscriber} ({len(message.changes)} change(s), {result.attempts} attempt(s))"
              + ("" if result.ok else f": {result.detail}"))
    data = (json.dumps(new_state.to_dict(), indent=2, sort_keys=True) + "\n").encode()
    publish(state_uri, data, expected_generation=generation, keep=3)
    print(f"{len(messages) - failures} of {len(messages)} message(s) sent; state → {state_uri}")
    return 1 if failures else 0
