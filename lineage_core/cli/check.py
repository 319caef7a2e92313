"""`lineage check`: what could not be read, rendered or parsed, and a config stub for the gaps.

``--fix`` writes the stubs into lineage.yaml (see lineage_core.stubs) and checks again;
``--fix --open-pr`` also commits them to a branch of the config repository and opens (or
updates) a pull request there (see lineage_core.github_pr). Exit 1 while problems remain.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import TYPE_CHECKING, Any

from lineage_core.cli.common import add_config_option, progress_bar
from lineage_core.config import DEFAULT_CONFIG_NAME, Settings, load_settings
from lineage_core.errors import ConfigError, LineageError, UsageError
from lineage_core.models import ErrorRecord

if TYPE_CHECKING:
    from lineage_core.stubs import MissingVariable


def register(sub: Any) -> None:
    p = sub.add_parser("check", help="list files that failed to render/parse and undefined Jinja variables")
    p.add_argument("sql_dir", nargs="?", metavar="SQL_DIR", help="the SQL repository (default: sources in the config)")
    add_config_option(p)
    p.add_argument("--format", choices=["text", "json", "markdown", "github"], default="text")
    p.add_argument("--no-cache", action="store_true", help="ignore the incremental cache")
    p.add_argument("--cache-dir", default=".lineage-cache", metavar="DIR")
    p.add_argument("--jobs", type=int, default=None, metavar="N")
    fix = p.add_argument_group("fixing")
    fix.add_argument(
        "--fix",
        action="store_true",
        help="write a TODO stub under `vars:` in lineage.yaml for every undefined Jinja variable "
        "(comments and order are kept; created when missing), print the change, then check again",
    )
    fix.add_argument(
        "--open-pr",
        action="store_true",
        help="with --fix: commit the stubbed config to a branch of --repo and open (or update) a pull request; "
        "token from $GITHUB_TOKEN",
    )
    fix.add_argument("--repo", metavar="OWNER/NAME", help="repository holding the config (default: $GITHUB_REPOSITORY)")
    fix.add_argument("--base-branch", default="main", metavar="BRANCH", help="branch the pull request targets (main)")
    fix.add_argument(
        "--branch", default="lineage/config-stubs", metavar="BRANCH", help="branch the stubs are committed to"
    )
    fix.add_argument(
        "--config-path",
        metavar="PATH",
        help="path of the config inside --repo (default: the config's path in its git repository, else lineage.yaml)",
    )
    fix.add_argument(
        "--api-url", metavar="URL", help="GitHub API base URL (default: $GITHUB_API_URL or https://api.github.com)"
    )
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


def _build_errors(settings: Settings, args: argparse.Namespace) -> tuple[list[ErrorRecord], int]:
    from lineage_core.pipeline import BuildOptions, build

    with progress_bar("checking SQL") as progress:
        document, _ = build(
            settings,
            BuildOptions(
                jobs=args.jobs,
                cache_dir=None if args.no_cache else args.cache_dir,
                progress=progress,
                environ=os.environ,
            ),
        )
    return list(document.errors), len(document.queries)


def _settings(args: argparse.Namespace, config: str | None) -> Settings:
    settings = load_settings(config)
    if args.sql_dir:
        settings = settings.with_root(args.sql_dir)
    elif not settings.sources:
        raise UsageError("give the SQL directory (lineage check SQL_DIR) or sources in lineage.yaml")
    return settings


def run_check(args: argparse.Namespace) -> int:
    if args.open_pr and not args.fix:
        raise UsageError("--open-pr needs --fix")
    if args.open_pr:
        _open_pr_preflight(args)  # a missing token or repository fails before a long build
    settings = _settings(args, args.config)
    errors, files = _build_errors(settings, args)
    if not args.fix:
        print(render_findings(errors, args.format, files))
        return 1 if errors else 0
    return _run_fix(args, settings, errors, files)


def _config_target(args: argparse.Namespace) -> str:
    return str(args.config) if args.config else DEFAULT_CONFIG_NAME


def _run_fix(args: argparse.Namespace, settings: Settings, errors: list[ErrorRecord], files: int) -> int:
    from lineage_core.stubs import find_missing, unified_diff, write_stubs

    report = find_missing(settings, errors)
    config_path = _config_target(args)
    before = _read_or_empty(config_path)
    result = write_stubs(config_path, report.variables)
    lines: list[str] = []
    if result.changed:
        where = {v.dotted: v.used_in for v in report.variables}
        lines.append(f"{config_path}: added {len(result.added)} stub(s) under `vars:` (set their values):")
        lines += [f"  vars.{name} = TODO  (used in {', '.join(where.get(name, ())[:3])})" for name in result.added]
        lines.append(unified_diff(before, result.text, config_path).rstrip("\n"))
    elif report.variables:
        lines.append(f"{config_path}: every undefined variable already has a stub; nothing changed")
    else:
        lines.append(f"{config_path}: no undefined variables to stub; nothing changed")
    lines += [f"  not stubbed: {why}" for why in result.skipped + report.unresolved]
    pr_lines: list[str] = []
    if args.open_pr:
        try:
            pr_lines = _open_pr(args, report.variables, config_path)
        except LineageError:
            print("\n".join(lines), file=sys.stderr)  # the local fix happened: say so before the failure
            raise
    # check again with the stubs in place: what is left is what the stubs cannot fix
    remaining, files = _build_errors(_settings(args, config_path), args) if result.changed else (errors, files)
    fix_text = "\n".join(lines + pr_lines)
    if args.format == "json":
        data = json.loads(render_findings(remaining, "json", files))
        data["fix"] = {
            "config": config_path,
            "added": result.added,
            "skipped": result.skipped,
            "unresolved": report.unresolved,
            "pull_request": pr_lines,
        }
        print(json.dumps(data, indent=2))
    elif args.format == "github":
        print(fix_text, file=sys.stderr)
        out = render_findings(remaining, "github", files)
        if out:
            print(out)
    else:
        print(fix_text)
        print()
        print(render_findings(remaining, args.format, files))
    return 1 if remaining else 0


def _read_or_empty(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        return ""
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read configuration: {exc}") from exc


def _open_pr_preflight(args: argparse.Namespace) -> tuple[str, str, str]:
    from lineage_core.github_pr import DEFAULT_API_URL, check_repo

    repo = args.repo or os.environ.get("GITHUB_REPOSITORY") or ""
    if not repo:
        raise UsageError("--open-pr needs --repo OWNER/NAME (or $GITHUB_REPOSITORY)")
    check_repo(repo)
    token = os.environ.get("GITHUB_TOKEN", "")
    if not token:
        raise UsageError("--open-pr needs a GitHub token in $GITHUB_TOKEN (contents and pull-requests write access)")
    api_url = args.api_url or os.environ.get("GITHUB_API_URL") or DEFAULT_API_URL
    return repo, token, api_url


def _repo_path(config_path: str) -> str:
    """The config's path inside its git repository (what --config-path defaults to)."""
    import subprocess

    directory = os.path.dirname(os.path.abspath(config_path))
    try:
        top = subprocess.run(
            ["git", "-C", directory, "rev-parse", "--show-toplevel"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return os.path.basename(config_path)
    return os.path.relpath(os.path.abspath(config_path), top).replace(os.sep, "/")


def _open_pr(args: argparse.Namespace, missing: list[MissingVariable], config_path: str) -> list[str]:
    from lineage_core.github_pr import GitHubClient, open_or_update_pr
    from lineage_core.stubs import add_stubs, unified_diff

    repo, token, api_url = _open_pr_preflight(args)
    if not missing:
        return [f"{repo}: nothing to stub, no pull request opened or updated"]
    path = args.config_path or _repo_path(config_path)
    client = GitHubClient(token, api_url)
    found = client.get_file(repo, path, args.base_branch)
    base_text = found[0] if found else ""
    stubbed = add_stubs(base_text, missing, f"{repo}:{path}")
    if not stubbed.changed:
        return [f"{repo}:{path} on {args.base_branch} already has every stub; no pull request needed"]
    body = pr_body(missing, stubbed.added, unified_diff(base_text, stubbed.text, path))
    pr = open_or_update_pr(
        client,
        repo,
        base=args.base_branch,
        branch=args.branch,
        path=path,
        content=stubbed.text,
        title=f"lineage: stub {len(stubbed.added)} undefined Jinja variable(s) in {path}",
        body=body,
        message=f"lineage check --fix: stub {', '.join(stubbed.added)}",
    )
    verb = "opened" if pr.created else "updated"
    return [f"{repo}: {verb} pull request #{pr.number} {pr.url}".rstrip()]


def pr_body(missing: list[MissingVariable], added: list[str], diff: str) -> str:
    where = {v.dotted: v.used_in for v in missing}
    lines = [
        "`lineage check` found Jinja variables with no value. This pull request adds a `TODO` stub for each one",
        "under `vars:`; replace each `TODO` with the real value before merging.",
        "",
        "| variable | used in |",
        "|---|---|",
    ]
    lines += [f"| `vars.{name}` | {_cell(', '.join(where.get(name, ())[:5]))} |" for name in added]
    lines += ["", "```diff", diff.rstrip("\n"), "```", "", PR_MARKER]
    return "\n".join(lines)


PR_MARKER = "<!-- opened by `lineage check --fix --open-pr`; rerunning it updates this pull request -->"
