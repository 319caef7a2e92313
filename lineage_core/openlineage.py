"""Lineage document → OpenLineage run events, written to a file or POSTed to Marquez.

One job per query (namespace configurable, name = the query id) with an ``sql`` facet
(SQLJobFacet), a ``sourceCodeLocation`` facet (SourceCodeLocationJobFacet) and a ``jobType``
facet, and one COMPLETE run event listing the query's sources as inputs and its targets as
outputs. BigQuery tables are datasets of namespace ``bigquery`` named ``project.dataset.table``;
storage paths (``gs://bucket/path``) are datasets of namespace ``gs://bucket`` named by path,
as the OpenLineage naming conventions say.

Run ids are UUIDs derived from the job and the document's ``generated_at``: exporting the same
document twice sends the same runs (a receiver replaces them), a new build sends new runs.
The events follow ``schemas/openlineage/OpenLineage.json`` (see NOTICE.md there).
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

from lineage_core import __version__
from lineage_core.errors import LineageError, UsageError
from lineage_core.models import LineageDocument, Query

PRODUCER = f"https://github.com/lineage-dashboard/lineage-dashboard/tree/v{__version__}"
RUN_EVENT_SCHEMA_URL = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
SQL_FACET_SCHEMA_URL = "https://openlineage.io/spec/facets/1-1-0/SQLJobFacet.json#/$defs/SQLJobFacet"
SOURCE_FACET_SCHEMA_URL = (
    "https://openlineage.io/spec/facets/1-0-1/SourceCodeLocationJobFacet.json#/$defs/SourceCodeLocationJobFacet"
)
JOB_TYPE_FACET_SCHEMA_URL = "https://openlineage.io/spec/facets/2-0-3/JobTypeJobFacet.json#/$defs/JobTypeJobFacet"
DEFAULT_NAMESPACE = "lineage-dashboard"
DATASET_NAMESPACE = "bigquery"
MARQUEZ_PATH = "/api/v1/lineage"
_RUN_NAMESPACE = uuid.UUID("5b0e1b6a-3f7e-4f4c-9a55-0c3f0a6d1e21")

SqlReader = Callable[[Query], str | None]


@dataclass(frozen=True)
class SourceLocation:
    """How to turn a query's path into a SourceCodeLocationJobFacet."""

    repo_url: str | None = None  # https://github.com/org/repo: type git, url …/blob/{version}/{path}
    version: str | None = None  # commit sha (default: HEAD of the repository, when known)
    base_dir: str = "."  # local queries' uris are relative to this directory


