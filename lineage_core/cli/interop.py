"""`lineage export`, `lineage pr-diff` and `lineage dbt-lineage`: lineage for other tools and reviews.

- ``export --format openlineage``: one OpenLineage COMPLETE run event per query, to a file
  (``.json`` array, else JSON Lines) or POSTed to a Marquez-compatible ``/api/v1/lineage``.
- ``pr-diff --base REF``: lineage of ``git merge-base REF HEAD`` against the working tree, as
  Markdown for a pull-request comment (docs/ci.md has ready-to-copy CI steps).
- ``dbt-lineage MANIFEST``: a lineage document from dbt's ``target/manifest.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from typing import Any

from lineage_core.cli.common import add_config_option, add_lineage_option, lineage_uri, load_document, progress_bar
from lineage_core.errors import LineageError, UsageError
from lineage_core.models import Query


def register(sub: Any) -> None:
    e = sub.add_parser(
        "export",
        help="export the lineage document to other tools (OpenLineage events: a file or a Marquez endpoint)",
        description="One OpenLineage job per query (name = query id) with sql and sourceCodeLocation facets and a "
        "COMPLETE run event whose inputs/outputs are its tables (namespace `bigquery`, names project.dataset.table). "
        "Example: lineage export --format openlineage --lineage build/lineage.json --out http://marquez:5000",
    )
    e.add_argument("--format", choices=["openlineage"], default="openlineage", help="export format")
    add_lineage_option(e)
    e.add_argument(
        "--out",
        required=True,
        metavar="FILE|URL",
        help="a file (.json: one array; else JSON Lines), a gs:// URI, or an http(s) URL to POST each event to "
        "(a bare server URL gets /api/v1/lineage)",
    )
    e.add_argument("--namespace", default=None, metavar="NS", help="job namespace (default: lineage-dashboard)")
    add_config_option(e)
    e.add_argument(
        "--sql-root",
        default=".",
        metavar="DIR",
        help="directory the document's local query URIs are relative to, to read the SQL (default: .)",
    )
    e.add_argument("--repo-url", metavar="URL", help="e.g. https://github.com/org/dags: source links point into it")
    e.add_argument("--version", dest="source_version", metavar="SHA", help="commit of --repo-url (default: git HEAD)")
    e.add_argument("--no-sql", action="store_true", help="leave the SQL text out (no sql facet)")
    e.add_argument("--api-key-env", default="OPENLINEAGE_API_KEY", metavar="VAR", help="bearer token for --out URL")
    e.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS")
    e.set_defaults(func=run_export)

    d = sub.add_parser(
        "pr-diff",
        help="lineage changes of the working tree against the merge base of a git ref, as a PR comment",
        description="Builds `git merge-base REF HEAD` (a temporary git worktree) and the working tree with the same "
        "build cache, then prints tables and edges added/removed and the downstream tables, dashboards and "
        "owners affected. Example: lineage pr-diff --base origin/main > lineage-comment.md",
    )
    d.add_argument("sql_dir", nargs="?", metavar="SQL_DIR", help="the SQL repository (default: sources in the config)")
    d.add_argument("--base", required=True, metavar="REF", help="branch, tag or commit the pull request targets")
    add_config_option(d)
    d.add_argument("--format", choices=["markdown", "json", "text"], default="markdown")
    d.add_argument("--out", metavar="FILE", help="write the report here instead of stdout")
    d.add_argument("--cache-dir", default=".lineage-cache", metavar="DIR", help="shared by both builds")
    d.add_argument("--no-cache", action="store_true")
    d.add_argument("--jobs", type=int, default=None, metavar="N")
    d.add_argument("--limit", type=int, default=50, metavar="N", help="rows per section (default 50)")
    d.add_argument("--fail-on-change", action="store_true", help="exit 1 when the lineage changed")
    d.set_defaults(func=run_pr_diff)

    m = sub.add_parser(
        "dbt-lineage",
        help="write a lineage document from a dbt manifest.json (compiled SQL of every model)",
        description="Example: dbt compile && lineage dbt-lineage target/manifest.json --out build/dbt-lineage.json",
    )
    m.add_argument("manifest", metavar="MANIFEST", help="dbt's target/manifest.json (path or gs:// URI)")
    m.add_argument("--out", required=True, metavar="URI", help="where to write the lineage document")
    add_config_option(m)
    m.add_argument("--dialect", default=None, help="sqlglot dialect (default: from the manifest's adapter_type)")
    m.add_argument("--source-name", default="dbt", metavar="NAME", help="source name used in query ids (dbt)")
    m.add_argument("--strict", action="store_true", help="exit 1 when a model has errors or warnings")
    m.set_defaults(func=run_dbt_lineage)


# -- export ----------------------------------------------------------------------------


def _git_head(directory: str) -> str | None:
    try:
        proc = subprocess.run(
            ["git", "-C", directory, "rev-parse", "HEAD"], capture_output=True, text=True, check=False
        )
    except OSError:
        return None
    return proc.stdout.strip() or None if proc.returncode == 0 else None


def _sql_reader(args: argparse.Namespace, problems: list[str]) -> Any:
    from lineage_core.config import Settings, load_settings

    settings: Settings | None = load_settings(args.config) if args.config else None

    def read(query: Query) -> str | None:
        uri = query.uri
        try:
            if "://" in uri:
                from lineage_core.store import read_bytes

                text = read_bytes(uri).data.decode("utf-8-sig")
            else:
                with open(os.path.join(args.sql_root, uri), encoding="utf-8-sig") as handle:
                    text = handle.read()
        except Exception as exc:  # a missing file leaves the facet out, the export goes on
            problems.append(f"{uri}: {type(exc).__name__}: {exc}")
            return None
        if settings is None:
            return text
        from lineage_core.discovery import effective_vars
        from lineage_core.errors import RenderError
        from lineage_core.templating import render_sql

        try:
            return render_sql(text, effective_vars(settings, query.source, query.path), query.path)
        except RenderError:
            return text  # the template as written: still the query's code

    return read


def run_export(args: argparse.Namespace) -> int:
    from lineage_core import openlineage

    uri = lineage_uri(args)
    document = load_document(uri)
    problems: list[str] = []
    location = openlineage.SourceLocation(
        repo_url=args.repo_url,
        version=args.source_version or (_git_head(args.sql_root) if args.repo_url else None),
        base_dir=args.sql_root,
    )
    events = openlineage.events(
        document,
        namespace=args.namespace or openlineage.DEFAULT_NAMESPACE,
        read_sql=None if args.no_sql else _sql_reader(args, problems),
        location=location,
    )
    for problem in problems[:5]:
        print(f"warning: no SQL for {problem}", file=sys.stderr)
    if len(problems) > 5:
        print(f"warning: … and {len(problems) - 5} more queries without SQL text", file=sys.stderr)
    if openlineage.is_url(args.out):
        api_key = os.environ.get(args.api_key_env) or None
        sent = openlineage.post(events, args.out, api_key=api_key, timeout=args.timeout)
        print(f"sent {sent} OpenLineage events to {openlineage.endpoint(args.out)}")
    else:
        openlineage.write_file(events, args.out)
        print(f"wrote {len(events)} OpenLineage events to {args.out}")
    return 0


# -- pr-diff ---------------------------------------------------------------------------


def run_pr_diff(args: argparse.Namespace) -> int:
    from lineage_core import pr_view
    from lineage_core.config import Settings
    from lineage_core.models import LineageDocument
    from lineage_core.pipeline import BuildOptions, build
    from lineage_core.remote_cache import local_cache_dir

    if args.jobs is not None and args.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    cache_dir = None if args.no_cache else args.cache_dir
    if cache_dir and "://" not in cache_dir:
        cache_dir = os.path.abspath(cache_dir)  # both builds, although the base one runs in another directory
    warnings: list[str] = []
    with local_cache_dir(cache_dir, warnings) as local_cache, progress_bar("building both sides") as progress:

        def run(settings: Settings) -> LineageDocument:
            document, stats = build(
                settings, BuildOptions(jobs=args.jobs, cache_dir=local_cache, progress=progress, environ=os.environ)
            )
            warnings.extend(stats.warnings)
            return document

        view = pr_view.pr_view(args.base, args.sql_dir, args.config, run)
    for warning in dict.fromkeys(warnings):
        print(f"warning: {warning}", file=sys.stderr)
    if args.format == "json":
        text = json.dumps(pr_view.to_dict(view), indent=2) + "\n"
    elif args.format == "text":
        from lineage_core.diff import render_text

        text = render_text(view.diff, args.limit)
    else:
        text = pr_view.render_markdown(view, args.limit)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as handle:
            handle.write(text)
        print(f"wrote the lineage changes against {args.base} to {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 1 if args.fail_on_change and not view.diff.empty else 0


# -- dbt -------------------------------------------------------------------------------


def run_dbt_lineage(args: argparse.Namespace) -> int:
    from lineage_core.artifact import dumps_document
    from lineage_core.assemble import assemble
    from lineage_core.config import load_settings
    from lineage_core.discovery.dbt_manifest import import_manifest, load_manifest
    from lineage_core.models import SourceCoverage
    from lineage_core.store import StoreError, write_bytes

    settings = load_settings(args.config)
    manifest = load_manifest(args.manifest)
    project_dir = ""
    if "://" not in args.manifest:
        target_dir = os.path.dirname(os.path.abspath(args.manifest))
        project_dir = os.path.relpath(os.path.dirname(target_dir)) if os.path.basename(target_dir) == "target" else ""
        project_dir = "" if project_dir == "." else project_dir
    imported = import_manifest(
        manifest, settings, source_name=args.source_name, dialect=args.dialect, project_dir=project_dir
    )
    failed = sum(1 for r in imported.results if r.failed)
    models = len(imported.models)
    coverage = [SourceCoverage(args.source_name, args.manifest, models, models - failed, failed)]
    document = assemble(list(imported.results), settings, coverage, extra_nodes=list(imported.nodes))
    try:
        write_bytes(args.out, dumps_document(document))
    except StoreError as exc:
        raise LineageError(f"cannot write {args.out}: {exc}") from exc
    except OSError as exc:
        raise LineageError(f"cannot write {args.out}: {exc.strerror or exc}") from exc
    print(
        f"dbt manifest: {models} models → {len(document.nodes)} nodes, {len(document.edges)} edges; "
        f"{len(document.errors)} warnings/errors → {args.out}"
    )
    for error in document.errors[:10]:
        print(f"  {error.kind:<10} {error.path}: {error.message}", file=sys.stderr)
    return 1 if args.strict and document.errors else 0
