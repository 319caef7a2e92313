"""Metabase: every saved question (card), model and dashboard becomes a node.

REST API, with an API key (``X-API-KEY`` header, Metabase 49+) or a session
(``POST /api/session {username, password}`` → ``{id}``, sent as ``X-Metabase-Session``):

* ``GET /api/database`` — ``{data: [{id, name, engine, details}]}`` (older: a list): the engine
  chooses the SQL dialect (and, for BigQuery, the project of GUI questions' tables);
* ``GET /api/native-query-snippet`` — snippets, inlined where ``{{snippet: name}}`` appears;
* ``GET /api/card`` — cards: native SQL in ``dataset_query.native.query`` (or, in MBQL 5,
  ``dataset_query.stages[0].native``); GUI questions name tables by id (``source-table``, joins),
  looked up with ``GET /api/table/<id>``; ``card__12`` / ``{{#12-name}}`` refer to other cards;
* ``GET /api/dashboard`` then ``GET /api/dashboard/<id>`` — ``dashcards[].card_id`` (older:
  ``ordered_cards``), plus the cards of each dashcard's ``series``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

import msgspec

from lineage_core.assemble import qualify
from lineage_core.config import Settings, SourceSettings
from lineage_core.discovery.consumers._common import (
    DIALECTS,
    Builder,
    Collected,
    as_list,
    as_mapping,
    fill_parameters,
    record_sql,
)
from lineage_core.discovery.consumers._http import HttpClient, HttpError
from lineage_core.discovery.consumers.redash import HttpOptions, _check_url, _client
from lineage_core.models import ErrorRecord, TableId

_OPTIONAL_CLAUSE = re.compile(r"\[\[(.*?)\]\]", re.DOTALL)
_CARD_TAG = re.compile(r"^#(\d+)")


class MetabaseOptions(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    url: str
    api_key_env: str | None = None  # environment variable holding an API key …
    username: str | None = None  # … or a user and the variable holding the password
    password_env: str | None = None
    dialect: str | None = None  # when the database's engine says nothing (default: the config's)
    dialects: dict[str, str] = {}  # per database id or name: sqlglot dialect
    dashboards: bool = True
    gui_questions: bool = True  # also cards built in the query builder (tables looked up by id)
    http: HttpOptions = HttpOptions()

    def __post_init__(self) -> None:
        _check_url(self.url)
        if not self.api_key_env and not (self.username and self.password_env):
            raise ValueError("give api_key_env, or username and password_env")


def _items(data: Any) -> list[Mapping[str, Any]]:
    if isinstance(data, Mapping):
        data = data.get("data")
    return [item for item in data if isinstance(item, Mapping)] if isinstance(data, list) else []


def _references(query: Any) -> Iterator[tuple[str, Any]]:
    """``source-table`` / ``source-card`` values anywhere in an MBQL query (joins, nested queries)."""
    if isinstance(query, Mapping):
        for key, value in query.items():
            if key in ("source-table", "source-card"):
                yield key, value
            else:
                yield from _references(value)
    elif isinstance(query, list):
        for item in query:
            yield from _references(item)


def native_sql(dataset_query: Mapping[str, Any]) -> str | None:
    native = dataset_query.get("native")
    if isinstance(native, Mapping) and isinstance(native.get("query"), str):
        return str(native["query"])
    stages = dataset_query.get("stages")
    first = as_mapping(as_list(stages)[0]) if as_list(stages) else {}
    if isinstance(first.get("native"), str):
        return str(first["native"])
    return None


class _Metabase:
    def __init__(self, builder: Builder, client: HttpClient, options: MetabaseOptions, default_dialect: str) -> None:
        self.builder = builder
        self.client = client
        self.options = options
        self.default_dialect = default_dialect
        self.base = client.base_url
        self.databases: dict[Any, Mapping[str, Any]] = {}
        self.snippets: dict[str, str] = {}
        self.tables: dict[Any, str | None] = {}

    def node_of(self, card_id: Any) -> str:
        return f"{self.builder.source.name}:card/{card_id}"

    def dialect_of(self, database_id: Any) -> str:
        database = self.databases.get(database_id, {})
        for key in (str(database_id), str(database.get("name") or "")):
            if key and key in self.options.dialects:
                return self.options.dialects[key]
        return DIALECTS.get(str(database.get("engine") or ""), self.default_dialect)

    def load_context(self) -> None:
        try:
            for database in _items(self.client.get("/api/database")):
                self.databases[database.get("id")] = database
        except HttpError as exc:
            self.builder.error(self.base, "databases", None, "read", f"{exc}; cards are read as {self.default_dialect}")
        try:
            for snippet in _items({"data": self.client.get("/api/native-query-snippet")}):
                if isinstance(snippet.get("name"), str) and isinstance(snippet.get("content"), str):
                    self.snippets[snippet["name"]] = snippet["content"]
        except HttpError as exc:
            self.builder.error(self.base, "snippets", None, "read", f"{exc}; {{{{snippet: …}}}} stays unresolved")

    def table_name(self, table_id: Any) -> str | None:
        if table_id in self.tables:
            return self.tables[table_id]
        name: str | None = None
        try:
            table = self.client.get(f"/api/table/{table_id}")
        except HttpError as exc:
            self.builder.error(self.base, f"tables/{table_id}", None, "read", str(exc))
            table = None
        if isinstance(table, Mapping) and table.get("name"):
            database = self.databases.get(table.get("db_id"), {})
            database = database or as_mapping(table.get("db"))
            details = as_mapping(database.get("details"))
            project = details.get("project-id") or details.get("project-id-from-credentials")
            parts = [str(p) for p in (project, table.get("schema"), table["name"]) if p]
            name = ".".join(parts)
        self.tables[table_id] = name
        return name

    def card(self, card: Mapping[str, Any]) -> None:
        card_id = card.get("id")
        node_id = self.node_of(card_id)
        name = str(card.get("name") or f"card {card_id}")
        url = f"{self.base}/question/{card_id}"
        creator = as_mapping(card.get("creator"))
        dataset_query = as_mapping(card.get("dataset_query"))
        database_id = dataset_query.get("database", card.get("database_id"))
        database = self.databases.get(database_id, {})
        kind = str(card.get("type") or "question")  # question | model | metric
        self.builder.node(
            node_id,
            "dashboard",
            labels={"object": "card", "card_type": kind, "name": name, "database": str(database.get("name") or "")},
            owners=[str(creator.get("email") or "")],
            url=url,
            description=name,
        )
        path = f"cards/{card_id}"
        sql = native_sql(dataset_query)
        if sql is not None:
            self.native(node_id, url, path, name, sql, self.dialect_of(database_id))
        elif self.options.gui_questions:
            self.gui(node_id, url, path, dataset_query)

    def native(self, node_id: str, url: str, path: str, name: str, sql: str, dialect: str) -> None:
        cards: list[str] = []

        def resolve(tag: str) -> str | None:
            card_ref = _CARD_TAG.match(tag)
            if card_ref:
                cards.append(self.node_of(card_ref.group(1)))
                return f"__lineage_card_{card_ref.group(1)}__"
            if tag.lower().startswith("snippet:"):
                return self.snippets.get(tag.split(":", 1)[1].strip())
            return None

        # a snippet may hold {{parameters}} of its own: fill twice
        text, holes = fill_parameters(_OPTIONAL_CLAUSE.sub(r"\1", sql), resolve)
        text, more = fill_parameters(_OPTIONAL_CLAUSE.sub(r"\1", text), resolve)
        record_sql(
            self.builder,
            node_id=node_id,
            query_id=node_id,
            uri=url,
            path=path,
            name=f"card {node_id.rsplit('/', 1)[-1]} '{name}'",
            sql=text,
            dialect=dialect,
            holes=(*holes, *more),
            extra_reads=cards,
            resolved_markers=("__lineage_card_",),
            labels={"object": "card", "dialect": dialect},
        )

    def gui(self, node_id: str, url: str, path: str, dataset_query: Mapping[str, Any]) -> None:
        reads: list[str] = []
        errors: list[ErrorRecord] = []
        for key, value in _references(dataset_query):
            if key == "source-card" or (isinstance(value, str) and value.startswith("card__")):
                reads.append(self.node_of(str(value).removeprefix("card__")))
                continue
            table = self.table_name(value)
            if table is None:
                errors.append(ErrorRecord(url, path, None, "unresolved", f"table id {value} could not be looked up"))
                continue
            reads.append(qualify(TableId.parse(table).parts, self.builder.settings))
        self.builder.query(
            query_id=node_id,
            consumer=node_id,
            uri=url,
            path=path,
            reads=reads,
            errors=errors,
            labels={"object": "card", "query_type": "gui"},
        )

    def dashboard(self, summary: Mapping[str, Any], known: set[str]) -> None:
        dashboard_id = summary.get("id")
        path = f"dashboards/{dashboard_id}"
        url = f"{self.base}/dashboard/{dashboard_id}"
        try:
            detail = self.client.get(f"/api/dashboard/{dashboard_id}")
        except HttpError as exc:
            self.builder.error(url, path, None, "read", str(exc))
            return
        detail = as_mapping(detail)
        name = str(detail.get("name") or summary.get("name") or f"dashboard {dashboard_id}")
        creator = as_mapping(detail.get("creator"))
        node_id = f"{self.builder.source.name}:dashboard/{dashboard_id}"
        self.builder.node(
            node_id,
            "dashboard",
            labels={"object": "dashboard", "name": name},
            owners=[str(creator.get("email") or "")],
            url=url,
            description=name,
        )
        shown: list[str] = []
        dashcards = detail.get("dashcards", detail.get("ordered_cards"))
        for dashcard in as_list(dashcards):
            if not isinstance(dashcard, Mapping):
                continue
            if dashcard.get("card_id") is not None:
                shown.append(self.node_of(dashcard["card_id"]))
            for series in dashcard.get("series") or []:
                if isinstance(series, Mapping) and series.get("id") is not None:
                    shown.append(self.node_of(series["id"]))
        missing = sorted({c for c in shown if c not in known})
        errors = []
        if missing:
            errors.append(
                ErrorRecord(
                    url,
                    path,
                    None,
                    "unresolved",
                    f"dashboard '{name}' shows cards not listed by /api/card: {', '.join(missing)}",
                )
            )
        self.builder.query(
            query_id=node_id,
            consumer=node_id,
            uri=url,
            path=path,
            reads=[c for c in shown if c in known],
            errors=errors,
            labels={"object": "dashboard"},
        )


def _login(builder: Builder, base: str, options: MetabaseOptions, environ: Mapping[str, str]) -> dict[str, str] | None:
    if options.api_key_env:
        key = environ.get(options.api_key_env)
        if not key:
            builder.error(
                base,
                "api",
                None,
                "read",
                f"{base}: the API key is missing: environment variable {options.api_key_env} is not set",
            )
            return None
        return {"X-API-KEY": key}
    password = environ.get(options.password_env or "")
    if not password:
        builder.error(
            base,
            "api",
            None,
            "read",
            f"{base}: the password of {options.username} is missing: "
            f"environment variable {options.password_env} is not set",
        )
        return None
    session = _client(base, {}, options.http, f"check the user name and the password in ${options.password_env}")
    try:
        answer = session.post("/api/session", {"username": options.username, "password": password})
    except HttpError as exc:
        builder.error(base, "api", None, "read", f"cannot log in as {options.username}: {exc}")
        return None
    if not isinstance(answer, Mapping) or not answer.get("id"):
        builder.error(base, "api", None, "read", f"POST {base}/api/session: no session id in the answer")
        return None
    return {"X-Metabase-Session": str(answer["id"])}


def collect_metabase(
    settings: Settings, source: SourceSettings, options: MetabaseOptions, environ: Mapping[str, str]
) -> Collected:
    builder = Builder(source, settings, "metabase")
    base = options.url.rstrip("/")
    headers = _login(builder, base, options, environ)
    if headers is None:
        return builder.finish()
    hint = f"check the API key in ${options.api_key_env}" if options.api_key_env else "the session was refused"
    client = _client(base, headers, options.http, hint)
    metabase = _Metabase(builder, client, options, options.dialect or source.dialect or settings.dialect)
    try:
        cards = _items({"data": client.get("/api/card", {"f": "all"})})
    except HttpError as exc:
        builder.error(base, "cards", None, "read", str(exc))
        return builder.finish()  # nothing else can work (unreachable, bad key)
    metabase.load_context()
    cards = [c for c in cards if not c.get("archived")]
    if len(cards) > options.http.max_items:
        builder.error(
            base,
            "cards",
            None,
            "read",
            f"{base}/api/card: {len(cards)} cards, more than max_items={options.http.max_items}; "
            "the rest were not read",
        )
        cards = cards[: options.http.max_items]
    known = set()
    for card in cards:
        metabase.card(card)
        known.add(metabase.node_of(card.get("id")))
    if options.dashboards:
        try:
            listed = _items({"data": client.get("/api/dashboard", {"f": "all"})})
        except HttpError as exc:
            builder.error(base, "dashboards", None, "read", str(exc))
            listed = []
        for summary in [d for d in listed if not d.get("archived")][: options.http.max_items]:
            metabase.dashboard(summary, known)
    return builder.finish()


__all__ = ["MetabaseOptions", "collect_metabase", "native_sql"]
