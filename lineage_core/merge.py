"""Assemble the partial documents of a sharded build; refuse when a shard is missing."""

from __future__ import annotations

from collections.abc import Sequence

from lineage_core.assemble import assemble, link_jobs, results_from_document
from lineage_core.config import Settings
from lineage_core.errors import LineageError
from lineage_core.models import LineageDocument, SourceCoverage


class MergeError(LineageError):
    pass


def merge_documents(
    partials: Sequence[LineageDocument], uris: Sequence[str], settings: Settings, expected_count: int | None = None
) -> LineageDocument:
    if not partials:
        raise MergeError("no partial documents to merge")
    seen: dict[int, str] = {}
    counts = set()
    for document, uri in zip(partials, uris, strict=True):
        if document.shard is None:
            raise MergeError(f"{uri} is not a partial document (it has no shard); build with --shard-count")
        index, count = document.shard
        counts.add(count)
        if index in seen:
            raise MergeError(f"shard {index} appears twice: {seen[index]} and {uri}")
        seen[index] = uri
    if len(counts) != 1:
        raise MergeError(f"partial documents disagree on the shard count: {sorted(counts)}")
    count = counts.pop()
    if expected_count is not None and expected_count != count:
        raise MergeError(f"expected {expected_count} shards but the documents say {count}")
    missing = sorted(set(range(count)) - set(seen))
    if missing:
        raise MergeError(
            f"missing shard(s) {', '.join(map(str, missing))} of {count}: a task failed or has not finished; "
            "nothing was published"
        )
    digests = {d.config_digest for d in partials}
    if len(digests) != 1:
        raise MergeError("partial documents were built with different configurations; rebuild all shards")
    results = [r for d in partials for r in results_from_document(d)]
    coverage: dict[str, SourceCoverage] = {}
    for document in partials:
        for c in document.coverage:
            old = coverage.get(c.name)
            coverage[c.name] = (
                c
                if old is None
                else SourceCoverage(c.name, c.root, old.files + c.files, old.ok + c.ok, old.failed + c.failed)
            )
    with_columns = any(d.columns is not None for d in partials)
    consumers = [n for d in partials for n in d.nodes if n.kind in ("dashboard", "app", "job")]
    # shard 0 collected the jobs; the SQL files they run may sit in any shard
    results = link_jobs(
        results, [r for r in results if "sql_query" in r.query.labels], {n.id for n in consumers if n.kind == "job"}
    )
    order = {source.name: i for i, source in enumerate(settings.sources)}
    ordered_coverage = sorted(coverage.values(), key=lambda c: order.get(c.name, len(order)))
    merged = assemble(results, settings, ordered_coverage, with_columns=with_columns, extra_nodes=consumers)
    if merged.config_digest != partials[0].config_digest:
        raise MergeError("merge was given a different configuration than the shards were built with (--config)")
    return merged
