"""Lineage extraction: the only package that parses SQL (with sqlglot).

``table_lineage`` reads tables, ``column_lineage`` columns; see DESIGN.md "Extraction API".
"""

from lineage_core.extract.columns import column_lineage, load_columns_schema
from lineage_core.extract.model import (
    ColumnEdgeRef,
    ExtractIssue,
    StatementLineage,
    TableLineage,
)
from lineage_core.extract.tables import UnknownDialectError, rendered_lineage, table_lineage

__all__ = [
    "ColumnEdgeRef",
    "ExtractIssue",
    "StatementLineage",
    "TableLineage",
    "UnknownDialectError",
    "column_lineage",
    "load_columns_schema",
    "rendered_lineage",
    "table_lineage",
]
