"""Loading for the app: once per generation, at most one stat a minute, the last good kept."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from e2e.documents import small_document, write

from lineage_core.artifact import dumps_document
from lineage_core.ui import loader
from lineage_core.ui.loader import (
    GenerationWatch,
    LastGood,
    LoadedDocument,
    LoadFailure,
    load_from_store,
    with_fallback,
)


def test_loads_document_graph_and_index(tmp_path: Path) -> None:
    path = write(small_document(), tmp_path / "lineage.json")
    loaded = load_from_store(str(path))
    assert isinstance(loaded, LoadedDocument)
    assert len(loaded.graph) == 8 and loaded.search_index.search("fct_orders")[0].id == "acme.marts.fct_orders"
    assert [q.id for q in loaded.writers["acme.marts.fct_orders"]] == ["wh:marts/fct_orders.sql"]
    assert {q.id for q in loaded.readers["acme.marts.fct_orders"]} == {"wh:marts/xss.sql", "bi:revenue"}


@pytest.mark.parametrize(
    ("data", "message"),
    [(b"", "is empty"), (b'{"schema_version": 1, "nodes": [', "truncated or not valid JSON"), (b'{"schema_version": 9}', "upgrade")],
)
def test_broken_documents_are_failures_that_say_why(tmp_path: Path, data: bytes, message: str) -> None:
    path = tmp_path / "lineage.json"
    path.write_bytes(data)
    failure = load_from_store(str(path))
    assert isinstance(failure, LoadFailure) and message in failure.message


def test_missing_document(tmp_path: Path) -> None:
    failure = load_from_store(str(tmp_path / "none.json"))
    assert isinstance(failure, LoadFailure) and "no lineage document" in failure.message


def test_generation_is_checked_at_most_once_per_interval(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(small_document(), tmp_path / "lineage.json")
    calls = []
    real_stat = loader.store.stat
    monkeypatch.setattr(loader.store, "stat", lambda uri: calls.append(uri) or real_stat(uri))
    now = [1000.0]
    watch = GenerationWatch(str(path), 60, clock=lambda: now[0])
    first, _ = watch.current()
    path.write_bytes(dumps_document(small_document()) + b" ")
    now[0] += 59
    assert watch.current()[0] == first and len(calls) == 1  # cached within the minute
    now[0] += 1
    assert watch.current()[0] != first and len(calls) == 2  # a new generation after it


def test_last_good_document_is_kept_with_a_warning(tmp_path: Path) -> None:
    path = write(small_document(), tmp_path / "lineage.json")
    last_good = LastGood()
    good = with_fallback(load_from_store(str(path)), last_good, lambda uri: None)
    assert isinstance(good, LoadedDocument) and good.warning is None
    path.write_bytes(path.read_bytes()[:100])
    os.utime(path, ns=(1, 1))
    shown = with_fallback(load_from_store(str(path)), last_good, lambda uri: None)
    assert isinstance(shown, LoadedDocument) and shown.document is good.document
    assert shown.warning and "could not be loaded" in shown.warning and "last good" in shown.warning
    # without a last good one the failure stands
    assert isinstance(with_fallback(load_from_store(str(path)), LastGood(), lambda uri: None), LoadFailure)


def test_store_history_is_used_after_a_restart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    good = small_document()

    class Found:
        document = good
        generation = "42"
        uri = "history/lineage-1.json"

    monkeypatch.setattr(loader.store, "read_latest_good", lambda uri, decode: Found(), raising=False)
    path = tmp_path / "lineage.json"
    path.write_bytes(b"{")
    shown = with_fallback(load_from_store(str(path)), LastGood(), loader.latest_good_from_store)
    assert isinstance(shown, LoadedDocument) and shown.generation == "42" and shown.warning
