"""`lineage build` and `lineage merge`."""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lineage_core.cli.common import add_config_option, progress_bar, settings_from
from lineage_core.errors import UsageError

if TYPE_CHECKING:
    from lineage_core.cache import DocumentSummary
    from lineage_core.models import LineageDocument
    from lineage_core.prestart import Prestart

DEFAULT_OUT = "build/lineage.json"


def register(sub: Any) -> None:
    p = sub.add_parser("build", help="derive table lineage from SQL files and write the lineage document")
    p.add_argument(
        "sql_dir",
        nargs="?",
        metavar="SQL_DIR",
        help="the SQL repository (a directory or gs://bucket/prefix/); sources in the config resolve against it",
    )
    add_config_option(p)
    p.add_argument(
        "--out",
        default=DEFAULT_OUT,
        metavar="URI",
        help=f"where to publish the document: path, file:// or gs:// (default: {DEFAULT_OUT}); "
        "'{index}' is replaced by the shard index",
    )
    p.add_argument("--jobs", type=int, default=None, metavar="N", help="worker processes (default: all cores)")
    p.add_argument("--no-cache", action="store_true", help="ignore and do not write the incremental cache")
    p.add_argument("--cache-dir", default=".lineage-cache", metavar="DIR",
                   help="incremental cache: a directory, or gs://bucket/prefix/ for jobs (default: .lineage-cache)")
    p.add_argument("--columns", action="store_true", help="also derive column-level lineage")
    p.add_argument(
        "--schema", metavar="FILE", help="JSON export of INFORMATION_SCHEMA.COLUMNS, used to expand * in column lineage"
    )
    p.add_argument("--strict", action="store_true", help="exit 1 when any file could not be read, rendered or parsed")
    p.add_argument("--force", action="store_true", help="publish even if another writer published meanwhile")
    p.add_argument(
        "--shard-index",
        type=int,
        default=None,
        metavar="I",
        help="process only shard I (default: $CLOUD_RUN_TASK_INDEX)",
    )
    p.add_argument(
        "--shard-count", type=int, default=None, metavar="N", help="number of shards (default: $CLOUD_RUN_TASK_COUNT)"
    )
    p.add_argument(
        "--max-file-mb",
        type=float,
        default=None,
        metavar="MB",
        help="skip (and report) larger files (default: max_file_bytes in the config, 4 MiB)",
    )
    p.set_defaults(func=run_build)

    m = sub.add_parser("merge", help="assemble the partial documents of a sharded build into one document")
    m.add_argument("parts", nargs="+", metavar="PART", help="partial documents (URIs); PART may contain '{index}'")
    add_config_option(m)
    m.add_argument(
        "--shard-count",
        type=int,
        default=None,
        metavar="N",
        help="expected number of shards (needed when PART contains '{index}')",
    )
    m.add_argument("--out", required=True, metavar="URI", help="where to publish the merged document")
    m.add_argument("--force", action="store_true", help="publish even if another writer published meanwhile")
    m.set_defaults(func=run_merge)


def _shard_args(args: argparse.Namespace) -> tuple[int | None, int | None]:
    index, count = args.shard_index, args.shard_count
    env_index, env_count = os.environ.get("CLOUD_RUN_TASK_INDEX"), os.environ.get("CLOUD_RUN_TASK_COUNT")
    if count is None and env_count:
        count = int(env_count)
    if index is None and env_index and count:
        index = int(env_index)
    if count is not None:
        if count < 1:
            raise UsageError("--shard-count must be at least 1")
        index = index or 0
        if not 0 <= index < count:
            raise UsageError(f"--shard-index {index} is outside 0..{count - 1}")
    elif index is not None:
        raise UsageError("--shard-index needs --shard-count (or $CLOUD_RUN_TASK_COUNT)")
    return index, count


def summary(document: LineageDocument) -> str:
    from lineage_core.cache import DocumentSummary

    return DocumentSummary.of(document).line()


def publish_bytes(data: bytes, uri: str, *, keep: int, force: bool, expected: str | None) -> str:
    from lineage_core.store import publish

    return publish(uri, data, expected_generation=expected, keep=keep, force=force).uri


