"""The build figures again on a real SQL repository (``BENCH_REAL_SQL=DIR make bench``).

Synthetic repositories are regular; real ones have small and huge files, deep folders and
many non-SQL files beside the SQL. Point ``BENCH_REAL_SQL`` at a folder of real SQL (for
example ``sql/`` of a clone of github.com/mozilla/bigquery-etl) and, if its files need one,
``BENCH_REAL_CONFIG`` at a lineage.yaml for it (its sources' paths are replaced by the sample
folders). The section then takes the first 1,000 and 2,000 SQL files in path order, with
their folders, and times the same ratios as the synthetic sections: cold build / parse floor
(1,000 files), Stairlight / ours (1,000 and 2,000), and warm and one-changed / cold on at least
4,000 files (the tree is copied side by side as many times as needed to get there).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from benchmarks import baselines, build_bench

DEFAULT_CONFIG = "dialect: bigquery\n"


def _sample(sql_dir: Path, out: Path, files: int) -> Path:
    """The first ``files`` SQL files of ``sql_dir`` (path order), in the same folders."""
    chosen = sorted(p for p in sql_dir.rglob("*.sql") if p.is_file())[:files]
    for path in chosen:
        target = out / path.relative_to(sql_dir)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    return out


def _config(out: Path, template: str) -> Path:
    """The user's lineage.yaml with every source's path pointed at this sample."""
    import io

    from ruamel.yaml import YAML

    yaml = YAML()
    data = yaml.load(template) or {}
    for source in data.get("sources") or []:
        if source.get("type", "sql") == "sql":
            source["path"] = "."
    text = io.StringIO()
    yaml.dump(data, text)
    (out / "lineage.yaml").write_text(text.getvalue(), encoding="utf-8")
    return out


def _copies(sql_dir: Path, out: Path, at_least: int) -> Path:
    count = sum(1 for _ in sql_dir.rglob("*.sql"))
    copies = max(1, -(-at_least // max(count, 1)))
    for index in range(copies):
        shutil.copytree(sql_dir, out / f"copy{index}", dirs_exist_ok=True)
    return out


def run(work: Path) -> dict[str, Any]:
    sql_dir = Path(os.environ["BENCH_REAL_SQL"]).resolve()
    config_path = os.environ.get("BENCH_REAL_CONFIG")
    template = Path(config_path).read_text(encoding="utf-8") if config_path else DEFAULT_CONFIG
    total = sum(1 for _ in sql_dir.rglob("*.sql"))
    print(f"  {sql_dir}: {total} SQL files")
    figures: dict[str, Any] = {"files": total}

    small = _config(_sample(sql_dir, work / "real-1000", 1000), template)
    floor = baselines.parse_floor(small, small / "lineage.yaml")
    cold = build_bench.cold_build(small, work)
    figures.update({"floor_s": floor, "cold_s": cold, "cold/floor": cold / floor})
    print(f"  real 1,000 files: our cold build {cold:.2f}s; cold / parse floor = {cold / floor:.2f} (bar ≤ 0.50)")

    for size, repo in ((1000, small), (2000, _config(_sample(sql_dir, work / "real-2000", 2000), template))):
        theirs = baselines.stairlight_time(repo, repo / "lineage.yaml")
        ours = cold if size == 1000 else build_bench.cold_build(repo, work)
        figures[f"stairlight/ours_{size}"] = theirs / ours
        print(f"  real {size:,} files: Stairlight {theirs:.2f}s, ours {ours:.2f}s → {theirs / ours:.1f}× faster (bar ≥ 12× at 2,000)")

    big = _config(_copies(sql_dir, work / "real-4000", 4000), template)
    figures.update(build_bench.incremental(big, work / "real-inc"))
    return figures
