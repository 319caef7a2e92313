"""Column lineage (placeholder, filled in below)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from lineage_core.extract.model import ColumnEdgeRef


def column_lineage(
    sql: str,
    dialect: str = "bigquery",
    schema: Mapping[str, Sequence[str]] | None = None,
    lateral_alias: bool = False,
) -> tuple[ColumnEdgeRef, ...]:
    return ()
