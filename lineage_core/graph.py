"""LineageGraph: the one object the CLI, the app and the health evaluator ask questions of.

Nodes are indexed by integers so a 100,000-table document builds its graph in well under a
second; every traversal is a breadth-first search that stops at ``depth`` and records the
first path through which each node was reached ("consumer X via Y").
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Literal

from lineage_core.models import LineageDocument, Node

Direction = Literal["up", "down"]


@dataclass(frozen=True)
class Reached:
    """A node found by a traversal, ``distance`` hops away, through ``path`` (start … node)."""

    id: str
    distance: int
    path: tuple[str, ...]


@dataclass(frozen=True)
class Neighborhood:
    center: str
    nodes: tuple[str, ...]
    edges: tuple[tuple[str, str], ...]
    distance: Mapping[str, int]  # signed: upstream < 0 < downstream
    total: int  # how many nodes the neighborhood has before the cap
    cap: int

    @property
    def truncated(self) -> bool:
        return self.total > len(self.nodes)


class LineageGraph:
    """Directed graph of tables (or columns): an edge ``a → b`` means b is derived from a."""

    def __init__(
        self,
        node_ids: Iterable[str],
        edges: Iterable[tuple[str, str]],
        nodes: Mapping[str, Node] | None = None,
        edge_queries: Mapping[tuple[str, str], tuple[str, ...]] | None = None,
    ) -> None:
        self.ids: list[str] = []
        self.index: dict[str, int] = {}
        for node_id in node_ids:
            self._add(node_id)
        self._down: list[list[int]] = [[] for _ in self.ids]
        self._up: list[list[int]] = [[] for _ in self.ids]
        seen: set[tuple[int, int]] = set()
        for source, target in edges:
            s, t = self._add(source), self._add(target)
            if (s, t) in seen or s == t:
                continue
            seen.add((s, t))
            self._down[s].append(t)
            self._up[t].append(s)
        self.nodes: Mapping[str, Node] = nodes or {}
        self.edge_queries: Mapping[tuple[str, str], tuple[str, ...]] = edge_queries or {}
        self._lower: dict[str, list[str]] | None = None

    def _add(self, node_id: str) -> int:
        found = self.index.get(node_id)
        if found is not None:
            return found
        self.index[node_id] = len(self.ids)
        self.ids.append(node_id)
        if hasattr(self, "_down"):
            self._down.append([])
            self._up.append([])
        return len(self.ids) - 1

    @classmethod
    def from_document(cls, document: LineageDocument) -> LineageGraph:
        nodes = {node.id: node for node in document.nodes}
        return cls(
            nodes,
            ((edge.source, edge.target) for edge in document.edges),
            nodes=nodes,
            edge_queries={(e.source, e.target): e.query_ids for e in document.edges},
        )

    @classmethod
    def of_columns(cls, document: LineageDocument) -> LineageGraph:
        edges = [(c.source, c.target) for c in document.columns or ()]
        ids = sorted({end for edge in edges for end in edge})
        return cls(ids, edges, edge_queries={(c.source, c.target): c.query_ids for c in document.columns or ()})

    def __contains__(self, node_id: object) -> bool:
        return node_id in self.index

    def __len__(self) -> int:
        return len(self.ids)

    def __iter__(self) -> Iterator[str]:
        return iter(self.ids)

    @property
    def edge_count(self) -> int:
        return sum(len(targets) for targets in self._down)

    def edges(self) -> Iterator[tuple[str, str]]:
        for s, targets in enumerate(self._down):
            for t in targets:
                yield self.ids[s], self.ids[t]

    def parents(self, node_id: str) -> list[str]:
        return [self.ids[i] for i in self._up[self.index[node_id]]]

    def children(self, node_id: str) -> list[str]:
        return [self.ids[i] for i in self._down[self.index[node_id]]]

    def roots(self) -> list[str]:
        return [self.ids[i] for i, ups in enumerate(self._up) if not ups]

    def leaves(self) -> list[str]:
        return [self.ids[i] for i, downs in enumerate(self._down) if not downs]

    # -- name resolution -------------------------------------------------------------
    def resolve(self, name: str) -> list[str]:
        """Ids matching ``name``: exact, case-insensitive, or a unique dotted suffix."""
        name = name.strip().strip("`")
        if name in self.index:
            return [name]
        if self._lower is None:
            lower: dict[str, list[str]] = {}
            for node_id in self.ids:
                lower.setdefault(node_id.lower(), []).append(node_id)
                parts = node_id.lower().split(".")
                for k in range(1, len(parts)):
                    lower.setdefault(".".join(parts[k:]), []).append(node_id)
            self._lower = lower
        return sorted(set(self._lower.get(name.lower(), [])))

    # -- traversals ------------------------------------------------------------------
    def _walk(self, start: str, direction: Direction, depth: int | None) -> list[Reached]:
        adjacency = self._down if direction == "down" else self._up
        origin = self.index[start]
        parent: dict[int, int] = {origin: -1}
        distance = {origin: 0}
        order: list[int] = []
        queue = deque([origin])
        while queue:
            current = queue.popleft()
            if depth is not None and distance[current] >= depth:
                continue
            for nxt in adjacency[current]:
                if nxt in parent:
                    continue
                parent[nxt] = current
                distance[nxt] = distance[current] + 1
                order.append(nxt)
                queue.append(nxt)
        reached = []
        for node in order:
            path = [node]
            while parent[path[-1]] != -1:
                path.append(parent[path[-1]])
            reached.append(Reached(self.ids[node], distance[node], tuple(self.ids[i] for i in reversed(path))))
        return reached

    def downstream(self, table: str, depth: int | None = 1) -> list[Reached]:
        """Consumers of ``table`` up to ``depth`` hops (None: all), nearest first."""
        return self._walk(table, "down", depth)

    def upstream(self, table: str, depth: int | None = 1) -> list[Reached]:
        """Sources of ``table`` up to ``depth`` hops (None: all), nearest first."""
        return self._walk(table, "up", depth)

    def impact(self, table: str) -> list[Reached]:
        """Everything downstream of ``table``, at any depth."""
        return self.downstream(table, None)

    def neighborhood(self, center: str, up: int = 1, down: int = 1, cap: int = 150) -> Neighborhood:
        """Nodes within ``up`` hops upstream and ``down`` hops downstream, nearest first, at most ``cap``."""
        ups = self.upstream(center, up)
        downs = self.downstream(center, down)
        ranked = sorted(
            [(0, 0, center)] + [(r.distance, 0, r.id) for r in ups] + [(r.distance, 1, r.id) for r in downs]
        )
        distance: dict[str, int] = {center: 0}
        for r in ups:
            distance[r.id] = -r.distance
        for r in downs:
            distance.setdefault(r.id, r.distance)
        kept = [node for _, _, node in ranked[: max(cap, 1)]]
        keep = set(kept)
        edges = []
        for node in kept:
            source = self.index[node]
            for target in self._down[source]:
                target_id = self.ids[target]
                if target_id in keep:
                    edges.append((node, target_id))
        return Neighborhood(
            center=center,
            nodes=tuple(kept),
            edges=tuple(edges),
            distance={node: distance[node] for node in kept},
            total=len(distance),
            cap=cap,
        )

    def shortest_path(self, source: str, target: str) -> tuple[str, ...] | None:
        """The shortest directed path from ``source`` down to ``target`` (or None)."""
        if source == target:
            return (source,)
        for reached in self.downstream(source, None):
            if reached.id == target:
                return reached.path
        return None

    def subgraph_edges(self, keep: Iterable[str]) -> list[tuple[str, str]]:
        wanted = {self.index[n] for n in keep if n in self.index}
        return [(self.ids[s], self.ids[t]) for s in wanted for t in self._down[s] if t in wanted]
