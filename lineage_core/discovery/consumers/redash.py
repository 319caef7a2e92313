"""Redash: every saved query and dashboard becomes a node.

REST API (API key in the ``Authorization: Key …`` header, the user's key from the profile page):

* ``GET /api/data_sources`` — ``[{id, name, type}]``: the type chooses the SQL dialect;
* ``GET /api/queries?page=N&page_size=M`` — ``{count, page, page_size, results: [{id, name, query,
  data_source_id, user: {email}, tags, is_archived, …}]}`` (Redash caps ``page_size`` at 250);
* ``GET /api/dashboards?page=N&page_size=M`` then ``GET /api/dashboards/<id>`` (older versions:
  ``/api/dashboards/<slug>``) — ``widgets[].visualization.query.id``.

A query's SQL goes through the extractor with its data source's dialect; ``{{ parameters }}``
become placeholders. Queries on Redash's "Query Results" source read other queries
(``FROM query_42``): those become edges from ``redash:query/42``. A dashboard gets an edge from
every query its widgets show, so "which dashboards break" follows the graph.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any

import msgspec

from lineage_core.config import Settings, SourceSettings
from lineage_core.discovery.consumers._common import (
    DIALECTS,
    NOT_SQL,
    Builder,
    Collected,
    as_list,
    as_mapping,
    fill_parameters,
    record_sql,
)
from lineage_core.discovery.consumers._http import HttpClient, HttpError
from lineage_core.models import ErrorRecord

_RESULTS_TABLE = re.compile(r"\b(?:cached_)?query_(\d+)\b")


class HttpOptions(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    timeout: Annotated[float, msgspec.Meta(gt=0, le=600)] = 30.0  # seconds per request
    retries: Annotated[int, msgspec.Meta(ge=0, le=10)] = 3  # after connection errors, 429 and 5xx
    backoff: Annotated[float, msgspec.Meta(ge=0, le=60)] = 0.5  # seconds, doubled at each retry
    max_response_mb: Annotated[float, msgspec.Meta(gt=0)] = 64.0
    max_items: Annotated[int, msgspec.Meta(ge=1)] = 50_000  # queries/cards/dashboards read at most


def _check_url(url: str) -> None:
    if not re.match(r"^https?://[^/\s]+", url):
        raise ValueError(f"url must start with http:// or https:// (got '{url}')")


class RedashOptions(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    url: str
    api_key_env: str  # the environment variable holding the API key
    dialect: str | None = None  # when the data source's type says nothing (default: the config's)
    dialects: dict[str, str] = {}  # per data source id or name: sqlglot dialect
    page_size: Annotated[int, msgspec.Meta(ge=1, le=250)] = 100
    dashboards: bool = True
    http: HttpOptions = HttpOptions()

    def __post_init__(self) -> None:
        _check_url(self.url)


def _client(url: str, headers: Mapping[str, str], http: HttpOptions, hint: str) -> HttpClient:
    return HttpClient(
        url,
        headers=headers,
        timeout=http.timeout,
        retries=http.retries,
        backoff=http.backoff,
        max_bytes=int(http.max_response_mb * 1024 * 1024),
        auth_hint=hint,
    )


def paginate(
    client: HttpClient, path: str, page_size: int, max_items: int, builder: Builder, what: str
) -> list[dict[str, Any]]:
    """Every item of a Redash list endpoint; a failure or a cap is recorded, never silent."""
    items: list[dict[str, Any]] = []
    seen: set[Any] = set()
    page = 1
    while True:
        try:
            data = client.get(path, {"page": page, "page_size": page_size})
        except HttpError as exc:
            lost = f"; the {what} after the first {len(items)} were not read" if items else ""
            builder.error(client.base_url, what, None, "read", f"{exc}{lost}")
            return items
        if not isinstance(data, Mapping) or not isinstance(data.get("results"), list):
            builder.error(
                client.base_url,
                what,
                None,
                "read",
                f"GET {client.url(path)}: unexpected answer (no 'results' list); is this a Redash server?",
            )
            return items
        results = [r for r in data["results"] if isinstance(r, Mapping)]
        fresh = [r for r in results if r.get("id") not in seen]
        if results and not fresh:
            builder.error(
                client.base_url,
                what,
                None,
                "read",
                f"GET {client.url(path)}: page {page} repeats earlier {what}; stopped paginating",
            )
            return items
        for item in fresh:
            seen.add(item.get("id"))
            items.append(dict(item))
        count = data.get("count")
        if len(items) >= max_items and (not isinstance(count, int) or count > len(items)):
            builder.error(
                client.base_url,
                what,
                None,
                "read",
                f"{client.url(path)}: more than max_items={max_items} {what}; the rest were not read",
            )
            return items[:max_items]
        if not results or (isinstance(count, int) and len(items) >= count):
            return items
        page += 1


def collect_redash(
    settings: Settings, source: SourceSettings, options: RedashOptions, environ: Mapping[str, str]
) -> Collected:
    builder = Builder(source, settings, "redash")
    base = options.url.rstrip("/")
    key = environ.get(options.api_key_env)
    if not key:
        builder.error(
            base,
            "api",
            None,
            "read",
            f"{base}: the API key is missing: environment variable {options.api_key_env} is not set",
        )
        return builder.finish()
    client = _client(
        base, {"Authorization": f"Key {key}"}, options.http, f"check the API key in ${options.api_key_env}"
    )
    default_dialect = options.dialect or source.dialect or settings.dialect

    sources_by_id: dict[Any, Mapping[str, Any]] = {}
    try:
        listed = client.get("/api/data_sources")
        for item in as_list(listed):
            if isinstance(item, Mapping):
                sources_by_id[item.get("id")] = item
    except HttpError as exc:
        if exc.status in (None, 401):
            builder.error(base, "api", None, "read", str(exc))
            return builder.finish()  # unreachable, or a bad key: nothing else will work
        builder.error(base, "data_sources", None, "read", f"{exc}; queries are read as {default_dialect}")

    def dialect_of(data_source_id: Any) -> tuple[str, str]:
        found = sources_by_id.get(data_source_id, {})
        kind = str(found.get("type") or "")
        name = str(found.get("name") or "")
        for key_ in (str(data_source_id), name):
            if key_ and key_ in options.dialects:
                return options.dialects[key_], kind
        return DIALECTS.get(kind, default_dialect), kind

    queries = paginate(client, "/api/queries", options.page_size, options.http.max_items, builder, "queries")
    known: set[str] = set()
    for query in queries:
        if query.get("is_archived"):
            continue
        query_id = query.get("id")
        node_id = f"{source.name}:query/{query_id}"
        data_source = sources_by_id.get(query.get("data_source_id"), {})
        dialect, kind = dialect_of(query.get("data_source_id"))
        name = str(query.get("name") or f"query {query_id}")
        user = as_mapping(query.get("user"))
        tags = as_list(query.get("tags"))
        url = f"{base}/queries/{query_id}"
        builder.node(
            node_id,
            "dashboard",
            labels={
                "object": "query",
                "name": name,
                "data_source": str(data_source.get("name") or ""),
                "tags": ",".join(str(t) for t in tags),
                "updated_at": str(query.get("updated_at") or ""),
            },
            owners=[str(user.get("email") or "")],
            url=url,
            description=name,
        )
        known.add(node_id)
        sql = query.get("query")
        if not isinstance(sql, str) or not sql.strip() or kind in NOT_SQL:
            continue
        text, holes = fill_parameters(sql)
        extra_reads: list[str] = []
        if kind == "results":  # "Query Results": FROM query_42 reads another query's result
            extra_reads = [f"{source.name}:query/{n}" for n in _RESULTS_TABLE.findall(text)]
            text = _RESULTS_TABLE.sub(r"__lineage_query_\1__", text)
        record_sql(
            builder,
            node_id=node_id,
            query_id=node_id,
            uri=url,
            path=f"queries/{query_id}",
            name=f"query {query_id} '{name}'",
            sql=text,
            dialect=dialect,
            holes=holes,
            extra_reads=extra_reads,
            resolved_markers=("__lineage_query_",),
            labels={"object": "query", "dialect": dialect},
        )
    if options.dashboards:
        _dashboards(builder, client, options, base, known)
    return builder.finish()


def _widget_query_ids(widgets: Any) -> list[Any]:
    found = []
    for widget in as_list(widgets):
        visualization = widget.get("visualization") if isinstance(widget, Mapping) else None
        if not isinstance(visualization, Mapping):
            continue  # a text widget
        query = visualization.get("query")
        if isinstance(query, Mapping) and query.get("id") is not None:
            found.append(query["id"])
        elif visualization.get("query_id") is not None:
            found.append(visualization["query_id"])
    return found


def _dashboards(builder: Builder, client: HttpClient, options: RedashOptions, base: str, known: set[str]) -> None:
    source = builder.source.name
    listed = paginate(client, "/api/dashboards", options.page_size, options.http.max_items, builder, "dashboards")
    for summary in listed:
        if summary.get("is_archived"):
            continue
        dashboard_id = summary.get("id")
        path = f"dashboards/{dashboard_id}"
        url = f"{base}/dashboards/{dashboard_id}"
        try:
            detail = client.get(f"/api/dashboards/{dashboard_id}")
        except HttpError as exc:
            slug = summary.get("slug")
            detail = None
            if exc.status == 404 and slug:  # Redash before v10 addresses dashboards by slug
                try:
                    detail = client.get(f"/api/dashboards/{slug}")
                except HttpError as again:
                    exc = again
            if detail is None:
                builder.error(url, path, None, "read", str(exc))
                continue
        detail = as_mapping(detail)
        name = str(detail.get("name") or summary.get("name") or f"dashboard {dashboard_id}")
        user = as_mapping(detail.get("user") or summary.get("user"))
        tags = as_list(detail.get("tags"))
        node_id = f"{source}:dashboard/{dashboard_id}"
        builder.node(
            node_id,
            "dashboard",
            labels={"object": "dashboard", "name": name, "tags": ",".join(str(t) for t in tags)},
            owners=[str(user.get("email") or "")],
            url=url,
            description=name,
        )
        shown = [f"{source}:query/{q}" for q in _widget_query_ids(detail.get("widgets"))]
        missing = sorted({q for q in shown if q not in known})
        errors = []
        if missing:
            errors.append(
                ErrorRecord(
                    url,
                    path,
                    None,
                    "unresolved",
                    f"dashboard '{name}' shows queries not listed by /api/queries "
                    f"(archived, drafts or unreadable): {', '.join(missing)}",
                )
            )
        builder.query(
            query_id=node_id,
            consumer=node_id,
            uri=url,
            path=path,
            reads=[q for q in shown if q in known],
            errors=errors,
            labels={"object": "dashboard"},
        )
