"""Loopback HTTP fakes for the consumer-source tests (no tests here; imported by test_consumers_*).

``FakeService`` is an ``http.server`` on 127.0.0.1 in a thread; a test gives it a ``route``
function ``(method, path, query, headers, body) -> (status, json body | bytes, headers)`` and
reads back every request it received. Nothing of ours is patched: the code under test talks
HTTP to it through ``requests`` (Redash, Metabase) or google-cloud-bigquery.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from lineage_core.config import Settings, parse_settings


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any


Reply = tuple[int, Any] | tuple[int, Any, Mapping[str, str]]
Route = Callable[[Request], Reply]


class FakeService:
    def __init__(self, route: Route) -> None:
        self.route = route
        self.requests: list[Request] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _serve(self, method: str) -> None:
                split = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else None
                query = {k: v[-1] for k, v in parse_qs(split.query).items()}
                request = Request(method, split.path, query, {k.lower(): v for k, v in self.headers.items()}, body)
                fake.requests.append(request)
                reply = fake.route(request)
                status, payload = reply[0], reply[1]
                headers = dict(reply[2]) if len(reply) > 2 else {}
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", headers.pop("Content-Type", "application/json"))
                self.send_header("Content-Length", str(len(data)))
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def paths(self, method: str = "GET") -> list[str]:
        return [r.path for r in self.requests if r.method == method]


@contextmanager
def serving(route: Route) -> Iterator[FakeService]:
    fake = FakeService(route)
    try:
        yield fake
    finally:
        fake.close()


def closed_port_url() -> str:
    """An http:// URL on 127.0.0.1 where nothing listens (the port was just released)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def settings_with(yaml_text: str, tmp_path: Any, name: str = "lineage.yaml") -> Settings:
    path = tmp_path / name
    path.write_text(yaml_text)
    return parse_settings(yaml_text, str(path), str(tmp_path))


FAST_HTTP = {"timeout": 5, "retries": 2, "backoff": 0}
