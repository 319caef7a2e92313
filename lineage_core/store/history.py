"""Safe publishing on top of any backend: conditional write, a history copy, pruning,
and reading the newest copy that still decodes.

A publish of ``…/lineage.json`` also keeps ``…/history/lineage.json/<UTC timestamp>-<sha256
prefix>.json`` (stored the same way as the object: gzip on GCS, gzip locally when the name
ends in ``.gz``). The main object is written first, with the generation precondition; only
the winner of a race writes a history copy, so history never holds a document that lost.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

from lineage_core.store.base import (
    ANY_GENERATION,
    Backend,
    ConcurrentWriteError,
    CorruptObject,
    Fetched,
    GoodRead,
    HistoryEntry,
    ObjectNotFound,
    Published,
    StoreError,
    T,
    content_digest,
)

log = logging.getLogger(__name__)

HISTORY_DIR = "history"
DIGEST_CHARS = 16
_STAMP = "%Y%m%dT%H%M%S.%fZ"
_ENTRY = re.compile(
    r"^(?P<stamp>\d{8}T\d{6}\.\d{6}Z)-(?P<digest>[0-9a-f]{" + str(DIGEST_CHARS) + r"})(?P<suffix>(\.[^/]*)?)$"
)


def _split(uri: str) -> tuple[str, str]:
    """``a/b/lineage.json`` → (``a/b/``, ``lineage.json``)."""
    head, sep, name = uri.rpartition("/")
    if not name:
        raise StoreError(f"{uri}: names a folder, expected a document")
    return head + sep, name


def _suffix(name: str) -> str:
    """The extensions a history copy keeps (``.json``, ``.json.gz``), so it is stored alike."""
    dot = name.find(".", 1)
    return name[dot:] if dot > 0 else ""


def history_prefix(uri: str) -> str:
    head, name = _split(uri)
    return f"{head}{HISTORY_DIR}/{name}/"


def history_uri_for(uri: str, when: datetime, digest: str) -> str:
    """Where the copy of ``uri`` published at ``when`` with content ``digest`` is kept."""
    _, name = _split(uri)
    stamp = when.astimezone(UTC).strftime(_STAMP)
    return f"{history_prefix(uri)}{stamp}-{digest[:DIGEST_CHARS]}{_suffix(name)}"


def list_history(backend: Backend, uri: str) -> list[HistoryEntry]:
    """The kept copies of ``uri``, newest first."""
    prefix = history_prefix(uri)
    entries: list[HistoryEntry] = []
    for found in backend.list_objects(prefix):
        rest = found.uri[len(prefix):] if found.uri.startswith(prefix) else found.uri.rpartition("/")[2]
        match = _ENTRY.match(rest)
        if not match:
            continue
        when = datetime.strptime(match["stamp"], _STAMP).replace(tzinfo=UTC)
        entries.append(
            HistoryEntry(found.uri, when.isoformat(timespec="microseconds"), match["digest"], found.generation)
        )
    entries.sort(key=lambda e: (e.timestamp, e.uri), reverse=True)
    return entries


def prune(backend: Backend, uri: str, keep: int) -> list[str]:
    """Delete all but the newest ``keep`` copies; returns the URIs deleted."""
    removed = []
    for entry in list_history(backend, uri)[max(keep, 0):]:
        backend.delete(entry.uri, entry.generation)
        removed.append(entry.uri)
    return removed


def publish(
    backend: Backend,
    uri: str,
    data: bytes,
    *,
    expected_generation: str | None = ANY_GENERATION,
    keep: int = 30,
    force: bool = False,
    now: datetime | None = None,
) -> Published:
    """Write ``uri`` whole if its generation is still ``expected_generation``; keep a copy.

    Raises ConcurrentWriteError (naming the winner) when another writer got there first,
    unless ``force``. A failure to keep or prune history does not undo the publish: it is
    logged and returned in ``Published.warnings``.
    """
    published = backend.write_bytes(uri, data, ANY_GENERATION if force else expected_generation)
    if keep <= 0:
        return published
    warnings: list[str] = []
    copy = history_uri_for(uri, now or datetime.now(UTC), content_digest(data))
    history: str | None = copy
    try:
        backend.write_bytes(copy, data, None)
    except ConcurrentWriteError:
        pass  # same timestamp and digest: that very copy is already there
    except StoreError as exc:
        warnings.append(f"published {uri}, but could not keep a history copy: {exc}")
        history = None
    try:
        prune(backend, uri, keep)
    except StoreError as exc:
        warnings.append(f"published {uri}, but could not prune its history to {keep} copies: {exc}")
    for warning in warnings:
        log.warning("%s", warning)
    return replace(published, history_uri=history, warnings=tuple(warnings))


def read_latest_good(backend: Backend, uri: str, decode: Callable[[bytes], T]) -> GoodRead[T]:
    """The newest version of ``uri`` that reads and decodes: the object, else its history.

    When the object is missing, corrupt or does not decode, the newest good history copy is
    returned with a warning that names the copy used and why. Network and permission
    failures are not hidden: they raise as usual.
    """
    first: StoreError
    try:
        fetched = backend.read_bytes(uri)
        return GoodRead(decode(fetched.data), fetched, None)
    except ObjectNotFound as exc:
        reason, first = "does not exist", exc
    except CorruptObject as exc:
        reason, first = f"is corrupt ({_detail(exc, uri)})", exc
    except StoreError:
        raise
    except Exception as exc:
        reason, first = f"does not decode ({_detail(exc, uri)})", StoreError(f"{uri}: {exc}")
    skipped: list[str] = []
    for entry in list_history(backend, uri):
        try:
            copy: Fetched = backend.read_bytes(entry.uri)
            value = decode(copy.data)
        except (ObjectNotFound, CorruptObject):
            skipped.append(entry.uri)
            continue
        except StoreError:
            raise
        except Exception:
            skipped.append(entry.uri)
            continue
        newer = f"; {len(skipped)} newer cop{'y' if len(skipped) == 1 else 'ies'} did not decode either" if skipped else ""
        warning = (
            f"{uri} {reason}; using the last good copy {entry.uri} "
            f"(published {entry.timestamp}, sha256 {entry.digest}…){newer}"
        )
        log.warning("%s", warning)
        return GoodRead(value, copy, warning)
    tried = f" and none of its {len(skipped)} history copies decodes" if skipped else " and it has no history copy"
    if isinstance(first, ObjectNotFound):
        raise ObjectNotFound(f"{uri} {reason}{tried}") from first
    raise CorruptObject(f"{uri} {reason}{tried}") from first


def _detail(exc: BaseException, uri: str) -> str:
    text = str(exc)
    for prefix in (f"{uri}: ", f"{uri} "):
        if text.startswith(prefix):
            return text[len(prefix):]
    return text
