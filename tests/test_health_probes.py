"""Probes: DuckDB and SQLite on real database files; BigQuery through the real
google-cloud-bigquery client against a loopback fake of the BigQuery REST API."""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import duckdb
import pytest
import sqlglot

from lineage_core.health.probes.bigquery import BigQueryProbe, maxima_sql, storage_sql
from lineage_core.health.probes.sql import SqlProbe
from lineage_core.health.rules import BigQueryProbeSettings, SqlProbeSettings

T0 = datetime(2026, 5, 1, 7, 30, tzinfo=UTC)


# -- DuckDB / SQLite -----------------------------------------------------------------------------
@pytest.fixture
def duck(tmp_path: Path) -> Path:
    path = tmp_path / "wh.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE table_freshness (table_id VARCHAR, last_modified TIMESTAMPTZ)")
    con.executemany("INSERT INTO table_freshness VALUES (?, ?)", [
        ["p.raw.orders", T0], ["p.raw.orders", T0 - timedelta(days=1)], ["p.raw.fx", T0 - timedelta(hours=5)],
    ])
    con.execute("CREATE SCHEMA marts")
    con.execute("CREATE TABLE marts.fct (id INT, loaded_at TIMESTAMPTZ, day DATE, naive TIMESTAMP)")
    con.execute("INSERT INTO marts.fct VALUES (1, ?, DATE '2026-04-30', TIMESTAMP '2026-04-30 23:00:00'), "
                "(2, ?, DATE '2026-04-29', NULL)", [T0, T0 - timedelta(hours=1)])
    con.execute("CREATE TABLE marts.empty (loaded_at TIMESTAMP)")
    con.execute('CREATE TABLE "marts"."we""ird" (loaded_at TIMESTAMP)')
    con.execute("""INSERT INTO "marts"."we""ird" VALUES (TIMESTAMP '2026-05-01 01:02:03')""")
    con.close()
    return path


def test_duckdb_probe_reads_metadata_and_column_maxima(duck: Path) -> None:
    probe = SqlProbe.open(SqlProbeSettings(type="duckdb", path=str(duck)), duck)
    keys = [("p.raw.orders", None), ("p.raw.fx", None), ("p.raw.never_loaded", None),
            ("p.marts.fct", "loaded_at"), ("p.marts.fct", "day"), ("p.marts.fct", "naive"),
            ("p.marts.empty", "loaded_at"), ('p.marts.we"ird', "loaded_at"), ("p.marts.missing", "loaded_at")]
    result = probe.observe(keys)
    probe.close()
    seen = {k: (o.last_update, o.error) for k, o in result.observations.items()}
    assert seen[("p.raw.orders", None)] == (T0, None)  # the newest row wins
    assert seen[("p.raw.fx", None)] == (T0 - timedelta(hours=5), None)
    assert seen[("p.raw.never_loaded", None)] == (None, None)  # unknown, not an error
    assert seen[("p.marts.fct", "loaded_at")] == (T0, None)
    assert seen[("p.marts.fct", "day")] == (datetime(2026, 4, 30, tzinfo=UTC), None)
    assert seen[("p.marts.fct", "naive")] == (datetime(2026, 4, 30, 23, tzinfo=UTC), None)
    assert seen[("p.marts.empty", "loaded_at")] == (None, None)
    assert seen[('p.marts.we"ird', "loaded_at")] == (datetime(2026, 5, 1, 1, 2, 3, tzinfo=UTC), None)
    missing = result.observations[("p.marts.missing", "loaded_at")]
    assert missing.last_update is None and missing.error and "missing" in missing.error
    # one metadata query + one batch (fails because of the missing table) + one per table to isolate it
    assert result.report.queries == 1 + 1 + 6 and len(result.report.errors) == 1


def test_duckdb_batches_column_maxima(duck: Path) -> None:
    probe = SqlProbe.open(SqlProbeSettings(type="duckdb", path=str(duck), batch_size=2), duck)
    result = probe.observe([("p.marts.fct", "loaded_at"), ("p.marts.fct", "day"), ("p.marts.empty", "loaded_at")])
    assert result.report.queries == 2 and not result.report.errors


