"""Cloud Storage backend (``gs://bucket/name``): the only module that imports google.cloud.storage.

The client library is imported on first use, so local work never loads it. Credentials are
Application Default Credentials; ``STORAGE_EMULATOR_HOST`` is honoured exactly as the client
library does (it then uses anonymous credentials), which is how the tests reach the emulator.

Objects are stored gzip-compressed. A name ending in ``.gz`` is a gzip file
(``Content-Type: application/gzip``); any other name is stored with
``Content-Encoding: gzip`` and its own Content-Type (``application/json`` for documents), so
``gsutil cat`` and the console show plain JSON. Reads download the raw bytes
(``raw_download=True``: no decompressive transcoding, checksums checked on the stored bytes)
and decompress here, so a truncated object is reported as corrupt instead of half-read.

Writes are single uploads with ``if_generation_match`` (0 = must not exist), so a concurrent
writer is detected by the service and never overwritten. Transient failures (network, 429,
5xx) are retried with bounded exponential backoff (``base.SETTINGS.retry``); the library's
own retries are switched off so the bound is ours.
"""

from __future__ import annotations

import logging
import mimetypes
import os
import re
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from lineage_core.store.base import (
    ANY_GENERATION,
    GZIP_MAGIC,
    SETTINGS,
    BucketNotFound,
    ConcurrentWriteError,
    CredentialsError,
    Fetched,
    ObjectNotFound,
    ObjectStat,
    PermissionDenied,
    Published,
    RetryPolicy,
    StoreError,
    StoreUnavailable,
    compress,
    content_digest,
    decompress,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

DIGEST_KEY = "lineage-sha256"
LOGIN_HINT = (
    "run `gcloud auth application-default login`, or set GOOGLE_APPLICATION_CREDENTIALS to a "
    "service-account key file (on Cloud Run the service account of the job is used automatically)"
)
PERMISSIONS = {
    "read": "storage.objects.get",
    "stat": "storage.objects.get",
    "list": "storage.objects.list",
    "write": "storage.objects.create",
    "delete": "storage.objects.delete",
}

_local = threading.local()


def parse_uri(uri: str, *, object_required: bool = True) -> tuple[str, str]:
    """``gs://bucket/a/b`` → (``bucket``, ``a/b``)."""
    if not uri.startswith("gs://"):
        raise StoreError(f"{uri}: not a gs:// URI")
    bucket, _, name = uri[len("gs://"):].partition("/")
    if not bucket:
        raise StoreError(f"{uri}: no bucket name (expected gs://BUCKET/PATH)")
    if object_required and (not name or name.endswith("/")):
        raise StoreError(f"{uri}: names a folder, expected an object (gs://{bucket}/PATH/FILE)")
    return bucket, name


# --- client ---------------------------------------------------------------------------------


def _client(uri: str) -> Any:
    """One client per thread and per emulator/credentials setting (tests switch between them)."""
    key = (os.environ.get("STORAGE_EMULATOR_HOST", ""), os.environ.get("GOOGLE_APPLICATION_CREDENTIALS", ""))
    clients: dict[tuple[str, str], Any] = _local.__dict__.setdefault("clients", {})
    client = clients.get(key)
    if client is None:
        from google.auth import exceptions as auth_exceptions
        from google.cloud import storage  # type: ignore[attr-defined,unused-ignore]

        try:
            # project=None: object operations need no project, and ADC often has none
            client = storage.Client(project=None)
        except auth_exceptions.DefaultCredentialsError as exc:
            raise CredentialsError(f"{uri}: no Google Cloud credentials found: {LOGIN_HINT} ({_first_line(exc)})") from exc
        clients[key] = client
    return client


def reset_clients() -> None:
    """Forget this thread's clients (after changing credentials or the emulator)."""
    _local.__dict__.pop("clients", None)


def _endpoint(uri: str) -> str:
    try:
        return str(_client(uri).api_endpoint)
    except StoreError:
        return "https://storage.googleapis.com"


def _principal(client: Any) -> str:
    credentials = getattr(client, "_credentials", None)
    email = getattr(credentials, "service_account_email", None)
    if isinstance(email, str) and email and email != "default":
        return email
    return "the current credentials"


# --- retries and error translation ----------------------------------------------------------


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    errno = re.search(r"\[Errno -?\d+\] ([^'\")\]]+)", text)  # "connection refused", not urllib3's story
    if errno:
        return errno.group(1).strip().lower()
    lines = text.splitlines()
    return lines[0] if lines else type(exc).__name__


def _transient(exc: BaseException) -> bool:
    import requests
    from google.api_core import exceptions as api
    from google.auth import exceptions as auth_exceptions
    from google.cloud.storage.exceptions import DataCorruption

    if isinstance(exc, auth_exceptions.RefreshError):
        return False
    if isinstance(exc, api.GoogleAPICallError) and exc.code == 408:
        return True
    return isinstance(
        exc,
        requests.exceptions.ConnectionError
        | requests.exceptions.Timeout
        | requests.exceptions.ChunkedEncodingError
        | ConnectionError
        | TimeoutError
        | auth_exceptions.TransportError
        | api.TooManyRequests
        | api.InternalServerError
        | api.BadGateway
        | api.ServiceUnavailable
        | api.GatewayTimeout
        | DataCorruption,
    )


def _translate(exc: BaseException, uri: str, action: str, attempts: int, elapsed: float) -> StoreError:
    from google.api_core import exceptions as api
    from google.auth import exceptions as auth_exceptions

    if isinstance(exc, StoreError):
        return exc
    bucket = uri[len("gs://"):].partition("/")[0]
    if isinstance(exc, auth_exceptions.DefaultCredentialsError):
        return CredentialsError(f"{uri}: no Google Cloud credentials found: {LOGIN_HINT} ({_first_line(exc)})")
    if isinstance(exc, auth_exceptions.RefreshError | api.Unauthorized):
        return CredentialsError(
            f"{uri}: the Google Cloud credentials were rejected ({_first_line(exc)}): "
            f"log in again: {LOGIN_HINT}"
        )
    if isinstance(exc, api.Forbidden):
        permission = PERMISSIONS.get(action, "storage.objects.get")
        extra = " (and storage.objects.delete to replace an existing object)" if action == "write" else ""
        try:
            who = _principal(_client(uri))
        except StoreError:
            who = "the current credentials"
        return PermissionDenied(
            f"{uri}: permission denied: {who} needs {permission}{extra} on bucket gs://{bucket} "
            f"(e.g. grant roles/storage.objectAdmin on the bucket); the service said: {getattr(exc, 'message', exc)}",
            permission=permission,
            bucket=bucket,
        )
    if _transient(exc):
        return StoreUnavailable(
            f"{uri}: cannot reach Cloud Storage at {_endpoint(uri)} to {action} "
            f"(gave up after {attempts} attempt{'s' if attempts != 1 else ''} in {elapsed:.1f}s): "
            f"{_first_line(exc)}; check the network connection"
            + (" and STORAGE_EMULATOR_HOST" if os.environ.get("STORAGE_EMULATOR_HOST") else "")
        )
    if isinstance(exc, api.GoogleAPICallError):
        return StoreError(f"{uri}: Cloud Storage refused to {action} ({exc.code}): {getattr(exc, 'message', exc)}")
    return StoreError(f"{uri}: cannot {action}: {type(exc).__name__}: {_first_line(exc)}")


def _call(
    uri: str,
    action: str,
    fn: Callable[[Any, RetryPolicy], T],
    passthrough: tuple[type[BaseException], ...] = (),
) -> T:
    """Run ``fn(client, policy)``, retrying transient failures with bounded backoff."""
    policy = SETTINGS.retry
    delays = policy.delays()
    started = time.monotonic()
    attempt = 0
    while True:
        attempt += 1
        try:
            return fn(_client(uri), policy)
        except StoreError:
            raise
        except passthrough:
            raise
        except Exception as exc:
            elapsed = time.monotonic() - started
            if not _transient(exc) or attempt > len(delays) or elapsed + delays[attempt - 1] > policy.deadline:
                raise _translate(exc, uri, action, attempt, elapsed) from exc
            delay = delays[attempt - 1]
            log.info("%s: %s failed (%s); retry %d in %.2fs", uri, action, _first_line(exc), attempt, delay)
            time.sleep(delay)


def _bucket_exists(uri: str, bucket: str) -> bool:
    """Tell a missing bucket from a missing object with object permissions only (a list)."""
    from google.api_core import exceptions as api

    def probe(client: Any, policy: RetryPolicy) -> bool:
        try:
            for _ in client.list_blobs(bucket, max_results=1, retry=None, timeout=policy.timeout):
                break
        except api.NotFound:
            return False
        except api.Forbidden:
            return True  # cannot tell: assume it exists, the real operation will say more
        return True

    return _call(uri, "list", probe)


def _missing_bucket(uri: str, bucket: str) -> BucketNotFound:
    return BucketNotFound(
        f"{uri}: bucket gs://{bucket} does not exist (check the name, or create it with "
        f"`gcloud storage buckets create gs://{bucket}`)"
    )


def _stat_of(uri: str, blob: Any) -> ObjectStat:
    updated = blob.updated.isoformat() if blob.updated is not None else ""
    return ObjectStat(uri, str(blob.generation), int(blob.size or 0), updated)


# --- the backend ----------------------------------------------------------------------------


def _get_blob(uri: str, action: str = "stat") -> Any:
    bucket, name = parse_uri(uri)

    def get(client: Any, policy: RetryPolicy) -> Any:
        return client.bucket(bucket).get_blob(name, retry=None, timeout=policy.timeout)

    blob = _call(uri, action, get)
    if blob is None and not _bucket_exists(uri, bucket):
        raise _missing_bucket(uri, bucket)
    return blob


def stat(uri: str) -> ObjectStat | None:
    blob = _get_blob(uri)
    return None if blob is None else _stat_of(uri, blob)


def read_bytes(uri: str) -> Fetched:
    from google.api_core import exceptions as api

    bucket, name = parse_uri(uri)
    for _ in range(3):  # the object may be replaced between reading its metadata and its bytes
        blob = _get_blob(uri, "read")
        if blob is None:
            raise ObjectNotFound(f"{uri}: no such object in gs://{bucket}")

        def download(client: Any, policy: RetryPolicy, blob: Any = blob) -> bytes:
            data: bytes = blob.download_as_bytes(
                raw_download=True, if_generation_match=blob.generation, retry=None, timeout=policy.timeout
            )
            return data

        try:
            data = _call(uri, "read", download, passthrough=(api.NotFound, api.PreconditionFailed))
        except (api.NotFound, api.PreconditionFailed):
            continue
        if blob.content_encoding == "gzip" or (name.endswith(".gz") and data[:2] == GZIP_MAGIC):
            data = decompress(data, uri)
        return Fetched(uri, data, str(blob.generation))
    raise StoreError(f"{uri}: the object kept changing while it was read; try again")


def _content_type(name: str, data: bytes) -> str:
    if name.endswith(".json"):
        return "application/json"
    guessed, _ = mimetypes.guess_type(name)
    if guessed:
        return guessed
    return "application/json" if data.lstrip()[:1] in (b"{", b"[") else "application/octet-stream"


def write_bytes(uri: str, data: bytes, expected_generation: str | None = ANY_GENERATION) -> Published:
    """Upload ``data`` whole, compressed; ``expected_generation``: ANY, None (must not exist) or one."""
    from google.api_core import exceptions as api

    bucket, name = parse_uri(uri)
    if expected_generation == ANY_GENERATION:
        match: int | None = None
    elif expected_generation is None:
        match = 0
    else:
        try:
            match = int(expected_generation)
        except ValueError:
            raise StoreError(f"{uri}: '{expected_generation}' is not a Cloud Storage generation") from None
    gz_name = name.endswith(".gz")
    payload = compress(data)
    digest = content_digest(data)
    attempts = 0

    def upload(client: Any, policy: RetryPolicy) -> Any:
        nonlocal attempts
        attempts += 1
        blob = client.bucket(bucket).blob(name)
        blob.content_encoding = None if gz_name else "gzip"
        blob.cache_control = "no-cache"
        blob.metadata = {DIGEST_KEY: digest}
        blob.upload_from_string(
            payload,
            content_type="application/gzip" if gz_name else _content_type(name, data),
            if_generation_match=match,
            retry=None,
            timeout=policy.timeout,
        )
        return blob

    try:
        blob = _call(uri, "write", upload, passthrough=(api.PreconditionFailed, api.NotFound))
    except api.NotFound as exc:
        raise _missing_bucket(uri, bucket) from exc
    except api.PreconditionFailed as exc:
        current = _get_blob(uri)
        if attempts > 1 and current is not None and (current.metadata or {}).get(DIGEST_KEY) == digest:
            # an earlier attempt landed but its answer was lost: the object is ours
            return Published(uri, str(current.generation))
        raise _conflict(uri, expected_generation, current) from exc
    return Published(uri, str(blob.generation))


def _conflict(uri: str, expected: str | None, current: Any) -> ConcurrentWriteError:
    saw = f"generation {expected}" if expected else "no object"
    if current is None:
        what = "the object was deleted"
        generation = updated = None
    else:
        generation = str(current.generation)
        updated = current.updated.isoformat() if current.updated is not None else None
        what = f"another writer published generation {generation} at {updated}"
    return ConcurrentWriteError(
        f"{uri}: {what} since this run started (it saw {saw}); not overwriting it "
        "(run again to publish on top of it, or use --force to overwrite)",
        uri=uri,
        expected=expected,
        winner_generation=generation,
        winner_updated=updated,
    )


def delete(uri: str, generation: str | None = None) -> None:
    from google.api_core import exceptions as api

    bucket, name = parse_uri(uri)

    def remove(client: Any, policy: RetryPolicy) -> None:
        try:
            client.bucket(bucket).blob(name).delete(
                if_generation_match=int(generation) if generation else None, retry=None, timeout=policy.timeout
            )
        except (api.NotFound, api.PreconditionFailed):
            return  # already gone, or replaced by a newer copy that is not ours to delete

    _call(uri, "delete", remove)


def list_objects(prefix: str) -> list[ObjectStat]:
    """Every object whose URI starts with ``prefix`` (``gs://bucket/dir/`` lists the folder)."""
    from google.api_core import exceptions as api

    bucket, name = parse_uri(prefix, object_required=False)

    def listing(client: Any, policy: RetryPolicy) -> list[ObjectStat]:
        blobs = client.list_blobs(bucket, prefix=name or None, retry=None, timeout=policy.timeout)
        return [
            _stat_of(f"gs://{bucket}/{blob.name}", blob) for blob in blobs if not blob.name.endswith("/")
        ]

    try:
        return _call(prefix, "list", listing, passthrough=(api.NotFound,))
    except api.NotFound as exc:
        raise _missing_bucket(prefix, bucket) from exc
