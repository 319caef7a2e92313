"""`lineage notify` against a loopback Slack webhook fake and a loopback SMTP server."""

from __future__ import annotations

import json
import socketserver
import threading
from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from test_health_evaluate import FRESH, NOW, SHOP, lineage, observed

from lineage_core.artifact import dumps_document
from lineage_core.cli.main import main
from lineage_core.health.document import dumps_health
from lineage_core.health.evaluate import evaluate
from lineage_core.health.model import HealthDocument
from lineage_core.health.rules import parse_health

SECRET_PATH = "/services/T000/B000/s3cr3t-t0ken"


class SlackFake:
    """An incoming-webhook endpoint; ``script`` lists the status codes to answer, then 200."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, dict[str, Any]]] = []
        self.script: dict[str, list[int]] = {}
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.posts.append((self.path, body))
                queue = fake.script.get(self.path, [])
                code = queue.pop(0) if queue else 200
                data = b"ok" if code == 200 else b"rate_limited" if code == 429 else b"error"
                self.send_response(code)
                if code == 429:
                    self.send_header("Retry-After", "0")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class SmtpFake:
    """A minimal SMTP server (socketserver): enough of RFC 5321 for smtplib. ``fail_next`` answers
    that many MAIL commands with 451 (a transient error)."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.fail_next = 0
        self.attempts = 0
        fake = self

        class Handler(socketserver.StreamRequestHandler):
            def reply(self, line: str) -> None:
                self.wfile.write(line.encode() + b"\r\n")

            def handle(self) -> None:
                self.reply("220 fake ESMTP")
                sender, recipients = "", []
                while True:
                    raw = self.rfile.readline()
                    if not raw:
                        return
                    command = raw.decode().strip()
                    verb = command.split(" ", 1)[0].upper()
                    if verb in {"EHLO", "HELO"}:
                        self.reply("250 fake")
                    elif verb == "MAIL":
                        fake.attempts += 1
                        if fake.fail_next:
                            fake.fail_next -= 1
                            self.reply("451 try again later")
                            continue
                        sender, recipients = command[10:].strip("<> "), []
                        self.reply("250 OK")
                    elif verb == "RCPT":
                        recipients.append(command[8:].strip("<> "))
                        self.reply("250 OK")
                    elif verb == "DATA":
                        self.reply("354 end with .")
                        lines = []
                        while (line := self.rfile.readline()) not in (b".\r\n", b""):
                            lines.append(line[1:] if line.startswith(b"..") else line)
                        fake.messages.append((sender, recipients, b"".join(lines)))
                        self.reply("250 queued")
                    elif verb == "QUIT":
                        self.reply("221 bye")
                        return
                    else:  # RSET, NOOP
                        self.reply("250 OK")

        class Server(socketserver.ThreadingTCPServer):
            allow_reuse_address = True
            daemon_threads = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def slack() -> Iterator[SlackFake]:
    fake = SlackFake()
    yield fake
    fake.close()


@pytest.fixture
def smtp() -> Iterator[SmtpFake]:
    fake = SmtpFake()
    yield fake
    fake.close()


class World:
    """A lineage document, a config with subscriptions, and health documents written on demand."""

    def __init__(self, root: Path, slack: SlackFake, smtp: SmtpFake, monkeypatch: pytest.MonkeyPatch) -> None:
        self.root = root
        self.lineage = root / "lineage.json"
        self.lineage.write_bytes(dumps_document(lineage(SHOP)))
        self.health_path = root / "health.json"
        self.config = root / "lineage.yaml"
        self.config.write_text(f"""
freshness:
  - {{select: "dataset:raw", warn_after: {{count: 1, period: hour}}, error_after: {{count: 6, period: hour}}}}
subscriptions:
  - name: platform
    select: "dataset:raw"
    notify: [{{slack: {{webhook_env: SLACK_WEBHOOK_DATA}}}}]
  - name: exec
    select: "acme.marts.fct_orders, acme.marts.dim_customers"
    notify: [{{email: cfo@acme.example}}, {{slack: {{webhook_env: SLACK_WEBHOOK_EXEC}}}}]
notify:
  smtp: {{host: 127.0.0.1, port: {smtp.port}, from: lineage@acme.example}}
  retries: 2
  backoff_seconds: 0.01
  timeout_seconds: 5
dashboard_url: https://lineage.acme.example/
""", encoding="utf-8")
        monkeypatch.setenv("SLACK_WEBHOOK_DATA", slack.url + SECRET_PATH)
        monkeypatch.setenv("SLACK_WEBHOOK_EXEC", slack.url + "/services/exec")
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        self.previous: HealthDocument | None = None
        self.now = NOW

    def evaluate(self, ages: dict[str, timedelta | None]) -> None:
        from lineage_core.config import load_settings
        from lineage_core.health.rules import health_settings

        health = health_settings(load_settings(self.config))
        self.now += timedelta(minutes=10)
        doc = evaluate(lineage(SHOP), health, observed(ages, self.now), now=self.now,
                       lineage_uri=str(self.lineage), previous=self.previous)
        self.previous = doc
        self.health_path.write_bytes(dumps_health(doc))

    def notify(self, *extra: str) -> int:
        return main(["notify", "--config", str(self.config), "--health", str(self.health_path), *extra])


