"""`lineage check`: what could not be read, rendered or parsed, and a config stub for the gaps."""

from __future__ import annotations

import argparse
import json
from typing import Any

from lineage_core.cli.common import add_config_option, progress_bar, settings_from
from lineage_core.errors import UsageError
from lineage_core.models import ErrorRecord


def register(sub: Any) -> None:
    p = sub.add_parser("check", help="list files that failed to render/parse and undefined Jinja variables")
    p.add_argument("sql_dir", nargs="?", metavar="SQL_DIR", help="the SQL repository (default: sources in the config)")
    add_config_option(p)
    p.add_argument("--format", choices=["text", "json", "markdown", "github"], default="text")
    p.add_argument("--no-cache", action="store_true", help="ignore the incremental cache")
    p.add_argument("--cache-dir", default=".lineage-cache", metavar="DIR")
    p.add_argument("--jobs", type=int, default=None, metavar="N")
    p.set_defaults(func=run_check)


def config_stub(errors: list[ErrorRecord]) -> str:
    """YAML to paste under `vars:` so the undefined variables get a value."""
    names = sorted({e.variable for e in errors if e.kind == "render" and e.variable})
    if not names:
        return ""
    lines = ["vars:  # add to lineage.yaml (global), or under a source's `vars:` / `files:`"]
    lines += [f"  {name}: TODO  # undefined in {_files_using(errors, name)}" for name in names]
    return "\n".join(lines)


def _files_using(errors: list[ErrorRecord], name: str) -> str:
    files = sorted({e.path for e in errors if e.variable == name})
    return ", ".join(files[:3]) + (f" and {len(files) - 3} more" if len(files) > 3 else "")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _escape_github(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def render_findings(errors: list[ErrorRecord], fmt: str, files: int) -> str:
    stub = config_stub(errors)
    if fmt == "json":
        return json.dumps(
            {
                "files": files,
                "errors": [e.__dict__ for e in errors],
                "undefined_variables": sorted({e.variable for e in errors if e.variable}),
                "config_stub": stub,
            },
            indent=2,
        )
    if fmt == "github":
        out = []
        for e in errors:
            level = "warning" if e.kind == "unresolved" else "error"
            line = f",line={e.line}" if e.line else ""
            out.append(f"::{level} file={e.uri}{line},title=lineage {e.kind}::{_escape_github(e.message)}")
        return "\n".join(out)
    if fmt == "markdown":
        out = [f"### Lineage check: {len(errors)} problem(s) in {files} files", ""]
        if errors:
            out += ["| file | line | kind | message |", "|---|---:|---|---|"]
            out += [f"| `{e.uri}` | {e.line or ''} | {e.kind} | {_cell(e.message)} |" for e in errors]
        if stub:
            out += ["", "Suggested `lineage.yaml` stub:", "", "```yaml", stub, "```"]
        return "\n".join(out)
    out = [f"{e.uri}:{e.line or ''}: {e.kind}: {e.message}" for e in errors]
    out.append(f"{len(errors)} problem(s) in {files} files" if errors else f"all {files} files rendered and parsed")
    if stub:
        out += ["", "suggested config stub:", stub]
    return "\n".join(out)


def run_check(args: argparse.Namespace) -> int:
    from lineage_core.pipeline import BuildOptions, build

    settings = settings_from(args)
    if args.sql_dir:
        settings = settings.with_root(args.sql_dir)
    elif not settings.sources:
        raise UsageError("give the SQL directory (lineage check SQL_DIR) or sources in lineage.yaml")
    with progress_bar("checking SQL") as progress:
        document, _ = build(
            settings,
            BuildOptions(jobs=args.jobs, cache_dir=None if args.no_cache else args.cache_dir, progress=progress),
        )
    errors = list(document.errors)
    print(render_findings(errors, args.format, len(document.queries)))
    return 1 if errors else 0
