"""Pick the backend for a URI."""

from __future__ import annotations

from lineage_core.store import local
from lineage_core.store.base import ANY_GENERATION, Fetched, ObjectStat, Published, StoreError


def _is_gcs(uri: str) -> bool:
    return uri.startswith("gs://")


def _gcs_unavailable(uri: str) -> StoreError:
    return StoreError(f"{uri}: gs:// storage is not available in this build")


def stat(uri: str) -> ObjectStat | None:
    if _is_gcs(uri):
        raise _gcs_unavailable(uri)
    return local.stat(uri)


def read_bytes(uri: str) -> Fetched:
    if _is_gcs(uri):
        raise _gcs_unavailable(uri)
    return local.read_bytes(uri)


def write_bytes(uri: str, data: bytes) -> Published:
    if _is_gcs(uri):
        raise _gcs_unavailable(uri)
    return local.write_bytes(uri, data)


def publish(
    uri: str, data: bytes, *, expected_generation: str | None = ANY_GENERATION, keep: int = 30, force: bool = False
) -> Published:
    """Publish a document whole; refuse to overwrite a concurrent writer unless ``force``."""
    if _is_gcs(uri):
        raise _gcs_unavailable(uri)
    return local.write_bytes(uri, data, ANY_GENERATION if force else expected_generation)
