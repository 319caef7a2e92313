"""Facts about files and folders remembered by their stat signature, in one JSON file.

The build cache keeps two such memos: each file's content digest (``cache.FileStats``) and
each folder's listing (``discovery.walk.DirectoryListings``). What they share: an entry is
served only for the signature it was taken at; what this run did not look at is dropped on
save; and nothing is remembered that changed less than two seconds before it was looked at,
since it could change again within the same timestamp tick (git's "racy" entries). An
unreadable memo file is ignored: the build then looks at everything, as without it.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import orjson

MEMO_FORMAT = 1
RACY_NS = 2_000_000_000


class StatMemo:
    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._known: dict[str, Any] = {}
        self._seen: dict[str, Any] = {}
        # keys looked at but not remembered (changed too recently): the next run knows of them
        self.unsettled: list[str] = []
        self._unsettled_now: list[str] = []
        if path is not None:
            try:
                data = orjson.loads(path.read_bytes())
                if isinstance(data, dict) and data.get("format") == MEMO_FORMAT and isinstance(data.get("entries"), dict):
                    self._known = data["entries"]
                    unsettled = data.get("unsettled")
                    if isinstance(unsettled, list):
                        self.unsettled = [k for k in unsettled if isinstance(k, str)]
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
            self._unsettled_now.append(key)

    def known(self) -> dict[str, Any]:
        """Every entry remembered from the last run (by key)."""
        return self._known

    def save(self) -> None:
        if self.path is None or (self._seen == self._known and self._unsettled_now == self.unsettled):
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            data = {"format": MEMO_FORMAT, "entries": self._seen, "unsettled": self._unsettled_now}
            tmp.write_bytes(orjson.dumps(data))
            tmp.replace(self.path)
        except OSError:
            pass  # only a speed-up: the next build looks at everything again