def test_missing_metadata_table_is_an_error_per_table(duck: Path) -> None:
    probe = SqlProbe.open(SqlProbeSettings(type="duckdb", path=str(duck), metadata_table="audit.loads"), duck)
    result = probe.observe([("p.raw.orders", None)])
    assert "audit.loads" in (result.observations[("p.raw.orders", None)].error or "")


def test_sqlite_probe_through_db_api(tmp_path: Path) -> None:
    path = tmp_path / "wh.sqlite"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE table_freshness (table_id TEXT, last_modified TEXT)")
    con.execute("INSERT INTO table_freshness VALUES ('p.raw.orders', '2026-05-01T07:30:00+00:00')")
    con.execute("CREATE TABLE raw__events (loaded_at TEXT)")
    con.execute("INSERT INTO raw__events VALUES ('2026-05-01 06:00:00'), ('2026-05-01 07:00:00')")
    con.commit()
    con.close()
    settings = SqlProbeSettings(type="sqlite", path=str(path), table_name="{dataset}__{name}")
    probe = SqlProbe.open(settings, path)
    result = probe.observe([("p.raw.orders", None), ("p.raw.events", "loaded_at")])
    assert result.observations[("p.raw.orders", None)].last_update == T0
    assert result.observations[("p.raw.events", "loaded_at")].last_update == datetime(2026, 5, 1, 7, tzinfo=UTC)


