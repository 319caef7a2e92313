"""Assertion helpers for the extraction tests (one case per line, parametrised)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pytest

from benchmarks.corpus import corpus_dir
from lineage_core.extract import column_lineage, table_lineage

CORPUS = corpus_dir()


def assert_table_lineage(
    sql: str,
    sources: Iterable[str],
    targets: Iterable[str] = (),
    dialect: str = "bigquery",
) -> None:
    got = table_lineage(sql, dialect=dialect)
    assert {str(t) for t in got.sources} == set(sources), f"sources of {sql!r}"
    assert {str(t) for t in got.targets} == set(targets), f"targets of {sql!r}"


def assert_column_lineage(
    sql: str,
    pairs: Iterable[tuple[str, str]],
    dialect: str = "bigquery",
    schema: Mapping[str, Sequence[str]] | None = None,
) -> None:
    got = {(e.source, e.target) for e in column_lineage(sql, dialect=dialect, schema=schema)}
    assert got == set(pairs), f"column lineage of {sql!r}"


def corpus_cases(name: str) -> list[dict[str, Any]]:
    """Cases of a corpus file, or skip (fail under CI) when the corpus is not present."""
    path = CORPUS / name
    if not path.exists():
        message = f"corpus file {path} is missing (set LINEAGE_CORPUS, or keep ../shared/corpus beside the repo)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]
