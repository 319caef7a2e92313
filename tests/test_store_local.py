"""The local store: whole writes, generations, history copies, gzip for .gz, newest good read."""

from __future__ import annotations

import gzip
import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from lineage_core import store
from lineage_core.artifact import dumps_document, loads_document
from lineage_core.models import Edge, LineageDocument, Node, Query


def make_document(lineage: dict[str, list[str]], stamp: str = "2025-01-01T00:00:00+00:00") -> LineageDocument:
    """A small valid lineage document: target table → its source tables."""
    tables = sorted(set(lineage) | {s for sources in lineage.values() for s in sources})
    queries = tuple(
        Query(f"sql:{t}.sql", f"sql/{t}.sql", f"{t}.sql", 1, 3, "sql", {}, tuple(sorted(s)), (t,), "")
        for t, s in sorted(lineage.items())
    )
    edges = tuple(Edge(s, t, (f"sql:{t}.sql",)) for t, sources in sorted(lineage.items()) for s in sorted(sources))
    return LineageDocument(
        generated_at=stamp,
        generator={"name": "lineage-dashboard", "version": "test", "sqlglot": "test"},
        config_digest="test",
        nodes=tuple(Node(t) for t in tables),
        queries=queries,
        edges=edges,
    )


def doc_bytes(n: int) -> bytes:
    return dumps_document(make_document({f"p.d.t{n}": ["p.d.src"]}))


def test_publish_and_read_plain_json(tmp_path: Path) -> None:
    out = tmp_path / "build" / "lineage.json"
    data = doc_bytes(1)
    published = store.publish(str(out), data, expected_generation=None)
    assert out.read_bytes() == data  # plain JSON on disk, readable with any tool
    fetched = store.read_bytes(str(out))
    assert fetched.data == data
    assert fetched.generation == published.generation == store.stat(str(out)).generation  # type: ignore[union-attr]
    assert loads_document(fetched.data).nodes[0].id == "p.d.src"
    # the same file through a file:// URI
    assert store.read_bytes(out.as_uri()).data == data
    assert store.stat(out.as_uri()) is not None


def test_gz_path_is_stored_gzip_and_read_back_plain(tmp_path: Path) -> None:
    out = tmp_path / "lineage.json.gz"
    data = doc_bytes(2)
    published = store.publish(out.as_uri(), data, expected_generation=None, keep=5)
    raw = out.read_bytes()
    assert raw[:2] == b"\x1f\x8b" and gzip.decompress(raw) == data
    assert store.read_bytes(str(out)).data == data
    # the history copy is stored the same way (it keeps the .json.gz suffix)
    assert published.history_uri is not None and published.history_uri.endswith(".json.gz")
    history_file = Path(published.history_uri.removeprefix("file://"))
    assert gzip.decompress(history_file.read_bytes()) == data


def test_write_bytes_keeps_no_history(tmp_path: Path) -> None:
    out = tmp_path / "part-0.json"
    store.write_bytes(str(out), b"{}")
    store.write_bytes(str(out), b"{}")
    assert store.list_history(str(out)) == []
    assert not (tmp_path / "history").exists()


def test_stale_or_unexpected_generation_is_refused_unless_forced(tmp_path: Path) -> None:
    out = str(tmp_path / "lineage.json")
    first = store.publish(out, doc_bytes(1), expected_generation=None)
    # a job that started when the file did not exist must not overwrite it
    with pytest.raises(store.ConcurrentWriteError) as err:
        store.publish(out, doc_bytes(2), expected_generation=None)
    assert err.value.winner_generation == first.generation
    assert "--force" in str(err.value) and out in str(err.value)
    second = store.publish(out, doc_bytes(3), expected_generation=first.generation)
    # a job that saw the first generation loses against the second
    with pytest.raises(store.ConcurrentWriteError, match=second.generation):
        store.publish(out, doc_bytes(4), expected_generation=first.generation)
    assert store.read_bytes(out).data == doc_bytes(3)
    store.publish(out, doc_bytes(5), expected_generation=first.generation, force=True)
    assert store.read_bytes(out).data == doc_bytes(5)


def test_generation_changes_on_every_write_even_with_equal_size(tmp_path: Path) -> None:
    out = str(tmp_path / "x.json")
    seen = {store.write_bytes(out, b'{"a": 1}').generation for _ in range(20)}
    assert len(seen) == 20


