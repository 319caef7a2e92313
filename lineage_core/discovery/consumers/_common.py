"""Shared by every consumer source: option validation, SQL → tables, and the result builder.

A consumer (an app, a BI query, a dashboard, a report) becomes one node; every place where it
reads tables becomes one ``QueryResult`` whose target is that node, so the document's edges run
table → consumer (and query node → dashboard node for dashboards built from saved queries).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from lineage_core.assemble import QueryResult, qualify
from lineage_core.config import Settings, SourceSettings
from lineage_core.errors import ConfigError
from lineage_core.models import ErrorKind, ErrorRecord, Node, NodeKind, Query, TableId

T = TypeVar("T")

# Unresolved parts of a SQL text (f-string fields, BI parameters) become this identifier, so the
# statement still parses; a table whose name contains it is not reported (it is not known).
PLACEHOLDER_PREFIX = "__lineage_"
_SAFE = re.compile(r"[^A-Za-z0-9_]+")


def placeholder(name: str) -> str:
    """``start date`` → ``__lineage_start_date__``: an identifier valid in every dialect."""
    cleaned = _SAFE.sub("_", name).strip("_")[:40] or "value"
    return f"{PLACEHOLDER_PREFIX}{cleaned}__"


# ---------------------------------------------------------------------------------------------
# options


def _line_in_config(settings: Settings, loc: list[int | str]) -> int | None:
    if not settings.config_path:
        return None
    try:
        from ruamel.yaml import YAML

        from lineage_core.config import _line_of

        tree = YAML(typ="rt").load(Path(settings.config_path).read_text(encoding="utf-8"))
        return _line_of(tree, loc)
    except Exception:  # the file changed or is gone: report without a line
        return None


def config_error(settings: Settings, index: int, key: list[int | str], message: str) -> ConfigError:
    """``lineage.yaml:14: sources.1.options.api_kye: unknown key 'api_kye'`` (as config.py words it)."""
    loc: list[int | str] = ["sources", index, *key]
    path = settings.config_path or "lineage.yaml"
    line = _line_in_config(settings, loc)
    dotted = ".".join(str(p) for p in loc)
    where = f"{path}:{line}" if line else path
    return ConfigError(f"invalid configuration:\n  {where}: {dotted}: {message}")


_AT = re.compile(r"\.([A-Za-z_][\w-]*)|\[(\d+)\]")
_UNKNOWN = re.compile(r"Object contains unknown field `([^`]+)`")
_MISSING = re.compile(r"Object missing required field `([^`]+)`")


def _builtin(value: Any) -> Any:
    """ruamel's round-trip scalars (``ScalarFloat``, ``ScalarInt``, …) → plain Python values."""
    if isinstance(value, Mapping):
        return {str(k): _builtin(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_builtin(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    for plain in (str, int, float):
        if isinstance(value, plain):
            return plain(value)
    return value


def parse_options(settings: Settings, index: int, options: Mapping[str, Any], kind: type[T]) -> T:
    """Validate ``sources[index].options`` into ``kind`` (a msgspec Struct); errors name file:line and key."""
    try:
        return msgspec.convert(_builtin(options), kind, str_keys=True)
    except msgspec.ValidationError as exc:
        text = str(exc)
        message, _, where = text.rpartition(" - at ")
        if not message:
            message, where = text, "$"
        key: list[int | str] = ["options"]
        key += [m.group(1) if m.group(1) is not None else int(m.group(2)) for m in _AT.finditer(where)]
        unknown, missing = _UNKNOWN.match(message), _MISSING.match(message)
        if unknown:
            key.append(unknown.group(1))
            message = f"unknown key '{unknown.group(1)}'"
        elif missing:
            key.append(missing.group(1))
            message = "required key is missing"
        raise config_error(settings, index, key, message) from exc


# ---------------------------------------------------------------------------------------------
# SQL → tables


@dataclass(frozen=True)
class SqlReads:
    sources: tuple[str, ...]
    targets: tuple[str, ...]
    issues: tuple[tuple[ErrorKind, int | None, str], ...]  # (kind, line within the SQL, message)
    unknown_tables: tuple[str, ...]  # names that contain a placeholder: not reported as tables


def read_sql(sql: str, dialect: str, settings: Settings) -> SqlReads:
    """Tables a SQL text reads and writes (qualified), through the one extractor."""
    from lineage_core.extract import UnknownDialectError, rendered_lineage

    try:
        lineage = rendered_lineage(sql, dialect)
    except UnknownDialectError as exc:
        return SqlReads((), (), (("parse", None, str(exc)),), ())
    unknown: list[str] = []

    def names(items: Iterable[TableId]) -> tuple[str, ...]:
        found = set()
        for table in items:
            text = str(table)
            if PLACEHOLDER_PREFIX in text:
                unknown.append(text)
            else:
                found.add(qualify(table.parts, settings))
        return tuple(sorted(found))

    sources = names(lineage.sources)
    targets = names(lineage.targets)
    issues = tuple((issue.kind, issue.line, issue.message) for issue in lineage.issues)
    return SqlReads(sources, targets, issues, tuple(sorted(set(unknown))))


# sqlglot dialect of each BI data source type (Redash `type`, Metabase `engine`)
DIALECTS: Mapping[str, str] = {
    "bigquery": "bigquery",
    "bigquery-cloud-sdk": "bigquery",
    "pg": "postgres",
    "postgres": "postgres",
    "postgresql": "postgres",
    "cockroach": "postgres",
    "redshift": "redshift",
    "mysql": "mysql",
    "rds_mysql": "mysql",
    "mariadb": "mysql",
    "snowflake": "snowflake",
    "presto": "presto",
    "trino": "trino",
    "starburst": "trino",
    "athena": "athena",
    "databricks": "databricks",
    "sparksql": "spark",
    "hive": "hive",
    "hive_http": "hive",
    "impala": "hive",
    "mssql": "tsql",
    "mssql_odbc": "tsql",
    "sqlserver": "tsql",
    "azure_kusto": "tsql",
    "sqlite": "sqlite",
    "results": "sqlite",  # Redash's "Query Results" source runs SQLite over other queries
    "h2": "postgres",
    "clickhouse": "clickhouse",
    "oracle": "oracle",
    "vertica": "postgres",
    "duckdb": "duckdb",
    "teradata": "teradata",
    "druid": "druid",
}

# data source types whose "queries" are not SQL (JSON, Python, URLs…): nothing to parse
NOT_SQL = frozenset(
    {
        "mongodb",
        "elasticsearch",
        "elasticsearch2",
        "google_spreadsheets",
        "url",
        "json",
        "python",
        "script",
        "graphite",
        "prometheus",
        "influxdb",
        "google_analytics",
        "jql",
        "yandex_metrika",
        "dynamodb_sql",
        "mongo",
        "druid_native",
        "googleanalytics",
    }
)


# ---------------------------------------------------------------------------------------------
# the result


@dataclass
class Collected:
    """What one consumer source produced: nodes, their queries (results) and errors."""

    nodes: dict[str, Node] = field(default_factory=dict)
    results: list[QueryResult] = field(default_factory=list)

    def errors(self) -> list[ErrorRecord]:
        return [e for r in self.results for e in r.errors]


class Builder:
    """Collects the nodes and per-query results of one source, with the source's labels."""

    def __init__(self, source: SourceSettings, settings: Settings, tool: str) -> None:
        self.source = source
        self.settings = settings
        self.tool = tool
        self.out = Collected()
        self._carriers: dict[str, list[ErrorRecord]] = {}
        self._carrier_uri: dict[str, str] = {}

    def node(
        self,
        node_id: str,
        kind: NodeKind,
        *,
        labels: Mapping[str, str] | None = None,
        owners: Iterable[str] = (),
        url: str | None = None,
        description: str | None = None,
    ) -> None:
        merged = {"tool": self.tool, "source": self.source.name, **self.source.labels, **(labels or {})}
        merged = {k: str(v) for k, v in merged.items() if v is not None and str(v) != ""}
        unique_owners = tuple(dict.fromkeys(o for o in owners if o))
        old = self.out.nodes.get(node_id)
        if old is not None:  # seen twice (e.g. one report in two regions): merge
            merged = {**old.labels, **merged}
            unique_owners = tuple(dict.fromkeys((*old.owners, *unique_owners)))
            url = url or old.url
            description = description or old.description
        self.out.nodes[node_id] = Node(node_id, kind, merged, unique_owners, url, description)

    def query(
        self,
        *,
        query_id: str,
        consumer: str,
        uri: str,
        path: str,
        reads: Iterable[str] = (),
        writes: Iterable[str] = (),
        line_start: int = 1,
        line_end: int = 1,
        errors: Iterable[ErrorRecord] = (),
        labels: Mapping[str, str] | None = None,
    ) -> None:
        """One read (or write) of tables by ``consumer``: edges table → consumer → written table."""
        sources = tuple(sorted(set(reads) - {consumer}))
        written = tuple(sorted(set(writes) - {consumer}))
        edges = {(s, consumer) for s in sources} | {(consumer, t) for t in written}
        errors = tuple(errors)
        query = Query(
            id=query_id,
            uri=uri,
            path=path,
            line_start=line_start,
            line_end=max(line_start, line_end),
            source=self.source.name,
            labels={"tool": self.tool, **self.source.labels, **(labels or {})},
            sources=sources,
            targets=tuple(sorted({consumer, *written})),
        )
        failed = any(e.kind in ("read", "render", "parse") for e in errors)
        self.out.results.append(QueryResult(query, tuple(sorted(edges)), (), errors, (), failed))

    def error(self, uri: str, path: str, line: int | None, kind: ErrorKind, message: str) -> None:
        """An error of the source itself (unreachable service, unreadable file), kept in the document.

        Errors travel inside query results: errors of one ``path`` share one result with no edges
        (id ``source:path``) whose ``uri`` is theirs (``lineage merge`` matches errors by uri).
        """
        if path not in self._carrier_uri:
            # one uri per carrier: `lineage merge` gives a query every error that has its uri
            taken = set(self._carrier_uri.values())
            self._carrier_uri[path] = uri if uri not in taken else f"{uri}#{path}"
        uri = self._carrier_uri[path]
        self._carriers.setdefault(path, []).append(ErrorRecord(uri, path, line, kind, message))

    def finish(self) -> Collected:
        self._drop_dangling()
        for path, records in self._carriers.items():
            lines = [r.line for r in records if r.line]
            query = Query(
                id=f"{self.source.name}:{path}",
                uri=self._carrier_uri[path],
                path=path,
                line_start=min(lines, default=1),
                line_end=max(lines, default=1),
                source=self.source.name,
                labels={"tool": self.tool, **self.source.labels},
            )
            failed = any(r.kind in ("read", "render", "parse") for r in records)
            self.out.results.append(QueryResult(query, (), (), tuple(records), (), failed))
        self._carriers.clear()
        return self.out

    def _drop_dangling(self) -> None:
        """A read of another consumer of this source that was not listed (archived, a draft, not
        readable) is an ``unresolved`` error, not an edge from a node nobody described."""
        prefix = f"{self.source.name}:"
        for index, result in enumerate(self.out.results):
            dangling = [s for s in result.query.sources if s.startswith(prefix) and s not in self.out.nodes]
            if not dangling:
                continue
            query = dataclasses.replace(
                result.query, sources=tuple(s for s in result.query.sources if s not in dangling)
            )
            error = ErrorRecord(
                result.query.uri,
                result.query.path,
                None,
                "unresolved",
                f"{result.query.id} reads {', '.join(dangling)}, which {self.tool} did not list "
                "(archived, a draft, or not readable)",
            )
            self.out.results[index] = QueryResult(
                query,
                tuple(e for e in result.edges if e[0] not in dangling),
                result.views,
                (*result.errors, error),
                result.columns,
                result.failed,
            )


# ---------------------------------------------------------------------------------------------
# BI tools: saved SQL with {{ parameters }}

_MUSTACHE = re.compile(r"\{\{\s*(.*?)\s*\}\}", re.DOTALL)


def fill_parameters(sql: str, resolve: Callable[[str], str | None] | None = None) -> tuple[str, tuple[str, ...]]:
    """``{{ name }}`` → the text ``resolve(name)`` gives, else an identifier placeholder."""
    holes: list[str] = []

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        known = resolve(name) if resolve is not None else None
        if known is not None:
            return known
        holes.append(name)
        return placeholder(name)

    return _MUSTACHE.sub(fill, sql), tuple(holes)


def record_sql(
    builder: Builder,
    *,
    node_id: str,
    query_id: str,
    uri: str,
    path: str,
    name: str,
    sql: str,
    dialect: str,
    holes: Sequence[str] = (),
    extra_reads: Iterable[str] = (),
    resolved_markers: Sequence[str] = (),
    labels: Mapping[str, str] | None = None,
) -> None:
    """One saved BI query → its tables (through the extractor) → edges table → ``node_id``.

    ``resolved_markers``: placeholders that stand for something already resolved (a reference to
    another saved query, given in ``extra_reads``); tables named with them are dropped silently.
    """
    reads = read_sql(sql, dialect, builder.settings)
    errors = [ErrorRecord(uri, path, line, kind, f"{name}: {message}") for kind, line, message in reads.issues]
    query_labels = dict(labels or {})
    unknown = [t for t in reads.unknown_tables if not any(m in t for m in resolved_markers)]
    if unknown:
        query_labels["partial"] = "true"
        shown = ", ".join(unknown)
        errors.append(
            ErrorRecord(
                uri,
                path,
                None,
                "unresolved",
                f"{name}: table names built from parameters {', '.join(holes) or '?'} are not known: {shown}",
            )
        )
    builder.query(
        query_id=query_id,
        consumer=node_id,
        uri=uri,
        path=path,
        reads=(*reads.sources, *extra_reads),
        writes=reads.targets,
        line_start=1,
        line_end=sql.count("\n") + 1,
        errors=errors,
        labels=query_labels,
    )


def as_mapping(value: Any) -> Mapping[str, Any]:
    """A JSON object from an API answer, or an empty one when it is anything else."""
    return value if isinstance(value, Mapping) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def local_root(builder: Builder, settings: Settings, source: SourceSettings, what: str) -> tuple[str, Path] | None:
    """The source's local directory (as configured, and resolved), or None with the error recorded."""
    from lineage_core.discovery.sql_files import source_root

    root_text = source_root(settings, source)
    if root_text.startswith("gs://"):
        builder.error(root_text, source.name, None, "read", f"{what} sources must be local directories, not gs://")
        return None
    root = Path(root_text).resolve()
    if not root.is_dir():
        state = "is not a directory" if root.exists() else "does not exist"
        builder.error(root_text, source.name, None, "read", f"{what} {root_text} {state}")
        return None
    return root_text, root
