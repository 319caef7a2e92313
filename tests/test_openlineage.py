"""`lineage export --format openlineage`: events valid against the OpenLineage schema, to a file or a receiver."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest

from lineage_core import openlineage
from lineage_core.cli.main import main

CONFIG = "version: 1\ndefault_project: acme\nvars:\n  env: prod\nsources:\n  - name: dags\n    path: sql\n"
SQL = {
    "staging/orders.sql": "CREATE OR REPLACE TABLE staging.orders AS SELECT * FROM raw.orders WHERE env = '{{ env }}'\n",
    "marts/orders.sql": "INSERT INTO marts.orders SELECT o.* FROM staging.orders o JOIN `other-proj.crm.customers` c USING (id)\n",
    "export.sql": "INSERT OVERWRITE DIRECTORY 'gs://acme-exports/orders/' SELECT * FROM marts.orders\n",
}


def validator() -> jsonschema.Draft202012Validator:
    schema = openlineage.schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def assert_valid(event: dict[str, Any]) -> None:
    errors = sorted(validator().iter_errors(event), key=lambda e: list(e.absolute_path))
    assert not errors, [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors]
    # formats the installed jsonschema may not check without optional packages
    datetime.fromisoformat(event["eventTime"])
    for uri in (event["producer"], event["schemaURL"], event["job"]["facets"]["sourceCodeLocation"]["url"]):
        assert urlsplit(uri).scheme, uri


@pytest.fixture
def lineage_doc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for rel, text in SQL.items():
        (tmp_path / "sql" / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "sql" / rel).write_text(text)
    (tmp_path / "lineage.yaml").write_text(CONFIG)
    monkeypatch.chdir(tmp_path)
    assert main(["build", "--out", "build/lineage.json", "--no-cache"]) == 0
    return tmp_path / "build" / "lineage.json"


class Receiver:
    """A loopback stand-in for Marquez's POST /api/v1/lineage: keeps what it gets."""

    def __init__(self, status: int = 201) -> None:
        self.status = status
        self.received: list[tuple[str, dict[str, Any], dict[str, str]]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.received.append((self.path, json.loads(body), dict(self.headers)))
                status = receiver.status if self.path == "/api/v1/lineage" else 404
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}" if status < 300 else b"no")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    try:
        yield server
    finally:
        server.close()


