"""A lineage graph as one self-contained HTML page (pyvis → vis-network), safe and offline.

- Offline: vis-network's JS and CSS are inlined from the copy pyvis ships; the page has no
  ``http(s)://`` script or stylesheet (pyvis's own template pulls bootstrap from a CDN, so this
  module uses pyvis for the graph data and options and its own small page around them).
- Safe: every text from the document is untrusted. Data goes into the page as JSON with ``<``,
  ``>`` and ``&`` escaped, so it can never close the ``<script>``; tooltips are HTML in
  vis-network, so their text is ``html.escape``d line by line before it becomes markup; labels
  are drawn on the canvas as text; the legend is escaped too.
- Readable and never frozen: small graphs use a left-to-right hierarchical layout (no physics,
  instant); large ones a tuned barnesHut simulation whose stabilization is capped and which is
  switched off once stable, so 1,000 nodes settle in seconds instead of spinning forever.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any, Literal

from pyvis.network import Network

from lineage_core.graph import Neighborhood
from lineage_core.models import Node
from lineage_core.render.colors import ColorBy, Legend, node_colors

Physics = Literal["auto", "hierarchical", "force"]
# Up to this many nodes a layered left-to-right drawing stays readable.
HIERARCHICAL_MAX_NODES = 80
VIS_VERSION = "vis-9.1.2"
_COLOR = re.compile(r"^(#[0-9a-fA-F]{3,8}|rgba?\(\s*[\d.\s,%]+\))$")


@dataclass(frozen=True)
class GraphNode:
    """One node to draw. ``title`` lines are plain text (escaped here); ``level`` orders the
    hierarchical layout left to right (upstream < 0 < downstream works)."""

    id: str
    label: str
    title: Sequence[str] = ()
    level: int | None = None
    center: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict)


@lru_cache(maxsize=1)
def _assets() -> tuple[str, str]:
    base = resources.files("pyvis").joinpath("templates", "lib", VIS_VERSION)
    script = base.joinpath("vis-network.min.js").read_text(encoding="utf-8")
    style = base.joinpath("vis-network.css").read_text(encoding="utf-8")
    # neither file contains these today; keep it that way whatever pyvis ships next
    return script.replace("</script", "<\\/script"), style.replace("</style", "<\\/style")


def script_json(value: Any) -> str:
    """JSON that is inert inside a ``<script>`` element whatever strings it carries."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def tooltip_html(lines: Sequence[str]) -> str:
    """Tooltip markup: each line escaped, joined by ``<br>``; the only tags are ours."""
    return "<br>".join(html.escape(line, quote=True) for line in lines)


def _safe_color(color: str | None) -> str:
    return color if color and _COLOR.match(color) else "#BAB0AC"


def _options(count: int, hierarchical: bool) -> dict[str, Any]:
    options: dict[str, Any] = {
        "interaction": {"hover": True, "tooltipDelay": 120, "hideEdgesOnDrag": count > 300, "navigationButtons": False},
        "nodes": {"shape": "dot", "size": 12, "font": {"size": 13, "face": "sans-serif"}, "borderWidth": 1},
        "edges": {"arrows": {"to": {"enabled": True, "scaleFactor": 0.5}}, "color": {"color": "#9AA0A6", "highlight": "#333333"}},
    }
    if hierarchical:
        options["layout"] = {
            "hierarchical": {
                "enabled": True,
                "direction": "LR",
                "sortMethod": "directed",
                "levelSeparation": 240,
                "nodeSpacing": 70,
                "treeSpacing": 60,
                "shakeTowards": "roots",
            }
        }
        options["physics"] = {"enabled": False}
        options["edges"]["smooth"] = {"enabled": True, "type": "cubicBezier", "forceDirection": "horizontal", "roundness": 0.4}
    else:
        # Capped stabilization: the page shows a settled graph after at most this many steps,
        # then physics is turned off (see the script) so the browser is never kept busy.
        iterations = 300 if count <= 300 else 150
        options["layout"] = {"improvedLayout": count <= 100, "randomSeed": 7}
        options["physics"] = {
            "enabled": True,
            "solver": "barnesHut",
            "barnesHut": {
                "gravitationalConstant": -6000,
                "centralGravity": 0.3,
                "springLength": 110,
                "springConstant": 0.05,
                "damping": 0.5,
                "avoidOverlap": 0.1,
                "theta": 0.6,
            },
            "maxVelocity": 60,
            "minVelocity": 1.0,
            "timestep": 0.5,
            "adaptiveTimestep": True,
            "stabilization": {"enabled": True, "iterations": iterations, "updateInterval": 25, "fit": True},
        }
        options["edges"]["smooth"] = {"enabled": count <= 300, "type": "continuous"}
    return options


