"""Column lineage: which base-table columns flow into which written columns.

For every statement that writes a table from a query (INSERT … SELECT, CREATE TABLE/VIEW
AS), each output column is traced through CTEs and subqueries to base-table columns.
Across a script the per-statement edges form a graph; the answer is every path from a
column nothing feeds to a column nothing reads (intermediate columns are stepped over).
Names: ``table.column``, the table written as in table lineage, the column lowercased
unless quoted. ``*`` stands for columns that cannot be expanded without a ``schema``;
``<unresolved>`` for an unqualified column of a join that the schema cannot attribute.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sqlglot import exp

from lineage_core.errors import LineageError
from lineage_core.extract.model import ColumnEdgeRef
from lineage_core.extract.names import table_id
from lineage_core.extract.statements import _real_table, _relations, _resolve_alias
from lineage_core.extract.tables import parse_script

UNRESOLVED = "<unresolved>"
Outputs = list[tuple[str, set[str]]]  # (output column name, source column paths)


class _Source:
    def __init__(self, table: str | None = None, outputs: Outputs | None = None) -> None:
        self.table = table
        self.outputs = outputs


def _col_name(ident: exp.Expr | str) -> str:
    if isinstance(ident, exp.Identifier):
        text = str(ident.this)
        return text if ident.quoted else text.lower()
    return str(ident).lower()


class _Resolver:
    def __init__(self, dialect: str, schema: Mapping[str, Sequence[str]], lateral: bool) -> None:
        self.dialect = dialect
        self.schema = {k.lower(): [c.lower() for c in v] for k, v in schema.items()}
        self.lateral = lateral
        self.depth = 0

    def table_columns(self, table: str) -> list[str] | None:
        return self.schema.get(table.lower())

    def query(self, node: exp.Expr, env: dict[str, Outputs]) -> Outputs:
        self.depth += 1
        if self.depth > 200:
            raise LineageError("query nested too deeply for column lineage")
        try:
            return self._query(node, env)
        finally:
            self.depth -= 1

    def _query(self, node: exp.Expr, env: dict[str, Outputs]) -> Outputs:
        env = self.with_ctes(node, env)
        if isinstance(node, exp.Subquery):
            return self.query(node.this, env)
        if isinstance(node, exp.SetOperation):
            left = self.query(node.left, env)
            right = self.query(node.right, env)
            return [(name, srcs | (right[i][1] if i < len(right) else set()))
                    for i, (name, srcs) in enumerate(left)]
        if isinstance(node, exp.Select):
            return self.select(node, env)
        return []

    def with_ctes(self, node: exp.Expr, env: dict[str, Outputs]) -> dict[str, Outputs]:
        with_ = node.args.get("with_")
        if not isinstance(with_, exp.With):
            return env
        env = dict(env)
        for cte in with_.expressions:
            env[cte.alias.lower()] = self.query(cte.this, env)
        return env

    def sources_of(self, select: exp.Expr, env: dict[str, Outputs]) -> dict[str, _Source]:
        relations: list[exp.Expr] = []
        from_ = select.args.get("from_")
        if isinstance(from_, exp.From):
            relations.append(from_.this)
            relations.extend(j.this for j in from_.this.args.get("joins") or [])
        relations.extend(j.this for j in select.args.get("joins") or [])
        return self.relations(relations, env)

    def relations(self, relations: list[exp.Expr], env: dict[str, Outputs]) -> dict[str, _Source]:
        sources: dict[str, _Source] = {}
        for rel in relations:
            while isinstance(rel, exp.Subquery) and isinstance(rel.this, exp.Table):
                rel = rel.this
            alias = rel.alias.lower() if rel.alias else ""
            if isinstance(rel, exp.Table):
                name = rel.name.lower()
                if not rel.args.get("db") and name in env:
                    sources[alias or name] = _Source(outputs=env[name])
                    continue
                tid = table_id(rel, self.dialect)
                if tid is not None:
                    sources[alias or name] = _Source(table=str(tid))
            elif isinstance(rel, exp.Subquery):
                sources[alias] = _Source(outputs=self.query(rel.this, env))
        return sources

    def expand(self, src: _Source) -> Outputs:
        if src.outputs is not None:
            return src.outputs
        assert src.table is not None
        cols = self.table_columns(src.table)
        if cols is None:
            return [("*", {f"{src.table}.*"})]
        return [(c, {f"{src.table}.{c}"}) for c in cols]

    def column(
        self, col: exp.Column, sources: dict[str, _Source], aliases: dict[str, set[str]]
    ) -> set[str]:
        name = _col_name(col.this) if isinstance(col.this, exp.Identifier) else ""
        if not name:
            return set()
        qualifier = col.table.lower() if col.table else ""
        if qualifier:
            src = sources.get(qualifier)
            return self.from_source(src, name) if src else set()
        if self.lateral and name in aliases and not self.known_column(name, sources):
            return aliases[name]
        if len(sources) == 1:
            return self.from_source(next(iter(sources.values())), name)
        owners = [s for s in sources.values() if self.has_column(s, name)]
        if len(owners) == 1:
            return self.from_source(owners[0], name)
        return {f"{UNRESOLVED}.{name}"} if sources else set()

    def has_column(self, src: _Source, name: str) -> bool:
        if src.outputs is not None:
            return any(n == name for n, _ in src.outputs)
        cols = self.table_columns(src.table or "")
        return cols is not None and name in cols

    def known_column(self, name: str, sources: dict[str, _Source]) -> bool:
        return any(self.has_column(s, name) for s in sources.values())

    def from_source(self, src: _Source, name: str) -> set[str]:
        if src.outputs is None:
            return {f"{src.table}.{name}"}
        for out, srcs in src.outputs:
            if out == name:
                return srcs
        stars = [srcs for out, srcs in src.outputs if out == "*"]
        return {s[: -len("*")] + name for srcs in stars for s in srcs}

    def select(self, select: exp.Select, env: dict[str, Outputs]) -> Outputs:
        sources = self.sources_of(select, env)
        outputs: Outputs = []
        aliases: dict[str, set[str]] = {}
        for proj in select.expressions:
            if isinstance(proj, exp.Star):
                for src in sources.values():
                    outputs.extend(self.expand(src))
                continue
            if isinstance(proj, exp.Column) and isinstance(proj.this, exp.Star):
                named = sources.get(proj.table.lower())
                if named is not None:
                    outputs.extend(self.expand(named))
                continue
            if isinstance(proj, exp.Alias):
                name = _col_name(proj.args["alias"])
            elif isinstance(proj, exp.Column):
                name = _col_name(proj.this)
            else:
                name = proj.sql(dialect=self.dialect).lower()
            srcs: set[str] = set()
            for col in proj.find_all(exp.Column):
                if any(isinstance(a, exp.Query) for a in _between(col, proj)):
                    continue
                srcs |= self.column(col, sources, aliases)
            aliases[name] = srcs
            outputs.append((name, srcs))
        return outputs


def _between(node: exp.Expr, stop: exp.Expr) -> list[exp.Expr]:
    found: list[exp.Expr] = []
    current: exp.Expr | None = node
    while current is not None and current is not stop:
        current = current.parent
        if current is not None and current is not stop:
            found.append(current)
    return found


def _assignments(
    pairs: list[tuple[str, exp.Expr]],
    sources: dict[str, _Source],
    target: str,
    skip: set[str],
    r: _Resolver,
) -> list[tuple[str, str]]:
    edges: list[tuple[str, str]] = []
    for name, value in pairs:
        for col in value.find_all(exp.Column):
            if col.table and col.table.lower() in skip:
                continue
            if any(isinstance(a, exp.Query) for a in _between(col, value)):
                continue
            edges.extend((src, f"{target}.{name}") for src in r.column(col, sources, {}))
    return edges


def _dml_edges(stmt: exp.Expr, r: _Resolver) -> list[tuple[str, str]]:
    """UPDATE … SET c = expr [FROM …] and MERGE … WHEN … THEN UPDATE/INSERT."""
    relations = _relations(stmt)
    head = _real_table(stmt.this)
    if head is None:
        return []
    real = _resolve_alias(head, relations)
    tid = table_id(real, r.dialect)
    if tid is None:
        return []
    target = str(tid)
    skip = {n.lower() for n in (head.name, head.alias, real.alias, real.name) if n}
    env = r.with_ctes(stmt, {})
    others: list[exp.Expr] = [rel for rel in relations if rel is not real and rel is not head]
    if isinstance(stmt, exp.Merge):
        using = stmt.args.get("using")
        others = [using] if isinstance(using, exp.Expr) else []
    sources = r.relations(others, env)
    pairs: list[tuple[str, exp.Expr]] = []
    if isinstance(stmt, exp.Update):
        pairs.extend(_set_pairs(stmt.expressions))
    whens = stmt.args.get("whens")
    for when in whens.expressions if isinstance(whens, exp.Whens) else []:
        then = when.args.get("then")
        if isinstance(then, exp.Update):
            pairs.extend(_set_pairs(then.expressions))
        elif isinstance(then, exp.Insert) and isinstance(then.expression, exp.Tuple):
            values = then.expression.expressions
            columns = then.this.expressions if isinstance(then.this, exp.Tuple) else []
            for i, value in enumerate(values):
                col = columns[i] if i < len(columns) else value
                if isinstance(col, (exp.Column, exp.Identifier)):
                    pairs.append((_col_name(col.this if isinstance(col, exp.Column) else col), value))
    return _assignments(pairs, sources, target, skip, r)


def _set_pairs(items: list[exp.Expr]) -> list[tuple[str, exp.Expr]]:
    pairs: list[tuple[str, exp.Expr]] = []
    for item in items:
        if isinstance(item, exp.EQ) and isinstance(item.this, exp.Column):
            pairs.append((_col_name(item.this.this), item.expression))
    return pairs


def _statement_edges(stmt: exp.Expr, r: _Resolver) -> list[tuple[str, str]]:
    if isinstance(stmt, (exp.Update, exp.Merge)):
        return _dml_edges(stmt, r)
    target_node: exp.Expr | None = None
    query: exp.Expr | None = None
    if isinstance(stmt, exp.Insert) or (isinstance(stmt, exp.Create) and str(stmt.args.get("kind") or "").upper() in (
        "TABLE",
        "VIEW",
    )):
        target_node, query = stmt.this, stmt.expression
    table = _real_table(target_node)
    if table is None or not isinstance(query, exp.Query):
        return []
    tid = table_id(table, r.dialect)
    if tid is None:
        return []
    target = str(tid)
    env = r.with_ctes(stmt, {})
    outputs = r.query(query, env)
    names: list[str] | None = None
    if isinstance(target_node, exp.Schema) and target_node.expressions:
        names = [_col_name(c.this if isinstance(c, exp.ColumnDef) else c)
                 for c in target_node.expressions]
    elif isinstance(stmt, exp.Insert):
        names = r.table_columns(target)
    edges: list[tuple[str, str]] = []
    for i, (name, srcs) in enumerate(outputs):
        if names is not None and len(names) == len(outputs):
            name = names[i]
        for src in srcs:
            edges.append((src, f"{target}.{name}"))
    return edges


def column_lineage(
    sql: str,
    dialect: str = "bigquery",
    schema: Mapping[str, Sequence[str]] | None = None,
    lateral_alias: bool = False,
) -> tuple[ColumnEdgeRef, ...]:
    """Column-to-column lineage of a script (see the module docstring).

    ``schema`` maps table name → column names; it expands ``*`` and attributes unqualified
    columns of joins. ``lateral_alias`` lets a select item use an alias defined before it.
    """
    run = parse_script(sql, dialect)
    resolver = _Resolver(run.dialect, schema or {}, lateral_alias)
    graph: dict[str, set[str]] = defaultdict(set)
    fed: set[str] = set()
    for stmt in run.asts:
        try:
            for src, tgt in _statement_edges(stmt, resolver):
                graph[src].add(tgt)
                fed.add(tgt)
        except (RecursionError, LineageError):
            continue
    pairs: set[tuple[str, str]] = set()
    for root in [n for n in graph if n not in fed]:
        seen: set[str] = set()
        stack = [root]
        while stack:
            node = stack.pop()
            nexts = graph.get(node)
            if not nexts:
                if node != root:
                    pairs.add((root, node))
                continue
            for nxt in nexts:
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
    return tuple(sorted(ColumnEdgeRef(s, t) for s, t in pairs))


def load_columns_schema(path: str | Path) -> dict[str, list[str]]:
    """Read a JSON export of INFORMATION_SCHEMA.COLUMNS (rows with table_catalog,
    table_schema, table_name, column_name) into ``{"catalog.schema.table": [columns]}``."""
    try:
        rows: Any = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise LineageError(f"cannot read column schema {path}: {exc}") from exc
    if isinstance(rows, dict):
        rows = rows.get("rows") or rows.get("columns") or []
    schema: dict[str, list[str]] = defaultdict(list)
    for row in rows if isinstance(rows, list) else []:
        if not isinstance(row, dict) or not row.get("table_name") or not row.get("column_name"):
            continue
        parts = [str(row.get(k) or "") for k in ("table_catalog", "table_schema", "table_name")]
        schema[".".join(p for p in parts if p)].append(str(row["column_name"]))
    return dict(schema)