# -- BigQuery: a loopback fake of the REST API ------------------------------------------------
class FakeBigQuery:
    """jobs.insert (dry runs), jobs.query, jobs.get and queries.getQueryResults on 127.0.0.1."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, Any]]] = []
        self.storage: dict[str, list[tuple[str, str, int | None]]] = {}  # project → rows
        self.maxima: dict[tuple[str, str], int | None] = {}  # (table, column) → micros
        self.missing: set[str] = set()
        self.dry_run_bytes: dict[str, int] = {}  # substring of SQL → estimate
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _reply(self, code: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                fake.requests.append(("POST", self.path, body))
                code, reply = fake.handle("POST", self.path, body)
                self._reply(code, reply)

            def do_GET(self) -> None:
                fake.requests.append(("GET", self.path, {}))
                code, reply = fake.handle("GET", self.path, {})
                self._reply(code, reply)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # -- behaviour ---------------------------------------------------------------------------
    def _estimate(self, sql: str) -> int:
        return next((n for key, n in self.dry_run_bytes.items() if key in sql), 1024)

    def handle(self, method: str, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        match = re.match(r"^/bigquery/v2/projects/([^/]+)/(jobs|queries)(?:/([^/?]+))?", path)
        assert match, path
        project, kind, job_id = match.groups()
        ref = {"projectId": project, "jobId": job_id or body.get("jobReference", {}).get("jobId", "job-1"),
               "location": body.get("location") or "US"}
        if kind == "jobs" and method == "POST":  # jobs.insert: only dry runs here
            config = body["configuration"]
            sql = config["query"]["query"]
            estimate = str(self._estimate(sql))
            return 200, {"kind": "bigquery#job", "jobReference": ref, "configuration": config,
                         "status": {"state": "DONE"},
                         "statistics": {"totalBytesProcessed": estimate, "query": {"totalBytesProcessed": estimate}}}
        if kind == "queries" and method == "POST":  # jobs.query
            return self.run_query(body["query"], ref)
        if kind == "jobs":  # jobs.get
            return 200, {"kind": "bigquery#job", "jobReference": ref, "status": {"state": "DONE"}}
        return 200, {"kind": "bigquery#getQueryResultsResponse", "jobReference": ref, "jobComplete": True,
                     "rows": [], "totalRows": "0", "schema": {"fields": []}}

    def run_query(self, sql: str, ref: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if "INFORMATION_SCHEMA.TABLE_STORAGE" in sql:
            project = re.search(r"FROM `([^`]+)`", sql).group(1)  # type: ignore[union-attr]
            fields = [{"name": "table_schema", "type": "STRING"}, {"name": "table_name", "type": "STRING"},
                      {"name": "last_modified_us", "type": "INTEGER"}]
            rows = [[s, n, None if us is None else str(us)] for s, n, us in self.storage.get(project, [])]
        else:
            parts = re.findall(r"SELECT (\d+) AS i, .*?MAX\(`(\w+)`\).*? FROM `([^`]+)`", sql)
            for _, _, table in parts:
                if table in self.missing:
                    return 404, {"error": {"code": 404, "message": f"Not found: Table {table}",
                                           "errors": [{"reason": "notFound", "message": f"Not found: Table {table}"}]}}
            fields = [{"name": "i", "type": "INTEGER"}, {"name": "v", "type": "INTEGER"}]
            rows = []
            for i, column, table in parts:
                value = self.maxima.get((table, column))
                rows.append([i, None if value is None else str(value)])
        return 200, {"kind": "bigquery#queryResponse", "jobReference": ref, "jobComplete": True,
                     "schema": {"fields": fields}, "totalRows": str(len(rows)),
                     "rows": [{"f": [{"v": v} for v in row]} for row in rows]}


@pytest.fixture
def fake_bq() -> Iterator[FakeBigQuery]:
    fake = FakeBigQuery()
    yield fake
    fake.close()


def micros(value: datetime) -> int:
    return int(value.timestamp() * 1_000_000)


def bq_probe(fake: FakeBigQuery, **settings: Any) -> BigQueryProbe:
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import bigquery

    client = bigquery.Client(project="billing", credentials=AnonymousCredentials(),
                             client_options={"api_endpoint": fake.url})
    return BigQueryProbe(BigQueryProbeSettings(type="bigquery", project="billing", **settings), client)


def test_bigquery_last_modified_is_one_query_per_project_and_region(fake_bq: FakeBigQuery) -> None:
    fake_bq.storage["acme"] = [("raw", "orders", micros(T0)), ("raw", "fx", micros(T0 - timedelta(hours=3))),
                               ("staging", "stg", micros(T0)), ("raw", "other", None)]
    fake_bq.storage["ingest"] = [("landing", "shop", micros(T0))]
    probe = bq_probe(fake_bq, region="us", regions={"ingest": "asia-northeast1"}, maximum_bytes_billed=10**9)
    keys = [("acme.raw.orders", None), ("acme.raw.fx", None), ("acme.staging.stg", None),
            ("acme.raw.view_without_storage", None), ("ingest.landing.shop", None)]
    result = probe.observe(keys)
    got = {k: o.last_update for k, o in result.observations.items()}
    assert got == {("acme.raw.orders", None): T0, ("acme.raw.fx", None): T0 - timedelta(hours=3),
                   ("acme.staging.stg", None): T0, ("acme.raw.view_without_storage", None): None,
                   ("ingest.landing.shop", None): T0}
    queries = [b for m, p, b in fake_bq.requests if p.split("?")[0].endswith("/queries")]
    dry_runs = [b for m, p, b in fake_bq.requests if m == "POST" and p.split("?")[0].endswith("/jobs")]
    assert len(queries) == 2 and len(dry_runs) == 2 and result.report.queries == 2  # ONE per project+region
    sqls = [q["query"] for q in queries]
    assert "`acme`.`region-us`.INFORMATION_SCHEMA.TABLE_STORAGE" in sqls[0]
    assert "`ingest`.`region-asia-northeast1`.INFORMATION_SCHEMA.TABLE_STORAGE" in sqls[1]
    for query in queries:
        assert query["maximumBytesBilled"] == "1000000000"
        assert query["useLegacySql"] is False
        assert query["queryParameters"][0]["parameterType"] == {"type": "ARRAY", "arrayType": {"type": "STRING"}}
    datasets = {v["value"] for v in queries[0]["queryParameters"][0]["parameterValue"]["arrayValues"]}
    assert datasets == {"raw", "staging"}
    for dry in dry_runs:
        assert dry["configuration"]["dryRun"] is True
        assert dry["configuration"]["query"]["useQueryCache"] is False
    assert result.report.bytes_estimated == 2 * 1024
    for sql in sqls:
        sqlglot.parse_one(sql, read="bigquery")


def test_bigquery_column_maxima_are_batched_with_union_all(fake_bq: FakeBigQuery) -> None:
    tables = [f"acme.marts.t{i}" for i in range(5)]
    for n, table in enumerate(tables):
        fake_bq.maxima[(table, "loaded_at")] = micros(T0 - timedelta(minutes=n))
    fake_bq.maxima[(tables[4], "loaded_at")] = None  # an empty table
    probe = bq_probe(fake_bq, batch_size=2)
    result = probe.observe([(t, "loaded_at") for t in tables])
    assert [result.observations[(t, "loaded_at")].last_update for t in tables] == [
        T0, T0 - timedelta(minutes=1), T0 - timedelta(minutes=2), T0 - timedelta(minutes=3), None]
    queries = [b["query"] for m, p, b in fake_bq.requests if p.split("?")[0].endswith("/queries")]
    assert len(queries) == 3 and queries[0].count("UNION ALL") == 1
    for sql in queries:
        tree = sqlglot.parse_one(sql, read="bigquery")
        assert tree is not None


def test_bigquery_a_missing_table_is_isolated(fake_bq: FakeBigQuery) -> None:
    fake_bq.maxima[("acme.marts.ok", "loaded_at")] = micros(T0)
    fake_bq.missing.add("acme.marts.gone")
    result = bq_probe(fake_bq).observe([("acme.marts.ok", "loaded_at"), ("acme.marts.gone", "loaded_at")])
    assert result.observations[("acme.marts.ok", "loaded_at")].last_update == T0
    gone = result.observations[("acme.marts.gone", "loaded_at")]
    assert gone.last_update is None and "Not found: Table acme.marts.gone" in (gone.error or "")


def test_bigquery_dry_run_above_the_cap_is_not_run(fake_bq: FakeBigQuery) -> None:
    fake_bq.dry_run_bytes["MAX(`payload`)"] = 5 * 10**12
    fake_bq.maxima[("acme.raw.huge", "payload")] = micros(T0)
    result = bq_probe(fake_bq, maximum_bytes_billed=10**10).observe([("acme.raw.huge", "payload")])
    error = result.observations[("acme.raw.huge", "payload")].error or ""
    assert "would process 5,000,000,000,000 bytes, above maximum_bytes_billed 10,000,000,000" in error
    assert not [p for m, p, b in fake_bq.requests if p.split("?")[0].endswith("/queries")]  # never run
    assert result.report.bytes_estimated == 5 * 10**12


def test_bigquery_probe_from_config_uses_the_endpoint_lazily(fake_bq: FakeBigQuery) -> None:
    fake_bq.storage["acme"] = [("raw", "orders", micros(T0))]
    probe = BigQueryProbe(BigQueryProbeSettings(type="bigquery", project="billing", api_endpoint=fake_bq.url,
                                                dry_run=False))
    result = probe.observe([("acme.raw.orders", None)])
    assert result.observations[("acme.raw.orders", None)].last_update == T0
    assert result.report.bytes_estimated is None
    assert not [p for m, p, b in fake_bq.requests if p.split("?")[0].endswith("/jobs")]  # no dry run


@pytest.mark.parametrize("sql", [
    storage_sql("acme-analytics", "us"),
    storage_sql("acme", "asia-northeast1"),
    maxima_sql([("acme-analytics.raw.orders", "_loaded_at"), ("acme-analytics.marts.fct", "loaded_at")]),
])
def test_generated_sql_parses_as_bigquery(sql: str) -> None:
    tree = sqlglot.parse_one(sql, read="bigquery")
    assert tree.find(sqlglot.exp.Table) is not None


@pytest.mark.parametrize(("call", "message"), [
    (lambda: storage_sql("acme`; DROP", "us"), "not a BigQuery project id"),
    (lambda: storage_sql("acme", "us`"), "not a BigQuery region"),
    (lambda: maxima_sql([("acme.raw.t`x", "c")]), "not a fully qualified BigQuery table"),
    (lambda: maxima_sql([("raw.t", "c")]), "not a fully qualified BigQuery table"),
])
def test_unsafe_names_never_reach_sql(call: Any, message: str) -> None:
    with pytest.raises(Exception, match=message):
        call()
