"""dbt-style selectors shared by config (owners, labels, freshness) and the CLI.

``proj.ds.t``            one table (a dotted suffix such as ``ds.t`` works too)
``proj.ds.*``            a glob over table ids
``dataset:marts``        every table of a dataset
``label:tier=gold``      tables with that label (``label:tier`` for any value)
``owner:team@x``         tables owned by someone
``kind:view``            tables of a kind
``+t`` / ``2+t``         t and everything (or 2 hops) upstream
``t+`` / ``t+3``         t and everything (or 3 hops) downstream
``a, b``                 the union of several selectors
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from dataclasses import dataclass

from lineage_core.errors import UsageError
from lineage_core.graph import LineageGraph
from lineage_core.models import Node

_GRAPH_OPERATORS = re.compile(r"^(?P<up>\d*\+)?(?P<body>.+?)(?P<down>\+\d*)?$")


@dataclass(frozen=True)
class Selector:
    text: str
    method: str  # name | glob | dataset | label | owner | kind
    value: str
    up: int | None = 0  # hops upstream (None: all)
    down: int | None = 0

    @classmethod
    def parse(cls, text: str) -> Selector:
        raw = text.strip()
        if not raw:
            raise UsageError("empty selector")
        match = _GRAPH_OPERATORS.match(raw)
        assert match is not None  # the pattern matches any non-empty text
        body = match.group("body")
        up = _hops(match.group("up"), prefix=True)
        down = _hops(match.group("down"), prefix=False)
        method, value = "name", body
        if ":" in body and body.split(":", 1)[0] in {"dataset", "label", "owner", "kind", "name"}:
            method, value = body.split(":", 1)
        elif any(ch in body for ch in "*?["):
            method = "glob"
        if not value:
            raise UsageError(f"selector '{text}' has no value after '{method}:'")
        return cls(raw, method, value, up, down)

    def seeds(self, graph: LineageGraph, nodes: Mapping[str, Node]) -> set[str]:
        if self.method == "name":
            return set(graph.resolve(self.value))
        if self.method == "glob":
            pattern = self.value.lower()
            return {n for n in graph.ids if fnmatch.fnmatchcase(n.lower(), pattern)}
        if self.method == "dataset":
            wanted = self.value.lower()
            return {n for n in graph.ids if _dataset_matches(n, wanted)}
        if self.method == "label":
            key, _, value = self.value.partition("=")
            return {n for n, node in nodes.items() if key in node.labels and (not value or node.labels[key] == value)}
        if self.method == "owner":
            return {n for n, node in nodes.items() if self.value in node.owners}
        if self.method == "kind":
            return {n for n, node in nodes.items() if node.kind == self.value}
        raise UsageError(f"unknown selector method '{self.method}'")

    def select(self, graph: LineageGraph, nodes: Mapping[str, Node] | None = None) -> set[str]:
        chosen = self.seeds(graph, nodes if nodes is not None else graph.nodes)
        result = set(chosen)
        for seed in chosen:
            if self.up != 0:
                result.update(r.id for r in graph.upstream(seed, self.up))
            if self.down != 0:
                result.update(r.id for r in graph.downstream(seed, self.down))
        return result


def _hops(token: str | None, *, prefix: bool) -> int | None:
    if not token:
        return 0
    digits = token.rstrip("+") if prefix else token.lstrip("+")
    return int(digits) if digits else None


def _dataset_matches(node_id: str, wanted: str) -> bool:
    parts = node_id.lower().split(".")
    if len(parts) < 2:
        return False
    return parts[-2] == wanted or ".".join(parts[:-1]) == wanted


def select(text: str, graph: LineageGraph, nodes: Mapping[str, Node] | None = None) -> set[str]:
    """Union of the comma-separated selectors in ``text``."""
    result: set[str] = set()
    for part in text.split(","):
        if part.strip():
            result |= Selector.parse(part).select(graph, nodes)
    return result
