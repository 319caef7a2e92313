"""Looker Studio reports and Connected Sheets, from BigQuery's job history.

Neither tool's settings can be read, but every query they send to BigQuery is a job, listed in
``region-<r>.INFORMATION_SCHEMA.JOBS`` with the tables it read (``referenced_tables``): no SQL is
parsed. One query (parameterized, aggregated in BigQuery, capped by ``maximum_bytes_billed``)
returns one row per (report or sheet, table) with the last time it was read in the look-back
window. The only module that imports ``google.cloud.bigquery`` for discovery (lazily).

How jobs are attributed (see docs/view-layer.md for sources):

* Looker Studio labels its jobs ``requestor: looker_studio``, ``looker_studio_report_id`` and
  ``looker_studio_datasource_id``. A job with a report id → ``looker_studio:report/<id>``
  (``https://lookerstudio.google.com/reporting/<id>``); a job with only a data source id (the
  data source editor, an embedded data source) → ``looker_studio:datasource/<id>``.
* Connected Sheets jobs are documented to carry the job id prefix ``sheets_dataconnector``
  (``sheets_dataconnector_scheduled_…`` for scheduled refreshes); no label names the
  spreadsheet. With ``connected_sheets.spreadsheet_label`` set (a label key your jobs do carry),
  a job → ``connected_sheets:<spreadsheet id>`` (``https://docs.google.com/spreadsheets/d/<id>``);
  otherwise jobs are grouped by the person who ran them → ``connected_sheets:user/<email>``,
  with that person as the owner.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import msgspec

from lineage_core.config import Settings, SourceSettings
from lineage_core.discovery.consumers._common import Builder, Collected

Tool = Literal["looker_studio", "connected_sheets"]

_PROJECT = re.compile(r"^[a-z0-9][a-z0-9.:-]*$", re.IGNORECASE)
_REGION = re.compile(r"^[a-z0-9-]+$", re.IGNORECASE)
_LABEL_KEY = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")


class LookerStudioIds(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    report_label: str = "looker_studio_report_id"
    datasource_label: str = "looker_studio_datasource_id"


class ConnectedSheetsIds(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    job_id_prefixes: tuple[str, ...] = ("sheets_dataconnector",)
    spreadsheet_label: str | None = None  # a job label holding the spreadsheet id, if your jobs have one


class BigQueryJobsOptions(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    project: str
    region: str = "us"
    lookback_days: Annotated[int, msgspec.Meta(ge=1, le=180)] = 30  # JOBS keeps 180 days
    tools: tuple[Tool, ...] = ("looker_studio", "connected_sheets")
    jobs_view: Literal["JOBS", "JOBS_BY_PROJECT", "JOBS_BY_FOLDER", "JOBS_BY_ORGANIZATION"] = "JOBS"
    looker_studio: LookerStudioIds = LookerStudioIds()
    connected_sheets: ConnectedSheetsIds = ConnectedSheetsIds()
    maximum_bytes_billed: Annotated[int, msgspec.Meta(ge=10 * 1024 * 1024)] = 10 * 1024**3
    max_rows: Annotated[int, msgspec.Meta(ge=1)] = 200_000
    api_endpoint: str | None = None  # another BigQuery REST endpoint (an emulator, a test fake)
    timeout: Annotated[float, msgspec.Meta(gt=0)] = 300.0  # seconds, retries included

    def __post_init__(self) -> None:
        if not _PROJECT.match(self.project):
            raise ValueError(f"'{self.project}' is not a BigQuery project id")
        if not _REGION.match(self.region):
            raise ValueError(f"'{self.region}' is not a BigQuery region (e.g. us, eu, asia-northeast1)")
        for key in (
            self.looker_studio.report_label,
            self.looker_studio.datasource_label,
            self.connected_sheets.spreadsheet_label,
        ):
            if key is not None and not _LABEL_KEY.match(key):
                raise ValueError(f"'{key}' is not a BigQuery label key")
        if not self.tools:
            raise ValueError("tools is empty: name looker_studio and/or connected_sheets")


def jobs_sql(options: BigQueryJobsOptions) -> str:
    """The one query: (tool, report/sheet, table) → last seen, over the look-back window."""
    view = f"`{options.project}`.`region-{options.region.lower()}`.INFORMATION_SCHEMA.{options.jobs_view}"
    return f"""WITH labelled AS (
  SELECT
    job_id,
    user_email,
    creation_time,
    referenced_tables,
    (SELECT l.value FROM UNNEST(labels) AS l WHERE l.key = @report_label LIMIT 1) AS report_id,
    (SELECT l.value FROM UNNEST(labels) AS l WHERE l.key = @datasource_label LIMIT 1) AS datasource_id,
    (SELECT l.value FROM UNNEST(labels) AS l WHERE l.key = @spreadsheet_label LIMIT 1) AS spreadsheet_id,
    EXISTS(SELECT 1 FROM UNNEST(@sheet_prefixes) AS p WHERE STARTS_WITH(job_id, p)) AS sheets_job
  FROM {view}
  WHERE creation_time >= TIMESTAMP_SUB(CURRENT_TIMESTAMP(), INTERVAL @lookback_days DAY)
    AND job_type = 'QUERY'
    AND state = 'DONE'
    AND error_result IS NULL
),
tagged AS (
  SELECT
    *,
    CASE
      WHEN report_id IS NOT NULL OR datasource_id IS NOT NULL THEN 'looker_studio'
      WHEN sheets_job OR spreadsheet_id IS NOT NULL THEN 'connected_sheets'
    END AS tool
  FROM labelled
)
SELECT
  tool,
  report_id,
  datasource_id,
  spreadsheet_id,
  IF(tool = 'connected_sheets' AND spreadsheet_id IS NULL, user_email, NULL) AS sheet_user,
  ref.project_id AS table_project,
  ref.dataset_id AS table_dataset,
  ref.table_id AS table_name,
  UNIX_MICROS(MAX(creation_time)) AS last_seen_us,
  COUNT(DISTINCT job_id) AS jobs
