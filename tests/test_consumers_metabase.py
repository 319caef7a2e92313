"""Metabase (``type: metabase``) through ``requests`` against a loopback fake of its REST API."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from test_consumers_support import FAST_HTTP, Request, closed_port_url, serving, settings_with

from lineage_core.discovery.consumers import ConsumerResult, collect

KEY = "mb-key"
SESSION = "session-123"

DATABASES = {"data": [
    {"id": 1, "name": "Warehouse", "engine": "bigquery-cloud-sdk", "details": {"project-id": "acme-analytics"}},
    {"id": 2, "name": "App DB", "engine": "postgres", "details": {}},
], "total": 2}

CARDS = [
    {"id": 10, "name": "Revenue by day", "type": "question", "creator": {"email": "ana@acme.example"},
     "dataset_query": {"type": "native", "database": 1, "native": {
         "query": "SELECT * FROM `acme-analytics.reporting.rpt_daily_revenue` WHERE 1 = 1 [[AND d >= {{start}}]]"}}},
    {"id": 11, "name": "Big customers", "type": "model", "creator": {"email": "bo@acme.example"},
     "dataset_query": {"lib/type": "mbql/query", "database": 1, "stages": [
         {"lib/type": "mbql.stage/native", "native": "SELECT * FROM {{snippet: ltv}} WHERE ltv > 1000"}]}},
    {"id": 12, "name": "Orders (GUI)", "type": "question", "creator": {"email": "cy@acme.example"},
     "dataset_query": {"type": "query", "database": 1, "query": {
         "source-table": 100, "joins": [{"source-table": 101, "condition": ["=", 1, 2]}]}}},
    {"id": 13, "name": "On top of a model", "type": "question",
     "dataset_query": {"type": "native", "database": 1, "native": {"query": "SELECT * FROM {{#11-big-customers}} AS b"}}},
    {"id": 14, "name": "Users (app db)", "type": "question",
     "dataset_query": {"type": "native", "database": 2, "native": {"query": "SELECT id::text FROM public.users"}}},
    {"id": 15, "name": "Broken", "type": "question",
     "dataset_query": {"type": "native", "database": 1, "native": {"query": "SELEC * FRM (((("}}},
    {"id": 16, "name": "Gone", "archived": True,
     "dataset_query": {"type": "native", "database": 1, "native": {"query": "SELECT * FROM x.y"}}},
]

TABLES = {100: {"id": 100, "name": "fct_orders", "schema": "marts", "db_id": 1},
          101: {"id": 101, "name": "dim_customers", "schema": "marts", "db_id": 1}}


def metabase_route(auth: str = "key", dashcards_key: str = "dashcards") -> Any:
    def authorized(request: Request) -> bool:
        if auth == "key":
            return request.headers.get("x-api-key") == KEY
        return request.headers.get("x-metabase-session") == SESSION

    def route(request: Request) -> Any:
        if request.method == "POST" and request.path == "/api/session":
            body = request.body or {}
            if body == {"username": "bot@acme.example", "password": "pw"}:
                return 200, {"id": SESSION}
            return 401, {"errors": {"password": "did not match stored password"}}
        if not authorized(request):
            return 401, b"Unauthenticated", {"Content-Type": "text/plain"}
        if request.path == "/api/card":
            return 200, CARDS
        if request.path == "/api/database":
            return 200, DATABASES
        if request.path == "/api/native-query-snippet":
            return 200, [{"id": 1, "name": "ltv", "content": "`acme-analytics.marts.customer_ltv`"}]
        if request.path.startswith("/api/table/"):
            table = TABLES.get(int(request.path.rsplit("/", 1)[1]))
            return (200, table) if table else (404, {"message": "Not found."})
        if request.path == "/api/dashboard":
            return 200, [{"id": 5, "name": "Exec"}, {"id": 6, "name": "Old", "archived": True}]
        if request.path == "/api/dashboard/5":
            return 200, {"id": 5, "name": "Exec", "creator": {"email": "cfo@acme.example"},
                         dashcards_key: [{"card_id": 10, "series": [{"id": 12}]}, {"card_id": None}, {"card_id": 13}]}
        return 404, {"message": "no such endpoint"}

    return route


def run(tmp_path: Path, url: str, environ: dict[str, str] | None = None, **options: Any) -> ConsumerResult:
    opts = {"url": url, "api_key_env": "METABASE_API_KEY", "http": FAST_HTTP, **options}
    settings = settings_with(
        "default_project: acme-analytics\nsources:\n  - name: metabase\n    type: metabase\n"
        f"    options: {json.dumps(opts)}\n",
        tmp_path,
    )
    return collect(settings, {"METABASE_API_KEY": KEY, "MB_PASSWORD": "pw"} if environ is None else environ)


def by_id(result: ConsumerResult) -> dict[str, Any]:
    return {r.query.id: r for r in result.results}


def test_native_cards_are_parsed_with_their_database_dialect(tmp_path: Path) -> None:
    with serving(metabase_route()) as fake:
        results = by_id(run(tmp_path, fake.url))
        assert all(r.headers.get("x-api-key") == KEY for r in fake.requests)
    assert results["metabase:card/10"].edges == (("acme-analytics.reporting.rpt_daily_revenue", "metabase:card/10"),)
    assert results["metabase:card/14"].query.labels["dialect"] == "postgres"
    assert results["metabase:card/14"].query.sources == ("acme-analytics.public.users",)
    assert "metabase:card/16" not in results  # archived


def test_snippets_are_inlined_and_card_references_become_edges(tmp_path: Path) -> None:
    with serving(metabase_route()) as fake:
        results = by_id(run(tmp_path, fake.url))
    assert results["metabase:card/11"].query.sources == ("acme-analytics.marts.customer_ltv",)  # MBQL 5 stages
    assert results["metabase:card/13"].query.sources == ("metabase:card/11",)
    assert results["metabase:card/13"].errors == ()


def test_gui_questions_read_the_tables_they_are_built_on(tmp_path: Path) -> None:
    with serving(metabase_route()) as fake:
        results = by_id(run(tmp_path, fake.url))
    assert results["metabase:card/12"].query.sources == ("acme-analytics.marts.dim_customers", "acme-analytics.marts.fct_orders")


def test_card_nodes_carry_name_owner_and_link(tmp_path: Path) -> None:
    with serving(metabase_route()) as fake:
        nodes = {n.id: n for n in run(tmp_path, fake.url).nodes}
    card = nodes["metabase:card/11"]
    assert card.kind == "dashboard" and card.url == f"{fake.url}/question/11"
    assert card.owners == ("bo@acme.example",) and card.description == "Big customers"
    assert card.labels["card_type"] == "model" and card.labels["tool"] == "metabase"


def test_dashboards_get_edges_from_their_cards_and_series(tmp_path: Path) -> None:
    for key in ("dashcards", "ordered_cards"):  # ordered_cards: Metabase before 0.47
        with serving(metabase_route(dashcards_key=key)) as fake:
            result = run(tmp_path, fake.url)
        dashboard = by_id(result)["metabase:dashboard/5"]
        assert dashboard.edges == (
            ("metabase:card/10", "metabase:dashboard/5"),
            ("metabase:card/12", "metabase:dashboard/5"),
            ("metabase:card/13", "metabase:dashboard/5"),
        ), key
        assert not any(n.id == "metabase:dashboard/6" for n in result.nodes)


def test_a_card_whose_sql_does_not_parse_is_an_error_of_that_card_only(tmp_path: Path) -> None:
    with serving(metabase_route()) as fake:
        result = run(tmp_path, fake.url)
    parse_errors = [e for e in result.errors if e.kind == "parse"]
    assert parse_errors and all(e.uri == f"{fake.url}/question/15" for e in parse_errors)


def test_a_session_login_is_used_when_there_is_no_api_key(tmp_path: Path) -> None:
    with serving(metabase_route(auth="session")) as fake:
        result = run(tmp_path, fake.url, api_key_env=None, username="bot@acme.example", password_env="MB_PASSWORD")
        login = fake.requests[0]
    assert (login.method, login.path) == ("POST", "/api/session")
    assert "metabase:card/10" in {n.id for n in result.nodes} and result.errors == by_id(result)["metabase:card/15"].errors


def test_a_wrong_password_is_one_clear_error(tmp_path: Path) -> None:
    with serving(metabase_route(auth="session")) as fake:
        result = run(tmp_path, fake.url, environ={"MB_PASSWORD": "nope"}, api_key_env=None,
                     username="bot@acme.example", password_env="MB_PASSWORD")
    [error] = result.errors
    assert result.nodes == () and "cannot log in as bot@acme.example" in error.message and "HTTP 401" in error.message


def test_an_invalid_api_key_is_one_clear_error(tmp_path: Path) -> None:
    with serving(metabase_route()) as fake:
        result = run(tmp_path, fake.url, environ={"METABASE_API_KEY": "bad"})
    [error] = result.errors
    assert "HTTP 401" in error.message and "$METABASE_API_KEY" in error.message and f"{fake.url}/api/card" in error.message


def test_an_unreachable_server_is_an_error_record(tmp_path: Path) -> None:
    url = closed_port_url()
    result = run(tmp_path, url)
    [error] = result.errors
    assert result.nodes == () and "cannot connect" in error.message and url in error.message


def test_a_reference_to_a_card_that_was_not_listed_is_unresolved_not_an_edge(tmp_path: Path) -> None:
    cards = [*CARDS, {"id": 20, "name": "On an archived card", "type": "question",
                      "dataset_query": {"type": "query", "database": 1, "query": {"source-table": "card__16"}}}]
    route = metabase_route()

    def with_card_20(request: Request) -> Any:
        return (200, cards) if request.path == "/api/card" and request.headers.get("x-api-key") == KEY else route(request)

    with serving(with_card_20) as fake:
        result = run(tmp_path, fake.url)
    card = by_id(result)["metabase:card/20"]
    assert card.edges == () and card.query.sources == ()
    assert [e.kind for e in card.errors] == ["unresolved"] and "metabase:card/16" in card.errors[0].message
    assert "metabase:card/16" not in {n.id for n in result.nodes}


def test_an_unforeseen_answer_is_an_error_of_this_source_and_other_sources_still_run(tmp_path: Path) -> None:
    odd = [{"id": 1, "name": "odd", "dataset_query": {"type": "query", "query": {"source-table": {"nested": 1}}}}]
    route = metabase_route()

    def odd_cards(request: Request) -> Any:
        return (200, odd) if request.path == "/api/card" else route(request)

    apps = tmp_path / "apps"
    apps.mkdir()
    (apps / "app.py").write_text('import streamlit as st\nst.title("t")\nimport pandas as pd\npd.read_gbq("SELECT * FROM d.t")\n')
    with serving(odd_cards) as fake:
        settings = settings_with(
            "sources:\n"
            f"  - {{name: metabase, type: metabase, options: {{url: '{fake.url}', api_key_env: METABASE_API_KEY}}}}\n"
            f"  - {{name: apps, type: python, path: '{apps}'}}\n",
            tmp_path,
        )
        result = collect(settings, {"METABASE_API_KEY": KEY})
    [error] = result.errors
    assert error.path == "metabase" and "source 'metabase' (metabase) could not be read: TypeError" in error.message
    assert [n.id for n in result.nodes] == ["app:app"]
