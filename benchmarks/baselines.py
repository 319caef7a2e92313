"""Baselines that `make bench` divides our build times by, measured in the same run.

Both run in the separate bench venv (``benchmarks/bench_env.py``), never in the main venv:

- :func:`parse_floor` — seconds for a bare, single-process, pure-Python
  ``sqlglot.parse(sql, read="bigquery")`` of every file, after Jinja rendering. Rendering uses
  the project's own renderer with the variables lineage.yaml gives each file, and is done
  beforehand into a temp dir; the bench-venv subprocess then reads every rendered file into
  memory, imports sqlglot and its BigQuery dialect, and times only the parse loop (interpreter
  start, imports and file reads are excluded).
- :func:`stairlight_time` — wall-clock seconds of Stairlight 0.9.2 building its dependency map
  of the same (templated) files. Stairlight finds sources with regular expressions but must be
  told every query's target table in a hand-written mapping file: we generate its
  ``stairlight.yaml`` (a local-files source: the SQL dir and a ``.sql`` file suffix) and a
  complete ``mapping.yaml`` from our own lineage document's ``queries[].targets``, with the
  Jinja variables as mapping ``Parameters`` (Stairlight renders the templates itself).
- :func:`stairlight_scaling` — Stairlight and our cold build on synthetic repositories of
  500, 1,000 and 2,000 files: how Stairlight's time grows with size, and our/their ratios.

Run alone: ``python -m benchmarks.baselines [SIZES…]`` (default 500 1000 2000).
"""

from __future__ import annotations

import itertools
import json
import math
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from benchmarks import bench_env

ADAPTER = Path(__file__).resolve().with_name("stairlight_adapter.py")
LINEAGE = [sys.executable, "-m", "lineage_core.cli.main"]

# Runs in the bench venv: argv = [files.json, runs]. Prints one JSON line.
_PARSE_LOOP = r"""
import json, statistics, sys, time
with open(sys.argv[1], encoding="utf-8") as f:
    paths = json.load(f)
texts = []
for path in paths:
    with open(path, encoding="utf-8") as f:
        texts.append(f.read())
import sqlglot, sqlglot.parser
sqlglot.Dialect.get_or_raise("bigquery")  # import the dialect before the clock starts
sqlglot.parse("SELECT 1", read="bigquery")
runs = []
for _ in range(int(sys.argv[2])):
    errors = 0
    started = time.perf_counter()
    for text in texts:
        try:
            sqlglot.parse(text, read="bigquery")
        except Exception:
            errors += 1
    runs.append(time.perf_counter() - started)
print(json.dumps({"runs": runs, "median": statistics.median(runs), "files": len(texts),
                  "errors": errors, "sqlglot": sqlglot.__version__, "parser": sqlglot.parser.__file__}))
"""


def _local_sql_files(sql_dir: Path, config: Path) -> list[tuple[Any, str, dict[str, Any]]]:
    """(sql_file, absolute path, effective Jinja variables) of every file a build would read."""
    from lineage_core.config import load_settings
    from lineage_core.discovery import discover, effective_vars

    settings = load_settings(config).with_root(sql_dir)
    found = []
    for sql_file in discover(settings):
        if sql_file.root.startswith("gs://"):
            raise ValueError(f"baselines need local SQL files, got {sql_file.uri}")
        path = os.path.abspath(os.path.join(sql_file.root, sql_file.rel_path))
        found.append((sql_file, path, effective_vars(settings, sql_file.source, sql_file.rel_path)))
    return found


def render_repo(sql_dir: Path, config: Path, out_dir: Path) -> dict[str, Any]:
    """Render every SQL file with the project's renderer and lineage.yaml's variables into
    ``out_dir``; files that fail to render are skipped (our build records them as errors)."""
    from lineage_core.errors import RenderError
    from lineage_core.templating import render_sql

    written: list[str] = []
    failed = 0
    for sql_file, path, variables in _local_sql_files(sql_dir, config):
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        try:
            rendered = render_sql(text, variables, name=sql_file.rel_path)
        except RenderError:
            failed += 1
            continue
        target = out_dir / sql_file.source / sql_file.rel_path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(rendered, encoding="utf-8")
        written.append(str(target))
    return {"files": written, "render_failed": failed}


