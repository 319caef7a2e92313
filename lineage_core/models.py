"""Values shared by every layer: table ids and the lineage document.

Everything here is a frozen dataclass so a document can be passed around and cached
without defensive copies. Node and table ids are plain strings (``proj.ds.table``):
a 100,000-table document must stay cheap to load and index.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

SCHEMA_VERSION = 1

NodeKind = Literal["table", "view", "external", "dashboard", "app", "job", "path"]
ErrorKind = Literal["read", "render", "parse", "unresolved", "config"]
# A file with one of these has no lineage at all; the others leave some of it.
FAILED_KINDS = frozenset({"read", "render", "parse"})


@dataclass(frozen=True, order=True)
class TableId:
    """A table name as written, split into its parts (``catalog``, ``db``, ``name``).

    A part may itself contain dots when it was quoted (``"1.2.3.SomeTable"``), so the
    parts are kept apart and only joined for display.
    """

    parts: tuple[str, ...]

    @classmethod
    def of(cls, *parts: str) -> TableId:
        return cls(tuple(p for p in parts if p))

    @classmethod
    def parse(cls, text: str) -> TableId:
        """Split a dotted name; backquotes group a part (``a.`b.c`.d``)."""
        parts: list[str] = []
        buf: list[str] = []
        quoted = False
        for ch in text.strip():
            if ch == "`":
                quoted = not quoted
            elif ch == "." and not quoted:
                parts.append("".join(buf))
                buf = []
            else:
                buf.append(ch)
        parts.append("".join(buf))
        return cls.of(*parts)

    @property
    def name(self) -> str:
        return self.parts[-1] if self.parts else ""

    @property
    def dataset(self) -> str:
        return self.parts[-2] if len(self.parts) >= 2 else ""

    @property
    def project(self) -> str:
        return self.parts[-3] if len(self.parts) >= 3 else ""

    def qualified(self, project: str | None, dataset: str | None) -> TableId:
        """Fill in a default project/dataset for names written without them."""
        upper = [p.upper() for p in self.parts]
        if "INFORMATION_SCHEMA" in upper:
            # `region-us.INFORMATION_SCHEMA.JOBS` and `ds.INFORMATION_SCHEMA.TABLES` live in
            # the default project, like any dataset-qualified name.
            if upper.index("INFORMATION_SCHEMA") == 1 and project:
                return TableId.of(project, *self.parts)
            return self
        if len(self.parts) == 1 and dataset:
            return TableId.of(project or "", dataset, self.parts[0])
        if len(self.parts) == 2 and project and "://" not in self.parts[0]:
            return TableId.of(project, *self.parts)
        return self

    def __str__(self) -> str:
        return ".".join(self.parts)


@dataclass(frozen=True)
class Node:
    id: str
    kind: NodeKind = "table"
    labels: dict[str, str] = field(default_factory=dict)
    owners: tuple[str, ...] = ()
    url: str | None = None
    description: str | None = None

    @property
    def dataset(self) -> str:
        if self.kind in ("dashboard", "app", "job", "path"):
            return ""  # ids like `connected_sheets:user/a@b.example` are not dotted names
        parts = self.id.split(".")
        return parts[-2] if len(parts) >= 2 else ""


@dataclass(frozen=True)
class Query:
    """One SQL file (or one query of a BI tool): what it reads and writes as a whole."""

    id: str
    uri: str
    path: str
    line_start: int
    line_end: int
    source: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    sources: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()
    digest: str = ""


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    query_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class ColumnEdge:
    source: str  # "proj.ds.table.column"
    target: str
    query_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class ErrorRecord:
    uri: str
    path: str
    line: int | None
    kind: ErrorKind
    message: str
    variable: str | None = None  # the undefined Jinja variable, for `lineage check`


@dataclass(frozen=True)
class SourceCoverage:
    name: str
    root: str
    files: int
    ok: int
    failed: int


@dataclass(frozen=True)
class LineageDocument:
    generated_at: str
    generator: dict[str, str]
    config_digest: str
    nodes: tuple[Node, ...] = ()
    queries: tuple[Query, ...] = ()
    edges: tuple[Edge, ...] = ()
    errors: tuple[ErrorRecord, ...] = ()
    columns: tuple[ColumnEdge, ...] | None = None
    coverage: tuple[SourceCoverage, ...] = ()
    shard: tuple[int, int] | None = None  # (index, count) of a partial document
    schema_version: int = SCHEMA_VERSION