def publish_document(document: LineageDocument, uri: str, *, keep: int, force: bool, expected: str | None) -> str:
    from lineage_core.artifact import dumps_document

    return publish_bytes(dumps_document(document), uri, keep=keep, force=force, expected=expected)


def _generation_now(uri: str) -> str | None:
    from lineage_core.store import stat

    found = stat(uri)
    return found.generation if found else None


def _previous_columns(uri: str) -> dict[str, list[str]] | None:
    """Columns the last published document knows: they expand `*` where no export says more."""
    from lineage_core.artifact import loads_document
    from lineage_core.errors import DocumentError
    from lineage_core.known_columns import schema_from_document
    from lineage_core.store import StoreError, read_bytes

    try:
        return schema_from_document(loads_document(read_bytes(uri).data))
    except (StoreError, DocumentError):
        return None  # no previous document (or an unreadable one): nothing learnt


# A build allocates millions of small objects (results, names, parse trees) and frees few:
# with the default thresholds the cyclic collector rescans them all again and again (a third
# of a one-changed-file build). Rarer young collections still free every cycle, soon enough.
GC_THRESHOLDS = (50_000, 20, 100)


def run_build(args: argparse.Namespace) -> int:
    thresholds = gc.get_threshold()
    gc.set_threshold(*GC_THRESHOLDS)  # inherited by the worker processes; imports run faster too
    try:
        # first of all, before the configuration is even parsed: when nothing the last build read
        # has changed, its document is published again
        key = _snapshot_key(args)
        jobs = args.jobs if (args.jobs or 0) > 0 else None
        early = []  # a worker started at the first changed file: it imports the parser meanwhile
        if key is not None:
            from lineage_core.build_snapshot import reuse

            def start_worker(path: str) -> None:
                from lineage_core.prestart import early_worker

                early.append(early_worker(jobs, path))

            reused = reuse(args.cache_dir, key, _now(), on_changed_file=start_worker)
            if reused is not None:
                return _republish(args, reused.data, reused.report)
        from lineage_core.prestart import prestart

        # the files the last build read are checked (one stat each), for the plan
        started = prestart(None if args.no_cache else args.cache_dir, jobs, early[0] if early else None)
        try:
            return _run_build(args, started, key)
        finally:
            started.release()
    finally:
        gc.set_threshold(*thresholds)  # a caller in the same process (tests, `demo`) keeps its own


def _now() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).isoformat(timespec="seconds")


def _snapshot_key(args: argparse.Namespace) -> str | None:
    """The key of what a build depends on besides its SQL files and folders, or None when the
    build reads something else (a bucket, column schemas, the previous document's columns)."""
    cache_dir, sql_dir = None if args.no_cache else args.cache_dir, args.sql_dir or ""
    if not cache_dir or cache_dir.startswith("gs://") or sql_dir.startswith("gs://") or args.columns or args.schema:
        return None
    config = args.config or ("lineage.yaml" if os.path.isfile("lineage.yaml") else None)
    try:
        text = Path(config).read_bytes() if config else b""
    except OSError:
        return None  # the build reports it
    from lineage_core.build_snapshot import inputs_key

    index, count = _shard_args(args)
    return inputs_key(
        [
            os.getcwd(),
            os.path.abspath(sql_dir) if sql_dir else None,
            os.path.abspath(config) if config else None,
            text.decode("utf-8", "replace"),
            args.max_file_mb,
            index,
            count,
        ]
    )


def _republish(args: argparse.Namespace, data: bytes, report: dict[str, Any]) -> int:
    index, count = _shard_args(args)
    out = args.out.replace("{index}", str(index or 0))
    expected = _generation_now(out)
    began = time.perf_counter()
    where = publish_bytes(data, out, keep=int(report["history_keep"]), force=args.force, expected=expected)
    _print_report(report, (index, count), "nothing changed since the last build", time.perf_counter() - began, where)
    return 1 if args.strict and report["total_errors"] else 0


def _report_of(result: DocumentSummary, history_keep: int) -> dict[str, Any]:
    """What a build prints (kept so that a republished document says the same)."""
    errors = []
    for error in result.first_errors:
        line = f":{error.line}" if error.line else ""
        errors.append(f"  {error.kind:<10} {error.uri}{line}: {error.message}")
    return {
        "line": result.line(),
        "files": result.files,
        "errors": errors,
        "total_errors": result.total_errors,
        "history_keep": history_keep,
    }


