"""One parsed statement → what it reads and writes (its *facts*).

Tables are told apart from CTE names lexically: an unqualified name is a CTE when a ``WITH``
around it defines that name before it (or at it, when ``RECURSIVE``), which is how SQL scopes
CTEs, and costs one walk up the tree per table instead of building every query scope.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlglot import exp

from lineage_core.extract.names import is_temp_name, table_id
from lineage_core.models import TableId

_NO_LINEAGE: tuple[type[exp.Expr], ...] = (
    exp.Drop,
    exp.Alter,
    exp.AlterRename,
    exp.Use,
    exp.Show,
    exp.Describe,
    exp.Grant,
    exp.Revoke,
    exp.Analyze,
    exp.Refresh,
    exp.Uncache,
    exp.Pragma,
    exp.Transaction,
    exp.Commit,
    exp.Rollback,
    exp.Comment,
    exp.Kill,
)
_WRITTEN_KINDS = ("TABLE", "VIEW", "MODEL")  # a BigQuery ML model is read by ML.PREDICT like a table
_NOT_READ_PARENTS = (exp.Reference, exp.ForeignKey, exp.JoinHint)


@dataclass
class Facts:
    kind: str
    sources: list[TableId] = field(default_factory=list)
    targets: list[TableId] = field(default_factory=list)
    temp_targets: list[TableId] = field(default_factory=list)  # temporary, never reported
    temp_hidden: list[TableId] = field(default_factory=list)  # names that become temporary
    creates_view: bool = False


def _select_into(stmt: exp.Expr) -> exp.Into | None:
    """``SELECT … INTO t FROM … [UNION …]``: the INTO of the first SELECT of a query."""
    node: exp.Expr | None = stmt
    while isinstance(node, (exp.SetOperation, exp.Subquery)):
        node = node.this
    into = node.args.get("into") if isinstance(node, exp.Select) else None
    return into if isinstance(into, exp.Into) else None


def kind_of(stmt: exp.Expr) -> str:
    if isinstance(stmt, exp.Create):
        return "create_" + str(stmt.args.get("kind") or "object").lower().replace(" ", "_")
    if isinstance(stmt, exp.Query) and _select_into(stmt) is not None:
        return "select_into"
    if isinstance(stmt, exp.Query):
        return "select"
    if isinstance(stmt, exp.TruncateTable):
        return "truncate"
    if isinstance(stmt, exp.LoadData):
        return "load"
    if isinstance(stmt, exp.Command):
        return "command:" + str(stmt.this).lower().replace(" ", "_")
    return type(stmt).__name__.lower()


def _real_table(node: exp.Expr | None) -> exp.Table | None:
    while isinstance(node, exp.Schema):
        node = node.this
    return node if isinstance(node, exp.Table) else None


def _relations(stmt: exp.Expr) -> list[exp.Table]:
    """Tables named in the FROM/USING/JOIN parts of a DML statement (for alias lookups)."""
    found: list[exp.Table] = []
    parts: list[exp.Expr] = []
    from_ = stmt.args.get("from_")
    if isinstance(from_, exp.From):
        parts.append(from_.this)
    using = stmt.args.get("using")
    if isinstance(using, list):
        parts.extend(using)
    elif isinstance(using, exp.Expr):
        parts.append(using)
    this = stmt.args.get("this")
    for holder in [stmt, this, *parts]:
        if isinstance(holder, exp.Expr):
            for join in holder.args.get("joins") or []:
                parts.append(join.this)
    head = _real_table(this)
    if head is not None:
        parts.append(head)
    for part in parts:
        while isinstance(part, exp.Subquery) and isinstance(part.this, exp.Table):
            part = part.this
        if isinstance(part, exp.Table):
            found.append(part)
    return found


def _resolve_alias(node: exp.Table, relations: Iterable[exp.Table]) -> exp.Table:
    """T-SQL ``UPDATE a … FROM t AS a``: the written table is the one aliased ``a``."""
    if node.args.get("db") or node.args.get("alias"):
        return node
    name = node.name.lower()
    for rel in relations:
        if rel is not node and rel.alias and rel.alias.lower() == name:
            return rel
    return node


def _dml_name(node: exp.Table) -> exp.Table:
    """``DELETE FROM TABLE t``: sqlglot reads ``TABLE`` as the name and ``t`` as an alias."""
    if (
        isinstance(node.this, exp.Identifier)
        and not node.this.quoted
        and node.name.upper() == "TABLE"
        and not node.args.get("db")
        and node.alias
    ):
        return exp.Table(this=exp.to_identifier(node.alias))
    return node


def _lexical_cte(table: exp.Table) -> bool:
    """Is this unqualified name a CTE visible at its position (order-aware)?"""
    if table.args.get("db"):
        return False
    name = table.name.lower()
    child: exp.Expr = table
    node = table.parent
    while node is not None:
        if isinstance(node, exp.With):
            ctes = node.expressions
            index = next((i for i, c in enumerate(ctes) if c is child), len(ctes))
            visible = ctes[: index + (1 if node.args.get("recursive") else 0)]
            if any(c.alias.lower() == name for c in visible):
                return True
        else:
            with_ = node.args.get("with_")
            if (
                isinstance(with_, exp.With)
                and with_ is not child
                and any(c.alias.lower() == name for c in with_.expressions)
            ):
                return True
        child = node
        node = node.parent
    return False


def _path_of(node: exp.Expr | None) -> TableId | None:
    if isinstance(node, exp.Table):
        node = node.this
    if isinstance(node, exp.Literal) and node.is_string and node.this:
        return TableId.of(node.this)
    return None


def _locations(holder: object) -> list[TableId]:
    """Storage locations read by LOAD DATA (``INPATH 'p'``, ``FROM FILES(uris=[…])``)."""
    if isinstance(holder, exp.Literal):
        return [TableId.of(holder.this)] if holder.is_string and holder.this else []
    if not isinstance(holder, exp.Expr):
        return []
    return [
        TableId.of(lit.this)
        for lit in holder.find_all(exp.Literal)
        if lit.is_string and "://" in lit.this
    ]


def _add_target(facts: Facts, node: exp.Table | None, dialect: str, temp: bool = False) -> None:
    if node is None:
        return
    tid = table_id(node, dialect)
    if tid is None:
        return
    if temp or is_temp_name(tid):
        facts.temp_targets.append(tid)
    else:
        facts.targets.append(tid)


def analyze(
    stmt: exp.Expr,
    dialect: str,
    tables: Sequence[exp.Table] | None = None,
    has_with: bool | None = None,
) -> Facts:
    """What one parsed statement reads and writes. ``tables`` (every Table node, breadth-first)
    and ``has_with`` (a WITH anywhere) are found here unless the parse already did."""
    facts = Facts(kind_of(stmt))
    if isinstance(stmt, (_NO_LINEAGE, exp.Command)):
        return facts
    skip: set[int] = set()  # Table nodes that are not read

    def written(node: exp.Table | None, temp: bool = False) -> None:
        if node is not None:
            skip.add(id(node))
            _add_target(facts, node, dialect, temp)

    if isinstance(stmt, exp.Create):
        kind = str(stmt.args.get("kind") or "").upper()
        props = stmt.args.get("properties")
        temp = bool(
            props
            and any(
                isinstance(p, (exp.TemporaryProperty, exp.VolatileProperty))
                for p in props.expressions
            )
        )
        if kind == "FUNCTION" and temp:
            # A script's temporary SQL function runs inside that script: its body's reads count.
            # (A persistent function reads when it is called, not when it is created.)
            skip.update(id(t) for t in stmt.this.find_all(exp.Table))
        elif not kind.endswith(_WRITTEN_KINDS):
            return facts  # functions, procedures, indexes, schemas: not lineage
        facts.creates_view = "VIEW" in kind
        if kind != "FUNCTION":
            written(_real_table(stmt.this), temp)
    elif isinstance(stmt, exp.Insert):
        this = stmt.this
        if isinstance(this, exp.Directory):
            path = _path_of(this.this)
            if path:
                facts.targets.append(path)
        else:
            written(_real_table(this))
    elif isinstance(stmt, (exp.Update, exp.Delete, exp.Merge)):
        relations = _relations(stmt)
        heads: list[exp.Expr] = [stmt.this, *(stmt.args.get("tables") or [])]
        for head in heads:
            node = _real_table(head)
            if node is None:
                continue
            skip.add(id(node))
            real = _resolve_alias(node, relations)
            skip.add(id(real))
            written(_dml_name(real))
    elif isinstance(stmt, exp.TruncateTable):
        for node in stmt.expressions:
            written(_real_table(node))
    elif isinstance(stmt, exp.Query) and _select_into(stmt) is not None:
        into = _select_into(stmt)
        assert into is not None
        written(_real_table(into.this), bool(into.args.get("temporary")))
    elif isinstance(stmt, exp.Copy):
        node = _real_table(stmt.this)
        files = [p for p in map(_path_of, stmt.args.get("files") or []) if p]
        for f in stmt.args.get("files") or []:
            skip.update(id(t) for t in f.find_all(exp.Table) if _path_of(t))
        if stmt.args.get("kind"):  # COPY t FROM location
            written(node)
            facts.sources.extend(files)
        else:  # COPY t TO location
            facts.targets.extend(files)
    elif isinstance(stmt, exp.LoadData):
        written(_real_table(stmt.this), bool(stmt.args.get("temp")))
        for holder in (stmt.args.get("inpath"), stmt.args.get("files")):
            facts.sources.extend(_locations(holder))
    elif isinstance(stmt, exp.Export):
        connection = stmt.args.get("connection")  # EXPORT DATA WITH CONNECTION `p.us.c`: not data
        if isinstance(connection, exp.Expr):
            skip.update(id(t) for t in connection.find_all(exp.Table))
    elif isinstance(stmt, exp.Cache):
        node = _real_table(stmt.this)
        if node is not None:
            skip.add(id(node))
            tid = table_id(node, dialect)
            if tid is not None:
                facts.temp_hidden.append(tid)

    if tables is None:
        tables = list(stmt.find_all(exp.Table))
    if has_with is None:
        has_with = stmt.find(exp.With) is not None
    refs = {id(table) for table in tables if _lexical_cte(table)} if has_with else set()
    for node in tables:
        if id(node) in skip or id(node) in refs or isinstance(node.parent, _NOT_READ_PARENTS):
            continue
        tid = table_id(node, dialect)
        if tid is not None:
            facts.sources.append(tid)
    return facts