def schema() -> dict[str, Any]:
    text = resources.files("lineage_core").joinpath("schemas/openlineage/OpenLineage.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def dataset(node_id: str) -> dict[str, str]:
    if "://" in node_id:
        parts = urlsplit(node_id)
        return {"namespace": f"{parts.scheme}://{parts.netloc}", "name": parts.path or "/"}
    return {"namespace": DATASET_NAMESPACE, "name": node_id}


def _source_location(query: Query, where: SourceLocation) -> dict[str, Any]:
    facet: dict[str, Any] = {"_producer": PRODUCER, "_schemaURL": SOURCE_FACET_SCHEMA_URL}
    uri = query.uri
    if where.repo_url:
        path = uri.removeprefix("./")
        version = where.version or "HEAD"
        facet.update(
            type="git",
            url=f"{where.repo_url.rstrip('/')}/blob/{version}/{path}",
            repoUrl=where.repo_url,
            path=path,
            version=version,
        )
    elif "://" in uri:
        facet.update(type=uri.split("://", 1)[0], url=uri, path=query.path)
    else:
        absolute = os.path.abspath(os.path.join(where.base_dir, uri))
        facet.update(type="file", url="file://" + absolute.replace(os.sep, "/"), path=query.path)
    return facet


def run_event(
    query: Query,
    *,
    event_time: str,
    namespace: str = DEFAULT_NAMESPACE,
    sql: str | None = None,
    dialect: str = "bigquery",
    location: SourceLocation = SourceLocation(),
) -> dict[str, Any]:
    facets: dict[str, Any] = {}
    if sql is not None:
        facets["sql"] = {"_producer": PRODUCER, "_schemaURL": SQL_FACET_SCHEMA_URL, "query": sql, "dialect": dialect}
    facets["sourceCodeLocation"] = _source_location(query, location)
    facets["jobType"] = {
        "_producer": PRODUCER,
        "_schemaURL": JOB_TYPE_FACET_SCHEMA_URL,
        "processingType": "BATCH",
        "integration": "LINEAGE_DASHBOARD",
        "jobType": "QUERY",
    }
    run_id = uuid.uuid5(_RUN_NAMESPACE, f"{namespace}\0{query.id}\0{event_time}")
    return {
        "eventType": "COMPLETE",
        "eventTime": event_time,
        "producer": PRODUCER,
        "schemaURL": RUN_EVENT_SCHEMA_URL,
        "run": {"runId": str(run_id), "facets": {}},
        "job": {"namespace": namespace, "name": query.id, "facets": facets},
        "inputs": [dataset(s) for s in query.sources],
        "outputs": [dataset(t) for t in query.targets],
    }


def events(
    document: LineageDocument,
    *,
    namespace: str = DEFAULT_NAMESPACE,
    read_sql: SqlReader | None = None,
    dialect: str = "bigquery",
    location: SourceLocation = SourceLocation(),
) -> list[dict[str, Any]]:
    """One COMPLETE run event per query of ``document``, in query order."""
    if not namespace.strip():
        raise UsageError("the OpenLineage job namespace must not be empty")
    out = []
    for query in document.queries:
        sql = read_sql(query) if read_sql else None
        out.append(
            run_event(
                query,
                event_time=document.generated_at,
                namespace=namespace,
                sql=sql,
                dialect=dialect,
                location=location,
            )
        )
    return out


# -- where events go -------------------------------------------------------------------


def is_url(target: str) -> bool:
    return target.startswith(("http://", "https://"))


def endpoint(url: str) -> str:
    """A bare server URL gets Marquez's lineage path; a URL with a path is used as given."""
    parts = urlsplit(url)
    if parts.path in ("", "/"):
        return url.rstrip("/") + MARQUEZ_PATH
    return url


def write_file(items: Sequence[Mapping[str, Any]], path: str) -> None:
    """``*.json``: one JSON array; anything else: JSON Lines (one event per line, like OpenLineage's file transport)."""
    if path.endswith(".json"):
        data = json.dumps(list(items), indent=2, sort_keys=True) + "\n"
    else:
        data = "".join(json.dumps(event, sort_keys=True) + "\n" for event in items)
    if "://" in path:
        from lineage_core.store import write_bytes

        write_bytes(path, data.encode("utf-8"))
        return
    directory = os.path.dirname(path)
    if directory:
        os.makedirs(directory, exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(data)


def post(items: Sequence[Mapping[str, Any]], url: str, *, api_key: str | None = None, timeout: float = 30.0) -> int:
    """POST each event to ``url`` (Marquez: ``/api/v1/lineage``); the number sent."""
    import requests

    target = endpoint(url)
    headers = {"Content-Type": "application/json", "User-Agent": f"lineage-dashboard/{__version__}"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    sent = 0
    with requests.Session() as session:
        for event in items:
            try:
                response = session.post(target, data=json.dumps(event), headers=headers, timeout=timeout)
            except requests.RequestException as exc:
                raise LineageError(
                    f"cannot reach the OpenLineage endpoint {target}: {type(exc).__name__}"
                    f" (sent {sent} of {len(items)} events)"
                ) from exc
            if response.status_code >= 300:
                body = (response.text or "").strip().replace("\n", " ")[:300]
                raise LineageError(
                    f"the OpenLineage endpoint {target} answered {response.status_code} for job "
                    f"{event.get('job', {}).get('name')}: {body} (sent {sent} of {len(items)} events)"
                )
            sent += 1
    return sent