FROM tagged, UNNEST(referenced_tables) AS ref
WHERE tool IN UNNEST(@tools)
GROUP BY tool, report_id, datasource_id, spreadsheet_id, sheet_user, table_project, table_dataset, table_name
ORDER BY tool, report_id, datasource_id, spreadsheet_id, sheet_user, table_project, table_dataset, table_name
LIMIT @max_rows"""


def _client(options: BigQueryJobsOptions) -> Any:
    from google.cloud import bigquery

    if options.api_endpoint:
        from google.auth.credentials import AnonymousCredentials

        return bigquery.Client(
            project=options.project,
            credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
            client_options={"api_endpoint": options.api_endpoint},
        )
    return bigquery.Client(project=options.project)


def run_jobs_query(options: BigQueryJobsOptions, client: Any | None = None) -> list[dict[str, Any]]:
    from google.cloud import bigquery

    client = client or _client(options)
    config = bigquery.QueryJobConfig(
        maximum_bytes_billed=options.maximum_bytes_billed,
        use_legacy_sql=False,
        labels={"requestor": "lineage-dashboard"},
        query_parameters=[
            bigquery.ScalarQueryParameter("report_label", "STRING", options.looker_studio.report_label),
            bigquery.ScalarQueryParameter("datasource_label", "STRING", options.looker_studio.datasource_label),
            bigquery.ScalarQueryParameter("spreadsheet_label", "STRING", options.connected_sheets.spreadsheet_label),
            bigquery.ArrayQueryParameter("sheet_prefixes", "STRING", list(options.connected_sheets.job_id_prefixes)),
            bigquery.ScalarQueryParameter("lookback_days", "INT64", options.lookback_days),
            bigquery.ArrayQueryParameter("tools", "STRING", list(options.tools)),
            bigquery.ScalarQueryParameter("max_rows", "INT64", options.max_rows + 1),
        ],
    )
    from google.cloud.bigquery.retry import DEFAULT_JOB_RETRY, DEFAULT_RETRY

    rows = client.query_and_wait(
        jobs_sql(options),
        job_config=config,
        location=options.region,
        api_timeout=min(60.0, options.timeout),
        wait_timeout=options.timeout,
        # the library retries unreachable endpoints for 10 minutes by default: bound it by `timeout`
        retry=DEFAULT_RETRY.with_timeout(options.timeout),
        job_retry=DEFAULT_JOB_RETRY.with_timeout(options.timeout),
    )
    return [dict(row.items()) for row in rows]


@dataclass
class _Consumer:
    node_id: str
    tool: str
    url: str | None
    obj: str
    owners: list[str] = field(default_factory=list)
    tables: dict[str, tuple[int, int]] = field(default_factory=dict)  # table → (last seen µs, jobs)
    datasources: set[str] = field(default_factory=set)


def _consumer(row: dict[str, Any]) -> _Consumer | None:
    tool = row.get("tool")
    if tool == "looker_studio":
        report, datasource = row.get("report_id"), row.get("datasource_id")
        if report:
            return _Consumer(
                f"looker_studio:report/{report}", tool, f"https://lookerstudio.google.com/reporting/{report}", "report"
            )
        if datasource:
            return _Consumer(
                f"looker_studio:datasource/{datasource}",
                tool,
                f"https://lookerstudio.google.com/datasources/{datasource}",
                "datasource",
            )
        return None
    if tool == "connected_sheets":
        sheet, user = row.get("spreadsheet_id"), row.get("sheet_user")
        if sheet:
            return _Consumer(
                f"connected_sheets:{sheet}", tool, f"https://docs.google.com/spreadsheets/d/{sheet}", "spreadsheet"
            )
        who = str(user or "unknown")
        return _Consumer(f"connected_sheets:user/{who}", tool, None, "user", [who] if user else [])
    return None


def _iso(micros: int) -> str:
    return datetime.fromtimestamp(micros / 1_000_000, UTC).isoformat(timespec="seconds")


def consumers_from_rows(rows: Sequence[dict[str, Any]]) -> dict[str, _Consumer]:
    found: dict[str, _Consumer] = {}
    for row in rows:
        consumer = _consumer(row)
        table_parts = (row.get("table_project"), row.get("table_dataset"), row.get("table_name"))
        if consumer is None or not all(table_parts):
            continue
        dataset = str(table_parts[1])
        if dataset.startswith("_") or dataset.upper() == "INFORMATION_SCHEMA":
            continue  # anonymous result datasets (cached results, scripts), metadata views
        table = ".".join(str(p) for p in table_parts)
        consumer = found.setdefault(consumer.node_id, consumer)
        seen = int(row.get("last_seen_us") or 0)
        jobs = int(row.get("jobs") or 0)
        old_seen, old_jobs = consumer.tables.get(table, (0, 0))
        consumer.tables[table] = (max(seen, old_seen), jobs + old_jobs)
        if row.get("datasource_id") and consumer.obj == "report":
            consumer.datasources.add(str(row["datasource_id"]))
    return found


def collect_bigquery_jobs(
    settings: Settings, source: SourceSettings, options: BigQueryJobsOptions, client: Any | None = None
) -> Collected:
    builder = Builder(source, settings, "bigquery_jobs")
    where = f"`{options.project}`.`region-{options.region.lower()}`.INFORMATION_SCHEMA.{options.jobs_view}"
    uri = f"bigquery://{options.project}/region-{options.region.lower()}/INFORMATION_SCHEMA.{options.jobs_view}"
    try:
        rows = run_jobs_query(options, client)
    except Exception as exc:  # google.api_core / google.auth / transport errors: recorded, never fatal
        endpoint = f" (endpoint {options.api_endpoint})" if options.api_endpoint else ""
        builder.error(uri, "jobs", None, "read", f"{where}{endpoint}: {_describe(exc)}")
        return builder.finish()
    if len(rows) > options.max_rows:
        builder.error(
            uri,
            "jobs",
            None,
            "read",
            f"{where}: more than max_rows={options.max_rows} (report, table) pairs; the rest were not read",
        )
        rows = rows[: options.max_rows]
    for consumer in consumers_from_rows(rows).values():
        last_seen = max(seen for seen, _ in consumer.tables.values())
        labels = {
            "tool": consumer.tool,
            "object": consumer.obj,
            "last_seen": _iso(last_seen),
            "jobs": str(sum(jobs for _, jobs in consumer.tables.values())),
            "lookback_days": str(options.lookback_days),
        }
        if consumer.datasources:
            labels["looker_studio_datasource_id"] = ",".join(sorted(consumer.datasources))
        description = (
            f"Connected Sheets queries run by {consumer.owners[0] if consumer.owners else 'an unknown user'} "
            "(INFORMATION_SCHEMA.JOBS does not name the spreadsheet)"
            if consumer.obj == "user"
            else None
        )
        builder.node(
            consumer.node_id,
            "dashboard",
            labels=labels,
            owners=consumer.owners,
            url=consumer.url,
            description=description,
        )
        for table, (seen, jobs) in sorted(consumer.tables.items()):
            builder.query(
                query_id=f"{source.name}:{consumer.node_id}:{table}",
                consumer=consumer.node_id,
                uri=f"{uri}#{consumer.node_id}/{table}",
                path=f"region-{options.region.lower()}.INFORMATION_SCHEMA.{options.jobs_view}",
                reads=[table],
                labels={"tool": consumer.tool, "last_seen": _iso(seen), "jobs": str(jobs)},
            )
    return builder.finish()


def _describe(exc: BaseException) -> str:
    from lineage_core.discovery.consumers._http import _short

    message = getattr(exc, "message", None) or _short(exc) or type(exc).__name__
    text = f"{type(exc).__name__}: {message}"
    cause = getattr(exc, "cause", None)  # RetryError: what kept failing (retries may nest)
    while isinstance(getattr(cause, "cause", None), BaseException):
        cause = cause.cause  # type: ignore[union-attr]
    if isinstance(cause, BaseException):
        text += f" (last error: {type(cause).__name__}: {_short(cause)})"
    return text if len(text) < 600 else text[:600] + "…"
