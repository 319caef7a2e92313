"""Where documents live: local paths / file:// URIs, and gs:// buckets.

This facade is the only API the rest of the project uses; backends live in ``local.py`` and
``gcs.py`` (the only module that imports google.cloud.storage).
"""

from __future__ import annotations

from lineage_core.store.base import (
    ANY_GENERATION,
    ConcurrentWriteError,
    Fetched,
    ObjectNotFound,
    ObjectStat,
    Published,
    StoreError,
)
from lineage_core.store.router import publish, read_bytes, stat, write_bytes

__all__ = [
    "ANY_GENERATION",
    "ConcurrentWriteError",
    "Fetched",
    "ObjectNotFound",
    "ObjectStat",
    "Published",
    "StoreError",
    "publish",
    "read_bytes",
    "stat",
    "write_bytes",
]
