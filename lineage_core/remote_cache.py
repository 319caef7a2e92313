"""The incremental cache of a Cloud Run Job lives in the bucket: pull it before, push it after.

A job starts on an empty disk, so `--cache-dir gs://bucket/prefix/` copies the cache's few
files to a temporary directory, the build uses them as usual, and changed files go back.
A missing or unreadable remote cache is a cold build, never a failure.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CACHE_FILES = ("build-cache.json", "build-cache.journal", "last-document.json", "last-document.meta.json")


@contextmanager
def local_cache_dir(cache_dir: str | None, warnings: list[str] | None = None) -> Iterator[str | None]:
    if cache_dir is None or not cache_dir.startswith("gs://"):
        yield cache_dir
        return
    from lineage_core.store import ObjectNotFound, StoreError, read_bytes, write_bytes

    prefix = cache_dir.rstrip("/") + "/"
    with tempfile.TemporaryDirectory(prefix="lineage-cache-") as tmp:
        before: dict[str, bytes] = {}
        for name in CACHE_FILES:
            try:
                before[name] = read_bytes(prefix + name).data
            except ObjectNotFound:
                continue
            except StoreError as exc:
                if warnings is not None:
                    warnings.append(f"remote cache {prefix}{name} not read ({exc}); building cold")
                continue
            (Path(tmp) / name).write_bytes(before[name])
        yield tmp
        for name in CACHE_FILES:
            path = Path(tmp) / name
            after = path.read_bytes() if path.is_file() else (b"" if name in before else None)
            if after is not None and after != before.get(name):  # a journal folded in: now empty
                try:
                    write_bytes(prefix + name, after)
                except StoreError as exc:
                    if warnings is not None:
                        warnings.append(f"remote cache {prefix}{name} not saved ({exc})")
