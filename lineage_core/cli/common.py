"""Helpers shared by command modules: loading settings and documents, progress, output."""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported by the functions that need them: `lineage build` starts sooner
    from lineage_core.config import Settings
    from lineage_core.models import LineageDocument

DEFAULT_LINEAGE_URI = "build/lineage.json"


def add_config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="lineage.yaml (default: ./lineage.yaml if present, else BigQuery and no variables)",
    )


def add_lineage_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--lineage",
        metavar="URI",
        default=None,
        help=f"lineage document: path, file:// or gs:// (default: $LINEAGE_URI or {DEFAULT_LINEAGE_URI})",
    )


def add_format_option(parser: argparse.ArgumentParser, choices: Sequence[str] = ("table", "json", "csv")) -> None:
    parser.add_argument("--format", choices=list(choices), default=choices[0], help="output format")


def settings_from(args: argparse.Namespace) -> Settings:
    from lineage_core.config import load_settings

    return load_settings(getattr(args, "config", None))


def lineage_uri(args: argparse.Namespace) -> str:
    return getattr(args, "lineage", None) or os.environ.get("LINEAGE_URI") or DEFAULT_LINEAGE_URI


def load_document(uri: str) -> LineageDocument:
    from lineage_core.artifact import loads_document
    from lineage_core.store import read_bytes

    fetched = read_bytes(uri)
    return loads_document(fetched.data, what=f"lineage document {uri}")


def interactive() -> bool:
    return sys.stderr.isatty() and not os.environ.get("CI")


@contextmanager
def progress_bar(label: str, enabled: bool | None = None) -> Iterator[Callable[[int, int], None] | None]:
    """A rich progress bar on a terminal; nothing in CI logs or pipes."""
    if not (interactive() if enabled is None else enabled):
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        transient=True,
    ) as progress:
        task = progress.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        yield update


def emit(rows: Sequence[dict[str, Any]], columns: Sequence[str], fmt: str, out: Any = None) -> None:
    """Print rows as an aligned table, JSON or CSV."""
    out = out or sys.stdout
    if fmt == "json":
        out.write(json.dumps(list(rows), indent=2, default=str) + "\n")
        return
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({c: _cell(row.get(c)) for c in columns})
        out.write(buffer.getvalue())
        return
    table = [[str(c) for c in columns]] + [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(r[i]) for r in table) for i in range(len(columns))]
    for n, line in enumerate(table):
        out.write("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(line)).rstrip() + "\n")
        if n == 0:
            out.write("  ".join("-" * w for w in widths) + "\n")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return " → ".join(str(v) for v in value) if value and isinstance(value, tuple) else ", ".join(map(str, value))
    return str(value)
