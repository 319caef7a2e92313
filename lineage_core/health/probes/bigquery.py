"""BigQuery probe: the only module that imports google.cloud.bigquery (lazily, in ``client``).

* last-modified of ALL tables of a project and region in ONE query of
  ``region-xx.INFORMATION_SCHEMA.TABLE_STORAGE`` (views have no storage: they stay unknown
  and derive their state from upstream);
* ``max(column)`` batched with UNION ALL, ``batch_size`` tables per query, per region;
* every query is first dry-run (its estimated bytes are reported, and a query above
  ``maximum_bytes_billed`` is not run) and then run with ``maximum_bytes_billed`` as a cap.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from lineage_core.health.model import Observation, ProbeReport
from lineage_core.health.probes import ObservationKey, ProbeResult, failed, table_parts, to_utc
from lineage_core.health.rules import BigQueryProbeSettings

_PROJECT = re.compile(r"^[a-z0-9][a-z0-9.:-]*$", re.IGNORECASE)
_REGION = re.compile(r"^[a-z0-9-]+$", re.IGNORECASE)
_NAME = re.compile(r"^[^`\\\n\r]+$")


class ProbeQueryError(Exception):
    pass


def storage_sql(project: str, region: str) -> str:
    """One query: the last modification of every table of ``project`` in ``region``."""
    if not _PROJECT.match(project):
        raise ProbeQueryError(f"'{project}' is not a BigQuery project id")
    if not _REGION.match(region):
        raise ProbeQueryError(f"'{region}' is not a BigQuery region")
    return (
        "SELECT table_schema, table_name, UNIX_MICROS(storage_last_modified_time) AS last_modified_us\n"
        f"FROM `{project}`.`region-{region.lower()}`.INFORMATION_SCHEMA.TABLE_STORAGE\n"
        "WHERE NOT deleted AND table_schema IN UNNEST(@datasets)"
    )


def maxima_sql(batch: Sequence[ObservationKey]) -> str:
    """One query for several ``max(column)``: row ``i`` answers ``batch[i]``."""
    selects = []
    for i, (table, column) in enumerate(batch):
        if not column or not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", column):
            raise ProbeQueryError(f"'{column}' is not a plain column name")
        if not _NAME.match(table) or table.count(".") < 2:
            raise ProbeQueryError(f"'{table}' is not a fully qualified BigQuery table (project.dataset.table)")
        selects.append(
            f"SELECT {i} AS i, UNIX_MICROS(CAST(MAX(`{column}`) AS TIMESTAMP)) AS v FROM `{table}`"
        )
    return "\nUNION ALL\n".join(selects)


class BigQueryProbe:
    kind = "bigquery"

    def __init__(self, settings: BigQueryProbeSettings, client: Any | None = None) -> None:
        self.settings = settings
        self._client = client
        self.queries = 0
        self.bytes_estimated = 0
        self.sql_log: list[str] = []

    @property
    def client(self) -> Any:
        if self._client is None:
            from google.cloud import bigquery

            options: dict[str, Any] = {}
            credentials = None
            if self.settings.api_endpoint:
                from google.auth.credentials import AnonymousCredentials

                options["client_options"] = {"api_endpoint": self.settings.api_endpoint}
                credentials = AnonymousCredentials()  # type: ignore[no-untyped-call]
            self._client = bigquery.Client(project=self.settings.project, credentials=credentials, **options)
        return self._client

    def region_of(self, project: str) -> str:
        return self.settings.regions.get(project, self.settings.region)

    def _run(self, sql: str, params: Sequence[Any] = (), location: str | None = None) -> list[Any]:
        from google.cloud import bigquery

        self.sql_log.append(sql)
        if self.settings.dry_run:
            dry = bigquery.QueryJobConfig(dry_run=True, use_query_cache=False, query_parameters=list(params))
            job = self.client.query(sql, job_config=dry, location=location)
            estimate = int(job.total_bytes_processed or 0)
            self.bytes_estimated += estimate
            if estimate > self.settings.maximum_bytes_billed:
                raise ProbeQueryError(
                    f"would process {estimate:,} bytes, above maximum_bytes_billed "
                    f"{self.settings.maximum_bytes_billed:,}; not run"
                )
        config = bigquery.QueryJobConfig(
            maximum_bytes_billed=self.settings.maximum_bytes_billed, query_parameters=list(params)
        )
        self.queries += 1
        rows = self.client.query_and_wait(sql, job_config=config, location=location)
        return list(rows)

    def observe(self, keys: Sequence[ObservationKey]) -> ProbeResult:
        self.queries = 0
        self.bytes_estimated = 0
        out: dict[ObservationKey, Observation] = {}
        errors: list[str] = []
        by_region: dict[tuple[str, str], list[ObservationKey]] = {}
        columns_by_region: dict[str, list[ObservationKey]] = {}
        for key in keys:
            project = table_parts(key[0])[0] or (self.settings.project or "")
            if key[1] is None:
                by_region.setdefault((project, self.region_of(project)), []).append(key)
            else:
                columns_by_region.setdefault(self.region_of(project), []).append(key)
        for (project, region), wanted in sorted(by_region.items()):
            out.update(self._last_modified(project, region, wanted, errors))
        for region, wanted in sorted(columns_by_region.items()):
            for start in range(0, len(wanted), self.settings.batch_size):
                out.update(self._maxima(region, wanted[start:start + self.settings.batch_size], errors))
        report = ProbeReport(self.kind, self.queries, self.bytes_estimated if self.settings.dry_run else None,
                             tuple(errors))
        return ProbeResult(out, report)

    def _last_modified(
        self, project: str, region: str, keys: Sequence[ObservationKey], errors: list[str]
    ) -> dict[ObservationKey, Observation]:
        from google.cloud import bigquery

        datasets = sorted({table_parts(k[0])[1] for k in keys})
        try:
            rows = self._run(
                storage_sql(project, region),
                [bigquery.ArrayQueryParameter("datasets", "STRING", datasets)],
                location=region,
            )
        except Exception as exc:  # google.api_core errors and ours: reported per table
            message = f"INFORMATION_SCHEMA.TABLE_STORAGE of {project} in region-{region}: {_describe(exc)}"
            errors.append(message)
            return failed(keys, message)
        seen: dict[tuple[str, str], Any] = {}
        for row in rows:
            stamp = row["last_modified_us"]
            if stamp is not None:
                seen[(str(row["table_schema"]), str(row["table_name"]))] = to_utc(int(stamp) / 1_000_000)
        result: dict[ObservationKey, Observation] = {}
        for key in keys:
            _, dataset, name = table_parts(key[0])
            result[key] = Observation(key[0], None, seen.get((dataset, name)))
        return result

    def _maxima(self, region: str, batch: Sequence[ObservationKey], errors: list[str]) -> dict[ObservationKey, Observation]:
        try:
            rows = self._run(maxima_sql(batch), location=region)
        except Exception as exc:
            if len(batch) == 1:
                message = _describe(exc)
                errors.append(f"max({batch[0][1]}) of {batch[0][0]}: {message}")
                return failed(batch, message)
            out: dict[ObservationKey, Observation] = {}
            for key in batch:  # isolate the failing table(s)
                out.update(self._maxima(region, [key], errors))
            return out
        values = {int(row["i"]): row["v"] for row in rows}
        return {
            key: Observation(key[0], key[1], None if values.get(i) is None else to_utc(int(values[i]) / 1_000_000))
            for i, key in enumerate(batch)
        }


def _describe(exc: Exception) -> str:
    message = getattr(exc, "message", None) or str(exc)
    return f"{type(exc).__name__}: {message}".strip()
