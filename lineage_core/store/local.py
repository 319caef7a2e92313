"""Local backend: plain paths and file:// URIs. Writes are whole (temp file, fsync, rename)."""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urlparse

from lineage_core.store.base import (
    ANY_GENERATION,
    ConcurrentWriteError,
    Fetched,
    ObjectNotFound,
    ObjectStat,
    Published,
    StoreError,
)


def to_path(uri: str) -> Path:
    if uri.startswith("file://"):
        return Path(unquote(urlparse(uri).path))
    return Path(uri)


def _generation(path: Path) -> str:
    st = path.stat()
    return f"{st.st_mtime_ns}-{st.st_size}"


def stat(uri: str) -> ObjectStat | None:
    path = to_path(uri)
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StoreError(f"{uri}: cannot read: {exc.strerror}") from exc
    updated = datetime.fromtimestamp(st.st_mtime, UTC).isoformat()
    return ObjectStat(uri, f"{st.st_mtime_ns}-{st.st_size}", st.st_size, updated)


def read_bytes(uri: str) -> Fetched:
    path = to_path(uri)
    try:
        data = path.read_bytes()
        return Fetched(uri, data, _generation(path))
    except FileNotFoundError as exc:
        raise ObjectNotFound(f"{uri}: no such file") from exc
    except IsADirectoryError as exc:
        raise StoreError(f"{uri}: is a directory, expected a document file") from exc
    except OSError as exc:
        raise StoreError(f"{uri}: cannot read: {exc.strerror}") from exc


def write_bytes(uri: str, data: bytes, expected_generation: str | None = ANY_GENERATION) -> Published:
    """Write ``data`` whole. ``expected_generation``: ANY, None (must not exist) or a generation."""
    path = to_path(uri)
    if expected_generation != ANY_GENERATION:
        current = stat(uri)
        found = current.generation if current else None
        if found != expected_generation:
            raise ConcurrentWriteError(
                f"{uri}: another writer published (generation {found}) since this run read "
                f"generation {expected_generation}; not overwriting it (use --force to overwrite)"
            )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise StoreError(f"{uri}: cannot write: {exc.strerror or exc}") from exc
    return Published(uri, _generation(path))
