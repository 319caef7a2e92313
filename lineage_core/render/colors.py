"""Node colors and their legend: by kind, by dataset or by health status.

Pure and shared: the lineage graph page and the data-health page color the same way.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Literal

from lineage_core.models import Node

ColorBy = Literal["kind", "dataset", "health"]
COLOR_BY: tuple[ColorBy, ...] = ("kind", "dataset", "health")

KIND_COLORS: Mapping[str, str] = {
    "table": "#4C78A8",
    "view": "#72B7B2",
    "external": "#9D755D",
    "dashboard": "#E45756",
    "app": "#B279A2",
    "job": "#EECA3B",
    "path": "#BAB0AC",
}
HEALTH_COLORS: Mapping[str, str] = {
    "on_time": "#54A24B",
    "late": "#F58518",
    "stale": "#E45756",
    "upstream_late": "#EECA3B",
    "error": "#B279A2",
    "unknown": "#BAB0AC",
}
NO_DATA = "#D9D9D9"
# Tableau 10 minus the grays: distinguishable, and readable with black labels.
DATASET_PALETTE = (
    "#4C78A8", "#F58518", "#54A24B", "#E45756", "#72B7B2",
    "#EECA3B", "#B279A2", "#FF9DA6", "#9D755D", "#59A14F",
)  # fmt: skip
OTHER = "#BAB0AC"

Legend = list[tuple[str, str]]  # (label, color)


def _dataset(node_id: str) -> str:
    parts = node_id.split(".")
    return parts[-2] if len(parts) >= 2 else "(none)"


def node_colors(
    ids: Iterable[str],
    nodes: Mapping[str, Node],
    color_by: ColorBy,
    health: Mapping[str, str] | None = None,
) -> tuple[dict[str, str], Legend]:
    """A color per node id and the legend for exactly the colors used."""
    ids = list(ids)
    colors: dict[str, str] = {}
    used: dict[str, str] = {}
    if color_by == "dataset":
        # the most frequent datasets get their own color, the rest share "other"
        ranked = [name for name, _ in Counter(_dataset(i) for i in ids).most_common()]
        own = {name: DATASET_PALETTE[k] for k, name in enumerate(ranked[: len(DATASET_PALETTE)])}
        for node_id in ids:
            dataset = _dataset(node_id)
            label = dataset if dataset in own else "other datasets"
            colors[node_id] = used[label] = own.get(dataset, OTHER)
        order = [name for name in ranked if name in used] + (["other datasets"] if "other datasets" in used else [])
        return colors, [(label, used[label]) for label in order]
    if color_by == "health":
        for node_id in ids:
            status = (health or {}).get(node_id) or ""
            label = status if status in HEALTH_COLORS else "no health data"
            colors[node_id] = used[label] = HEALTH_COLORS.get(label, NO_DATA)
        order = [s for s in HEALTH_COLORS if s in used] + (["no health data"] if "no health data" in used else [])
        return colors, [(label.replace("_", " "), used[label]) for label in order]
    for node_id in ids:
        node = nodes.get(node_id)
        kind = node.kind if node else "table"
        colors[node_id] = used[kind] = KIND_COLORS.get(kind, OTHER)
    return colors, [(kind, used[kind]) for kind in KIND_COLORS if kind in used]