@pytest.fixture
def world(tmp_path: Path, slack: SlackFake, smtp: SmtpFake, monkeypatch: pytest.MonkeyPatch) -> World:
    return World(tmp_path, slack, smtp, monkeypatch)


ALL_FRESH = {"raw.orders": FRESH, "raw.fx": FRESH, "raw.customers": FRESH}
ORDERS_LATE = {**ALL_FRESH, "raw.orders": timedelta(hours=2)}
ORDERS_STALE = {**ALL_FRESH, "raw.orders": timedelta(hours=7)}


def texts(slack: SlackFake, path: str) -> list[str]:
    return [body["text"] for p, body in slack.posts if p == path]


def test_one_message_per_change_none_on_repeat_and_a_recovery(
    world: World, slack: SlackFake, smtp: SmtpFake, capsys: pytest.CaptureFixture[str]
) -> None:
    world.evaluate(ALL_FRESH)
    assert world.notify() == 0
    assert slack.posts == [] and smtp.messages == []  # first sight of on-time tables: silence

    world.evaluate(ORDERS_LATE)
    assert world.notify() == 0
    [late] = texts(slack, SECRET_PATH)
    assert "LATE acme.raw.orders" in late and "since 2026-05-01 07:20 UTC" in late
    assert "expected by 2026-05-01 07:20 UTC" in late and "last update 2026-05-01 06:20 UTC" in late
    assert "4 tables downstream affected" in late  # stg_orders, fct_orders, v_kpis, the dashboard
    assert "https://lineage.acme.example/Data_health?table=acme.raw.orders" in late
    [exec_slack] = texts(slack, "/services/exec")
    assert "delayed because of it: acme.marts.fct_orders" in exec_slack  # grouped under its root cause
    [(sender, rcpt, mail)] = smtp.messages
    parsed = message_from_bytes(mail)
    assert (sender, rcpt) == ("lineage@acme.example", ["cfo@acme.example"])
    assert parsed["Subject"] == "[data health] 1 table delayed: acme.raw.orders"
    assert "LATE acme.raw.orders" in parsed.get_payload()

    world.evaluate(ORDERS_LATE)  # the same state again: nothing
    assert world.notify() == 0
    assert len(slack.posts) == 2 and len(smtp.messages) == 1

    world.evaluate(ORDERS_STALE)  # late → stale is a change for the raw subscriber only
    assert world.notify() == 0
    assert "STALE acme.raw.orders" in texts(slack, SECRET_PATH)[-1]
    assert len(texts(slack, "/services/exec")) == 1 and len(smtp.messages) == 1  # still "late" downstream

    world.evaluate(ALL_FRESH)  # recovery, told to everyone who heard about it
    assert world.notify() == 0
    assert "BACK ON TIME acme.raw.orders" in texts(slack, SECRET_PATH)[-1]
    assert "BACK ON TIME acme.marts.fct_orders" in texts(slack, "/services/exec")[-1]
    assert "back on time" in message_from_bytes(smtp.messages[-1][2])["Subject"]
    assert len(slack.posts) == 5 and len(smtp.messages) == 2
    output = capsys.readouterr()
    assert SECRET_PATH not in output.out + output.err and "s3cr3t" not in output.out + output.err


def test_tables_sharing_a_root_cause_are_one_message(world: World, slack: SlackFake) -> None:
    world.evaluate(ALL_FRESH)
    world.notify()
    world.evaluate({**ALL_FRESH, "raw.orders": timedelta(hours=2), "raw.customers": timedelta(hours=2)})
    assert world.notify() == 0
    [message] = texts(slack, "/services/exec")  # fct_orders and dim_customers: one message, two groups
    assert "delayed because of it: acme.marts.fct_orders" in message
    assert "delayed because of it: acme.marts.dim_customers" in message
    assert message.count("LATE acme.raw.orders") == 1 and message.count("LATE acme.raw.customers") == 1


