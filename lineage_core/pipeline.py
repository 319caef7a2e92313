"""build(settings) → LineageDocument: discover, check the cache, analyze in parallel, assemble.

Parallelism is over processes (sqlglot is CPU-bound Python/mypyc code); files are sent in
chunks and results are put back in discovery order, so the document never depends on
``jobs``. Sharding picks a stable 1/N of the files by a hash of their id.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lineage_core.analysis import FileResult, FileTask, content_digest
from lineage_core.build_snapshot import LookedAt
from lineage_core.cache import (
    BuildCache,
    DocumentMemo,
    DocumentSummary,
    file_key,
    settings_digest,
    task_key,
)
from lineage_core.config import Settings
from lineage_core.discovery import SqlFile, VariablesOfFiles, discover, query_labels
from lineage_core.discovery.walk import DirectoryListings
from lineage_core.models import ErrorRecord, LineageDocument, Node, SourceCoverage
from lineage_core.prestart import BUILD_CACHE, Prestart, prestart
from lineage_core.stat_memo import FileStats
from lineage_core.workers import PARALLEL_THRESHOLD, Progress, WorkerPool, analyze_all, chunks_of, pool_of_at_least

if TYPE_CHECKING:  # imported lazily at run time: a reused document never needs it
    from lineage_core.assemble import QueryResult

DEFAULT_CACHE_DIR = ".lineage-cache"


@dataclass(frozen=True)
class BuildOptions:
    jobs: int | None = None  # None: all cores
    cache_dir: str | None = DEFAULT_CACHE_DIR  # None: no cache
    shard_index: int | None = None
    shard_count: int | None = None
    columns: bool = False
    schema: Mapping[str, Sequence[str]] | None = None
    max_file_bytes: int = 4 * 1024 * 1024
    progress: Progress | None = None
    generated_at: str | None = None
    # Secrets for BI sources (API keys named in lineage.yaml); the CLI passes its environment.
    environ: Mapping[str, str] | None = None


@dataclass
class BuildStats:
    files: int = 0
    analyzed: int = 0
    cached: int = 0
    warnings: list[str] = field(default_factory=list)
    patched: bool = False  # the document is the last one with the changed files' part replaced
    looked_at: LookedAt | None = None  # what was read, when the document can be reused on that basis


def in_shard(file_id: str, index: int, count: int) -> bool:
    return zlib.crc32(file_id.encode()) % count == index


def _read(sql_file: SqlFile) -> bytes | ErrorRecord:
    if sql_file.root.startswith("gs://"):
        from lineage_core.store import StoreError, read_bytes

        try:
            return read_bytes(sql_file.uri).data
        except StoreError as exc:
            return ErrorRecord(sql_file.uri, sql_file.rel_path, None, "read", str(exc))
    try:
        with open(os.path.join(sql_file.root, sql_file.rel_path), "rb") as handle:
            return handle.read()
    except OSError as exc:
        return ErrorRecord(sql_file.uri, sql_file.rel_path, None, "read", f"cannot read file: {exc.strerror or exc}")


def _incremental(options: BuildOptions) -> bool:
    return options.cache_dir is not None and os.path.exists(os.path.join(options.cache_dir, BUILD_CACHE))


def _early_pool(options: BuildOptions, files: int) -> WorkerPool | None:
    """Start workers before reading files when this is surely a cold build with many files."""
    jobs = options.jobs or os.cpu_count() or 1
    if jobs <= 1 or files < PARALLEL_THRESHOLD or _incremental(options):
        return None
    return WorkerPool(jobs)


class _Pending:
    """A file to look up in the cache: its bytes (None while only its digest is known)."""

    __slots__ = ("content", "digest", "sql_file", "variables")

    def __init__(self, sql_file: SqlFile, content: bytes | None, digest: str, variables: dict[str, Any]) -> None:
        self.sql_file, self.content, self.digest, self.variables = sql_file, content, digest, variables

    def task(self, options: BuildOptions) -> FileTask:
        sql_file = self.sql_file
        return FileTask(
            file_id=sql_file.id,
            source=sql_file.source,
            uri=sql_file.uri,
            path=sql_file.rel_path,
            dialect=sql_file.dialect,
            content=self.content or b"",
            variables=self.variables,
            columns=options.columns,
            schema=options.schema,
            max_bytes=options.max_file_bytes,
            content_sha256=self.digest,
        )


@dataclass
class BuildPlan:
    files: list[SqlFile]
    shard: tuple[int, int] | None
    slots: list[FileResult | None]
    pending: list[tuple[int, str, _Pending]]
    keys: list[str]
    cache: BuildCache
    stats: BuildStats
    pool: WorkerPool | None = None
    file_stats: FileStats = field(default_factory=lambda: FileStats(None))
    views: dict[str, tuple[str, ...]] = field(default_factory=dict)  # query id → the views it creates

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close()
            self.pool = None


def _plan(settings: Settings, options: BuildOptions, started: Prestart | None = None) -> BuildPlan:
    if has_consumer_sources(settings):
        from lineage_core.discovery.consumers import validate

        validate(settings)  # a typo in a BI source's options fails before any SQL is analyzed
    cache_dir = Path(options.cache_dir) if options.cache_dir else None
    if started is None or started.file_stats is None:
        started = prestart(options.cache_dir, options.jobs)
    file_stats = started.file_stats or FileStats(None)
    pool = started.adopt()
    walks: list[DirectoryListings] = []
    files = discover(settings, options.cache_dir, walks)
    shard = None
    if options.shard_count is not None and options.shard_count > 1:
        index = options.shard_index or 0
        files = [f for f in files if in_shard(f.id, index, options.shard_count)]
        shard = (index, options.shard_count)
    elif options.shard_count == 1:
        shard = (0, 1)
    stats = BuildStats(files=len(files))
    cache = BuildCache(cache_dir / BUILD_CACHE if cache_dir else None)
    plan = BuildPlan(files, shard, [None] * len(files), [], [], cache, stats, pool or _early_pool(options, len(files)))
    plan.file_stats = file_stats
    looked_at = LookedAt(settled=cache_dir is not None and all(w.settled for w in walks))
    for walk in walks:
        looked_at.folders.update(walk.visited)
    variables_of = VariablesOfFiles(settings)
    settings_parts: dict[tuple[str, int], str] = {}  # (dialect, id of the shared variables)
    for position, sql_file in enumerate(files):
        local = None if sql_file.root.startswith("gs://") else f"{sql_file.root}/{sql_file.rel_path}"
        signature = None
        digest = None
        if local is None:
            looked_at.settled = False  # a bucket has no stat signatures to check next time
        elif cache_dir is not None:
            try:
                signature = looked_at.files[local] = file_stats.signature(local)
                digest = file_stats.digest(local, signature)
            except OSError:
                signature = None  # _read reports it
                looked_at.settled = False
        content: bytes | None = None  # None: known by its digest, read on a miss
        if digest is None:
            read = _read(sql_file)
            if isinstance(read, ErrorRecord):
                plan.slots[position] = FileResult(
                    sql_file.id, sql_file.source, sql_file.uri, sql_file.rel_path, 1, "", errors=(read,)
                )
                plan.keys.append(f"unreadable:{sql_file.id}:{read.message}")
                continue
            content = read
            digest = content_digest(content)
            if signature is not None and local is not None:
                file_stats.record(local, signature, digest)
        variables: dict[str, Any] = variables_of(sql_file.source, sql_file.rel_path)
        part = settings_parts.get((sql_file.dialect, id(variables)))
        if part is None:
            part = settings_parts[(sql_file.dialect, id(variables))] = settings_digest(
                _Pending(sql_file, b"", digest, variables).task(options)
            )
        key = file_key(part, sql_file.rel_path, digest)
        plan.keys.append(key)
        # a cache hit is decoded only if it is needed; a task is made only for a miss
        plan.pending.append((position, key, _Pending(sql_file, content, digest, variables)))
    looked_at.settled = looked_at.settled and not file_stats.memo.unsettled_now
    stats.looked_at = looked_at
    return plan


def _finish(
    settings: Settings,
    options: BuildOptions,
    plan: BuildPlan,
    previous: Callable[[], Mapping[int, QueryResult]] | None = None,
) -> LineageDocument:
    """Analyze what the cache does not know and assemble; ``previous`` gives the results that
    can be taken from the last document (called only when some files are unchanged)."""
    # Imported here: a build that reuses its previous document never needs them.
    from lineage_core.assemble import assemble

    cache, stats = plan.cache, plan.stats
    cache.has("")  # load now, so a warning about an unreadable cache is reported
    if cache.warning:
        stats.warnings.append(cache.warning)
    jobs = options.jobs or os.cpu_count() or 1
    misses = [loaded_task(plan, options, item) for item in plan.pending if not cache.has(item[1])]
    # Hand the changed files to workers first: they import sqlglot and parse while this
    # process takes the unchanged ones from the last document or the cache (the one-changed
    # -file case: importing sqlglot alone costs as much as all the rest).
    unchanged = len(plan.pending) - len(misses)
    background: Iterator[list[FileResult]] | None = None
    tasks = [task for _, _, task in misses]
    if misses and jobs > 1 and (len(misses) >= PARALLEL_THRESHOLD or unchanged >= PARALLEL_THRESHOLD):
        chunks = chunks_of(tasks, jobs)
        plan.pool = pool_of_at_least(plan.pool, min(jobs, len(chunks)))
        background = plan.pool.map(chunks)
    taken = previous() if previous is not None and unchanged else {}
    qualified_slots: list[QueryResult | None] = [None] * len(plan.slots)
    for position, reused in taken.items():
        qualified_slots[position] = reused
    hits = [
        item
        for item in plan.pending
        if cache.has(item[1]) and (item[0] not in taken or not cache.keep(item[1]))
    ]
    qualified_of = qualifier(settings)
    for position, key, item in hits:
        hit = cache.get(key, item.sql_file.id, item.sql_file.uri)
        if hit is not None:
            plan.slots[position] = hit
            qualified_slots[position] = qualified_of(hit)
        else:  # an entry that does not decode is never served: analyze the file again
            misses.append(loaded_task(plan, options, (position, key, item)))
    stats.cached = cache.hits + len(taken)
    stats.analyzed = len(misses)
    done = len(plan.files) - len(misses)
    fresh: list[FileResult] = []
    if background is not None:
        for chunk_results in background:
            fresh.extend(chunk_results)
            done += len(chunk_results)
            if options.progress:
                options.progress(done, len(plan.files))
    late = [task for _, _, task in misses[len(fresh) :]]
    fresh.extend(analyze_all(late, jobs, options.progress, done, len(plan.files), plan.pool))
    for (position, key, _), result in zip(misses, fresh, strict=True):
        plan.slots[position] = result
        cache.put(key, result)
    if misses or stats.cached != len(plan.files) or cache.journal_size():
        cache.save()
    plan.file_stats.save()
    qualified: list[QueryResult] = []
    for analyzed, done_already in zip(plan.slots, qualified_slots, strict=True):
        if done_already is not None:
            qualified.append(done_already)
        elif analyzed is not None:
            qualified.append(qualified_of(analyzed))
    plan.views = {r.query.id: r.views for r in qualified if r.views}
    coverage = coverage_of(settings, qualified)
    extra_nodes: list[Node] = []
    if has_consumer_sources(settings) and (plan.shard is None or plan.shard[0] == 0):
        # Apps, dashboards and jobs read tables too; shard 0 collects them in a sharded build.
        from lineage_core.assemble import link_jobs
        from lineage_core.discovery.consumers import collect

        consumers = collect(settings, options.environ or {})
        extra_nodes = list(consumers.nodes)
        qualified = link_jobs(qualified, consumers.results, {n.id for n in extra_nodes if n.kind == "job"})
        qualified.extend(consumers.results)
    return assemble(
        qualified,
        settings,
        coverage,
        generated_at=options.generated_at,
        shard=plan.shard,
        with_columns=options.columns,
        extra_nodes=extra_nodes,
    )


def qualifier(settings: Settings) -> Callable[[FileResult], QueryResult]:
    """A file's result with qualified names and its query's labels (from the settings)."""
    from lineage_core.assemble import qualify_result

    def qualified(result: FileResult) -> QueryResult:
        return qualify_result(result, settings, query_labels(settings, result.source, result.path))

    return qualified


def loaded_task(plan: BuildPlan, options: BuildOptions, item: tuple[int, str, _Pending]) -> tuple[int, str, FileTask]:
    """The task of a cache miss, with its file's bytes (read now if only its digest was known).

    A file that changed since its digest was recorded gets the key of what was read, so a
    result is never stored under the key of other contents.
    """
    position, key, pending = item
    if pending.content is not None:
        return position, key, pending.task(options)
    content = _read(pending.sql_file)
    if isinstance(content, ErrorRecord):  # vanished since it was looked at: analysis reports it
        content = b""
    digest = content_digest(content)
    task = dataclasses.replace(pending.task(options), content=content, content_sha256=digest)
    if digest != pending.digest:
        key = plan.keys[position] = task_key(task)
    return position, key, task


def has_consumer_sources(settings: Settings) -> bool:
    return any(source.type != "sql" for source in settings.sources)


def build(settings: Settings, options: BuildOptions = BuildOptions()) -> tuple[LineageDocument, BuildStats]:
    """Discover, analyze (in parallel, through the cache) and assemble the lineage document."""
    plan = _plan(settings, options)
    try:
        return _finish(settings, options, plan), plan.stats
    finally:
        plan.close()


def _basis(settings: Settings, options: BuildOptions, plan: BuildPlan) -> str:
    """What a document depends on besides its files."""
    return f"{settings.digest()}\n{plan.shard!r}\n{options.columns!r}"


def _memo_key(settings: Settings, options: BuildOptions, plan: BuildPlan) -> str:
    digest = hashlib.sha256()
    for part in (_basis(settings, options, plan), *plan.keys):
        digest.update(part.encode())
        digest.update(b"\n")
    return digest.hexdigest()


def build_serialized(
    settings: Settings, options: BuildOptions = BuildOptions(), started: Prestart | None = None
) -> tuple[bytes, DocumentSummary, BuildStats]:
    """Like :func:`build`, but returns the serialized document.

    When every file is unchanged since the last build with this cache, the previous document
    is reused as bytes (only ``generated_at`` is renewed): nothing is parsed, decoded or
    assembled, so a warm build costs little more than reading and hashing the files.
    ``started``: what :func:`lineage_core.prestart.prestart` started for this cache directory.
    """
    plan = _plan(settings, options, started)
    try:
        return _serialize(settings, options, plan)
    finally:
        plan.close()


def _serialize(settings: Settings, options: BuildOptions, plan: BuildPlan) -> tuple[bytes, DocumentSummary, BuildStats]:
    memo = DocumentMemo(Path(options.cache_dir)) if options.cache_dir else None
    key = _memo_key(settings, options, plan)
    if memo is None or has_consumer_sources(settings):
        plan.stats.looked_at = None  # BI tools are read over the network: never reused unseen
    if memo is not None and not has_consumer_sources(settings):
        # The key covers every file's key: a match means nothing changed since that build.
        from datetime import UTC, datetime

        reused = memo.get(key, options.generated_at or datetime.now(UTC).isoformat(timespec="seconds"))
        if reused is not None:
            data, summary = reused
            plan.stats.cached = len(plan.files)
            return data, summary, plan.stats
    from lineage_core.artifact import dumps_document

    basis = _basis(settings, options, plan)
    reusable = memo is not None and not has_consumer_sources(settings)
    patched = None
    if reusable and memo is not None:
        from lineage_core.incremental import patch_previous, previous_results

        patched = patch_previous(settings, options, plan, memo, basis)
    if patched is not None:
        data, summary = patched
    else:
        document = _finish(settings, options, plan, (lambda: previous_results(memo, basis, plan)) if reusable else None)
        data = dumps_document(document)
        summary = DocumentSummary.of(document)
    if memo is not None:
        file_keys = {pending.sql_file.id: key for _, key, pending in plan.pending}
        # keys of what was read (a file that changed while it was read was keyed again)
        memo.put(_memo_key(settings, options, plan), data, summary, basis, file_keys, plan.views)
    return data, summary, plan.stats


def coverage_of(settings: Settings, results: Sequence[QueryResult]) -> list[SourceCoverage]:
    from lineage_core.discovery.sql_files import source_root

    coverage = []
    for source in settings.sources:
        if source.type != "sql":
            continue
        mine = [r for r in results if r.query.source == source.name]
        failed = sum(1 for r in mine if r.failed)
        coverage.append(
            SourceCoverage(source.name, source_root(settings, source), len(mine), len(mine) - failed, failed)
        )
    return coverage
