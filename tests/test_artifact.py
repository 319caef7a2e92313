"""Lineage documents: round trip, schema, and clear errors for truncated/newer/invalid ones."""

from __future__ import annotations

import gzip
import json

import jsonschema
import pytest

from lineage_core.artifact import document_to_dict, dumps_document, loads_document, schema
from lineage_core.errors import DocumentError
from lineage_core.models import (
    ColumnEdge,
    Edge,
    ErrorRecord,
    LineageDocument,
    Node,
    Query,
    SourceCoverage,
)


def sample() -> LineageDocument:
    return LineageDocument(
        generated_at="2026-11-25T00:00:00+00:00",
        generator={"name": "lineage-dashboard", "version": "0.1.0", "sqlglot": "30.30.0"},
        config_digest="abc",
        nodes=(Node("p.d.a", "external"), Node("p.d.b", "view", {"tier": "gold"}, ("x@y",), description="B")),
        queries=(Query("s:a.sql", "sql/a.sql", "a.sql", 1, 3, "s", {"repo": "r"}, ("p.d.a",), ("p.d.b",), "d1"),),
        edges=(Edge("p.d.a", "p.d.b", ("s:a.sql",)),),
        errors=(ErrorRecord("sql/bad.sql", "bad.sql", 4, "parse", "boom"),),
        columns=(ColumnEdge("p.d.a.x", "p.d.b.x", ("s:a.sql",)),),
        coverage=(SourceCoverage("s", "sql", 2, 1, 1),),
    )


def test_round_trip_and_schema() -> None:
    doc = sample()
    data = dumps_document(doc)
    assert loads_document(data) == doc
    assert loads_document(gzip.compress(data)) == doc
    jsonschema.validate(json.loads(data), schema())


def test_output_is_deterministic() -> None:
    assert dumps_document(sample()) == dumps_document(sample())


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda raw: raw[: len(raw) // 2], "truncated or not valid JSON"),
        (lambda raw: b"", "is empty"),
        (lambda raw: b"[1, 2]", "must be a JSON object"),
        (lambda raw: gzip.compress(raw)[:40], "truncated or corrupt"),
        (
            lambda raw: raw.replace(b'"schema_version": 1', b'"schema_version": 2'),
            "schema_version 2, newer than this reader supports (1): upgrade",
        ),
        (lambda raw: raw.replace(b'"schema_version": 1', b'"schema_version": "1"'), "no integer schema_version"),
        (lambda raw: raw.replace(b'"nodes"', b'"nodez"'), "missing the field 'nodes'"),
        (lambda raw: raw.replace(b'"line_start": 1', b'"line_start": "one"'), "wrong type"),
    ],
)
def test_bad_documents_are_clear_errors(mutate, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DocumentError, match=message.replace("(", r"\(").replace(")", r"\)")):
        loads_document(mutate(dumps_document(sample())))


def test_schema_rejects_what_readers_would_misread() -> None:
    raw = document_to_dict(sample())
    raw["nodes"][0]["kind"] = "spaceship"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(raw, schema())
