"""Redash (``type: redash``) through ``requests`` against a loopback fake of its REST API."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_consumers_support import FAST_HTTP, FakeService, Request, closed_port_url, serving, settings_with

from lineage_core.discovery.consumers import ConsumerResult, collect

KEY = "redash-secret"

DATA_SOURCES = [
    {"id": 1, "name": "BigQuery prod", "type": "bigquery"},
    {"id": 2, "name": "Query Results", "type": "results"},
    {"id": 3, "name": "Finance Postgres", "type": "pg"},
    {"id": 4, "name": "Budget sheet", "type": "google_spreadsheets"},
]


def redash_queries() -> list[dict[str, Any]]:
    queries = [
        {"id": 1, "name": "Daily revenue", "data_source_id": 1,
         "query": "SELECT * FROM `acme-analytics.reporting.rpt_daily_revenue` WHERE d >= '{{ start }}'",
         "user": {"email": "ana@acme.example"}, "tags": ["sales", "kpi"]},
        {"id": 2, "name": "Funnel", "data_source_id": 1,
         "query": "SELECT step, users FROM reporting.rpt_funnel", "user": {"email": "bo@acme.example"}},
        {"id": 3, "name": "Revenue vs plan", "data_source_id": 2,
         "query": "SELECT * FROM query_1 JOIN cached_query_2 USING (d)", "user": {"email": "ana@acme.example"}},
        {"id": 4, "name": "Invoices", "data_source_id": 3,
         "query": "SELECT amount::numeric FROM billing.invoices", "user": {"email": "fin@acme.example"}},
        {"id": 5, "name": "Budget", "data_source_id": 4, "query": '{"sheet": "budget"}', "user": {}},
        {"id": 6, "name": "Broken", "data_source_id": 1, "query": "SELECT FROM WHERE (((", "user": {}},
        {"id": 7, "name": "Per-country table", "data_source_id": 1,
         "query": "SELECT * FROM `acme-analytics.reporting.rpt_{{ country }}`", "user": {}},
    ]
    return queries


def redash_route(
    queries: list[dict[str, Any]] | None = None, *, fail: dict[str, list[int]] | None = None
) -> Any:
    """A Redash server: ``fail`` maps a path to statuses returned (one per request) before succeeding."""
    queries = redash_queries() if queries is None else queries
    fail = fail or {}
    dashboards = [{"id": 7, "slug": "sales", "name": "Sales", "user": {"email": "lead@acme.example"}, "tags": ["exec"]},
                  {"id": 8, "slug": "old", "name": "Old", "is_archived": True}]
    details = {
        7: {"id": 7, "name": "Sales", "user": {"email": "lead@acme.example"}, "tags": ["exec"],
            "widgets": [{"visualization": {"query": {"id": 1}}}, {"visualization": {"query": {"id": 3}}},
                        {"text": "## notes"}, {"visualization": {"query": {"id": 99}}}]},
    }

    def paged(items: list[dict[str, Any]], request: Request) -> dict[str, Any]:
        page, size = int(request.query["page"]), int(request.query["page_size"])
        return {"count": len(items), "page": page, "page_size": size,
                "results": items[(page - 1) * size : page * size]}

    def route(request: Request) -> Any:
        if request.headers.get("authorization") != f"Key {KEY}":
            return 401, {"message": "Couldn't find resource. Please login and try again."}
        key = f"{request.path}?page={request.query.get('page')}" if "page" in request.query else request.path
        for pattern in (key, request.path):
            if fail.get(pattern):
                status = fail[pattern].pop(0)
                return status, {"message": "slow down"}, {"Retry-After": "0"}
        if request.path == "/api/data_sources":
            return 200, DATA_SOURCES
        if request.path == "/api/queries":
            return 200, paged(queries, request)
        if request.path == "/api/dashboards":
            return 200, paged(dashboards, request)
        if request.path.startswith("/api/dashboards/"):
            dashboard_id = int(request.path.rsplit("/", 1)[1])
            return (200, details[dashboard_id]) if dashboard_id in details else (404, {"message": "not found"})
        return 404, {"message": "no such endpoint"}

    return route


def redash_settings(tmp_path: Path, url: str, **options: Any) -> Any:
    opts = {"url": url, "api_key_env": "REDASH_API_KEY", "page_size": 3, "http": FAST_HTTP, **options}
    return settings_with(
        "default_project: acme-analytics\nsources:\n  - name: redash\n    type: redash\n"
        f"    options: {json.dumps(opts)}\n",
        tmp_path,
    )


def run(tmp_path: Path, url: str, environ: dict[str, str] | None = None, **options: Any) -> ConsumerResult:
    return collect(redash_settings(tmp_path, url, **options), {"REDASH_API_KEY": KEY} if environ is None else environ)


@pytest.fixture
def redash() -> Iterator[FakeService]:
    with serving(redash_route()) as fake:
        yield fake


def by_id(result: ConsumerResult) -> dict[str, Any]:
    return {r.query.id: r for r in result.results}


def test_every_page_of_queries_is_read_with_the_api_key(redash: FakeService, tmp_path: Path) -> None:
    result = run(tmp_path, redash.url)
    pages = [r.query["page"] for r in redash.requests if r.path == "/api/queries"]
    assert pages == ["1", "2", "3"]
    assert all(r.headers["authorization"] == f"Key {KEY}" for r in redash.requests)
    queries = sorted(n.id for n in result.nodes if n.labels["object"] == "query")
    assert queries == [f"redash:query/{i}" for i in range(1, 8)]


def test_a_query_node_carries_name_owner_tags_and_link(redash: FakeService, tmp_path: Path) -> None:
    node = next(n for n in run(tmp_path, redash.url).nodes if n.id == "redash:query/1")
    assert node.kind == "dashboard" and node.url == f"{redash.url}/queries/1"
    assert node.owners == ("ana@acme.example",) and node.description == "Daily revenue"
    assert node.labels["tool"] == "redash" and node.labels["tags"] == "sales,kpi"


def test_query_sql_is_read_with_its_data_source_dialect(redash: FakeService, tmp_path: Path) -> None:
    results = by_id(run(tmp_path, redash.url))
    assert results["redash:query/1"].edges == (("acme-analytics.reporting.rpt_daily_revenue", "redash:query/1"),)
    assert results["redash:query/2"].query.sources == ("acme-analytics.reporting.rpt_funnel",)
    assert results["redash:query/4"].query.labels["dialect"] == "postgres"
    assert results["redash:query/4"].query.sources == ("acme-analytics.billing.invoices",)
    assert "redash:query/5" not in results  # a Google Sheets "query" is not SQL


def test_query_results_source_links_the_queries_it_reads(redash: FakeService, tmp_path: Path) -> None:
    combined = by_id(run(tmp_path, redash.url))["redash:query/3"]
    assert combined.query.sources == ("redash:query/1", "redash:query/2")
    assert combined.errors == ()


def test_dashboard_gets_edges_from_the_queries_its_widgets_show(redash: FakeService, tmp_path: Path) -> None:
    result = run(tmp_path, redash.url)
    dashboard = by_id(result)["redash:dashboard/7"]
    assert dashboard.edges == (("redash:query/1", "redash:dashboard/7"), ("redash:query/3", "redash:dashboard/7"))
    [missing] = dashboard.errors
    assert missing.kind == "unresolved" and "redash:query/99" in missing.message
    node = next(n for n in result.nodes if n.id == "redash:dashboard/7")
    assert node.url == f"{redash.url}/dashboards/7" and node.owners == ("lead@acme.example",)
    assert not any(n.id == "redash:dashboard/8" for n in result.nodes)  # archived


def test_sql_that_does_not_parse_is_an_error_of_that_query_only(redash: FakeService, tmp_path: Path) -> None:
    result = run(tmp_path, redash.url)
    broken = by_id(result)["redash:query/6"]
    assert broken.failed and {e.kind for e in broken.errors} == {"parse"}
    assert all(e.uri == f"{redash.url}/queries/6" for e in broken.errors)
    assert not any(e.kind == "parse" for r in result.results if r.query.id != "redash:query/6" for e in r.errors)


def test_a_table_named_by_a_parameter_is_unresolved_not_invented(redash: FakeService, tmp_path: Path) -> None:
    per_country = by_id(run(tmp_path, redash.url))["redash:query/7"]
    assert per_country.query.sources == ()
    assert [e.kind for e in per_country.errors] == ["unresolved"] and "country" in per_country.errors[0].message


def test_rate_limits_and_server_errors_are_retried_without_losing_queries(tmp_path: Path) -> None:
    with serving(redash_route(fail={"/api/queries?page=2": [429, 503]})) as fake:
        result = run(tmp_path, fake.url)
    assert [r.query["page"] for r in fake.requests if r.path == "/api/queries"] == ["1", "2", "2", "2", "3"]
    assert len([n for n in result.nodes if n.labels["object"] == "query"]) == 7
    assert not any(e.kind == "read" for e in result.errors)


def test_a_page_that_keeps_failing_keeps_earlier_pages_and_says_what_is_missing(tmp_path: Path) -> None:
    with serving(redash_route(fail={"/api/queries?page=2": [500, 500, 500, 500]})) as fake:
        result = run(tmp_path, fake.url)
    assert len([n for n in result.nodes if n.labels["object"] == "query"]) == 3
    [error] = [e for e in result.errors if e.kind == "read"]
    assert f"{fake.url}/api/queries" in error.message and "HTTP 500" in error.message
    assert "after the first 3" in error.message


def test_an_invalid_api_key_is_one_clear_error(redash: FakeService, tmp_path: Path) -> None:
    result = run(tmp_path, redash.url, environ={"REDASH_API_KEY": "wrong"})
    assert result.nodes == ()
    [error] = result.errors
    assert error.kind == "read" and "HTTP 401" in error.message and "$REDASH_API_KEY" in error.message
    assert redash.url in error.message


def test_a_missing_api_key_variable_is_an_error_not_a_request(redash: FakeService, tmp_path: Path) -> None:
    result = run(tmp_path, redash.url, environ={})
    [error] = result.errors
    assert "REDASH_API_KEY is not set" in error.message and redash.requests == []


def test_an_unreachable_server_is_an_error_record(tmp_path: Path) -> None:
    url = closed_port_url()
    result = run(tmp_path, url)
    assert result.nodes == ()
    [error] = result.errors
    assert error.kind == "read" and "cannot connect" in error.message and url in error.message


def test_a_huge_answer_is_refused_not_read(tmp_path: Path) -> None:
    huge = [{"id": i, "name": "x" * 2000, "data_source_id": 1, "query": "SELECT 1"} for i in range(1, 4)]
    with serving(redash_route(huge)) as fake:
        result = run(tmp_path, fake.url, http={**FAST_HTTP, "max_response_mb": 0.002})
    [error] = [e for e in result.errors if e.kind == "read"]
    assert "larger than the limit" in error.message and f"{fake.url}/api/queries" in error.message
