"""Extraction accuracy and cost on the development corpus (``../shared/corpus``).

``python -m benchmarks.accuracy`` prints table and column exact match, micro precision and
recall per dialect and overall, and the extraction/parse time ratio. Scoring follows the
corpus README: table names are lowercased on both sides; column cases honour ``schema`` and
``sqllineage_config``, and those whose names are not plain identifiers are scored apart.
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import sqlglot

from benchmarks.corpus import corpus_dir
from lineage_core.extract import column_lineage, table_lineage

CORPUS = corpus_dir()
TABLES = CORPUS / "sqllineage_tables.jsonl"
COLUMNS = CORPUS / "sqllineage_columns.jsonl"


def load(path: Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


class _Score:
    def __init__(self) -> None:
        self.cases = self.exact = self.tp = self.fp = self.fn = 0

    def add(self, got: Iterable[set[str]], gold: Iterable[set[str]]) -> bool:
        pairs = list(zip(got, gold, strict=True))
        ok = all(p == g for p, g in pairs)
        self.cases += 1
        self.exact += ok
        for p, g in pairs:
            self.tp += len(p & g)
            self.fp += len(p - g)
            self.fn += len(g - p)
        return ok

    def row(self) -> dict[str, float]:
        return {
            "cases": self.cases,
            "exact": self.exact / max(self.cases, 1),
            # nothing predicted and nothing expected counts as perfect, not as 0
            "precision": self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0,
            "recall": self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0,
        }


def _report(title: str, scores: dict[str, _Score], out: Any) -> dict[str, Any]:
    rows = {name: s.row() for name, s in sorted(scores.items())}
    print(f"\n{title}", file=out)
    print(f"{'dialect':<14}{'cases':>6}{'exact':>8}{'P':>8}{'R':>8}", file=out)
    for name, row in rows.items():
        if name != "overall":
            print(_fmt(name, row), file=out)
    print(_fmt("overall", rows["overall"]), file=out)
    return rows


def _fmt(name: str, row: dict[str, float]) -> str:
    return (
        f"{name:<14}{int(row['cases']):>6}{row['exact']:>8.3f}"
        f"{row['precision']:>8.3f}{row['recall']:>8.3f}"
    )


def table_accuracy(path: Path | str = TABLES, out: Any = sys.stdout) -> dict[str, Any]:
    scores: dict[str, _Score] = defaultdict(_Score)
    misses: list[str] = []
    for case in load(Path(path)):
        try:
            got = table_lineage(case["sql"], dialect=case["sqlglot_dialect"])
            src = {str(t).lower() for t in got.sources}
            tgt = {str(t).lower() for t in got.targets}
        except Exception:  # a crash counts as an empty prediction
            src, tgt = set(), set()
        gold = (set(case["sources"]), set(case["targets"]))
        ok = scores["overall"].add((src, tgt), gold)
        scores[case["dialect"]].add((src, tgt), gold)
        if not ok:
            misses.append(f"{case['id']}: got {sorted(src)} -> {sorted(tgt)}")
    rows = _report("table lineage (our semantics, lowercased)", scores, out)
    rows["misses"] = misses
    return rows


def _column_config(case: dict[str, Any]) -> dict[str, Any]:
    config = case.get("sqllineage_config") or {}
    return {
        "lateral_alias": str(config.get("SQLLINEAGE_LATERAL_COLUMN_ALIAS_REFERENCE", "")).lower()
        in ("1", "true")
    }


def column_accuracy(path: Path | str = COLUMNS, out: Any = sys.stdout) -> dict[str, Any]:
    scores: dict[str, _Score] = defaultdict(_Score)
    misses: list[str] = []
    for case in load(Path(path)):
        try:
            got = column_lineage(
                case["sql"],
                dialect=case["sqlglot_dialect"],
                schema=case.get("schema"),
                **_column_config(case),
            )
            pairs = {(e.source.lower(), e.target.lower()) for e in got}
        except Exception:
            pairs = set()
        gold = {(s.lower(), t.lower()) for s, t in case["column_lineage"]}
        group = "nonidentifier" if case.get("nonidentifier_columns") else "overall"
        ok = scores[group].add([pairs], [gold])
        if group == "overall":
            scores[case["dialect"]].add([pairs], [gold])
        if not ok and group == "overall":
            misses.append(f"{case['id']}: missing {sorted(gold - pairs)} extra {sorted(pairs - gold)}")
    rows = _report("column lineage (plain-identifier cases; nonidentifier apart)", scores, out)
    rows["misses"] = misses
    return rows


def extraction_vs_parse_ratio(path: Path | str = TABLES, repeat: int = 3, out: Any = sys.stdout) -> float:
    """Time of ``table_lineage`` over the corpus divided by that of ``sqlglot.parse``."""
    cases = [(c["sql"], c["sqlglot_dialect"]) for c in load(Path(path))]
    table_lineage("SELECT 1", dialect="")  # warm caches

    def parse_all() -> None:
        for sql, dialect in cases:
            with contextlib.suppress(Exception):
                sqlglot.parse(sql, read=dialect or None)

    def extract_all() -> None:
        for sql, dialect in cases:
            table_lineage(sql, dialect=dialect)

    def best(fn: Any) -> float:
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        return min(times)

    parse_time, extract_time = best(parse_all), best(extract_all)
    ratio = extract_time / parse_time
    print(
        f"\nextraction {extract_time * 1000:.1f} ms vs sqlglot.parse {parse_time * 1000:.1f} ms"
        f" over {len(cases)} cases: ratio {ratio:.2f} (bar: <= 2.0)",
        file=out,
    )
    return ratio


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    if not TABLES.exists():
        print(f"corpus not found at {CORPUS}", file=sys.stderr)
        return 1
    tables = table_accuracy()
    columns = column_accuracy()
    if "-v" in args:
        print("\ntable misses:", *tables["misses"], sep="\n  ")
        print("\ncolumn misses:", *columns["misses"], sep="\n  ")
    extraction_vs_parse_ratio()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
