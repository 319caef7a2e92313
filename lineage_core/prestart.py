"""What an incremental build can start before it has read its configuration.

Most of a build after a one-file edit is the worker's import of the parser (a tenth of a
second and more), which can overlap everything else only if the worker starts first. The files
the last build read are known by path in the cache directory's stat memo: one ``stat`` each
tells whether any changed, and at the first that did a worker is started, before this process
imports and reads its configuration, discovers files and decodes the last document. The signatures
taken are handed to the plan, which then stats nothing twice. When nothing changed, no worker
is started: a warm build never pays for the parser.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from lineage_core.stat_memo import FileStats
from lineage_core.templating import has_template_syntax
from lineage_core.workers import WorkerPool

FILE_STATS = "file-stats.json"
BUILD_CACHE = "build-cache.json"


@dataclass
class Prestart:
    """The stat memo read (with the signatures taken) and the worker started, if any."""

    file_stats: FileStats | None = None
    pool: WorkerPool | None = None
    adopted: bool = field(default=False, repr=False)

    def adopt(self) -> WorkerPool | None:
        """The pool, now owned by the build (which closes it)."""
        self.adopted = True
        return self.pool

    def release(self) -> None:
        """Stop a worker the build never took (it failed before its plan)."""
        if self.pool is not None and not self.adopted:
            self.pool.abandon()


def early_worker(jobs: int | None, changed_path: str) -> WorkerPool | None:
    """One worker, started now for the files found changed, if the build uses workers at all: it
    is ready when the few changed files are read (a build that turns out to have many gets a
    full pool then: ``workers.pool_of_at_least``). It imports Jinja too only if the first changed
    file is a template."""
    if (jobs or os.cpu_count() or 1) <= 1:
        return None
    try:
        with open(changed_path, "rb") as handle:
            text = handle.read().decode("utf-8", "replace")
    except OSError:
        text = "{{"  # gone or unreadable: no guess
    return WorkerPool(1, jinja=has_template_syntax(text))


def prestart(cache_dir: str | None, jobs: int | None, pool: WorkerPool | None = None) -> Prestart:
    """Look for changed files in a local cache directory and start a worker at the first one
    (unless ``pool`` was already started for them)."""
    if cache_dir is None or cache_dir.startswith("gs://"):
        return Prestart(pool=pool)
    directory = Path(cache_dir)
    file_stats = FileStats(directory / FILE_STATS)
    started = Prestart(file_stats, pool)
    if not (directory / BUILD_CACHE).is_file():
        return started

    def start(path: str) -> None:
        if started.pool is None:
            started.pool = early_worker(jobs, path)

    file_stats.changed_since_last_run(on_first=start)
    return started