def test_concurrent_local_publishers_exactly_one_wins(tmp_path: Path) -> None:
    out = str(tmp_path / "lineage.json")
    barrier = threading.Barrier(4)
    results: dict[int, object] = {}

    def job(i: int) -> None:
        expected = None  # every job saw no document when it started
        barrier.wait()
        try:
            results[i] = store.publish(out, doc_bytes(i), expected_generation=expected)
        except store.ConcurrentWriteError as exc:
            results[i] = exc

    threads = [threading.Thread(target=job, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [i for i, r in results.items() if isinstance(r, store.Published)]
    assert len(winners) == 1
    assert sum(isinstance(r, store.ConcurrentWriteError) for r in results.values()) == 3
    assert store.read_bytes(out).data == doc_bytes(winners[0])
    history = store.list_history(out)
    assert len(history) == 1 and store.read_bytes(history[0].uri).data == doc_bytes(winners[0])


def test_history_names_order_and_pruning(tmp_path: Path) -> None:
    out = str(tmp_path / "lineage.json")
    start = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    for i in range(6):
        store.publish(out, doc_bytes(i), keep=3, now=start + timedelta(hours=i))
    history = store.list_history(out)
    assert [h.timestamp for h in history] == [
        (start + timedelta(hours=i)).isoformat(timespec="microseconds") for i in (5, 4, 3)
    ]
    assert [store.read_bytes(h.uri).data for h in history] == [doc_bytes(i) for i in (5, 4, 3)]
    files = sorted(p.name for p in (tmp_path / "history" / "lineage.json").iterdir())
    assert len(files) == 3
    assert files[-1].startswith("20250301T170000.000000Z-") and files[-1].endswith(".json")
    assert history[0].uri == store.history_uri_for(out, start + timedelta(hours=5), history[0].digest)
    import hashlib

    assert hashlib.sha256(doc_bytes(5)).hexdigest().startswith(history[0].digest)


def test_read_latest_good_falls_back_to_history(tmp_path: Path) -> None:
    out = tmp_path / "lineage.json.gz"
    store.publish(str(out), doc_bytes(1), keep=5)
    store.publish(str(out), doc_bytes(2), keep=5)
    good = store.read_latest_good(str(out), loads_document)
    assert good.warning is None and good.value.nodes[-1].id == "p.d.t2"
    # a crash of some other tool truncated the file
    out.write_bytes(out.read_bytes()[:40])
    with pytest.raises(store.CorruptObject, match="truncated"):
        store.read_bytes(str(out))
    fallback = store.read_latest_good(str(out), loads_document)
    assert fallback.value.nodes[-1].id == "p.d.t2"  # the newest history copy is the same document
    assert fallback.warning is not None
    assert "corrupt" in fallback.warning and fallback.fetched.uri in fallback.warning
    assert "/history/lineage.json.gz/" in fallback.fetched.uri


def test_read_latest_good_skips_copies_that_do_not_decode(tmp_path: Path) -> None:
    out = tmp_path / "lineage.json"
    store.publish(str(out), doc_bytes(1))
    store.publish(str(out), b'{"schema_version": 1, "nodes": [', now=datetime.now(UTC) + timedelta(seconds=1))
    good = store.read_latest_good(str(out), loads_document)
    assert good.value.nodes[-1].id == "p.d.t1"
    assert good.warning is not None and "does not decode" in good.warning and "1 newer copy" in good.warning


def test_read_latest_good_without_history_raises(tmp_path: Path) -> None:
    out = tmp_path / "lineage.json"
    out.write_bytes(b"{ not json")
    with pytest.raises(store.CorruptObject, match="no history copy"):
        store.read_latest_good(str(out), loads_document)
    with pytest.raises(store.ObjectNotFound):
        store.read_latest_good(str(tmp_path / "missing.json"), json.loads)


def test_list_uris_local(tmp_path: Path) -> None:
    sql = tmp_path / "sql"
    (sql / "a").mkdir(parents=True)
    (sql / "a" / "one.sql").write_text("select 1")
    (sql / "two.sql").write_text("select 2")
    (sql / ".two.sql.tmp-abc").write_text("half a write")  # our own temp file: never listed
    assert store.list_uris(str(sql)) == [f"{sql}/a/one.sql", f"{sql}/two.sql"]
    assert store.list_uris(f"{sql}/") == [f"{sql}/a/one.sql", f"{sql}/two.sql"]
    assert store.list_uris(sql.as_uri() + "/") == [f"{sql.as_uri()}/a/one.sql", f"{sql.as_uri()}/two.sql"]
    assert store.list_uris(f"{sql}/tw") == [f"{sql}/two.sql"]
    assert store.list_uris(str(tmp_path / "nowhere")) == []


def test_missing_and_directory_errors(tmp_path: Path) -> None:
    assert store.stat(str(tmp_path / "missing.json")) is None
    with pytest.raises(store.ObjectNotFound, match=r"missing\.json"):
        store.read_bytes(str(tmp_path / "missing.json"))
    with pytest.raises(store.StoreError, match="is a directory"):
        store.read_bytes(str(tmp_path))


def test_local_use_never_loads_the_cloud_client(tmp_path: Path) -> None:
    import subprocess
    import sys

    code = (
        "import sys; from lineage_core import store; "
        f"store.publish({str(tmp_path / 'x.json')!r}, b'{{}}'); store.read_bytes({str(tmp_path / 'x.json')!r}); "
        "store.list_history(" + repr(str(tmp_path / "x.json")) + "); "
        "assert 'google.cloud.storage' not in sys.modules, 'loaded'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
