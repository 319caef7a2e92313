"""Local backend: plain paths and file:// URIs.

Writes are whole: a temporary file in the same directory, fsync, then an atomic rename, so
a reader sees the old or the new document and never half of one. A path ending in ``.gz``
is stored gzip-compressed (and read back decompressed); anything else is stored as given.
The check of the expected generation and the rename happen under an exclusive lock on the
directory, so two processes publishing to the same file cannot both win.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urlparse

from lineage_core.store.base import (
    ANY_GENERATION,
    GZIP_MAGIC,
    ConcurrentWriteError,
    Fetched,
    ObjectNotFound,
    ObjectStat,
    Published,
    StoreError,
    compress,
    decompress,
)

try:  # POSIX only; elsewhere the generation check is best effort
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

_OWN_TEMP = re.compile(r"^\..+\.tmp-[^/]*$")


def to_path(uri: str) -> Path:
    if uri.startswith("file://"):
        return Path(unquote(urlparse(uri).path))
    return Path(uri)


def _generation_of(st: os.stat_result) -> str:
    # the inode changes with every rename-into-place, so two writes within one mtime tick
    # of equal size still get different generations
    return f"{st.st_mtime_ns}-{st.st_size}-{st.st_ino}"


def _stat_of(uri: str, st: os.stat_result) -> ObjectStat:
    updated = datetime.fromtimestamp(st.st_mtime, UTC).isoformat()
    return ObjectStat(uri, _generation_of(st), st.st_size, updated)


def stat(uri: str) -> ObjectStat | None:
    path = to_path(uri)
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        return None
    except OSError as exc:
        raise StoreError(f"{uri}: cannot read: {exc.strerror}") from exc
    return _stat_of(uri, st)


def read_bytes(uri: str) -> Fetched:
    path = to_path(uri)
    try:
        with path.open("rb") as handle:
            generation = _generation_of(os.fstat(handle.fileno()))
            data = handle.read()
    except FileNotFoundError as exc:
        raise ObjectNotFound(f"{uri}: no such file") from exc
    except IsADirectoryError as exc:
        raise StoreError(f"{uri}: is a directory, expected a document file") from exc
    except OSError as exc:
        raise StoreError(f"{uri}: cannot read: {exc.strerror}") from exc
    if path.name.endswith(".gz") and data[:2] == GZIP_MAGIC:
        data = decompress(data, uri)
    return Fetched(uri, data, generation)


@contextmanager
def _directory_lock(directory: Path) -> Iterator[None]:
    if fcntl is None:  # pragma: no cover
        yield
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def write_bytes(uri: str, data: bytes, expected_generation: str | None = ANY_GENERATION) -> Published:
    """Write ``data`` whole. ``expected_generation``: ANY, None (must not exist) or a generation."""
    path = to_path(uri)
    if path.name.endswith(".gz"):
        data = compress(data)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.tmp-", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            with _directory_lock(path.parent):
                if expected_generation != ANY_GENERATION:
                    _check_generation(uri, expected_generation)
                os.replace(tmp, path)
                st = path.stat()
            _fsync_directory(path.parent)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise StoreError(f"{uri}: cannot write: {exc.strerror or exc}") from exc
    return Published(uri, _generation_of(st))


def _check_generation(uri: str, expected: str | None) -> None:
    current = stat(uri)
    found = current.generation if current else None
    if found == expected:
        return
    saw = f"generation {expected}" if expected else "no document"
    if current is None:
        what = "the document was deleted"
    else:
        what = f"another writer published generation {found} at {current.updated}"
    raise ConcurrentWriteError(
        f"{uri}: {what} since this run started (it saw {saw}); not overwriting it "
        "(run again to publish on top of it, or use --force to overwrite)",
        uri=uri,
        expected=expected,
        winner_generation=found,
        winner_updated=current.updated if current else None,
    )


def _fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - not possible on every platform
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def delete(uri: str, generation: str | None = None) -> None:
    path = to_path(uri)
    try:
        with _directory_lock(path.parent):
            if generation is not None:
                current = stat(uri)
                if current is None or current.generation != generation:
                    return
            path.unlink(missing_ok=True)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise StoreError(f"{uri}: cannot delete: {exc.strerror or exc}") from exc


def _walk(base: Path) -> Iterator[Path]:
    for root, dirs, files in os.walk(base):
        dirs.sort()
        for name in sorted(files):
            if not _OWN_TEMP.match(name):
                yield Path(root) / name


def list_objects(prefix: str) -> list[ObjectStat]:
    """Every file whose URI starts with ``prefix`` (a directory lists everything below it)."""
    base = to_path(prefix)
    is_dir = prefix.endswith("/") or base.is_dir()
    if is_dir:
        root, head = base, prefix if prefix.endswith("/") else prefix + "/"
        keep = ""
    else:
        root = base.parent
        head = prefix[: len(prefix) - len(base.name)] if prefix.endswith(base.name) else prefix
        keep = base.name
    if not root.is_dir():
        return []
    found: list[ObjectStat] = []
    for path in _walk(root):
        rel = path.relative_to(root).as_posix()
        if not rel.startswith(keep):
            continue
        uri = head + rel
        try:
            found.append(_stat_of(uri, path.stat()))
        except FileNotFoundError:  # deleted while listing
            continue
    return found
