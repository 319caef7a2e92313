"""The bundled example warehouse builds to the lineage a person wrote down by reading its SQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from lineage_core.config import load_settings
from lineage_core.models import LineageDocument, Query
from lineage_core.pipeline import BuildOptions, build

GOLDEN = Path(__file__).parent / "golden" / "warehouse_expected.yaml"


@pytest.fixture(scope="module")
def document(example_dir: Path) -> LineageDocument:
    settings = load_settings(example_dir / "lineage.yaml")
    doc, _ = build(settings, BuildOptions(cache_dir=None, jobs=2))
    return doc


@pytest.fixture(scope="module")
def golden() -> dict[str, Any]:
    return dict(YAML(typ="safe").load(GOLDEN.read_text(encoding="utf-8")))


def sql_queries(document: LineageDocument) -> list[Query]:
    return [q for q in document.queries if q.source == "composer"]


def test_every_file_is_in_the_golden_file(document: LineageDocument, golden: dict[str, Any]) -> None:
    assert sorted(q.path for q in sql_queries(document)) == sorted(golden)
    assert len(golden) >= 40


def test_lineage_matches_the_golden_file(document: LineageDocument, golden: dict[str, Any]) -> None:
    mismatches = []
    for query in sql_queries(document):
        expected = golden[query.path]
        if "error" in expected:
            continue
        got = {"sources": sorted(query.sources), "targets": sorted(query.targets)}
        want = {"sources": sorted(expected.get("sources") or []), "targets": sorted(expected.get("targets") or [])}
        if got != want:
            mismatches.append(f"{query.path}:\n    got  {got}\n    want {want}")
    assert not mismatches, "\n".join(mismatches)


def test_only_the_deliberately_broken_files_fail(document: LineageDocument, golden: dict[str, Any]) -> None:
    failing = {e.path: e for e in document.errors if e.kind in ("read", "render", "parse") and e.uri.startswith(str(Path(document.coverage[0].root)))}
    expected = {path: spec["error"] for path, spec in golden.items() if "error" in spec}
    assert set(failing) == set(expected)
    for path, spec in expected.items():
        assert failing[path].kind == spec["kind"]
        assert failing[path].line == spec["line"], f"{path}: line {failing[path].line}, expected {spec['line']}"
        if "variable" in spec:
            assert failing[path].variable == spec["variable"]


def test_the_example_apps_consume_warehouse_tables(document: LineageDocument) -> None:
    apps = {n.id for n in document.nodes if n.kind == "app"}
    assert len(apps) >= 3
    feeding = {e.source for e in document.edges if e.target in apps}
    assert any(t.startswith("acme-analytics.reporting.") for t in feeding)
