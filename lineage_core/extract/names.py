"""Table names: from sqlglot nodes (or raw tokens) to :class:`TableId`, per dialect.

Names are kept as written (every qualifier the SQL gave) and their case is normalized the
way the dialect resolves unquoted identifiers; quoted identifiers always keep their case.
BigQuery resolves project, dataset and table names case-sensitively, so they keep case.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import lru_cache
from typing import Any, TypeVar, cast

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect, NormalizationStrategy

from lineage_core.models import TableId

# ``parquet.`/some/path``` (Spark, Databricks, Hive): a file path read in place of a table.
FILE_FORMATS = frozenset(
    {"parquet", "json", "csv", "orc", "avro", "text", "delta", "binaryfile", "jdbc", "iceberg"}
)


@lru_cache(maxsize=64)
def dialect_of(name: str) -> Dialect:
    return Dialect.get_or_raise(name or None)


_PER_THREAD = threading.local()
T = TypeVar("T")


def per_thread(kind: str, dialect: str, make: Callable[[], T]) -> T:
    """One ``kind`` object (a parser, a tokenizer: they keep state while working) per dialect
    and thread, made by ``make`` on first use."""
    cache: dict[tuple[str, str], Any] | None = getattr(_PER_THREAD, "objects", None)
    if cache is None:
        cache = _PER_THREAD.objects = {}
    found = cache.get((kind, dialect))
    if found is None:
        found = cache[(kind, dialect)] = make()
    return cast(T, found)


@lru_cache(maxsize=64)
def _case_mode(dialect: str) -> str:
    """'keep', 'lower' or 'upper': how unquoted table-name identifiers resolve."""
    if dialect == "bigquery":
        return "keep"
    strategy = dialect_of(dialect).NORMALIZATION_STRATEGY
    if strategy == NormalizationStrategy.UPPERCASE:
        return "upper"
    if strategy == NormalizationStrategy.CASE_SENSITIVE:
        return "keep"
    if "UPPERCASE" in str(strategy):  # CASE_INSENSITIVE_UPPERCASE in newer releases
        return "upper"
    return "lower"


def normalize_part(text: str, quoted: bool, dialect: str) -> str:
    if quoted:
        return text
    mode = _case_mode(dialect)
    if mode == "lower":
        return text.lower()
    if mode == "upper":
        return text.upper()
    return text


def _identifier_parts(node: exp.Expr | None, dialect: str) -> list[str] | None:
    """Flatten an Identifier or a Dot chain of identifiers; None if it is anything else."""
    if node is None:
        return []
    if isinstance(node, exp.Identifier):
        text = node.this
        if not isinstance(text, str) or not text:
            return None
        if node.args.get("temporary") and not text.startswith("#"):
            text = "#" + text
        part = normalize_part(text, bool(node.quoted), dialect)
        if dialect == "bigquery" and node.quoted and "." in part:
            # `region-us`.`INFORMATION_SCHEMA.JOBS`: backquoted dots separate path parts
            return [p for p in part.split(".") if p]
        return [part]
    if isinstance(node, exp.Dot):
        left = _identifier_parts(node.this, dialect)
        right = _identifier_parts(node.expression, dialect)
        if left is None or right is None:
            return None
        return left + right
    if isinstance(node, exp.Var):
        return [normalize_part(str(node.this), False, dialect)]
    return None


def table_id(node: exp.Table, dialect: str) -> TableId | None:
    """The name of a table reference, or None when the node is not a named relation
    (a table-valued function, a table variable, a string path that is not a location)."""
    this = node.this
    if isinstance(this, exp.Literal) and this.is_string:
        return TableId.of(this.this) if this.this else None
    name = _identifier_parts(this, dialect)
    if not name:
        return None
    if dialect == "bigquery" and "$" in name[-1][1:]:
        name[-1] = name[-1].split("$", 1)[0]  # `t$20240101`: a partition decorator of t
    db = _identifier_parts(node.args.get("db"), dialect)
    catalog = _identifier_parts(node.args.get("catalog"), dialect)
    if db is None or catalog is None:
        return None
    if (
        len(db) == 1
        and not catalog
        and db[0].lower() in FILE_FORMATS
        and isinstance(this, exp.Identifier)
        and this.quoted
        and ("/" in this.this or ":" in this.this)
    ):
        return TableId.of(this.this)
    return TableId(tuple(catalog + db + name))


def is_temp_name(tid: TableId) -> bool:
    """T-SQL ``#t`` / ``##t`` and BigQuery ``_SESSION.t`` name temporary tables."""
    if not tid.parts:
        return False
    if tid.parts[-1].startswith("#"):
        return True
    return len(tid.parts) == 2 and tid.parts[0].lower() == "_session"


def key(tid: TableId) -> tuple[str, ...]:
    """Comparison key for matching the same table across statements of a script."""
    return tuple(p.lower() for p in tid.parts)