def _print_report(
    report: dict[str, Any], shard: tuple[int | None, int | None], how: str, elapsed: float, where: str
) -> None:
    index, count = shard
    label = f" (shard {index} of {count})" if count and count > 1 else ""
    print(f"built{label}: {report['line']} [{how}, {elapsed:.1f}s] → {where}")
    for line in report["errors"]:
        print(line, file=sys.stderr)
    more = int(report["total_errors"]) - len(report["errors"])
    if more > 0:
        print(f"  … and {more} more (lineage check lists them all)", file=sys.stderr)


def _run_build(args: argparse.Namespace, started: Prestart, key: str | None) -> int:
    from lineage_core.pipeline import BuildOptions, build_serialized
    from lineage_core.remote_cache import local_cache_dir

    settings = settings_from(args)
    if args.sql_dir:
        settings = settings.with_root(args.sql_dir)
    elif not settings.sources:
        raise UsageError("give the SQL directory (lineage build SQL_DIR) or sources in lineage.yaml")
    index, count = _shard_args(args)
    out = args.out.replace("{index}", str(index or 0))
    schema = None
    schema_path = args.schema
    if schema_path is None and settings.columns_schema:
        # relative to lineage.yaml, like every other path in it
        config_dir = os.path.dirname(settings.config_path or "")
        schema_path = os.path.join(config_dir, settings.columns_schema)
    if schema_path:
        from lineage_core.extract import load_columns_schema

        schema = load_columns_schema(schema_path)
    if args.columns or schema is not None:
        from lineage_core.known_columns import merge_schemas

        schema = merge_schemas(schema, _previous_columns(out))
    if args.jobs is not None and args.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    expected = _generation_now(out)  # a writer that publishes after this point is detected
    began = time.perf_counter()
    cache_warnings: list[str] = []
    cache_dir = None if args.no_cache else args.cache_dir
    with local_cache_dir(cache_dir, cache_warnings) as local_cache, progress_bar("analyzing SQL") as progress:
        data, result, stats = build_serialized(
            settings,
            BuildOptions(
                jobs=args.jobs,
                cache_dir=local_cache,
                shard_index=index,
                shard_count=count,
                columns=args.columns or schema is not None,
                schema=schema,
                max_file_bytes=int(args.max_file_mb * 1024 * 1024) if args.max_file_mb else settings.max_file_bytes,
                progress=progress,
                environ=os.environ,
            ),
            started,
        )
    for warning in [*cache_warnings, *stats.warnings]:
        print(f"warning: {warning}", file=sys.stderr)
    where = publish_bytes(data, out, keep=settings.history_keep, force=args.force, expected=expected)
    report = _report_of(result, settings.history_keep)
    if key and cache_dir and schema is None and cache_dir == local_cache and stats.looked_at is not None:
        from lineage_core.build_snapshot import record

        record(cache_dir, key, stats.looked_at, data, report)
    elapsed = time.perf_counter() - began
    how = f"{stats.analyzed} analyzed, {stats.cached} cached"
    _print_report(report, (index, count), how, elapsed, where)
    return 1 if args.strict and result.total_errors else 0


def run_merge(args: argparse.Namespace) -> int:
    from lineage_core.cli.common import load_document
    from lineage_core.merge import merge_documents

    uris: list[str] = []
    for part in args.parts:
        if "{index}" in part:
            if not args.shard_count:
                raise UsageError(f"PART {part} has '{{index}}': give --shard-count")
            uris.extend(part.replace("{index}", str(i)) for i in range(args.shard_count))
        else:
            uris.append(part)
    settings = settings_from(args)
    partials = [load_document(uri) for uri in uris]
    document = merge_documents(partials, uris, settings, expected_count=args.shard_count)
    expected = _generation_now(args.out)
    where = publish_document(document, args.out, keep=settings.history_keep, force=args.force, expected=expected)
    print(f"merged {len(uris)} shards: {summary(document)} → {where}")
    return 0
