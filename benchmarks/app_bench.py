"""Dashboard speed on a synthetic 100,000-table document (wired into `make bench` by the lead).

Measures what an analyst waits for, with the same code the app runs:

- first page ready: read + decode the document, build the graph and the search index, count;
- search p95 over 200 queries (exact names, name fragments, owners, labels, typos);
- a capped neighborhood (the graph page's default cap) computed and rendered to HTML.

Targets (DESIGN.md "Quality bars"): < 3 s, < 50 ms, < 1 s. Run it alone with
``python -m benchmarks.app_bench``.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from lineage_core.artifact import dumps_document
from lineage_core.models import Edge, LineageDocument, Node, Query

TARGET_FIRST_PAGE_S = 3.0
TARGET_SEARCH_P95_MS = 50.0
TARGET_GRAPH_S = 1.0
HUB = "acme-prod.shared.dim_date"


def synthetic_document(tables: int = 100_000, layers: int = 8, seed: int = 7) -> LineageDocument:
    """A layered warehouse: raw → staging → … → marts; every table of layer k>0 reads 1-3
    tables of layer k-1 (and sometimes k-2), written by one SQL file per table."""
    rng = random.Random(seed)
    teams = ["growth", "finance", "ops", "marketing", "platform", "risk", "sales", "support"]
    per_layer = tables // layers
    nodes: list[Node] = []
    queries: list[Query] = []
    edges: list[Edge] = []
    layer_ids: list[list[str]] = []
    nodes.append(Node(id=HUB, kind="table", labels={"team": "platform"}, owners=("platform@acme.example",)))
    for layer in range(layers):
        ids = []
        for i in range(per_layer if layer < layers - 1 else tables - per_layer * (layers - 1)):
            team = teams[(i * 7 + layer) % len(teams)]
            dataset = f"l{layer}_{team}_{i % 25:02d}"
            table_id = f"acme-prod.{dataset}.t{layer}_{i:06d}_{rng.choice(['orders', 'users', 'events', 'spend', 'items', 'stock'])}"
            ids.append(table_id)
            nodes.append(
                Node(
                    id=table_id,
                    kind="view" if i % 11 == 0 else "table",
                    labels={"team": team, "tier": ("gold", "silver", "bronze")[i % 3]},
                    owners=(f"{team}@acme.example",),
                )
            )
        layer_ids.append(ids)
    for layer in range(1, layers):
        for position, table_id in enumerate(layer_ids[layer]):
            previous = layer_ids[layer - 1]
            sources = {previous[(position * 31 + k * 977) % len(previous)] for k in range(rng.randint(1, 3))}
            if layer >= 2 and position % 5 == 0:
                sources.add(rng.choice(layer_ids[layer - 2]))
            if position % 97 == 0:
                sources.add(HUB)  # a date dimension read all over the warehouse
            query_id = f"warehouse:sql/{table_id.split('.')[1]}/{table_id.split('.')[2]}.sql"
            path = query_id.split(":", 1)[1]
            queries.append(
                Query(
                    id=query_id,
                    uri=f"examples/synthetic/{path}",
                    path=path,
                    line_start=1,
                    line_end=12,
                    source="warehouse",
                    sources=tuple(sorted(sources)),
                    targets=(table_id,),
                )
            )
            edges.extend(Edge(source, table_id, (query_id,)) for source in sorted(sources))
    return LineageDocument(
        generated_at="2025-01-01T00:00:00+00:00",
        generator={"name": "lineage-dashboard", "version": "bench", "sqlglot": "n/a"},
        config_digest="bench",
        nodes=tuple(nodes),
        queries=tuple(queries),
        edges=tuple(edges),
    )


@dataclass(frozen=True)
class AppBenchResult:
    tables: int
    first_page_s: float
    search_p95_ms: float
    search_median_ms: float
    search_warm_up_s: float
    graph_s: float
    graph_nodes: int
    graph_total: int

    @property
    def ok(self) -> bool:
        return (
            self.first_page_s < TARGET_FIRST_PAGE_S
            and self.search_p95_ms < TARGET_SEARCH_P95_MS
            and self.graph_s < TARGET_GRAPH_S
        )

    def lines(self) -> list[str]:
        return [
            f"app: first page ready ({self.tables:,} tables): {self.first_page_s:.2f} s (target < {TARGET_FIRST_PAGE_S:g} s)",
            f"app: search p95 over 200 queries: {self.search_p95_ms:.1f} ms "
            f"(median {self.search_median_ms:.1f} ms, target < {TARGET_SEARCH_P95_MS:g} ms; "
            f"typo vocabulary ready {self.search_warm_up_s:.2f} s after the first page, built in the background)",
            f"app: capped neighborhood ({self.graph_nodes} of {self.graph_total:,} nodes) computed + rendered: {self.graph_s:.3f} s "
            f"(target < {TARGET_GRAPH_S:g} s)",
        ]


def _queries(document: LineageDocument, rng: random.Random) -> list[str]:
    ids = [node.id for node in document.nodes]
    queries: list[str] = []
    for k in range(200):
        table = rng.choice(ids)
        name = table.split(".")[-1]
        match k % 5:
            case 0:
                queries.append(table)  # a pasted full name
            case 1:
                queries.append(name[: max(4, len(name) // 2)])  # a fragment
            case 2:  # a typo: swap two letters of the table name
                i = rng.randrange(1, len(name) - 1)
                queries.append(name[: i - 1] + name[i] + name[i - 1] + name[i + 1 :])
            case 3:
                queries.append(rng.choice(["growth@acme", "finance", "tier=gold", "l3_ops", "spend"]))
            case _:
                queries.append(rng.choice(["ordrs", "usres", "evnts_2", "stok", "itmes"]))
    return queries


def run_app_bench(tables: int = 100_000) -> AppBenchResult:
    # imported here so the figures include nothing but the work measured below
    from lineage_core.graph import LineageGraph
    from lineage_core.render.pyvis_html import render_neighborhood
    from lineage_core.ui.loader import decode_loaded
    from lineage_core.ui.rows import counts

    document = synthetic_document(tables)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "lineage.json"
        path.write_bytes(dumps_document(document))
        del document
        started = time.perf_counter()
        loaded = decode_loaded(path.read_bytes(), str(path), "bench")
        counts(loaded.document, loaded.graph)  # what the home page shows
        first_page = time.perf_counter() - started
    started = time.perf_counter()
    loaded.search_index.warm()  # waits for the background build of the typo vocabulary
    warm_up = time.perf_counter() - started

    rng = random.Random(11)
    timings = []
    for query in _queries(loaded.document, rng):
        started = time.perf_counter()
        loaded.search_index.search(query, limit=50)
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    p95 = timings[int(len(timings) * 0.95) - 1]

    graph: LineageGraph = loaded.graph
    started = time.perf_counter()
    hood = graph.neighborhood(HUB, up=1, down=2, cap=150)  # thousands of nodes, capped
    render_neighborhood(hood, graph.nodes, color_by="kind")
    graph_s = time.perf_counter() - started
    return AppBenchResult(
        tables=len(graph),
        first_page_s=first_page,
        search_p95_ms=p95,
        search_median_ms=statistics.median(timings),
        search_warm_up_s=warm_up,
        graph_s=graph_s,
        graph_nodes=len(hood.nodes),
        graph_total=hood.total,
    )


def main() -> int:
    result = run_app_bench()
    for line in result.lines():
        print(line)
    return 0 if result.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
