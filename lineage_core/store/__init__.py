"""Where documents live: local paths / file:// URIs, and gs:// buckets.

This facade is the only API the rest of the project uses; backends live in ``local.py`` and
``gcs.py`` (the only module that imports google.cloud.storage, loaded on first gs:// use).
History copies, conditional publishing and "newest good version" reads are in ``history.py``.
See docs/publishing.md.
"""

from __future__ import annotations

from lineage_core.store.base import (
    ANY_GENERATION,
    BucketNotFound,
    ConcurrentWriteError,
    CorruptObject,
    CredentialsError,
    Fetched,
    GoodRead,
    HistoryEntry,
    ObjectNotFound,
    ObjectStat,
    PermissionDenied,
    Published,
    RetryPolicy,
    StoreError,
    StoreUnavailable,
)
from lineage_core.store.router import (
    history_uri_for,
    is_gcs,
    list_history,
    list_uris,
    publish,
    read_bytes,
    read_latest_good,
    set_retry_policy,
    stat,
    write_bytes,
)

__all__ = [
    "ANY_GENERATION",
    "BucketNotFound",
    "ConcurrentWriteError",
    "CorruptObject",
    "CredentialsError",
    "Fetched",
    "GoodRead",
    "HistoryEntry",
    "ObjectNotFound",
    "ObjectStat",
    "PermissionDenied",
    "Published",
    "RetryPolicy",
    "StoreError",
    "StoreUnavailable",
    "history_uri_for",
    "is_gcs",
    "list_history",
    "list_uris",
    "publish",
    "read_bytes",
    "read_latest_good",
    "set_retry_policy",
    "stat",
    "write_bytes",
]
