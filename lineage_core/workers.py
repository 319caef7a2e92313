"""Analysis over worker processes.

sqlglot is CPU-bound Python/mypyc code, so parallelism is over processes. Importing it takes a
worker a tenth of a second: on a cold build the pool is started before the plan, so workers
import while the parent discovers, reads and hashes the files. (A spare worker started the
same way on incremental builds was measured: on two cores it slowed the parent's plan more
than it saved, so incremental builds start workers only for what changed.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from lineage_core.analysis import FileResult, FileTask, analyze, analyze_many

Progress = Callable[[int, int], None]
# Below this many files to analyze, starting worker processes costs more than it saves.
PARALLEL_THRESHOLD = 24


def chunks_of(tasks: Sequence[FileTask], jobs: int) -> list[list[FileTask]]:
    # Several chunks per worker balance uneven file sizes; order is restored afterwards.
    size = max(1, min(32, len(tasks) // (jobs * 8) or 1))
    return [list(tasks[i : i + size]) for i in range(0, len(tasks), size)]


def _warm_worker(jinja: bool) -> None:
    """Worker start-up: import the parser (and Jinja, unless no file is known to need it) while
    the parent is still reading files; what is not imported here is imported when needed."""
    if jinja:
        import jinja2.sandbox  # noqa: F401

    import lineage_core.extract  # noqa: F401


def _started() -> None:
    """A no-op task: submitting it makes the pool fork its workers now."""


class WorkerPool:
    """A process pool started early on cold builds, so workers import sqlglot while the parent
    discovers, reads and hashes the files; never started when the cache may answer."""

    def __init__(self, jobs: int, start_method: str | None = None, jinja: bool = True) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        self.jobs = jobs
        self.used = False
        context = multiprocessing.get_context(start_method)
        self.executor = ProcessPoolExecutor(
            max_workers=jobs, initializer=_warm_worker, initargs=(jinja,), mp_context=context
        )
        for _ in range(jobs):
            self.executor.submit(_started)

    def map(self, chunks: Sequence[Sequence[FileTask]]) -> Iterator[list[FileResult]]:
        """Results of ``analyze_many`` over ``chunks``, in order."""
        self.used = True
        return self.executor.map(analyze_many, chunks)

    def close(self) -> None:
        if not self.used:  # started for files that turned out unchanged: do not wait for its imports
            self.abandon()
            return
        self.executor.shutdown(wait=True, cancel_futures=True)

    def abandon(self) -> None:
        """Stop the workers now, without waiting for their start-up imports (a pool that was
        started for a few changed files and turns out too small for the work)."""
        processes = list((getattr(self.executor, "_processes", None) or {}).values())
        self.executor.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            process.terminate()


def pool_of_at_least(pool: WorkerPool | None, jobs: int) -> WorkerPool:
    """``pool`` if it has ``jobs`` workers, else a new pool of that many."""
    if pool is not None and pool.jobs >= jobs:
        return pool
    if pool is not None:
        pool.abandon()
    return WorkerPool(jobs)


def analyze_all(
    tasks: Sequence[FileTask],
    jobs: int,
    progress: Progress | None,
    done: int,
    total: int,
    pool: WorkerPool | None = None,
) -> list[FileResult]:
    if jobs <= 1 or len(tasks) < PARALLEL_THRESHOLD:
        results = []
        for task in tasks:
            results.append(analyze(task))
            done += 1
            if progress:
                progress(done, total)
        return results
    owned = pool is None
    if pool is None:
        pool = WorkerPool(jobs)
    results = []
    try:
        for chunk_results in pool.map(chunks_of(tasks, jobs)):
            results.extend(chunk_results)
            done += len(chunk_results)
            if progress:
                progress(done, total)
    finally:
        if owned:
            pool.close()
    return results
