"""sqlglot parsing without the copies of its implicit-UNNEST rewrite.

BigQuery (and Redshift) read ``FROM t, t.arr`` as ``FROM t CROSS JOIN UNNEST(t.arr)``. sqlglot's
parser makes that rewrite for every SELECT while it parses, and to compare names it deep-copies
the FROM relation and each joined one, a whole subquery when the relation is one, so nested
subqueries are copied again at every level: a tenth of the parse time of real BigQuery
repositories. Here the parser's switch (``SUPPORTS_IMPLICIT_UNNEST``, a class setting) is off
for the duration of the call, and the same rewrite is made afterwards on every SELECT, copying
only a relation's head (its name and alias), never the query inside it. The trees are the ones
sqlglot would build (a test compares them on the corpus).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlglot import exp
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers
from sqlglot.parser import Parser
from sqlglot.tokenizer_core import Token

from lineage_core.extract.names import dialect_of, per_thread

_SWITCH = "SUPPORTS_IMPLICIT_UNNEST"
_SWITCH_LOCK = threading.RLock()
_NAME_LEAVES = (exp.Identifier, exp.Literal, exp.Var, exp.Star, exp.Null)


@dataclass
class Parsed:
    """A parsed statement with the nodes extraction needs, found in one walk of the tree."""

    tree: exp.Expr
    tables: list[exp.Table]  # breadth-first, as ``tree.find_all(exp.Table)``
    has_with: bool


def parse_sql(dialect: str, sql: str) -> list[Parsed]:
    """The statements of ``sql`` (``sqlglot.parse(sql, read=dialect)`` without empty ones)."""
    return parse_tokens(dialect, dialect_of(dialect).tokenize(sql), sql)


def parse_tokens(dialect: str, tokens: list[Token], sql: str) -> list[Parsed]:
    """Parse already tokenized SQL (``sql`` is the text the tokens point into)."""
    parser = _parser(dialect)
    with _implicit_unnest_off(type(parser)) as deferred:
        trees = parser.parse(tokens, sql)
    return [_indexed(tree, dialect, deferred) for tree in trees if tree is not None]


def _indexed(tree: exp.Expr, dialect: str, deferred: bool) -> Parsed:
    tables: list[exp.Table] = []
    joins: list[exp.Join] = []
    has_with = False
    for node in tree.find_all(exp.Table, exp.Join, exp.With):
        if isinstance(node, exp.Table):
            tables.append(node)
        elif isinstance(node, exp.Join):
            joins.append(node)
        else:
            has_with = True
    if deferred and joins:
        replaced = _make_unnests_explicit(joins, dialect)
        if replaced:
            tables = [table for table in tables if id(table) not in replaced]
    return Parsed(tree, tables, has_with)


def _parser(dialect: str) -> Parser:
    return per_thread("parser", dialect, lambda: dialect_of(dialect).parser())


@contextmanager
def _implicit_unnest_off(parser_class: type[Parser]) -> Iterator[bool]:
    """Turn the parser's own rewrite off while this thread parses; yields whether it was on."""
    if not getattr(parser_class, _SWITCH, False):
        yield False
        return
    with _SWITCH_LOCK:  # other threads parsing meanwhile wait rather than see it off
        setattr(parser_class, _SWITCH, False)
        try:
            yield True
        finally:
            setattr(parser_class, _SWITCH, True)


def make_unnests_explicit(tree: exp.Expr, dialect: str) -> None:
    """In each SELECT, a comma-joined relation whose first name part is an earlier relation of
    the same FROM (``FROM t, t.arr``) is an array of that relation: ``CROSS JOIN UNNEST(t.arr)``."""
    _make_unnests_explicit(list(tree.find_all(exp.Join)), dialect)


def _make_unnests_explicit(joins: list[exp.Join], dialect: str) -> set[int]:
    """The rewrite over these joins; only a SELECT with a join that could be an array (a
    qualified name, no ON) is looked at. Returns the ids of the Table nodes replaced."""
    done: set[int] = set()
    replaced: set[int] = set()
    for join in joins:
        select = join.parent
        if id(select) in done or join.arg_key != "joins" or not isinstance(select, exp.Select):
            continue
        relation = join.this
        if not isinstance(relation, exp.Table) or join.args.get("on") or len(relation.parts) < 2:
            continue
        done.add(id(select))
        from_ = select.args.get("from_")
        if isinstance(from_, exp.From):
            replaced |= _rewrite_joins(from_.this, select.args["joins"], dialect)
    return replaced


def _rewrite_joins(first: exp.Expr, joins: list[exp.Expr], dialect: str) -> set[int]:
    replaced: set[int] = set()
    seen = {_normalized_head(first, dialect, maybe_column=False).alias_or_name}
    for join in joins:
        relation = join.this
        head = _normalized_head(relation, dialect, maybe_column=True)
        if isinstance(relation, exp.Table) and isinstance(head, exp.Table) and not join.args.get("on"):
            parts = head.parts
            if len(parts) > 1 and parts[0].name in seen:
                _to_unnest(relation)
                replaced.add(id(relation))
        seen.add(head.alias_or_name)
    return replaced


def _normalized_head(relation: exp.Expr, dialect: str, maybe_column: bool) -> exp.Expr:
    """A normalized copy of the relation without the query or call it wraps (a table is small
    and copied whole, as its name parts are needed)."""
    body = relation.args.get("this")
    detach = not isinstance(relation, exp.Table) and isinstance(body, exp.Expr) and not isinstance(body, _NAME_LEAVES)
    if detach:
        relation.args["this"] = None  # not set(): the body keeps its parent
    try:
        head = relation.copy()
    finally:
        if detach:
            relation.args["this"] = body
    if maybe_column:
        head.meta["maybe_column"] = True
    return normalize_identifiers(head, dialect=dialect)


def _to_unnest(table: exp.Table) -> None:
    column = table.to_column()
    unnest = exp.Unnest(expressions=[column])
    alias = table.args.get("alias")
    if isinstance(alias, exp.TableAlias):
        # to_column() wrapped the column in an Alias: the alias belongs to the UNNEST
        column.replace(column.this)
        exp.alias_(unnest, None, table=[alias.this], copy=False)
    table.replace(unnest)
