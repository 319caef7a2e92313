"""Facts about files and folders remembered by their stat signature, in one JSON file.

The build cache keeps two such memos: each file's content digest (:class:`FileStats`) and
each folder's listing (``discovery.walk.DirectoryListings``). What they share: an entry is
served only for the signature it was taken at; what this run did not look at is dropped on
save; and nothing is remembered that changed less than two seconds before it was looked at,
since it could change again within the same timestamp tick (git's "racy" entries). An
unreadable memo file is ignored: the build then looks at everything, as without it.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

MEMO_FORMAT = 1
RACY_NS = 2_000_000_000
# Files changed just before the last run are read again to see whether they changed since; past
# this many, they are taken as changed (a fresh checkout is about to be read whole anyway).
UNSETTLED_REREAD = 64


class StatMemo:
    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._known: dict[str, Any] = {}
        self._seen: dict[str, Any] = {}
        # entries looked at but not trusted (changed too recently): the next run knows of them
        self.unsettled: dict[str, Any] = {}
        self.unsettled_now: dict[str, Any] = {}
        if path is not None:
            try:
                data = orjson.loads(path.read_bytes())
                if isinstance(data, dict) and data.get("format") == MEMO_FORMAT and isinstance(data.get("entries"), dict):
                    self._known = data["entries"]
                    unsettled = data.get("unsettled")
                    if isinstance(unsettled, dict):
                        self.unsettled = unsettled
            except (OSError, ValueError, orjson.JSONDecodeError):
                self._known = {}

    def get(self, key: str) -> Any:
        """The entry remembered for ``key`` (the caller checks its signature), kept on save."""
        entry = self._known.get(key)
        if entry is not None:
            self._seen[key] = entry
        return entry

    def put(self, key: str, entry: Any, changed_ns: int) -> None:
        """Remember ``entry`` unless what it describes changed too recently to be trusted."""
        if changed_ns < time.time_ns() - RACY_NS:
            self._seen[key] = entry
        else:
            self.unsettled_now[key] = entry

    def known(self) -> dict[str, Any]:
        """Every entry remembered from the last run (by key)."""
        return self._known

    def save(self) -> None:
        if self.path is None or (self._seen == self._known and self.unsettled_now == self.unsettled):
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            data = {"format": MEMO_FORMAT, "entries": self._seen, "unsettled": self.unsettled_now}
            tmp.write_bytes(orjson.dumps(data))
            tmp.replace(self.path)
        except OSError:
            pass  # only a speed-up: the next build looks at everything again


FileSignature = tuple[int, int, int, int]  # size, mtime_ns, ctime_ns, inode


def file_signature(path: str) -> FileSignature:
    st = os.stat(path)
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


class FileStats:
    """The content digest of each local file last read, by its path and stat signature (git's
    index, in short).

    A warm build of thousands of files then neither reads nor hashes the unchanged ones. The
    signature includes ctime, which no tool can set back; see :class:`StatMemo` for what is
    never trusted.
    """

    def __init__(self, path: Path | None) -> None:
        self.memo = StatMemo(path)
        self._signatures: dict[str, FileSignature] = {}

    def digest(self, path: str, signature: FileSignature) -> str | None:
        known = self.memo.get(path)
        if isinstance(known, list) and len(known) == 5 and tuple(known[:4]) == signature and isinstance(known[4], str):
            return known[4]
        return None

    def record(self, path: str, signature: FileSignature, digest: str) -> None:
        self.memo.put(path, [*signature, digest], max(signature[1], signature[2]))

    def changed_since_last_run(self, on_first: Callable[[str], object] | None = None) -> int:
        """How many of the files the last run looked at have changed: another signature now,
        gone, or (among those too fresh to trust by signature) other bytes. ``on_first`` is
        called with the first one's path. The signatures taken are kept for :meth:`signature`:
        the plan stats each file only once."""
        changed = 0

        def found(path: str) -> None:
            nonlocal changed, on_first
            changed += 1
            if on_first is not None:
                on_first(path)
                on_first = None

        fresh = self.memo.unsettled
        for path, known in fresh.items():
            if len(fresh) > UNSETTLED_REREAD or not self._same_bytes(path, known):
                found(path)
        for path, known in self.memo.known().items():
            try:
                signature = self._signatures[path] = file_signature(path)
            except OSError:
                found(path)
                continue
            if not isinstance(known, list) or tuple(known[:4]) != signature:
                found(path)
        return changed

    @staticmethod
    def _same_bytes(path: str, known: Any) -> bool:
        if not isinstance(known, list) or len(known) != 5:
            return False
        try:
            with open(path, "rb") as handle:
                return bool(hashlib.sha256(handle.read()).hexdigest() == known[4])
        except OSError:
            return False

    def signature(self, path: str) -> FileSignature:
        found = self._signatures.pop(path, None)
        return found if found is not None else file_signature(path)

    def save(self) -> None:
        self.memo.save()
