"""A small JSON-over-HTTP client for BI tools' REST APIs (Redash, Metabase).

Every request has a timeout; connection failures, HTTP 429 (honouring ``Retry-After``) and
5xx answers are retried a bounded number of times with exponential backoff; a body larger than
``max_bytes`` is refused rather than read into memory. Every failure is an :class:`HttpError`
whose message names the URL (never the credentials, which travel in headers only).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping
from typing import Any

import requests

RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
MAX_RETRY_AFTER = 60.0  # seconds: a longer Retry-After is an error, not a wait


class HttpError(Exception):
    """A request failed for good; ``str(error)`` names the URL and what to check."""

    def __init__(self, message: str, url: str, status: int | None = None) -> None:
        super().__init__(message)
        self.url = url
        self.status = status


class HttpClient:
    def __init__(
        self,
        base_url: str,
        *,
        headers: Mapping[str, str] | None = None,
        timeout: float = 30.0,
        retries: int = 3,
        backoff: float = 0.5,
        max_bytes: int = 64 * 1024 * 1024,
        auth_hint: str = "check the credentials",
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        self.session.headers.update({"Accept": "application/json", "User-Agent": "lineage-dashboard"})
        self.session.headers.update(dict(headers or {}))
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_bytes = max_bytes
        self.auth_hint = auth_hint
        self.sleep = sleep
        self.requests = 0  # how many HTTP requests were sent (retries included)

    def url(self, path: str) -> str:
        return path if "://" in path else f"{self.base_url}/{path.lstrip('/')}"

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return self.request("GET", path, params=params)

    def post(self, path: str, body: Any) -> Any:
        return self.request("POST", path, body=body)

    def request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None, body: Any = None) -> Any:
        url = self.url(path)
        shown = url if not params else f"{url}?{'&'.join(f'{k}={v}' for k, v in params.items())}"
        attempt = 0
        while True:
            attempt += 1
            self.requests += 1
            try:
                response = self.session.request(
                    method, url, params=params, json=body, timeout=self.timeout, stream=True
                )
            except (requests.ConnectionError, requests.Timeout) as exc:
                if attempt <= self.retries:
                    self.sleep(self.backoff * 2 ** (attempt - 1))
                    continue
                kind = "timed out" if isinstance(exc, requests.Timeout) else "cannot connect"
                raise HttpError(f"{method} {shown}: {kind} after {attempt} attempts ({_short(exc)})", url) from exc
            except requests.RequestException as exc:
                raise HttpError(f"{method} {shown}: {_short(exc)}", url) from exc
            try:
                status = response.status_code
                if status in RETRY_STATUS and attempt <= self.retries:
                    wait = _retry_after(response.headers.get("Retry-After"))
                    if wait is None or wait > MAX_RETRY_AFTER:
                        wait = self.backoff * 2 ** (attempt - 1)
                    self.sleep(wait)
                    continue
                data = self._read(response, method, shown)
            finally:
                response.close()
            if status in (401, 403):
                raise HttpError(f"{method} {shown}: HTTP {status} (not authorized: {self.auth_hint})", url, status)
            if status == 429:
                raise HttpError(
                    f"{method} {shown}: HTTP 429 (rate limited; gave up after {attempt} attempts)", url, 429
                )
            if status >= 400:
                raise HttpError(f"{method} {shown}: HTTP {status}{_detail(data)}", url, status)
            if not data.strip():
                return None
            try:
                return json.loads(data)
            except ValueError as exc:
                raise HttpError(
                    f"{method} {shown}: the answer is not JSON (is this the API's base URL?)", url, status
                ) from exc

    def _read(self, response: requests.Response, method: str, shown: str) -> bytes:
        declared = response.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > self.max_bytes:
            raise HttpError(
                f"{method} {shown}: answer of {int(declared):,} bytes is larger than the limit of {self.max_bytes:,} bytes",
                response.url,
                response.status_code,
            )
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.iter_content(chunk_size=256 * 1024):
                size += len(chunk)
                if size > self.max_bytes:
                    raise HttpError(
                        f"{method} {shown}: answer larger than the limit of {self.max_bytes:,} bytes",
                        response.url,
                        response.status_code,
                    )
                chunks.append(chunk)
        except requests.RequestException as exc:
            raise HttpError(f"{method} {shown}: connection lost while reading ({_short(exc)})", response.url) from exc
        return b"".join(chunks)


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date: use our own backoff


def _detail(data: bytes) -> str:
    try:
        parsed = json.loads(data)
    except ValueError:
        text = data.decode("utf-8", "replace").strip()
        return f": {text[:200]}" if text and not text.startswith("<") else ""
    if isinstance(parsed, Mapping):
        for key in ("message", "error", "errors"):
            if parsed.get(key):
                return f": {str(parsed[key])[:200]}"
    return ""


_ERRNO = re.compile(r"\[Errno -?\d+\] [^'\")]+")


def _short(exc: BaseException) -> str:
    text = str(exc)
    errno = _ERRNO.search(text)  # "[Errno 111] Connection refused" rather than urllib3's nesting
    if errno:
        return errno.group(0).strip()
    return text if len(text) < 200 else text[:200] + "…"
