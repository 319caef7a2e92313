"""Consumers past the warehouse: apps, BI queries and dashboards, reports, sheets.

``collect(settings, environ)`` reads every source of ``lineage.yaml`` whose ``type`` is not
``sql`` and returns nodes (kind ``app`` / ``dashboard`` / ``job``) with the query results that link the
tables they read to them. Source types and their ``options`` (validated here; an unknown key is
a :class:`~lineage_core.errors.ConfigError` naming file:line and key):

===============  =========================================  ======================================
type             reads                                      node ids
===============  =========================================  ======================================
python           Streamlit/Python app code (``ast``)        ``app:<name>``
redash           ``/api/queries``, ``/api/dashboards``      ``<source>:query/<id>``, ``<source>:dashboard/<id>``
metabase         ``/api/card``, ``/api/dashboard``          ``<source>:card/<id>``, ``<source>:dashboard/<id>``
bigquery_jobs    ``region-<r>.INFORMATION_SCHEMA.JOBS``      ``looker_studio:report/<id>``, ``connected_sheets:<id>``
dbt_manifest     dbt's ``target/manifest.json``             tables; ``<source>:exposure/<name>``
airflow          Airflow / Composer DAG files (``ast``)     ``airflow:<dag_id>.<task_id>`` (kind ``job``)
===============  =========================================  ======================================

A service that cannot be reached, a bad key, a file that does not parse: each becomes an
``ErrorRecord`` of that source, and the rest of the build goes on. Credentials come from the
environment mapping the entry point passes in (``environ``), never from the process itself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from lineage_core.assemble import QueryResult
from lineage_core.config import Settings, SourceSettings
from lineage_core.discovery.consumers._common import Collected, config_error, parse_options
from lineage_core.models import ErrorRecord, Node, Query

SOURCE_TYPES = ("python", "redash", "metabase", "bigquery_jobs", "airflow", "dbt_manifest")


@dataclass(frozen=True)
class ConsumerResult:
    """What ``lineage_core.pipeline`` adds to the document."""

    nodes: Sequence[Node] = ()
    results: Sequence[QueryResult] = ()
    errors: Sequence[ErrorRecord] = field(default=())  # every error, also found in ``results``


@dataclass(frozen=True)
class _Planned:
    source: SourceSettings
    options: Any
    run: Callable[[], Collected]


def _options_type(kind: str) -> type[Any]:
    if kind == "python":
        from lineage_core.discovery.consumers.python_apps import PythonAppsOptions

        return PythonAppsOptions
    if kind == "redash":
        from lineage_core.discovery.consumers.redash import RedashOptions

        return RedashOptions
    if kind == "metabase":
        from lineage_core.discovery.consumers.metabase import MetabaseOptions

        return MetabaseOptions
    if kind == "airflow":
        from lineage_core.discovery.consumers.airflow_dags import AirflowOptions

        return AirflowOptions
    if kind == "dbt_manifest":
        from lineage_core.discovery.consumers.dbt import DbtManifestOptions

        return DbtManifestOptions
    from lineage_core.discovery.consumers.bigquery_jobs import BigQueryJobsOptions

    return BigQueryJobsOptions


def validate(settings: Settings) -> dict[str, Any]:
    """The validated ``options`` of every consumer source, by source name (raises ConfigError)."""
    validated: dict[str, Any] = {}
    for index, source in enumerate(settings.sources):
        if source.type == "sql":
            continue
        if source.type not in SOURCE_TYPES:
            allowed = ", ".join(("sql", *SOURCE_TYPES))
            raise config_error(settings, index, ["type"], f"unknown source type '{source.type}' (one of: {allowed})")
        validated[source.name] = parse_options(settings, index, source.options, _options_type(source.type))
    return validated


def _plan(settings: Settings, environ: Mapping[str, str]) -> list[_Planned]:
    options_by_name = validate(settings)
    planned = []
    for source in settings.sources:
        if source.type == "sql":
            continue
        options = options_by_name[source.name]
        planned.append(_Planned(source, options, _runner(settings, source, options, environ)))
    return planned


def _runner(
    settings: Settings, source: SourceSettings, options: Any, environ: Mapping[str, str]
) -> Callable[[], Collected]:
    def run() -> Collected:
        if source.type == "python":
            from lineage_core.discovery.consumers.python_apps import collect_python_apps

            return collect_python_apps(settings, source, options)
        if source.type == "redash":
            from lineage_core.discovery.consumers.redash import collect_redash

            return collect_redash(settings, source, options, environ)
        if source.type == "metabase":
            from lineage_core.discovery.consumers.metabase import collect_metabase

            return collect_metabase(settings, source, options, environ)
        if source.type == "airflow":
            from lineage_core.discovery.consumers.airflow_dags import collect_airflow

            return collect_airflow(settings, source, options)
        if source.type == "dbt_manifest":
            from lineage_core.discovery.consumers.dbt import collect_dbt_manifest

            return collect_dbt_manifest(settings, source, options)
        from lineage_core.discovery.consumers.bigquery_jobs import collect_bigquery_jobs

        return collect_bigquery_jobs(settings, source, options)

    return run


def _error_result(source: SourceSettings, record: ErrorRecord) -> QueryResult:
    query = Query(
        id=f"{source.name}:",
        uri=record.uri,
        path=record.path,
        line_start=1,
        line_end=1,
        source=source.name,
        labels=dict(source.labels),
    )
    return QueryResult(query, (), (), (record,), (), True)


def collect(settings: Settings, environ: Mapping[str, str] | None = None) -> ConsumerResult:
    """Nodes and query results of every non-SQL source (configuration errors raise ConfigError)."""
    planned = _plan(settings, environ or {})
    nodes: dict[str, Node] = {}
    results: list[QueryResult] = []
    for item in planned:
        try:
            collected = item.run()
        except Exception as exc:  # a bug or an answer we did not foresee: this source only, never the build
            collected = Collected()
            record = ErrorRecord(
                item.source.path if item.source.type in ("python", "airflow") else item.source.name,
                item.source.name,
                None,
                "read",
                f"source '{item.source.name}' ({item.source.type}) could not be read: {type(exc).__name__}: {exc}",
            )
            results.append(_error_result(item.source, record))
        for node_id, node in collected.nodes.items():
            if node_id in nodes:  # two sources found the same consumer: keep both sets of labels/owners
                old = nodes[node_id]
                node = Node(
                    node_id,
                    old.kind,
                    {**old.labels, **node.labels},
                    tuple(dict.fromkeys((*old.owners, *node.owners))),
                    old.url or node.url,
                    old.description or node.description,
                )
            nodes[node_id] = node
        results.extend(collected.results)
    errors = [e for r in results for e in r.errors]
    return ConsumerResult(tuple(nodes[n] for n in sorted(nodes)), tuple(results), tuple(errors))


__all__ = ["SOURCE_TYPES", "ConsumerResult", "collect", "validate"]
