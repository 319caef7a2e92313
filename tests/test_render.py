"""The graph HTML: offline, inert with hostile names, capped, colored with a legend."""

from __future__ import annotations

import json
import re

import pytest

from lineage_core.graph import LineageGraph
from lineage_core.models import Node
from lineage_core.render.colors import HEALTH_COLORS, KIND_COLORS, node_colors
from lineage_core.render.pyvis_html import (
    HIERARCHICAL_MAX_NODES,
    GraphNode,
    render_graph,
    render_neighborhood,
    script_json,
    tooltip_html,
)

XSS = "<img src=x onerror=alert(1)>"
EXTERNAL = re.compile(r"""<(script|link|img|iframe)\b[^>]*\b(src|href)\s*=\s*["']?\s*(https?:)?//""", re.I)


def graph_of(count: int, label: str = "") -> tuple[LineageGraph, dict[str, Node]]:
    nodes = {f"p.d.t{i}": Node(f"p.d.t{i}", labels={"x": label} if label else {}) for i in range(count)}
    edges = [("p.d.t0", f"p.d.t{i}") for i in range(1, count)]
    return LineageGraph(nodes, edges, nodes=nodes), nodes


def embedded(html: str, name: str) -> list[dict[str, object]]:
    match = re.search(rf"var {name} = (.*?);\n", html)
    assert match, name
    return json.loads(match.group(1))  # type: ignore[no-any-return]


def test_html_works_offline_with_vis_inlined() -> None:
    graph, nodes = graph_of(5)
    html = render_neighborhood(graph.neighborhood("p.d.t0"), nodes)
    assert not EXTERNAL.search(html), "the page must not load scripts or styles from the network"
    assert "<script src" not in html and "<link" not in html
    assert "vis.Network" in html and ".vis-network" in html  # the library and its CSS are inline
    assert "Content-Security-Policy" in html and "default-src 'none'" in html


def test_hostile_names_and_labels_stay_text() -> None:
    evil_id = f"p.d.{XSS}"
    nodes = {evil_id: Node(evil_id, labels={"evil": XSS}, owners=(XSS,)), "p.d.ok": Node("p.d.ok")}
    graph = LineageGraph(nodes, [(evil_id, "p.d.ok")], nodes=nodes)
    html = render_neighborhood(graph.neighborhood(evil_id), nodes, color_by="dataset")
    # nothing from the document appears as markup: "<" only ever reaches the page as \u003c
    assert "<img" not in html and "onerror=alert(1)>" not in html
    drawn = {n["id"]: n for n in embedded(html, "nodeData")}
    title = str(drawn[evil_id]["title"])
    assert "&lt;img src=x onerror=alert(1)&gt;" in title and "<img" not in title
    assert drawn[evil_id]["label"] == XSS  # canvas text: drawn, never parsed
    assert "</script" not in html.split("<script>", 2)[2].split("</script>")[0]


def test_script_json_cannot_close_the_script() -> None:
    text = script_json({"a": "</script><script>alert(1)</script>", "b": "&\u2028"})
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text) == {"a": "</script><script>alert(1)</script>", "b": "&\u2028"}


def test_tooltip_escapes_each_line() -> None:
    assert tooltip_html(["a<b", '"q"']) == "a&lt;b<br>&quot;q&quot;"


def test_small_graphs_are_left_to_right_hierarchies() -> None:
    graph, nodes = graph_of(10)
    html = render_neighborhood(graph.neighborhood("p.d.t1", up=1, down=1), nodes)
    options = json.loads(re.search(r"var options = (.*?);\n", html).group(1))  # type: ignore[union-attr]
    assert options["layout"]["hierarchical"]["direction"] == "LR"
    assert options["physics"] == {"enabled": False}
    levels = {n["id"]: n["level"] for n in embedded(html, "nodeData")}
    assert levels["p.d.t0"] < levels["p.d.t1"]  # upstream left of the center


def test_large_graphs_use_capped_barnes_hut() -> None:
    graph, nodes = graph_of(1000)
    hood = graph.neighborhood("p.d.t0", up=1, down=1, cap=1000)
    assert len(hood.nodes) > HIERARCHICAL_MAX_NODES
    html = render_neighborhood(hood, nodes)
    options = json.loads(re.search(r"var options = (.*?);\n", html).group(1))  # type: ignore[union-attr]
    physics = options["physics"]
    assert physics["solver"] == "barnesHut" and physics["stabilization"]["iterations"] <= 300
    assert options["layout"]["improvedLayout"] is False
    assert 'network.setOptions({physics: {enabled: false}})' in html  # stops once stable


def test_draws_exactly_the_capped_nodes() -> None:
    graph, nodes = graph_of(5000)
    hood = graph.neighborhood("p.d.t0", up=1, down=1, cap=150)
    assert (len(hood.nodes), hood.total) == (150, 5000)
    html = render_neighborhood(hood, nodes)
    assert len(embedded(html, "nodeData")) == 150
    assert all(e["from"] in hood.nodes and e["to"] in hood.nodes for e in embedded(html, "edgeData"))


@pytest.mark.parametrize("color_by", ["kind", "dataset", "health"])
def test_colors_have_a_legend_of_exactly_the_colors_used(color_by: str) -> None:
    nodes = {"a.x.t": Node("a.x.t", "view"), "a.y.u": Node("a.y.u"), "a.y.v": Node("a.y.v", "dashboard")}
    colors, legend = node_colors(nodes, nodes, color_by, {"a.x.t": "late"})  # type: ignore[arg-type]
    assert set(colors.values()) == {color for _, color in legend}
    if color_by == "kind":
        assert colors["a.x.t"] == KIND_COLORS["view"]
    if color_by == "health":
        assert colors["a.x.t"] == HEALTH_COLORS["late"] and ("no health data", colors["a.y.u"]) in legend


def test_legend_is_escaped_and_colors_are_validated() -> None:
    html = render_graph(
        [GraphNode("n", "n")],
        [],
        node_colors={"n": "red;background:url(//evil)"},
        legend=[(XSS, "#123456"), ("x", "url(//evil)")],
    )
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "//evil" not in html
