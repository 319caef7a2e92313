"""A build whose inputs did not change since the last one republishes its document at once.

The last complete build records what its document was made of (``last-build.json`` in the
cache directory): a key over everything that is not a SQL file or folder (the configuration's
bytes, the command's arguments, this package's code, sqlglot's version), the stat signature of
every SQL file it read and the mtime of every folder it listed. The next ``lineage build``
checks these first, before it imports its configuration parser or the pipeline: one ``stat``
each. When all match, the last document is published again with a new ``generated_at``,
nothing else is read, and the build reports what the last one reported.

Nothing is recorded when a file or folder changed within two seconds of being read (it could
change again within the same timestamp tick; see :mod:`lineage_core.stat_memo`), when a source
is in a bucket, or when the build reads anything else (BI tools, column schemas, the previous
document's columns): such builds always run whole.
"""

from __future__ import annotations

import hashlib
import os
import platform
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from lineage_core import __version__
from lineage_core.stat_memo import file_signature
from lineage_core.versions import installed_version, sqlglot_version

SNAPSHOT_NAME = "last-build.json"
DOCUMENT_NAME = "last-document.json"
FORMAT = 1
_GENERATED_AT = re.compile(rb'"generated_at": "[^"]*"')
_PACKAGE = Path(__file__).resolve().parent


def renew_generated_at(data: bytes, stamp: str) -> bytes | None:
    """The document ``data`` with its ``generated_at`` set to ``stamp`` (None if it has none)."""
    renewed, count = _GENERATED_AT.subn(b'"generated_at": ' + orjson.dumps(stamp), data, count=1)
    return renewed if count == 1 else None


def _digest(document: bytes) -> str:
    """The digest of a document whatever its ``generated_at`` (a reused document is the last
    one with a new time stamp)."""
    return hashlib.sha256(renew_generated_at(document, "") or document).hexdigest()


def code_fingerprint() -> str:
    """The stat signature of every module of this package (any edit or reinstall changes it)."""
    h = hashlib.sha256()

    def visit(directory: str) -> None:
        with os.scandir(directory) as entries:
            for entry in sorted(entries, key=lambda e: e.name):
                if entry.is_dir(follow_symlinks=False) and not entry.name.startswith(("_", ".")):
                    visit(entry.path)
                elif entry.name.endswith(".py"):
                    st = entry.stat()
                    h.update(f"{entry.path}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ino}\n".encode())

    visit(str(_PACKAGE))
    return h.hexdigest()


def inputs_key(parts: list[Any]) -> str:
    """A key over ``parts`` (the command's arguments, resolved) and the code that builds."""
    environment = [FORMAT, __version__, code_fingerprint(), sqlglot_version(), installed_version("sqlglotc")]
    environment.append(platform.python_version())
    return hashlib.sha256(orjson.dumps([*environment, *parts], default=str)).hexdigest()


@dataclass
class LookedAt:
    """What a build read: each SQL file's stat signature and each listed folder's mtime."""

    files: dict[str, tuple[int, int, int, int]] = field(default_factory=dict)
    folders: dict[str, int] = field(default_factory=dict)
    settled: bool = True  # False: something changed too recently (or is remote) to be recorded


@dataclass
class Reused:
    data: bytes
    report: dict[str, Any]


def reuse(
    cache_dir: str, key: str, generated_at: str, on_changed_file: Callable[[str], object] | None = None
) -> Reused | None:
    """The last document, renewed, if the last build had ``key`` and nothing it read changed.
    ``on_changed_file`` is called with the path of a SQL file it read that changed (the build
    will parse)."""
    directory = Path(cache_dir)
    try:
        snapshot = orjson.loads((directory / SNAPSHOT_NAME).read_bytes())
        if not isinstance(snapshot, dict) or snapshot.get("format") != FORMAT or snapshot.get("key") != key:
            return None
        for path, mtime_ns in snapshot["folders"].items():
            if os.stat(path).st_mtime_ns != mtime_ns:
                return None
        for path, signature in snapshot["files"].items():
            try:
                same = list(file_signature(path)) == signature
            except OSError:
                same = False
            if not same:
                if on_changed_file is not None:
                    on_changed_file(path)
                return None
        data = (directory / DOCUMENT_NAME).read_bytes()
        if _digest(data) != snapshot["sha256"]:
            return None
        report = snapshot["report"]
        if not isinstance(report, dict):
            return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError, orjson.JSONDecodeError):
        return None
    renewed = renew_generated_at(data, generated_at)
    return Reused(renewed, report) if renewed is not None else None


def record(cache_dir: str, key: str, looked_at: LookedAt, data: bytes, report: dict[str, Any]) -> None:
    """Remember this build, whose document ``data`` is the cache directory's last document
    (up to its ``generated_at``)."""
    path = Path(cache_dir) / SNAPSHOT_NAME
    try:
        if not looked_at.settled:
            path.unlink(missing_ok=True)
            return
        snapshot = {
            "format": FORMAT,
            "key": key,
            "sha256": _digest(data),
            "files": looked_at.files,
            "folders": looked_at.folders,
            "report": report,
        }
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(orjson.dumps(snapshot))
        tmp.replace(path)
    except OSError:
        pass  # only a speed-up: the next build runs whole
