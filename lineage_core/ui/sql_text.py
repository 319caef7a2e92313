"""The SQL text behind a query, read from the file the document references (never executed,
never rendered as HTML: pages show it in ``st.code``).

Only SQL-like files of bounded size are read: a document names the files, and a hand-edited
one must not turn the app into a reader of arbitrary server files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath

from lineage_core import store
from lineage_core.errors import LineageError
from lineage_core.models import Query

SQL_SUFFIXES = (".sql", ".sqlx", ".bq", ".j2", ".jinja", ".jinja2", ".tpl")
MAX_SQL_BYTES = 512 * 1024


@dataclass(frozen=True)
class SqlText:
    text: str | None  # the lines line_start..line_end, or None when unreadable
    reason: str | None = None  # why the text is missing


def _candidates(query: Query, document_uri: str) -> list[str]:
    uri = query.uri
    found = [uri]
    if "://" not in uri and not uri.startswith("/"):
        # a relative path is relative to where `lineage build` ran; try beside the document too
        head, sep, _ = document_uri.rpartition("/")
        if sep and "://" not in head:
            found.append(str(PurePosixPath(head) / uri))
    return found


def read_sql(query: Query, document_uri: str) -> SqlText:
    if not query.uri.lower().endswith(SQL_SUFFIXES):
        return SqlText(None, f"{query.uri} is not a SQL file, so it is not shown")
    reason = f"{query.uri} is not readable from this server"
    for uri in _candidates(query, document_uri):
        try:
            found = store.stat(uri)
            if found is None:
                continue
            if found.size > MAX_SQL_BYTES:
                return SqlText(None, f"{uri} is {found.size:,} bytes, too large to show here")
            data = store.read_bytes(uri).data
        except LineageError as exc:
            reason = f"{query.uri} could not be read: {exc}"
            continue
        lines = data.decode("utf-8", errors="replace").splitlines()
        start = max(query.line_start, 1)
        end = query.line_end if query.line_end >= start else len(lines)
        return SqlText("\n".join(lines[start - 1 : end]))
    return SqlText(None, reason)
