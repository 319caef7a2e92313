"""Walking a local SQL tree fast: glob matching, and directory listings remembered by mtime.

A warm build of a repository with thousands of directories (one per table is common) spends
most of its time listing them. A directory's mtime changes whenever an entry is added,
removed or renamed in it, so a listing taken at a given mtime is still right while the mtime
is the same; file *contents* are checked elsewhere (``cache.FileStats``).
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import re
from collections.abc import Collection, Sequence
from functools import lru_cache
from pathlib import Path

import orjson

from lineage_core.stat_memo import StatMemo


def matches(rel_path: str, patterns: Sequence[str]) -> bool:
    """gitignore-style globs: `**/x` also matches `x` at the top level."""
    return _glob_regex(tuple(patterns)).match(rel_path) is not None


@lru_cache(maxsize=256)
def _glob_regex(patterns: tuple[str, ...]) -> re.Pattern[str]:
    """One regex for a list of globs (fnmatch semantics: `*` also crosses `/`)."""
    alternatives = [*patterns, *(p[3:] for p in patterns if p.startswith("**/"))]
    if not alternatives:
        return re.compile(r"(?!)")  # matches nothing
    return re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in alternatives))


@lru_cache(maxsize=256)
def _literal_endings(patterns: tuple[str, ...]) -> tuple[str, ...] | None:
    """The plain text every name matching one of ``patterns`` ends with (`**/*.sql` → `.sql`),
    a cheap test before the regex; None when some pattern has no such ending."""
    endings = []
    for pattern in patterns:
        tail = pattern.rsplit("/", 1)[-1].rsplit("*", 1)[-1]
        if not tail or any(c in tail for c in "?[]"):
            return None
        endings.append(tail)
    return tuple(endings) or None


class DirectoryListings:
    """What each directory of one walk held (subdirectories, matching files), by its mtime.

    Kept in the build cache directory, one file per (root, include, exclude); see
    ``StatMemo`` for what is never trusted.
    """

    def __init__(self, path: Path | None) -> None:
        self.memo = StatMemo(path)
        self.visited: dict[str, int] = {}  # every folder of the walk → its mtime when listed

    @property
    def settled(self) -> bool:
        """No folder changed too recently to be remembered."""
        return not self.memo.unsettled_now

    @classmethod
    def for_walk(cls, cache_dir: str, root: str, include: Sequence[str], exclude: Sequence[str]) -> DirectoryListings:
        walk = orjson.dumps([os.path.abspath(root), list(include), list(exclude)])
        return cls(Path(cache_dir) / f"listings-{hashlib.sha256(walk).hexdigest()[:16]}.json")

    def lookup(self, rel_dir: str, mtime_ns: int) -> tuple[list[str], list[str]] | None:
        known = self.memo.get(rel_dir)
        if (
            isinstance(known, list)
            and len(known) == 3
            and known[0] == mtime_ns
            and isinstance(known[1], list)
            and isinstance(known[2], list)
        ):
            return known[1], known[2]
        return None

    def remember(self, rel_dir: str, mtime_ns: int, subdirs: list[str], files: list[str]) -> None:
        self.memo.put(rel_dir, [mtime_ns, subdirs, files], mtime_ns)

    def save(self) -> None:
        self.memo.save()


def walk_matching(
    root: str | Path,
    include: Sequence[str],
    exclude: Sequence[str],
    skip_dirs: Collection[str] = (),
    listings: DirectoryListings | None = None,
) -> list[str]:
    """Posix paths under ``root`` matching ``include`` and not ``exclude``, sorted.

    A recursion over os.scandir with string joins: pathlib, os.walk and a glob match per
    pattern cost more than the rest of a warm build together. Symbolic links to directories
    are not followed (as os.walk). Directories named in ``skip_dirs`` or starting with a dot
    are not entered when ``skip_dirs`` is given. With ``listings``, a directory whose mtime
    is unchanged is not listed again.
    """
    wanted, unwanted = _glob_regex(tuple(include)), _glob_regex(tuple(exclude))
    endings = _literal_endings(tuple(include))
    found: list[str] = []

    def visit(directory: str, prefix: str) -> None:
        mtime_ns = 0
        if listings is not None:
            try:
                mtime_ns = os.stat(directory).st_mtime_ns  # before listing: a later change shows
            except OSError:
                return
            listings.visited[directory] = mtime_ns
            known = listings.lookup(prefix, mtime_ns)
            if known is not None:
                found.extend(prefix + name for name in known[1])
                for name in known[0]:
                    visit(directory + "/" + name, prefix + name + "/")
                return
        try:
            with os.scandir(directory) as entries:
                listed = list(entries)
        except OSError:
            return  # unreadable directory: as os.walk, skip it
        subdirs: list[str] = []
        files: list[str] = []
        for entry in listed:
            name = entry.name
            try:
                is_dir = entry.is_dir()
            except OSError:
                continue
            if is_dir:
                if entry.is_symlink() or (skip_dirs and (name in skip_dirs or name.startswith("."))):
                    continue
                subdirs.append(name)
            elif (
                (endings is None or name.endswith(endings))
                and wanted.match(prefix + name)
                and not unwanted.match(prefix + name)
            ):
                files.append(name)
        if listings is not None:
            listings.remember(prefix, mtime_ns, subdirs, files)
        found.extend(prefix + name for name in files)
        for name in subdirs:
            visit(directory + "/" + name, prefix + name + "/")

    visit(os.fspath(root).rstrip("/") or "/", "")
    found.sort()
    return found
