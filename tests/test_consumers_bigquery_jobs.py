"""Looker Studio / Connected Sheets (``type: bigquery_jobs``) through the real google-cloud-bigquery
client against a loopback fake of the BigQuery REST API (``jobs.query``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from test_consumers_support import FakeService, Request, serving, settings_with

from lineage_core.discovery.consumers import ConsumerResult, collect
from lineage_core.discovery.consumers.bigquery_jobs import BigQueryJobsOptions, jobs_sql
from lineage_core.extract import table_lineage

FIELDS = ["tool", "report_id", "datasource_id", "spreadsheet_id", "sheet_user",
          "table_project", "table_dataset", "table_name", "last_seen_us", "jobs"]
TYPES = {"last_seen_us": "INTEGER", "jobs": "INTEGER"}


def micros(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1_000_000)


ROWS: list[list[Any]] = [
    ["looker_studio", "rep1", "ds1", None, None, "acme-analytics", "reporting", "v_exec_kpis",
     micros("2026-11-20T08:00:00"), 40],
    ["looker_studio", "rep1", "ds2", None, None, "acme-analytics", "reporting", "rpt_marketing_roas",
     micros("2026-11-23T09:30:00"), 12],
    ["looker_studio", None, "ds9", None, None, "acme-analytics", "marts", "fct_orders",
     micros("2026-11-01T00:00:00"), 1],
    ["looker_studio", "rep1", "ds1", None, None, "acme-analytics", "_8f3a1c", "anon_cached_result",
     micros("2026-11-20T08:00:00"), 3],
    ["connected_sheets", None, None, None, "fin@acme.example", "acme-analytics", "reporting", "rpt_daily_revenue",
     micros("2026-11-22T06:00:00"), 30],
    ["connected_sheets", None, None, "1AbCsheet", None, "acme-analytics", "marts", "dim_customers",
     micros("2026-11-21T10:00:00"), 2],
]


class FakeBigQuery:
    """``POST /bigquery/v2/projects/<p>/queries`` answers ``rows``; or ``status`` with an error."""

    def __init__(self, rows: list[list[Any]], status: int = 200) -> None:
        self.rows = rows
        self.status = status

    def __call__(self, request: Request) -> Any:
        if request.method != "POST" or not request.path.endswith("/queries"):
            return 404, {"error": {"code": 404, "message": f"unexpected {request.method} {request.path}"}}
        project = request.path.split("/")[4]
        if self.status != 200:
            message = "Access Denied: Project acme-analytics: User does not have bigquery.jobs.listAll permission"
            return self.status, {"error": {"code": self.status, "message": message,
                                           "errors": [{"reason": "accessDenied", "message": message}]}}
        fields = [{"name": n, "type": TYPES.get(n, "STRING"), "mode": "NULLABLE"} for n in FIELDS]
        return 200, {
            "kind": "bigquery#queryResponse",
            "jobReference": {"projectId": project, "jobId": "job_lineage_1", "location": request.body.get("location")},
            "jobComplete": True,
            "schema": {"fields": fields},
            "totalRows": str(len(self.rows)),
            "rows": [{"f": [{"v": None if v is None else str(v)} for v in row]} for row in self.rows],
        }


@pytest.fixture
def bigquery() -> Iterator[FakeService]:
    with serving(FakeBigQuery(ROWS)) as fake:
        yield fake


def run(tmp_path: Path, url: str, **options: Any) -> ConsumerResult:
    opts = {"project": "acme-analytics", "region": "us", "lookback_days": 14, "api_endpoint": url, **options}
    settings = settings_with(
        f"sources:\n  - name: google-tools\n    type: bigquery_jobs\n    options: {json.dumps(opts)}\n", tmp_path
    )
    return collect(settings)


def nodes_of(result: ConsumerResult) -> dict[str, Any]:
    return {n.id: n for n in result.nodes}


def test_the_jobs_query_parses_as_bigquery_and_reads_only_the_jobs_view() -> None:
    lineage = table_lineage(jobs_sql(BigQueryJobsOptions(project="acme-analytics", region="eu")), "bigquery")
    assert lineage.issues == ()
    assert [str(t) for t in lineage.sources] == ["acme-analytics.region-eu.INFORMATION_SCHEMA.JOBS"]
    assert lineage.targets == ()


def test_one_request_with_the_window_tools_and_labels_as_parameters(bigquery: FakeService, tmp_path: Path) -> None:
    run(tmp_path, bigquery.url, tools=["looker_studio"])
    [request] = bigquery.requests
    assert request.path == "/bigquery/v2/projects/acme-analytics/queries"
    assert request.body["location"] == "us" and request.body["useLegacySql"] is False
    assert "`acme-analytics`.`region-us`.INFORMATION_SCHEMA.JOBS" in request.body["query"]
    params = {p["name"]: p["parameterValue"] for p in request.body["queryParameters"]}
    assert params["lookback_days"] == {"value": "14"}
    assert params["tools"] == {"arrayValues": [{"value": "looker_studio"}]}
    assert params["report_label"] == {"value": "looker_studio_report_id"}
    assert params["sheet_prefixes"] == {"arrayValues": [{"value": "sheets_dataconnector"}]}


def test_a_looker_studio_report_is_one_node_with_a_link_and_last_seen(bigquery: FakeService, tmp_path: Path) -> None:
    result = run(tmp_path, bigquery.url)
    report = nodes_of(result)["looker_studio:report/rep1"]
    assert report.kind == "dashboard" and report.url == "https://lookerstudio.google.com/reporting/rep1"
    assert report.labels["tool"] == "looker_studio" and report.labels["last_seen"] == "2026-11-23T09:30:00+00:00"
    assert report.labels["looker_studio_datasource_id"] == "ds1,ds2"
    edges = sorted(e for r in result.results for e in r.edges if e[1] == report.id)
    assert edges == [("acme-analytics.reporting.rpt_marketing_roas", report.id),
                     ("acme-analytics.reporting.v_exec_kpis", report.id)]  # not the anonymous result dataset


def test_each_edge_keeps_the_time_its_table_was_last_read(bigquery: FakeService, tmp_path: Path) -> None:
    result = run(tmp_path, bigquery.url)
    seen = {r.query.sources[0]: r.query.labels["last_seen"] for r in result.results
            if r.query.targets == ("looker_studio:report/rep1",)}
    assert seen == {"acme-analytics.reporting.v_exec_kpis": "2026-11-20T08:00:00+00:00",
                    "acme-analytics.reporting.rpt_marketing_roas": "2026-11-23T09:30:00+00:00"}


def test_a_data_source_without_a_report_is_its_own_node(bigquery: FakeService, tmp_path: Path) -> None:
    datasource = nodes_of(run(tmp_path, bigquery.url))["looker_studio:datasource/ds9"]
    assert datasource.url == "https://lookerstudio.google.com/datasources/ds9"


def test_connected_sheets_jobs_without_a_spreadsheet_id_are_grouped_by_user(bigquery: FakeService, tmp_path: Path) -> None:
    sheets = nodes_of(run(tmp_path, bigquery.url))["connected_sheets:user/fin@acme.example"]
    assert sheets.owners == ("fin@acme.example",) and sheets.url is None
    assert sheets.labels["tool"] == "connected_sheets" and "does not name the spreadsheet" in (sheets.description or "")


def test_a_spreadsheet_id_from_a_configured_label_links_to_the_sheet(bigquery: FakeService, tmp_path: Path) -> None:
    result = run(tmp_path, bigquery.url, connected_sheets={"spreadsheet_label": "sheets_spreadsheet_id"})
    sheet = nodes_of(result)["connected_sheets:1AbCsheet"]
    assert sheet.url == "https://docs.google.com/spreadsheets/d/1AbCsheet"
    params = {p["name"]: p["parameterValue"] for p in bigquery.requests[0].body["queryParameters"]}
    assert params["spreadsheet_label"] == {"value": "sheets_spreadsheet_id"}


def test_a_denied_query_is_an_error_record_naming_the_view(tmp_path: Path) -> None:
    with serving(FakeBigQuery([], status=403)) as fake:
        result = run(tmp_path, fake.url)
    assert result.nodes == ()
    [error] = result.errors
    assert error.kind == "read" and "`acme-analytics`.`region-us`.INFORMATION_SCHEMA.JOBS" in error.message
    assert "Access Denied" in error.message