def compiled_parse_time(sql_dir: Path, config: Path, *, runs: int = 5) -> float:
    """The same single-process parse loop as :func:`parse_floor`, on the compiled sqlglot
    (``sqlglotc``) of the project's own venv: what the compiled build buys."""
    with tempfile.TemporaryDirectory(prefix="parse-compiled-") as tmp:
        rendered = render_repo(Path(sql_dir), Path(config), Path(tmp) / "rendered")
        listing = Path(tmp) / "files.json"
        listing.write_text(json.dumps(rendered["files"]), encoding="utf-8")
        proc = subprocess.run([sys.executable, "-c", _PARSE_LOOP, str(listing), str(runs)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"compiled parse failed: {proc.stderr[-2000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    compiled = not result["parser"].endswith(".py")
    print(f"  single-process parse on {'compiled (sqlglotc)' if compiled else 'PURE (sqlglotc missing)'} sqlglot:"
          f" {result['median']:.2f}s", flush=True)
    return float(result["median"])


def parse_floor(sql_dir: Path, config: Path, *, runs: int = 5) -> float:
    """Seconds of a bare single-process pure-Python ``sqlglot.parse`` of the rendered files.

    The median of ``runs`` passes over all files, timed inside one bench-venv process.
    """
    python = bench_env.parse_python()
    with tempfile.TemporaryDirectory(prefix="parse-floor-") as tmp:
        rendered = render_repo(Path(sql_dir), Path(config), Path(tmp) / "rendered")
        listing = Path(tmp) / "files.json"
        listing.write_text(json.dumps(rendered["files"]), encoding="utf-8")
        proc = subprocess.run(
            [str(python), "-I", "-c", _PARSE_LOOP, str(listing), str(runs)],
            capture_output=True,
            text=True,
            env=bench_env.clean_env(),
        )
    if proc.returncode != 0:
        raise RuntimeError(f"parse floor failed in the bench venv: {proc.stderr[-2000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    if not result["parser"].endswith(".py"):
        raise RuntimeError(f"the parse floor ran on compiled sqlglot ({result['parser']})")
    floor = float(result["median"])
    print(
        f"  parse floor: {floor:.2f}s for {result['files']} rendered files (pure-Python sqlglot"
        f" {result['sqlglot']}, 1 process, median of {len(result['runs'])}:"
        f" {', '.join(f'{r:.2f}' for r in result['runs'])}; {result['errors']} failed to parse,"
        f" {rendered['render_failed']} failed to render and were left out)",
        flush=True,
    )
    return floor


# --- Stairlight ---------------------------------------------------------------------------


def _our_document(sql_dir: Path, config: Path, out: Path) -> dict[str, Any]:
    proc = subprocess.run(
        [*LINEAGE, "build", str(sql_dir), "--config", str(config), "--out", str(out), "--no-cache"],
        capture_output=True,
        text=True,
    )
    if proc.returncode not in (0, 1):  # 1: the document was written, some files had errors
        raise RuntimeError(f"lineage build failed: {proc.stderr[-2000:]}")
    document: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return document


def _stairlight_renders(text: str) -> bool:
    """Whether Stairlight's plain ``jinja2.Environment`` can compile this template.

    Stairlight catches only undefined variables; a syntax error or an unknown filter (e.g. an
    Airflow macro) would abort its whole run, so such files are put in its Exclude section.
    """
    import jinja2

    try:
        jinja2.Environment(loader=jinja2.BaseLoader()).from_string(text)
    except jinja2.TemplateError:
        return False
    return True


def _differing(variables: dict[str, Any], common: dict[str, Any]) -> dict[str, Any]:
    """Top-level keys whose values differ: Stairlight merges table over global params shallowly."""
    return {k: v for k, v in variables.items() if common.get(k) != v}


def write_stairlight_config(sql_dir: Path, config: Path, document: dict[str, Any], conf_dir: Path) -> dict[str, Any]:
    """Write ``stairlight.yaml`` and ``mapping.yaml`` into ``conf_dir``; return what they hold.

    Every file gets a mapping entry naming the target tables our document found in it, the
    way a Stairlight user declares them by hand; variables shared by all files go to the
    mapping's Global Parameters, per-file differences to each table's Parameters.
    """
    from ruamel.yaml import YAML

    files = _local_sql_files(sql_dir, config)
    targets_by_path: dict[str, list[str]] = {}
    for query in document.get("queries", []):
        uri = query.get("uri", "")
        if uri and not uri.startswith("gs://"):
            targets_by_path.setdefault(os.path.abspath(uri), []).extend(query.get("targets", []))

    roots = sorted({os.path.abspath(sql_file.root) for sql_file, _, _ in files})
    counted = Counter(json.dumps(v, sort_keys=True, default=str) for _, _, v in files)
    common: dict[str, Any] = json.loads(counted.most_common(1)[0][0]) if counted else {}

    mapping: list[dict[str, Any]] = []
    excluded: list[str] = []
    unmapped = 0
    for sql_file, path, variables in files:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        if not _stairlight_renders(text):
            excluded.append(path)
            continue
        targets = list(dict.fromkeys(targets_by_path.get(path, [])))
        if not targets:  # nothing to declare: Stairlight will list the file as unmapped
            unmapped += 1
            continue
        own = _differing(variables, common)
        tables = [{"TableName": t, **({"Parameters": own} if own else {})} for t in targets]
        # keys are absolute (FileSystemPath is absolute): "/<rel path>" matches only this file
        mapping.append({"TemplateSourceType": "File", "FileSuffix": "/" + sql_file.rel_path, "Tables": tables})

    stairlight_yaml = {
        "Include": [{"TemplateSourceType": "File", "FileSystemPath": root, "Regex": r".*\.sql$"} for root in roots],
        "Exclude": [{"TemplateSourceType": "File", "Regex": re.escape(p) + "$"} for p in excluded],
        "Settings": {"MappingFilesRegex": [r".*/mapping\.yaml$"]},
    }
    mapping_yaml = {"Global": {"Parameters": common}, "Mapping": mapping}
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    conf_dir.mkdir(parents=True, exist_ok=True)
    with open(conf_dir / "stairlight.yaml", "w", encoding="utf-8") as f:
        yaml.dump(stairlight_yaml, f)
    with open(conf_dir / "mapping.yaml", "w", encoding="utf-8") as f:
        yaml.dump(mapping_yaml, f)
    return {
        "files": len(files),
        "mapped_files": len(mapping),
        "targets": sum(len(m["Tables"]) for m in mapping),
        "excluded": len(excluded),
        "unmapped": unmapped,
        "roots": roots,
    }


def _run_stairlight(python: Path, conf_dir: Path, out: Path, cwd: str) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    proc = subprocess.run(
        [str(python), "-I", str(ADAPTER), str(conf_dir), str(out)],
        capture_output=True,
        text=True,
        cwd=cwd,  # Stairlight resolves mapping FileSuffix against the working directory
        env=bench_env.clean_env(),
    )
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"stairlight failed: {proc.stderr[-2000:]}")
    report: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return wall, report


def stairlight_time(sql_dir: Path, config: Path, *, runs: int = 1) -> float:
    """Wall-clock seconds of Stairlight 0.9.2 mapping the same files (median of ``runs``).

    Like our cold build it is a whole subprocess (start-up, imports, reading the config and the
    mapping file, rendering, scanning, saving the map as JSON). Generating its configuration
    from our lineage document is not timed.
    """
    python = bench_env.stairlight_python()
    sql_dir, config = Path(sql_dir).resolve(), Path(config).resolve()
    with tempfile.TemporaryDirectory(prefix="stairlight-") as tmp:
        work = Path(tmp)
        document = _our_document(sql_dir, config, work / "ours.json")
        # a dir of its own: Stairlight globs its config dir recursively for the YAML files
        conf_dir = work / "conf"
        written = write_stairlight_config(sql_dir, config, document, conf_dir)
        walls: list[float] = []
        report: dict[str, Any] = {}
        for _ in range(runs):
            wall, report = _run_stairlight(python, conf_dir, work / "stairlight-map.json", written["roots"][0])
            walls.append(wall)
    theirs = statistics.median(walls)
    ours_targets = len({t for q in document.get("queries", []) for t in q.get("targets", [])})
    print(
        f"  Stairlight 0.9.2: {theirs:.2f}s wall for {written['files']} files"
        f" (median of {runs}; its map step {report['map_s']:.2f}s, import {report['import_s']:.2f}s);"
        f" mapping file declares {written['targets']} targets of {written['mapped_files']} files,"
        f" {written['excluded']} excluded (templates it cannot compile), {written['unmapped']} without targets;"
        f" its map has {report['targets']} targets (ours {ours_targets}), {report['edges']} edges",
        flush=True,
    )
    return theirs


def stairlight_scaling(
    work: Path, sizes: tuple[int, ...] = (500, 1000, 2000), *, runs: int = 1, cold_runs: int = 3
) -> dict[str, Any]:
    """Stairlight vs our cold build on synthetic repositories of ``sizes`` files.

    Returns per size Stairlight's and our seconds and ours/theirs, and per step of sizes the
    growth exponent of Stairlight's time (1.0 = linear, 2.0 = quadratic).
    """
    from benchmarks import build_bench

    figures: dict[str, Any] = {}
    for files in sizes:
        repo = build_bench.synth(Path(work) / f"synth-{files}", tables=int(files * 0.8), files=files)
        ours = build_bench.cold_build(repo, Path(work), runs=cold_runs)
        theirs = stairlight_time(repo, repo / "lineage.yaml", runs=runs)
        figures[f"stairlight_s_{files}"] = theirs
        figures[f"ours_s_{files}"] = ours
        figures[f"ours/stairlight_{files}"] = ours / theirs
        print(
            f"  {files} files: Stairlight {theirs:.2f}s, our cold build {ours:.2f}s (median of {cold_runs});"
            f" ours / Stairlight = {ours / theirs:.3f} → {theirs / ours:.1f}× faster",
            flush=True,
        )
    for small, big in itertools.pairwise(sizes):
        exponent = math.log(figures[f"stairlight_s_{big}"] / figures[f"stairlight_s_{small}"]) / math.log(big / small)
        figures[f"stairlight_growth_{small}_{big}"] = exponent
        verdict = "superlinear" if exponent > 1.1 else "NOT superlinear"
        print(
            f"  Stairlight {small}→{big} files: time ×{figures[f'stairlight_s_{big}'] / figures[f'stairlight_s_{small}']:.2f}"
            f" for ×{big / small:.1f} files → growth exponent {exponent:.2f} ({verdict}; 1 = linear, 2 = quadratic)",
            flush=True,
        )
    return figures


def main(argv: list[str]) -> int:
    sizes = tuple(int(a) for a in argv[1:]) or (500, 1000, 2000)
    with tempfile.TemporaryDirectory(prefix="lineage-baselines-") as tmp:
        from benchmarks import build_bench

        repo = build_bench.synth(Path(tmp) / "synth-1000", tables=800, files=1000)
        floor = parse_floor(repo, repo / "lineage.yaml")
        cold = build_bench.cold_build(repo, Path(tmp))
        print(f"  1,000 files: our cold build {cold:.2f}s; cold / parse floor = {cold / floor:.2f} (bar ≤ 0.50)")
        stairlight_scaling(Path(tmp), sizes)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