def test_429_and_5xx_are_retried_with_backoff(world: World, slack: SlackFake, smtp: SmtpFake) -> None:
    world.evaluate(ALL_FRESH)
    world.notify()
    slack.script[SECRET_PATH] = [429, 503]
    smtp.fail_next = 1
    world.evaluate(ORDERS_LATE)
    assert world.notify() == 0
    assert len(texts(slack, SECRET_PATH)) == 3  # 429, 503, then 200
    assert len(set(texts(slack, SECRET_PATH))) == 1  # the same message each time
    assert smtp.attempts == 2 and len(smtp.messages) == 1
    world.evaluate(ORDERS_LATE)
    assert world.notify() == 0
    assert len(texts(slack, SECRET_PATH)) == 3  # delivered once: not sent again


def test_a_failing_channel_does_not_block_the_others_and_is_retried_next_run(
    world: World, slack: SlackFake, smtp: SmtpFake, capsys: pytest.CaptureFixture[str]
) -> None:
    world.evaluate(ALL_FRESH)
    world.notify()
    slack.script[SECRET_PATH] = [500, 500, 500]  # retries: 2 → three attempts, all fail
    world.evaluate(ORDERS_LATE)
    assert world.notify() == 1
    out = capsys.readouterr().out
    assert "FAILED to slack:SLACK_WEBHOOK_DATA" in out and "HTTP 500 (gave up after 3 attempts)" in out
    assert len(texts(slack, "/services/exec")) == 1 and len(smtp.messages) == 1  # the others got theirs
    state = json.loads((world.root / "notify-state.json").read_text())
    assert state["subscribers"]["slack:SLACK_WEBHOOK_DATA"]["acme.raw.orders"] == "ok"  # not told yet
    assert state["subscribers"]["email:cfo@acme.example"]["acme.marts.fct_orders"] == "late"
    assert world.notify() == 0  # next run: the failed subscriber is told, nobody else again
    assert len(texts(slack, SECRET_PATH)) == 4 and len(texts(slack, "/services/exec")) == 1
    assert len(smtp.messages) == 1
    assert SECRET_PATH not in out


def test_client_errors_are_not_retried_and_unreachable_webhooks_never_leak_the_url(
    world: World, slack: SlackFake, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    world.evaluate(ALL_FRESH)
    world.notify()
    slack.script["/services/exec"] = [404]
    monkeypatch.setenv("SLACK_WEBHOOK_DATA", "http://127.0.0.1:9" + SECRET_PATH)  # nothing listens on port 9
    world.evaluate(ORDERS_LATE)
    assert world.notify() == 1
    captured = capsys.readouterr()
    assert len(texts(slack, "/services/exec")) == 1  # 404: given up at once
    assert "webhook SLACK_WEBHOOK_DATA: ConnectionError" in captured.out
    assert SECRET_PATH not in captured.out + captured.err and "s3cr3t" not in captured.out + captured.err


def test_dry_run_prints_and_sends_nothing(world: World, slack: SlackFake, smtp: SmtpFake,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    world.evaluate(ORDERS_LATE)
    assert world.notify("--dry-run") == 0
    out = capsys.readouterr().out
    assert slack.posts == [] and smtp.messages == [] and smtp.attempts == 0
    assert not (world.root / "notify-state.json").exists()
    assert "--- to slack:SLACK_WEBHOOK_DATA" in out and "--- to email:cfo@acme.example" in out
    assert "LATE acme.raw.orders" in out and "3 message(s) would be sent" in out
    assert SECRET_PATH not in out and slack.url not in out
    assert world.notify() == 0 and len(slack.posts) == 2  # a real run afterwards still sends


def test_missing_webhook_variable_and_bad_state_are_clear(
    world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("SLACK_WEBHOOK_DATA")
    world.evaluate(ORDERS_LATE)
    assert world.notify() == 1
    assert "environment variable SLACK_WEBHOOK_DATA is not set" in capsys.readouterr().out
    (world.root / "notify-state.json").write_text("{ not json")
    assert world.notify() == 1
    assert "notify state" in capsys.readouterr().err


def test_slack_text_escapes_control_characters(tmp_path: Path) -> None:
    from lineage_core.graph import LineageGraph
    from lineage_core.health.notify import NotifyState, plan

    doc_in = lineage([("raw.<!channel>", "marts.x")])
    health = parse_health({
        "freshness": [{"select": "dataset:raw", "warn_after": {"count": 1, "period": "hour"}}],
        "subscriptions": [{"select": "dataset:raw", "notify": [{"slack": {"webhook_env": "X"}}]}],
    })
    doc = evaluate(doc_in, health, observed({"raw.<!channel>": timedelta(hours=3)}), now=NOW, lineage_uri="x")
    [message], _ = plan(doc, LineageGraph.from_document(doc_in), health, NotifyState())
    assert "<!channel>" not in message.text and "&lt;!channel&gt;" in message.text
