"""dbt's ``target/manifest.json`` → per-model sources and targets, and lineage query results.

A dbt project and a plain SQL repository land in one graph: each model (and snapshot) is one
query whose target is its ``relation_name`` and whose sources come from its compiled SQL
(``compiled_code``, ``compiled_sql`` before dbt 1.3) through the project's one extractor,
:func:`lineage_core.extract.table_lineage`, exactly like a SQL file. ``depends_on`` is the
cross-check: a relation dbt says the model depends on but the SQL does not read (or the
reverse) is reported as an ``unresolved`` warning; a model without compiled SQL (a manifest
from ``dbt parse``) or whose SQL does not parse falls back to ``depends_on``.

Ephemeral models have no relation (dbt inlines them as CTEs in their consumers' compiled SQL,
so their reads show up there). Exposures become consumer nodes (``dashboard`` / ``app`` /
``job``) linked from the models they depend on; ``meta.owner`` becomes owners, tags become the
``dbt_tags`` label.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from lineage_core.config import Settings
from lineage_core.errors import LineageError
from lineage_core.models import ErrorKind, ErrorRecord, Node, NodeKind, Query, TableId

# dbt adapter type → sqlglot dialect
ADAPTER_DIALECTS: Mapping[str, str] = {
    "bigquery": "bigquery",
    "snowflake": "snowflake",
    "redshift": "redshift",
    "postgres": "postgres",
    "duckdb": "duckdb",
    "databricks": "databricks",
    "spark": "spark",
    "trino": "trino",
    "athena": "athena",
    "sqlserver": "tsql",
    "fabric": "tsql",
    "synapse": "tsql",
    "clickhouse": "clickhouse",
    "oracle": "oracle",
    "mysql": "mysql",
    "teradata": "teradata",
}
_SQL_NODES = ("model", "snapshot")
_EXPOSURE_KINDS: Mapping[str, NodeKind] = {"dashboard": "dashboard", "application": "app"}


@dataclass(frozen=True)
class ModelLineage:
    unique_id: str
    name: str
    path: str  # original_file_path, relative to the dbt project
    target: str | None  # the relation the model builds (None: ephemeral)
    sources: tuple[str, ...]  # relations read, from the compiled SQL (or depends_on as fallback)
    expected: tuple[str, ...]  # relations of depends_on
    kind: NodeKind
    sql: str | None
    issues: tuple[tuple[str, str], ...] = ()  # (kind, message): "parse" | "unresolved"
    labels: Mapping[str, str] = field(default_factory=dict)
    owners: tuple[str, ...] = ()
    description: str | None = None
    lines: int = 1


@dataclass(frozen=True)
class DbtImport:
    """What a manifest adds to a lineage document (the shape of a consumer source's result)."""

    nodes: tuple[Node, ...]
    results: tuple[Any, ...]  # lineage_core.assemble.QueryResult
    models: tuple[ModelLineage, ...]


def load_manifest(path: str) -> dict[str, Any]:
    """Read and sanity-check a manifest; :class:`LineageError` says what is wrong with it."""
    try:
        if "://" in path:
            from lineage_core.store import read_bytes

            data = read_bytes(path).data
        else:
            with open(path, "rb") as handle:
                data = handle.read()
    except FileNotFoundError as exc:
        raise LineageError(f"{path}: dbt manifest not found (run `dbt compile` to write target/manifest.json)") from exc
    except OSError as exc:
        raise LineageError(f"{path}: cannot read the dbt manifest: {exc.strerror or exc}") from exc
    try:
        manifest = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise LineageError(f"{path}: not a dbt manifest: invalid JSON ({exc})") from exc
    return check_manifest(manifest, path)


def check_manifest(manifest: Any, path: str = "manifest.json") -> dict[str, Any]:
    if not isinstance(manifest, dict):
        raise LineageError(f"{path}: not a dbt manifest: the top level is not an object")
    nodes = manifest.get("nodes")
    if not isinstance(nodes, dict):
        raise LineageError(f"{path}: not a dbt manifest: no `nodes` object (is this target/manifest.json?)")
    for key in ("sources", "exposures"):
        if manifest.get(key) is not None and not isinstance(manifest[key], dict):
            raise LineageError(f"{path}: malformed dbt manifest: `{key}` is not an object")
    for unique_id, node in nodes.items():
        if not isinstance(node, dict):
            raise LineageError(f"{path}: malformed dbt manifest: nodes.{unique_id} is not an object")
    return manifest


def relation(name: str | None) -> str | None:
    """```proj`.`ds`.`t``` / ``"db"."schema"."t"`` → ``proj.ds.t``."""
    if not name:
        return None
    return str(TableId.parse(name.replace('"', "`")))


def dialect_of(manifest: Mapping[str, Any]) -> str:
    adapter = str((manifest.get("metadata") or {}).get("adapter_type") or "bigquery")
    return ADAPTER_DIALECTS.get(adapter, adapter)


def _owners(node: Mapping[str, Any]) -> tuple[str, ...]:
    found: list[str] = []
    for meta in (node.get("meta") or {}, (node.get("config") or {}).get("meta") or {}):
        owner = meta.get("owner") or meta.get("owners")
        if isinstance(owner, str):
            found.append(owner)
        elif isinstance(owner, list):
            found += [str(o) for o in owner]
    return tuple(dict.fromkeys(found))


def _labels(node: Mapping[str, Any]) -> dict[str, str]:
    labels = {"tool": "dbt", "dbt_package": str(node.get("package_name") or "")}
    materialized = (node.get("config") or {}).get("materialized")
    if materialized:
        labels["dbt_materialized"] = str(materialized)
    tags = sorted({str(t) for t in (node.get("tags") or []) + ((node.get("config") or {}).get("tags") or [])})
    if tags:
        labels["dbt_tags"] = ",".join(tags)
    return {k: v for k, v in labels.items() if v}


class _Relations:
    """unique_id → relation names, with ephemeral models expanded to what they read."""

    def __init__(self, manifest: Mapping[str, Any]) -> None:
        self.nodes: Mapping[str, Any] = manifest.get("nodes") or {}
        self.sources: Mapping[str, Any] = manifest.get("sources") or {}
        self._memo: dict[str, tuple[str, ...]] = {}

    def of(self, unique_id: str, seen: frozenset[str] = frozenset()) -> tuple[str, ...]:
        if unique_id in self._memo:
            return self._memo[unique_id]
        node = self.sources.get(unique_id) or self.nodes.get(unique_id)
        found: tuple[str, ...] = ()
        if isinstance(node, dict):
            name = relation(node.get("relation_name"))
            if name:
                found = (name,)
            elif unique_id not in seen:  # ephemeral: what it reads
                deps = (node.get("depends_on") or {}).get("nodes") or []
                found = tuple(sorted({r for d in deps for r in self.of(d, seen | {unique_id})}))
        self._memo[unique_id] = found
        return found


def model_lineage(
    manifest: Mapping[str, Any], dialect: str | None = None, settings: Settings | None = None
) -> list[ModelLineage]:
    """Sources and target of every model and snapshot, sorted by unique id."""
    from lineage_core.assemble import qualify
    from lineage_core.extract import UnknownDialectError, rendered_lineage

    settings = settings or Settings()
    dialect = dialect or dialect_of(manifest)
    relations = _Relations(manifest)
    out: list[ModelLineage] = []
    for unique_id, node in sorted((manifest.get("nodes") or {}).items()):
        if node.get("resource_type") not in _SQL_NODES:
            continue
        deps = [str(d) for d in (node.get("depends_on") or {}).get("nodes") or []]
        expected = tuple(sorted({r for d in deps for r in relations.of(d)}))
        target = relation(node.get("relation_name"))
        sql = node.get("compiled_code") if node.get("compiled_code") is not None else node.get("compiled_sql")
        issues: list[tuple[str, str]] = []
        sources: tuple[str, ...]
        if not isinstance(sql, str) or not sql.strip():
            sql = None
            sources = expected
            issues.append(
                ("unresolved", "no compiled SQL in the manifest (run `dbt compile`): sources from depends_on")
            )
        else:
            try:
                lineage = rendered_lineage(sql, dialect=dialect)
            except (UnknownDialectError, LineageError) as exc:
                sources = expected
                issues.append(("parse", f"compiled SQL does not parse ({exc}): sources from depends_on"))
            else:
                sources = tuple(sorted({qualify(t.parts, settings) for t in lineage.sources} - {target or ""}))
                issues += [(i.kind, i.message) for i in lineage.issues]
                by_lower = {s.lower() for s in sources}
                expected_lower = {e.lower() for e in expected}
                missing = [e for e in expected if e.lower() not in by_lower]
                extra = [s for s in sources if s.lower() not in expected_lower]
                if missing:
                    issues.append(("unresolved", f"depends_on lists {', '.join(missing)}, which the SQL does not read"))
                if extra:
                    issues.append(("unresolved", f"the SQL reads {', '.join(extra)}, which depends_on does not list"))
        materialized = (node.get("config") or {}).get("materialized")
        text_lines = (sql or node.get("raw_code") or node.get("raw_sql") or "").count("\n") + 1
        out.append(
            ModelLineage(
                unique_id=unique_id,
                name=str(node.get("name") or unique_id),
                path=str(node.get("original_file_path") or node.get("path") or unique_id),
                target=target,
                sources=sources,
                expected=expected,
                kind="view" if materialized == "view" else "table",
                sql=sql,
                issues=tuple(issues),
                labels=_labels(node),
                owners=_owners(node),
                description=node.get("description") or None,
                lines=text_lines,
            )
        )
    return out


def import_manifest(
    manifest: Mapping[str, Any],
    settings: Settings | None = None,
    *,
    source_name: str = "dbt",
    dialect: str | None = None,
    project_dir: str = "",
) -> DbtImport:
    """Nodes and query results for :func:`lineage_core.assemble.assemble`."""
    from lineage_core.assemble import QueryResult

    settings = settings or Settings()
    models = model_lineage(manifest, dialect, settings)
    nodes: dict[str, Node] = {}
    results: list[QueryResult] = []
    for model in models:
        uri = os.path.join(project_dir, model.path).replace(os.sep, "/") if project_dir else model.path
        query_id = f"{source_name}:{model.unique_id}"
        errors = tuple(
            ErrorRecord(uri, model.path, None, cast(ErrorKind, kind), message) for kind, message in model.issues
        )
        targets = (model.target,) if model.target else ()
        query = Query(
            id=query_id,
            uri=uri,
            path=model.path,
            line_start=1,
            line_end=model.lines,
            source=source_name,
            labels=dict(model.labels),
            sources=model.sources,
            targets=targets,
        )
        edges = tuple(sorted((s, t) for s in model.sources for t in targets if s != t))
        views = targets if model.kind == "view" else ()
        results.append(QueryResult(query, edges, views, errors, (), failed=any(k == "parse" for k, _ in model.issues)))
        if model.target:
            nodes[model.target] = Node(
                model.target, model.kind, dict(model.labels), model.owners, None, model.description
            )
    for source in (manifest.get("sources") or {}).values():
        name = relation(source.get("relation_name")) if isinstance(source, dict) else None
        if name and name not in nodes:
            labels = {"tool": "dbt", "dbt_source": f"{source.get('source_name')}.{source.get('name')}"}
            tags = sorted({str(t) for t in source.get("tags") or []})
            if tags:
                labels["dbt_tags"] = ",".join(tags)
            nodes[name] = Node(name, "external", labels, _owners(source), None, source.get("description") or None)
    for _, seed in sorted((manifest.get("nodes") or {}).items()):
        # seeds: tables dbt loads from CSV files of the project (read by models through ref())
        name = relation(seed.get("relation_name")) if seed.get("resource_type") == "seed" else None
        if name and name not in nodes:
            labels = {**_labels(seed), "dbt_seed": str(seed.get("original_file_path") or seed.get("name") or "")}
            nodes[name] = Node(name, "table", labels, _owners(seed), None, seed.get("description") or None)
    relations = _Relations(manifest)
    for unique_id, exposure in sorted((manifest.get("exposures") or {}).items()):
        if not isinstance(exposure, dict):
            continue
        node_id = f"{source_name}:exposure/{exposure.get('name') or unique_id}"
        owner = exposure.get("owner") or {}
        owners = tuple(o for o in (owner.get("email"), owner.get("name")) if o)[:1] if isinstance(owner, dict) else ()
        kind = _EXPOSURE_KINDS.get(str(exposure.get("type")), "job")
        labels = {"tool": "dbt", "dbt_exposure_type": str(exposure.get("type") or "")}
        nodes[node_id] = Node(
            node_id, kind, labels, owners, exposure.get("url") or None, exposure.get("description") or None
        )
        deps = [str(d) for d in (exposure.get("depends_on") or {}).get("nodes") or []]
        reads = tuple(sorted({r for d in deps for r in relations.of(d)}))
        path = str(exposure.get("original_file_path") or unique_id)
        query = Query(
            id=f"{source_name}:{unique_id}",
            uri=os.path.join(project_dir, path).replace(os.sep, "/") if project_dir else path,
            path=path,
            line_start=1,
            line_end=1,
            source=source_name,
            labels={"tool": "dbt"},
            sources=reads,
            targets=(node_id,),
        )
        results.append(QueryResult(query, tuple((r, node_id) for r in reads), (), (), (), False))
    return DbtImport(tuple(nodes[n] for n in sorted(nodes)), tuple(results), tuple(models))