def test_file_export_one_valid_complete_event_per_query(lineage_doc: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = lineage_doc.parent / "events.jsonl"
    code = main(
        [
            "export",
            "--format",
            "openlineage",
            "--lineage",
            str(lineage_doc),
            "--out",
            str(out),
            "--namespace",
            "acme-composer",
            "--config",
            "lineage.yaml",
        ]
    )
    assert code == 0 and "wrote 3 OpenLineage events" in capsys.readouterr().out
    events = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(events) == 3
    for event in events:
        assert_valid(event)
        assert event["eventType"] == "COMPLETE" and event["job"]["namespace"] == "acme-composer"
        assert set(event["job"]["facets"]) == {"sql", "sourceCodeLocation", "jobType"}
    by_job = {e["job"]["name"]: e for e in events}
    assert set(by_job) == {"dags:export.sql", "dags:marts/orders.sql", "dags:staging/orders.sql"}
    mart = by_job["dags:marts/orders.sql"]
    assert mart["inputs"] == [
        {"namespace": "bigquery", "name": "acme.staging.orders"},
        {"namespace": "bigquery", "name": "other-proj.crm.customers"},
    ]
    assert mart["outputs"] == [{"namespace": "bigquery", "name": "acme.marts.orders"}]
    staging = by_job["dags:staging/orders.sql"]
    # --config renders the template: the facet holds the SQL that runs
    assert staging["job"]["facets"]["sql"]["query"].endswith("WHERE env = 'prod'\n")
    location = staging["job"]["facets"]["sourceCodeLocation"]
    assert (
        location["type"] == "file"
        and location["url"] == (lineage_doc.parent.parent / "sql/staging/orders.sql").as_uri()
    )
    export = by_job["dags:export.sql"]
    assert export["outputs"] == [{"namespace": "gs://acme-exports", "name": "/orders/"}]
    # the same document gives the same run ids (a receiver replaces, not duplicates)
    again = openlineage.events(openlineage_doc(lineage_doc), namespace="acme-composer")
    assert {e["run"]["runId"] for e in again} == {e["run"]["runId"] for e in events}


def openlineage_doc(path: Path) -> Any:
    from lineage_core.artifact import loads_document

    return loads_document(path.read_bytes())


def test_json_array_output_and_git_source_links(lineage_doc: Path) -> None:
    out = lineage_doc.parent / "events.json"
    code = main(
        [
            "export",
            "--lineage",
            str(lineage_doc),
            "--out",
            str(out),
            "--no-sql",
            "--repo-url",
            "https://github.com/acme/dags",
            "--version",
            "abc123",
        ]
    )
    events = json.loads(out.read_text())
    assert code == 0 and isinstance(events, list) and len(events) == 3
    for event in events:
        assert_valid(event)
        assert "sql" not in event["job"]["facets"]
    location = next(e for e in events if e["job"]["name"] == "dags:staging/orders.sql")["job"]["facets"][
        "sourceCodeLocation"
    ]
    assert location["type"] == "git" and location["version"] == "abc123"
    assert location["url"] == "https://github.com/acme/dags/blob/abc123/sql/staging/orders.sql"


def test_post_to_marquez_compatible_endpoint(
    lineage_doc: Path, receiver: Receiver, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OPENLINEAGE_API_KEY", "k3y")
    code = main(["export", "--format", "openlineage", "--lineage", str(lineage_doc), "--out", receiver.url])
    assert code == 0 and f"sent 3 OpenLineage events to {receiver.url}/api/v1/lineage" in capsys.readouterr().out
    assert [path for path, _, _ in receiver.received] == ["/api/v1/lineage"] * 3
    for _, event, headers in receiver.received:
        assert_valid(event)
        assert headers["Content-Type"] == "application/json" and headers["Authorization"] == "Bearer k3y"
    assert {e["job"]["name"] for _, e, _ in receiver.received} == {
        "dags:export.sql",
        "dags:marts/orders.sql",
        "dags:staging/orders.sql",
    }


def test_receiver_errors_and_unreachable_endpoint_exit_1(
    lineage_doc: Path, receiver: Receiver, capsys: pytest.CaptureFixture[str]
) -> None:
    receiver.status = 422
    code = main(["export", "--lineage", str(lineage_doc), "--out", receiver.url + "/api/v1/lineage"])
    err = capsys.readouterr().err
    assert code == 1 and "answered 422" in err and "sent 0 of 3 events" in err
    code = main(["export", "--lineage", str(lineage_doc), "--out", "http://127.0.0.1:9", "--timeout", "2"])
    err = capsys.readouterr().err
    assert code == 1 and "cannot reach the OpenLineage endpoint http://127.0.0.1:9/api/v1/lineage" in err


def test_missing_document_and_missing_sql_file(lineage_doc: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["export", "--lineage", str(lineage_doc.parent / "nope.json"), "--out", "x.jsonl"])
    assert code != 0 and "nope.json" in capsys.readouterr().err
    (lineage_doc.parent.parent / "sql" / "export.sql").unlink()
    out = lineage_doc.parent / "events.jsonl"
    assert main(["export", "--lineage", str(lineage_doc), "--out", str(out)]) == 0
    assert "warning: no SQL for sql/export.sql" in capsys.readouterr().err
    events = [json.loads(line) for line in out.read_text().splitlines()]
    for event in events:
        assert_valid(event)  # an event without the sql facet is still valid
    assert "sql" not in next(e for e in events if e["job"]["name"] == "dags:export.sql")["job"]["facets"]


def test_schema_rejects_what_the_spec_forbids() -> None:
    from lineage_core.models import Query

    event = openlineage.run_event(
        Query("q", "a.sql", "a.sql", 1, 1, sources=("p.d.t",)), event_time="2026-01-01T00:00:00+00:00", sql="SELECT 1"
    )
    assert_valid(event)
    check = validator()
    for broken in (
        {k: v for k, v in event.items() if k != "producer"},
        {**event, "eventType": "DONE"},
        {**event, "run": {"runId": "not-a-uuid"}},
        {**event, "job": {**event["job"], "facets": {"sql": {"_producer": "x:y", "_schemaURL": "x:y"}}}},
        {**event, "inputs": [{"name": "t"}]},
    ):
        assert list(check.iter_errors(broken)), broken


def test_export_help_and_empty_namespace(lineage_doc: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["export", "--help"])
    assert exc.value.code == 0 and "OpenLineage" in capsys.readouterr().out
    assert main(["export", "--lineage", str(lineage_doc), "--out", "x.jsonl", "--namespace", " "]) == 2
