"""An incremental build that patches the last document instead of assembling a new one.

Used when the cache directory holds the document of the last build on the same basis
(settings, shard, options): the files whose key is unchanged keep their part of it as is; only
the changed, new and unreadable files are analyzed (or found in the build cache), and the last
document is patched with them (:mod:`lineage_core.document_patch`). Workers analyze the changed
files while this process decodes the last document, so importing the parser overlaps the rest.
"""

from __future__ import annotations

import os
from dataclasses import replace
from typing import TYPE_CHECKING

from lineage_core.analysis import FileResult
from lineage_core.cache import DocumentMemo, DocumentSummary
from lineage_core.config import Settings
from lineage_core.workers import PARALLEL_THRESHOLD, analyze_all, chunks_of, pool_of_at_least

if TYPE_CHECKING:
    from lineage_core.assemble import QueryResult
    from lineage_core.pipeline import BuildOptions, BuildPlan


def patch_previous(
    settings: Settings, options: BuildOptions, plan: BuildPlan, memo: DocumentMemo, basis: str
) -> tuple[bytes, DocumentSummary] | None:
    """The new document as bytes, or None when the last one cannot be patched (the caller then
    assembles). Fills ``plan.views`` with every query's views, for the next build's memo."""
    if settings.tables:  # nodes carry settings of their own: assembled instead
        return None
    found = memo.previous(basis)
    if found is None:
        return None
    data, file_keys, kept_views = found
    from lineage_core.pipeline import loaded_task, qualifier

    kept: dict[str, str] = {}
    changed = []
    for item in plan.pending:
        sql_file = item[2].sql_file
        if file_keys.get(sql_file.id) == item[1]:
            kept[sql_file.id] = sql_file.uri
        else:
            changed.append(item)
    cache, stats = plan.cache, plan.stats
    jobs = options.jobs or os.cpu_count() or 1
    tasks = [loaded_task(plan, options, item) for item in changed]
    misses = []
    # A few changed files go to the worker already started for them: analyzing them there costs
    # less than reading the whole build cache here to maybe find them.
    look_up = plan.pool is None or len(tasks) >= PARALLEL_THRESHOLD
    for position, key, task in tasks:
        hit = cache.get(key, task.file_id, task.uri) if look_up and cache.has(key) else None
        if hit is not None:
            plan.slots[position] = hit
        else:
            misses.append((position, key, task))
    if cache.warning:
        stats.warnings.append(cache.warning)
    background = None
    miss_tasks = [task for _, _, task in misses]
    if miss_tasks and jobs > 1 and (len(miss_tasks) >= PARALLEL_THRESHOLD or len(kept) >= PARALLEL_THRESHOLD):
        chunks = chunks_of(miss_tasks, jobs)
        plan.pool = pool_of_at_least(plan.pool, min(jobs, len(chunks)))
        background = plan.pool.map(chunks)

    from lineage_core.document_patch import PreviousDocument

    previous = PreviousDocument.decode(data, settings, plan.shard, options.columns)
    fresh: list[FileResult] = []
    if background is not None:
        for chunk_results in background:
            fresh.extend(chunk_results)
    else:
        fresh = analyze_all(miss_tasks, jobs, None, 0, len(miss_tasks), plan.pool)
    compact = cache.journal_full()
    for (position, key, _), result in zip(misses, fresh, strict=True):
        plan.slots[position] = result
        (cache.put if compact else cache.append)(key, result)
    stats.cached = len(kept) + cache.hits
    stats.analyzed = len(misses)
    if compact:  # fold the journal in: keep what this build used, drop the rest
        for _, key, pending in plan.pending:
            if pending.sql_file.id in kept:
                cache.keep(key)
        cache.save()
    else:
        cache.save_appended()
    plan.file_stats.save()
    if previous is None:
        return None
    added = list(map(qualifier(settings), (slot for slot in plan.slots if slot is not None)))
    patched = previous.patched(kept, kept_views, added, generated_at=options.generated_at)
    if patched is None:
        return None
    stats.patched = True
    plan.views = {i: v for i, v in kept_views.items() if i in kept}
    plan.views.update((r.query.id, r.views) for r in added if r.views)
    return patched


def previous_results(memo: DocumentMemo | None, basis: str, plan: BuildPlan) -> dict[int, QueryResult]:
    """Unchanged files' results taken from the last document (same basis, same file key):
    reading one document costs a fraction of decoding and qualifying thousands of entries."""
    found = memo.previous(basis) if memo is not None else None
    if found is None:
        return {}
    data, file_keys, views = found
    from lineage_core.artifact import loads_document
    from lineage_core.assemble import results_from_document
    from lineage_core.errors import DocumentError

    try:
        by_id = {r.query.id: r for r in results_from_document(loads_document(data))}
    except DocumentError:
        return {}
    reused: dict[int, QueryResult] = {}
    for position, key, pending in plan.pending:
        sql_file = pending.sql_file
        result = by_id.get(sql_file.id)
        if result is not None and file_keys.get(sql_file.id) == key and result.query.uri == sql_file.uri:
            # views as the query's own result had them (a document only says which nodes are views)
            reused[position] = replace(result, views=views.get(sql_file.id, ()))
    return reused
