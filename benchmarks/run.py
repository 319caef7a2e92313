"""`make bench`: accuracy and speed, every figure a ratio against a baseline of the same run.

Sections that cannot run say why and make the whole run exit 1; nothing is skipped silently.
"""

from __future__ import annotations

import importlib
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.corpus import corpus_dir

REPO = Path(__file__).resolve().parents[1]
CORPUS = corpus_dir()


def section(title: str, run: Callable[[], Any], failures: list[str]) -> Any:
    print(f"\n== {title}", flush=True)
    started = time.perf_counter()
    try:
        result = run()
    except Exception as exc:  # a benchmark that breaks is reported, and the run fails
        traceback.print_exc()
        failures.append(f"{title}: {exc}")
        return None
    print(f"   ({time.perf_counter() - started:.0f}s)", flush=True)
    return result


def accuracy() -> Any:
    module = importlib.import_module("benchmarks.accuracy")
    tables = module.table_accuracy(CORPUS / "sqllineage_tables.jsonl")
    columns = module.column_accuracy(CORPUS / "sqllineage_columns.jsonl")
    ratio = module.extraction_vs_parse_ratio()
    return tables, columns, ratio


def build_speed(work: Path) -> dict[str, Any]:
    from benchmarks import baselines, build_bench

    repo = build_bench.synth(work / "synth-1000", tables=800, files=1000)
    floor = baselines.parse_floor(repo, repo / "lineage.yaml")
    compiled = baselines.compiled_parse_time(repo, repo / "lineage.yaml")
    print(f"  compiled / pure parse (1 process) = {compiled / floor:.2f}")
    cold = build_bench.cold_build(repo, work)
    one_job = build_bench.median_build(repo, work / "one-job.json", "--no-cache", "--jobs", "1")
    print(
        f"  1,000 files: our cold build {cold:.2f}s (default jobs), {one_job:.2f}s (--jobs 1);"
        f" cold / parse floor = {cold / floor:.2f} (bar ≤ 0.50)"
    )
    big = build_bench.synth(work / "synth-4000", tables=3200, files=4000)
    figures = build_bench.incremental(big, work / "inc")
    return {"floor_s": floor, "compiled_parse_s": compiled, "cold_s": cold, "cold/floor": cold / floor, **figures}


def stairlight(work: Path) -> dict[str, Any]:
    from benchmarks import baselines

    figures = baselines.stairlight_scaling(work, (500, 1000, 2000))
    print(f"  at 2,000 files ours is {1 / figures['ours/stairlight_2000']:.1f}× faster (bar ≥ 12×)")
    return figures


def memory(work: Path) -> Any:
    from benchmarks import build_bench

    return build_bench.memory_growth(work)


def real_sql(work: Path) -> Any:
    from benchmarks import real_bench

    return real_bench.run(work)


def store_load() -> Any:
    from benchmarks import store_bench

    result = store_bench.bench_load(store_bench.make_document_bytes(100_000))
    print(
        f"  100,000 tables ({result['bytes'] / 1e6:.0f} MB JSON, {result['gzip_bytes'] / 1e6:.1f} MB gzip):"
        f" read {result['read_s']:.2f}s, decode {result['decode_s']:.2f}s, load {result['load_s']:.2f}s"
        f" (bar < {result['budget_s']}s); from the GCS emulator: load {result.get('gcs_load_s', float('nan')):.2f}s"
    )
    return result


def app() -> Any:
    from benchmarks import app_bench

    result = app_bench.run_app_bench()
    for line in result.lines():
        print("  " + line)
    return result


def main() -> int:
    failures: list[str] = []
    with tempfile.TemporaryDirectory(prefix="lineage-bench-") as tmp:
        work = Path(tmp)
        section("extraction accuracy (../shared/corpus) and extraction / parse time", accuracy, failures)
        section(
            "build speed: cold vs parse floor; warm and one-changed vs cold (4,000 files)",
            lambda: build_speed(work),
            failures,
        )
        section("Stairlight 0.9.2 vs our cold build", lambda: stairlight(work), failures)
        section("peak memory by file count", lambda: memory(work), failures)
        if os.environ.get("BENCH_REAL_SQL"):
            section("the same on a real SQL repository ($BENCH_REAL_SQL)", lambda: real_sql(work), failures)
        else:
            print("\n== real SQL repository: set BENCH_REAL_SQL=DIR (and BENCH_REAL_CONFIG) to time one")
        section("store: loading a 100,000-table document", store_load, failures)
        section("app data path on a 100,000-table document", app, failures)
    if failures:
        print("\nbenchmarks that could not run:\n  " + "\n  ".join(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
