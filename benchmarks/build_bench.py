"""Build speed: warm/cold, one-changed/cold, jobs scaling and peak memory, as ratios.

Each figure runs the real `lineage build` command in a subprocess, so it includes start-up
and imports exactly as a user (or a Cloud Run Job) pays for them.
"""

from __future__ import annotations

import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

LINEAGE = [sys.executable, "-m", "lineage_core.cli.main"]


def synth(out: Path, tables: int, files: int) -> Path:
    if not (out / "lineage.yaml").is_file():
        subprocess.run(
            [*LINEAGE, "synth", "--tables", str(tables), "--files", str(files), "--out", str(out)],
            check=True,
            capture_output=True,
        )
    return out


def timed_build(repo: Path, out: Path, *extra: str) -> float:
    started = time.perf_counter()
    proc = subprocess.run(
        [*LINEAGE, "build", str(repo), "--config", str(repo / "lineage.yaml"), "--out", str(out), *extra],
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - started
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"build failed: {proc.stderr[-2000:]}")
    return elapsed


def median_build(repo: Path, out: Path, *extra: str, runs: int = 3) -> float:
    return statistics.median(timed_build(repo, out, *extra) for _ in range(runs))


def cold_build(repo: Path, work: Path, runs: int = 3) -> float:
    return median_build(repo, work / "cold.json", "--no-cache", runs=runs)


def incremental(repo: Path, work: Path) -> dict[str, float]:
    cache = work / "cache"
    cold = cold_build(repo, work)
    timed_build(repo, work / "warm.json", "--cache-dir", str(cache))  # fill the cache
    warm = median_build(repo, work / "warm.json", "--cache-dir", str(cache))
    victim = sorted(repo.rglob("*.sql"))[len(list(repo.rglob("*.sql"))) // 2]
    original = victim.read_text()
    changes = []
    try:
        for n in range(3):
            victim.write_text(original + f"\n-- edit {n}\n")
            changes.append(timed_build(repo, work / "warm.json", "--cache-dir", str(cache)))
    finally:
        victim.write_text(original)
    one = statistics.median(changes)
    figures = {
        "cold_s": cold,
        "warm_s": warm,
        "one_changed_s": one,
        "warm/cold": warm / cold,
        "one_changed/cold": one / cold,
    }
    print(
        f"  cold build {cold:.2f}s; warm / cold = {warm / cold:.3f} (bar ≤ 0.05); one changed / cold = {one / cold:.3f} (bar ≤ 0.10)"
    )
    return figures


def peak_memory_mb(repo: Path, work: Path) -> float:
    """Peak RSS of the build's biggest process (parent or worker), in MiB."""
    code = (
        "import resource, subprocess, sys;"
        f"subprocess.run({[*LINEAGE, 'build', str(repo), '--config', str(repo / 'lineage.yaml'), '--out', str(work / 'mem.json'), '--no-cache']!r}, capture_output=True);"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return int(out.strip().splitlines()[-1]) / 1024


def memory_growth(work: Path, sizes: tuple[int, ...] = (2500, 5000, 10000)) -> dict[str, float]:
    figures = {}
    for files in sizes:
        repo = synth(work / f"mem-{files}", tables=int(files * 0.8), files=files)
        figures[f"peak_mb_{files}"] = peak_memory_mb(repo, work / f"mem-{files}-out")
    first, last = sizes[0], sizes[-1]
    growth = figures[f"peak_mb_{last}"] / figures[f"peak_mb_{first}"]
    print(
        "  peak memory: "
        + ", ".join(f"{n} files {figures[f'peak_mb_{n}']:.0f} MiB" for n in sizes)
        + f"; ×{last / first:.0f} files → ×{growth:.2f} memory (sub-linear when < ×{last / first:.0f})"
    )
    figures["growth"] = growth
    return figures


def max_rss_self_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
