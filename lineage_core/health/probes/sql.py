"""A probe over any DB-API connection (DuckDB, SQLite, …).

last-modified comes from a metadata table ``(table_id, last_modified)`` — one query for all
tables — as loaders commonly keep one; ``max(column)`` is batched with UNION ALL, a batch
that fails is retried table by table so one missing table does not hide the others.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lineage_core.health.model import Observation, ProbeReport
from lineage_core.health.probes import ObservationKey, ProbeResult, failed, table_parts, to_utc
from lineage_core.health.rules import SqlProbeSettings


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


class SqlProbe:
    def __init__(
        self,
        connection: Any,
        *,
        kind: str = "sql",
        metadata_table: str | None = "table_freshness",
        table_name: str = "{dataset}.{name}",
        batch_size: int = 50,
        paramstyle: str = "qmark",
    ) -> None:
        self.connection = connection
        self.kind = kind
        self.metadata_table = metadata_table
        self.table_name = table_name
        self.batch_size = batch_size
        self.paramstyle = paramstyle
        self.queries = 0

    @classmethod
    def open(cls, settings: SqlProbeSettings, path: Path) -> SqlProbe:
        if settings.type == "duckdb":
            import duckdb

            connection: Any = duckdb.connect(str(path), read_only=True)
        else:
            import sqlite3

            connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        return cls(
            connection, kind=settings.type, metadata_table=settings.metadata_table,
            table_name=settings.table_name, batch_size=settings.batch_size,
        )

    def close(self) -> None:
        self.connection.close()

    def _fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        self.queries += 1
        cursor = self.connection.cursor()
        try:
            cursor.execute(sql, tuple(params))
            return [tuple(row) for row in cursor.fetchall()]
        finally:
            cursor.close()

    def local_name(self, table: str) -> str:
        project, dataset, name = table_parts(table)
        rendered = self.table_name.format(project=project, dataset=dataset, name=name)
        return ".".join(quote(part) for part in rendered.split(".") if part)

    def metadata_sql(self) -> str:
        assert self.metadata_table is not None
        table = ".".join(quote(p) for p in self.metadata_table.split("."))
        return f"SELECT table_id, last_modified FROM {table}"

    def column_sql(self, batch: Sequence[ObservationKey]) -> str:
        return "\nUNION ALL\n".join(
            f"SELECT {i} AS i, CAST(MAX({quote(column or '')}) AS VARCHAR) AS v FROM {self.local_name(table)}"
            for i, (table, column) in enumerate(batch)
        )

    def observe(self, keys: Sequence[ObservationKey]) -> ProbeResult:
        self.queries = 0
        out: dict[ObservationKey, Observation] = {}
        errors: list[str] = []
        modified = [k for k in keys if k[1] is None]
        columns = [k for k in keys if k[1] is not None]
        if modified:
            out.update(self._last_modified(modified, errors))
        for start in range(0, len(columns), self.batch_size):
            out.update(self._maxima(columns[start:start + self.batch_size], errors))
        return ProbeResult(out, ProbeReport(self.kind, self.queries, None, tuple(errors)))

    def _last_modified(self, keys: Sequence[ObservationKey], errors: list[str]) -> dict[ObservationKey, Observation]:
        if self.metadata_table is None:
            return failed(keys, "no metadata_table configured for last_modified; observe a column instead")
        try:
            rows = self._fetch(self.metadata_sql())
        except Exception as exc:  # any driver's error: report it, do not crash the evaluation
            message = f"metadata table {self.metadata_table}: {type(exc).__name__}: {exc}"
            errors.append(message)
            return failed(keys, message)
        latest: dict[str, Any] = {}
        for table_id, value in rows:
            key = str(table_id)
            try:
                stamp = to_utc(value)
            except ValueError:
                continue
            if stamp is not None and (key not in latest or stamp > latest[key]):
                latest[key] = stamp
        # A table without a row (a view, a table never loaded) has no last update: unknown.
        return {k: Observation(k[0], None, latest.get(k[0])) for k in keys}

    def _maxima(self, batch: Sequence[ObservationKey], errors: list[str]) -> dict[ObservationKey, Observation]:
        try:
            rows = self._fetch(self.column_sql(batch))
        except Exception as exc:
            if len(batch) == 1:
                message = f"{type(exc).__name__}: {exc}".strip()
                errors.append(f"max({batch[0][1]}) of {batch[0][0]}: {message}")
                return failed(batch, message)
            out: dict[ObservationKey, Observation] = {}
            for key in batch:  # isolate the failing table(s)
                out.update(self._maxima([key], errors))
            return out
        values = {int(i): v for i, v in rows}
        result: dict[ObservationKey, Observation] = {}
        for i, key in enumerate(batch):
            try:
                result[key] = Observation(key[0], key[1], to_utc(values.get(i)))
            except ValueError as exc:
                result[key] = Observation(key[0], key[1], None, str(exc))
        return result
