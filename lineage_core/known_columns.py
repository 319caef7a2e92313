"""Column schemas for expanding `*`: from an INFORMATION_SCHEMA.COLUMNS export, or learnt
from the columns the previous lineage document already knows."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from lineage_core.models import LineageDocument


def schema_from_document(document: LineageDocument) -> dict[str, list[str]]:
    """``{table: [column, …]}`` for every table column the document's column lineage names."""
    found: dict[str, set[str]] = {}
    for edge in document.columns or ():
        for column in (edge.source, edge.target):
            table, _, name = column.rpartition(".")
            if table and name:
                found.setdefault(table, set()).add(name)
    return {table: sorted(names) for table, names in sorted(found.items())}


def merge_schemas(*schemas: Mapping[str, Sequence[str]] | None) -> dict[str, list[str]] | None:
    """Earlier schemas win for a table they list (an export beats what a document guessed)."""
    merged: dict[str, list[str]] = {}
    for schema in schemas:
        for table, columns in (schema or {}).items():
            merged.setdefault(table, list(columns))
    return merged or None
