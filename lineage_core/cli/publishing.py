"""`lineage diff` and `lineage history`: what changed between published lineage documents.

``lineage diff --base REF [SQL_DIR]`` is the pull-request view of :mod:`lineage_core.pr_view`
(the same command as ``lineage pr-diff``, which stays as its alias).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from lineage_core.cli.common import add_config_option, emit
from lineage_core.errors import UsageError

if TYPE_CHECKING:
    from lineage_core.store import HistoryEntry

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def register(sub: Any) -> None:
    d = sub.add_parser(
        "diff",
        help="tables, edges and queries added or removed between two lineage documents, or against a git ref",
        description=(
            "Compare two lineage documents (paths, file:// or gs:// URIs): lineage diff OLD NEW, "
            "or compare a document with its history copy nearest to a time ago: "
            "lineage diff --since 7d URI. Exit 0 when they are the same, 1 when they differ. "
            "Or the pull-request view: lineage diff --base REF [SQL_DIR] [--config FILE] builds "
            "`git merge-base REF HEAD` and the working tree and prints the changed tables and edges and the "
            "downstream tables, dashboards and owners affected (Markdown by default; the same as "
            "lineage pr-diff: exit 0, or 1 with --fail-on-change when the lineage changed)."
        ),
    )
    d.add_argument("uris", nargs="*", metavar="URI",
                   help="OLD NEW, or one URI with --since, or the SQL directory (optional) with --base")
    d.add_argument("--since", metavar="AGE",
                   help="compare URI with its history copy nearest to AGE ago (e.g. 7d, 12h, 2w)")
    d.add_argument("--base", metavar="REF",
                   help="compare the working tree's lineage with that of `git merge-base REF HEAD` (PR view)")
    d.add_argument("--format", choices=["text", "json", "markdown"], default=None,
                   help="output format (default: text; markdown with --base)")
    d.add_argument("--limit", type=int, default=None, metavar="N",
                   help="list at most N items per section in text/markdown (default: all; 50 with --base)")
    base_only = d.add_argument_group("with --base (as lineage pr-diff)")
    add_config_option(base_only)
    base_only.add_argument("--out", metavar="FILE", help="write the report here instead of stdout")
    base_only.add_argument("--cache-dir", default=None, metavar="DIR",
                           help="build cache shared by both builds (default: .lineage-cache)")
    base_only.add_argument("--no-cache", action="store_true")
    base_only.add_argument("--jobs", type=int, default=None, metavar="N")
    base_only.add_argument("--fail-on-change", action="store_true", help="exit 1 when the lineage changed")
    d.set_defaults(func=run_diff)

    h = sub.add_parser("history", help="the kept copies of a published document (newest first)")
    h.add_argument("uri", metavar="URI", help="the published document: path, file:// or gs://")
    h.add_argument("--format", choices=["table", "json", "csv"], default="table", help="output format")
    h.set_defaults(func=run_history)


def parse_age(text: str) -> timedelta:
    """``7d`` → 7 days; units s, m, h, d, w."""
    match = _DURATION.match(text)
    if not match:
        raise UsageError(f"--since {text!r}: expected a number and a unit, e.g. 30m, 12h, 7d, 2w")
    return timedelta(**{_UNITS[match.group(2)]: float(match.group(1))})


def nearest_entry(entries: Sequence[HistoryEntry], when: datetime) -> HistoryEntry | None:
    """The history copy published closest to ``when`` (the older one on a tie)."""
    best: HistoryEntry | None = None
    best_key: tuple[float, float] | None = None
    for entry in entries:
        stamp = datetime.fromisoformat(entry.timestamp)
        key = (abs((stamp - when).total_seconds()), stamp.timestamp())
        if best_key is None or key < best_key:
            best, best_key = entry, key
    return best


def _load(uri: str) -> Any:
    from lineage_core.artifact import loads_document
    from lineage_core.store import read_bytes

    return loads_document(read_bytes(uri).data, what=f"lineage document {uri}")


def run_diff(args: argparse.Namespace) -> int:
    from lineage_core.diff import diff_documents, render

    if args.limit is not None and args.limit < 1:
        raise UsageError("--limit must be at least 1")
    if args.base is not None:
        return _run_base(args)
    base_only = [
        flag
        for flag, given in (
            ("--config", args.config is not None),
            ("--out", args.out is not None),
            ("--cache-dir", args.cache_dir is not None),
            ("--no-cache", args.no_cache),
            ("--jobs", args.jobs is not None),
            ("--fail-on-change", args.fail_on_change),
        )
        if given
    ]
    if base_only:
        raise UsageError(f"{', '.join(base_only)} only with --base REF")
    if args.since is not None:
        if len(args.uris) != 1:
            raise UsageError("with --since give exactly one URI (the published document)")
        age = parse_age(args.since)
        new_uri = args.uris[0]
        from lineage_core.store import StoreError, list_history

        entries = list_history(new_uri)
        when = datetime.now(UTC) - age
        chosen = nearest_entry(entries, when)
        if chosen is None:
            raise StoreError(f"{new_uri}: no history copies to compare with (they are kept by `lineage build`)")
        old_uri = chosen.uri
        old_label = f"{old_uri} (published {chosen.timestamp})"
        print(f"comparing with the copy published {chosen.timestamp}, nearest to {args.since} ago", file=sys.stderr)
    else:
        if len(args.uris) != 2:
            raise UsageError("give two documents: lineage diff OLD NEW (or one with --since AGE)")
        old_uri, new_uri = args.uris
        old_label = old_uri
    old = _load(old_uri)
    new = _load(new_uri)
    result = diff_documents(old, new, old_label=old_label, new_label=new_uri)
    sys.stdout.write(render(result, args.format or "text", args.limit))
    return 0 if result.empty else 1


def _run_base(args: argparse.Namespace) -> int:
    """``lineage diff --base REF [SQL_DIR]``: the pull-request view, exactly as ``lineage pr-diff``."""
    from lineage_core.cli.interop import run_pr_diff

    if args.since is not None:
        raise UsageError("--base and --since exclude each other: compare with a git ref or with a history copy")
    if len(args.uris) > 1:
        raise UsageError(
            "with --base give at most one path, the SQL directory (lineage diff --base REF [SQL_DIR]); "
            "to compare two documents: lineage diff OLD NEW"
        )
    pr_args = argparse.Namespace(
        base=args.base,
        sql_dir=args.uris[0] if args.uris else None,
        config=args.config,
        format=args.format or "markdown",
        out=args.out,
        cache_dir=args.cache_dir or ".lineage-cache",
        no_cache=args.no_cache,
        jobs=args.jobs,
        limit=args.limit if args.limit is not None else 50,
        fail_on_change=args.fail_on_change,
    )
    return int(run_pr_diff(pr_args))


def run_history(args: argparse.Namespace) -> int:
    from lineage_core.store import list_history

    entries = list_history(args.uri)
    rows = [
        {"published": e.timestamp, "digest": e.digest, "generation": e.generation, "uri": e.uri}
        for e in entries
    ]
    if args.format == "table":
        print(f"{len(rows)} kept copies of {args.uri}")
    emit(rows, ["published", "digest", "generation", "uri"], args.format)
    return 0
