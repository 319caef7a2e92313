"""Pick the backend for a URI: ``gs://`` → gcs.py (imported on first use), anything else local."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import cast

from lineage_core.store import history, local
from lineage_core.store.base import (
    ANY_GENERATION,
    SETTINGS,
    Backend,
    Fetched,
    GoodRead,
    HistoryEntry,
    ObjectStat,
    Published,
    RetryPolicy,
    T,
)


def is_gcs(uri: str) -> bool:
    return uri.startswith("gs://")


def backend_for(uri: str) -> Backend:
    if is_gcs(uri):
        from lineage_core.store import gcs

        return cast(Backend, gcs)
    return cast(Backend, local)


def set_retry_policy(policy: RetryPolicy) -> RetryPolicy:
    """Set how transient storage failures are retried; returns the previous policy."""
    previous = SETTINGS.retry
    SETTINGS.retry = policy
    return previous


def stat(uri: str) -> ObjectStat | None:
    """Size, update time and generation of an object, or None when it does not exist."""
    return backend_for(uri).stat(uri)


def read_bytes(uri: str) -> Fetched:
    """The content of ``uri`` (storage compression removed); ObjectNotFound / StoreError."""
    return backend_for(uri).read_bytes(uri)


def write_bytes(uri: str, data: bytes) -> Published:
    """Write whole, unconditionally, without a history copy (partial documents, caches)."""
    return backend_for(uri).write_bytes(uri, data, ANY_GENERATION)


def publish(
    uri: str,
    data: bytes,
    *,
    expected_generation: str | None = ANY_GENERATION,
    keep: int = 30,
    force: bool = False,
    now: datetime | None = None,
) -> Published:
    """Publish a document whole; refuse to overwrite a concurrent writer unless ``force``.

    ``expected_generation``: the generation seen when the job started (``stat(uri)``), None
    when the object did not exist, ANY_GENERATION for no check. Keeps the last ``keep``
    copies under ``history/`` beside the object.
    """
    return history.publish(
        backend_for(uri), uri, data, expected_generation=expected_generation, keep=keep, force=force, now=now
    )


def list_uris(prefix: str) -> list[str]:
    """URIs of all objects (files) under ``prefix``, sorted; a folder prefix lists recursively."""
    return sorted(found.uri for found in backend_for(prefix).list_objects(prefix))


def list_history(uri: str) -> list[HistoryEntry]:
    """The kept copies of a published object, newest first."""
    return history.list_history(backend_for(uri), uri)


def history_uri_for(uri: str, when: datetime, digest: str) -> str:
    return history.history_uri_for(uri, when, digest)


def read_latest_good(uri: str, decode: Callable[[bytes], T]) -> GoodRead[T]:
    """The newest version of ``uri`` that decodes (falling back to history, with a warning)."""
    return history.read_latest_good(backend_for(uri), uri, decode)
