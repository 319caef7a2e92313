"""LineageGraph and selectors: traversals, caps, paths, resolution."""

from __future__ import annotations

import pytest

from lineage_core.graph import LineageGraph
from lineage_core.models import Node
from lineage_core.selectors import Selector, select

#   raw.a ─┐
#          ├─> stg.c ─> marts.e ─> rep.f
#   raw.b ─┘            ^
#   raw.d ──────────────┘
EDGES = [
    ("p.raw.a", "p.stg.c"),
    ("p.raw.b", "p.stg.c"),
    ("p.stg.c", "p.marts.e"),
    ("p.raw.d", "p.marts.e"),
    ("p.marts.e", "p.rep.f"),
]
NODES = {n: Node(n, "external" if ".raw." in n else "table") for e in EDGES for n in e}
NODES["p.marts.e"] = Node("p.marts.e", "table", {"tier": "gold"}, ("ana@x",))


@pytest.fixture
def graph() -> LineageGraph:
    return LineageGraph(sorted(NODES), EDGES, nodes=NODES)


@pytest.mark.parametrize(
    ("start", "direction", "depth", "expected"),
    [
        ("p.raw.a", "down", 1, {"p.stg.c": 1}),
        ("p.raw.a", "down", 2, {"p.stg.c": 1, "p.marts.e": 2}),
        ("p.raw.a", "down", None, {"p.stg.c": 1, "p.marts.e": 2, "p.rep.f": 3}),
        ("p.rep.f", "up", 1, {"p.marts.e": 1}),
        ("p.rep.f", "up", None, {"p.marts.e": 1, "p.stg.c": 2, "p.raw.d": 2, "p.raw.a": 3, "p.raw.b": 3}),
        ("p.rep.f", "down", None, {}),
    ],
)
def test_traversals(
    graph: LineageGraph, start: str, direction: str, depth: int | None, expected: dict[str, int]
) -> None:
    walk = graph.downstream if direction == "down" else graph.upstream
    assert {r.id: r.distance for r in walk(start, depth)} == expected


def test_paths_say_how_a_consumer_is_reached(graph: LineageGraph) -> None:
    reached = {r.id: r.path for r in graph.downstream("p.raw.a", None)}
    assert reached["p.rep.f"] == ("p.raw.a", "p.stg.c", "p.marts.e", "p.rep.f")
    assert graph.shortest_path("p.raw.d", "p.rep.f") == ("p.raw.d", "p.marts.e", "p.rep.f")
    assert graph.shortest_path("p.rep.f", "p.raw.d") is None


def test_neighborhood_caps_nearest_first() -> None:
    edges = [("center", f"child{i:04d}") for i in range(5000)] + [("parent", "center")]
    graph = LineageGraph(["center"], edges)
    hood = graph.neighborhood("center", up=1, down=1, cap=150)
    assert len(hood.nodes) == 150 and hood.total == 5002 and hood.truncated
    assert hood.nodes[0] == "center" and "parent" in hood.nodes
    assert all(s in hood.nodes and t in hood.nodes for s, t in hood.edges)
    assert hood.distance["parent"] == -1


def test_cycles_terminate() -> None:
    graph = LineageGraph([], [("a", "b"), ("b", "c"), ("c", "a")])
    assert {r.id for r in graph.downstream("a", None)} == {"b", "c"}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("p.marts.e", ["p.marts.e"]),
        ("marts.e", ["p.marts.e"]),
        ("MARTS.E", ["p.marts.e"]),
        ("`p.marts.e`", ["p.marts.e"]),
        ("e", ["p.marts.e"]),
        ("zzz", []),
    ],
)
def test_resolve(graph: LineageGraph, name: str, expected: list[str]) -> None:
    assert graph.resolve(name) == expected


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("p.marts.e", {"p.marts.e"}),
        ("+p.marts.e", {"p.marts.e", "p.stg.c", "p.raw.a", "p.raw.b", "p.raw.d"}),
        ("1+p.marts.e", {"p.marts.e", "p.stg.c", "p.raw.d"}),
        ("p.stg.c+", {"p.stg.c", "p.marts.e", "p.rep.f"}),
        ("p.stg.c+1", {"p.stg.c", "p.marts.e"}),
        ("dataset:raw", {"p.raw.a", "p.raw.b", "p.raw.d"}),
        ("p.raw.*", {"p.raw.a", "p.raw.b", "p.raw.d"}),
        ("label:tier=gold", {"p.marts.e"}),
        ("label:tier", {"p.marts.e"}),
        ("label:tier=silver", set()),
        ("owner:ana@x", {"p.marts.e"}),
        ("kind:external", {"p.raw.a", "p.raw.b", "p.raw.d"}),
        ("dataset:rep, p.raw.a", {"p.rep.f", "p.raw.a"}),
    ],
)
def test_selectors(graph: LineageGraph, selector: str, expected: set[str]) -> None:
    assert select(selector, graph) == expected


def test_selector_parse() -> None:
    s = Selector.parse("2+dataset:marts+")
    assert (s.method, s.value, s.up, s.down) == ("dataset", "marts", 2, None)