def render_graph(
    nodes: Sequence[GraphNode],
    edges: Sequence[tuple[str, str]],
    *,
    node_colors: Mapping[str, str],
    legend: Legend,
    height: int = 600,
    physics: Physics = "auto",
) -> str:
    """The HTML page of a graph. Draws exactly ``nodes`` (callers apply their cap first)."""
    hierarchical = physics == "hierarchical" or (
        physics == "auto" and len(nodes) <= HIERARCHICAL_MAX_NODES and all(n.level is not None for n in nodes)
    )
    network = Network(height=f"{height}px", width="100%", directed=True, cdn_resources="in_line")
    for node in nodes:
        attributes: dict[str, Any] = {
            "label": node.label,
            "title": tooltip_html(node.title or (node.id,)),
            "color": _safe_color(node_colors.get(node.id)),
        }
        if hierarchical and node.level is not None:
            attributes["level"] = node.level
        if node.center:
            attributes.update(size=22, borderWidth=3, font={"size": 16, "bold": True})
        attributes.update(node.extra)
        network.add_node(node.id, **attributes)
    known = set(network.node_ids)
    for source, target in edges:
        if source in known and target in known:
            network.add_edge(source, target)
    network.options = _options(len(nodes), hierarchical)
    data_nodes, data_edges, _heading, _height, _width, options = network.get_network_data()
    script, style = _assets()
    legend_html = "".join(
        f'<span class="item"><span class="swatch" style="background:{_safe_color(color)}"></span>'
        f"{html.escape(label)}</span>"
        for label, color in legend
    )
    return _PAGE.format(
        style=style,
        script=script,
        height=int(height),
        legend=legend_html,
        nodes=script_json(data_nodes),
        edges=script_json(data_edges),
        options=script_json(json.loads(options) if isinstance(options, str) else options),
    )


def neighborhood_nodes(
    hood: Neighborhood, nodes: Mapping[str, Node], health: Mapping[str, str] | None = None
) -> list[GraphNode]:
    """GraphNodes of a neighborhood: label = table name, tooltip = id, kind, owners, labels."""
    deepest_up = -min(hood.distance.values(), default=0)
    graph_nodes = []
    for node_id in hood.nodes:
        node = nodes.get(node_id)
        distance = hood.distance.get(node_id, 0)
        where = "this table" if distance == 0 else f"{abs(distance)} hop(s) {'upstream' if distance < 0 else 'downstream'}"
        lines = [node_id, f"kind: {node.kind if node else 'table'} · {where}"]
        if node and node.owners:
            lines.append("owners: " + ", ".join(node.owners))
        if node and node.labels:
            lines.append("labels: " + ", ".join(f"{k}={v}" for k, v in sorted(node.labels.items())))
        if health and node_id in health:
            lines.append(f"health: {health[node_id]}")
        graph_nodes.append(
            GraphNode(
                id=node_id,
                label=node_id.split(".")[-1] if "://" not in node_id else node_id,
                title=lines,
                level=distance + deepest_up,
                center=node_id == hood.center,
            )
        )
    return graph_nodes


def render_neighborhood(
    hood: Neighborhood,
    nodes: Mapping[str, Node],
    *,
    color_by: ColorBy = "kind",
    health: Mapping[str, str] | None = None,
    height: int = 620,
    physics: Physics = "auto",
) -> str:
    colors, legend = node_colors(hood.nodes, nodes, color_by, health)
    return render_graph(
        neighborhood_nodes(hood, nodes, health), hood.edges, node_colors=colors, legend=legend, height=height, physics=physics
    )


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; font-src data:">
<style>{style}</style>
<style>
  html, body {{ margin: 0; padding: 0; font-family: sans-serif; background: #ffffff; }}
  #graph {{ width: 100%; height: {height}px; border: 1px solid #e6e6e6; box-sizing: border-box; }}
  #legend {{ font-size: 12px; padding: 4px 2px; color: #31333f; }}
  #legend .item {{ margin-right: 12px; white-space: nowrap; }}
  #legend .swatch {{ display: inline-block; width: 10px; height: 10px; border-radius: 5px; margin-right: 4px; vertical-align: middle; }}
  #status {{ font-size: 12px; color: #808495; padding: 2px; }}
  div.vis-tooltip {{ max-width: 420px; white-space: normal; overflow-wrap: anywhere; }}
</style>
</head>
<body>
<div id="legend">{legend}</div>
<div id="graph"></div>
<div id="status">laying out…</div>
<script>{script}</script>
<script>
(function () {{
  var nodeData = {nodes};
  var edgeData = {edges};
  var options = {options};
  // Tooltips: the escaped markup built in Python becomes an element, so vis-network never
  // parses a string of its own and the escaped text shows as text.
  nodeData.forEach(function (node) {{
    if (typeof node.title === "string") {{
      var tip = document.createElement("div");
      tip.innerHTML = node.title;
      node.title = tip;
    }}
  }});
  var container = document.getElementById("graph");
  var status = document.getElementById("status");
  var network = new vis.Network(container, {{nodes: new vis.DataSet(nodeData), edges: new vis.DataSet(edgeData)}}, options);
  function ready() {{
    network.setOptions({{physics: {{enabled: false}}}});
    status.textContent = nodeData.length + " nodes, " + edgeData.length + " edges";
    document.body.setAttribute("data-graph-ready", "1");
    window.lineageGraphReady = true;
  }}
  if (options.physics && options.physics.enabled) {{
    network.once("stabilizationIterationsDone", ready);
  }} else {{
    network.once("afterDrawing", ready);
  }}
  window.lineageNetwork = network;
}})();
</script>
</body>
</html>
"""
