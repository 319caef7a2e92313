"""Lenient, token-level lineage for statements sqlglot cannot parse.

It reads the relation positions of a statement (``FROM``/``JOIN``/``USING``/``INTO``/
``UPDATE``/``MERGE``/``TABLE``/``MODEL``…) from the tokens, skips CTE names, function calls
and subqueries, and resolves ``UPDATE alias … FROM t alias``. The result is best effort and
is always reported together with a parse issue.
"""

from __future__ import annotations

from sqlglot.tokenizer_core import Token, TokenType

from lineage_core.extract.names import is_temp_name, normalize_part
from lineage_core.extract.split import QUOTED, STRINGS, word
from lineage_core.extract.statements import Facts
from lineage_core.models import TableId

_NO_LINEAGE = frozenset(
    {
        "DROP", "ALTER", "GRANT", "REVOKE", "USE", "SHOW", "DESC", "DESCRIBE", "ANALYZE",
        "REFRESH", "UNCACHE", "ADD", "RENAME", "COMMENT", "MSCK", "VACUUM", "OPTIMIZE",
        "COMMIT", "ROLLBACK", "PRINT", "RETURN", "CALL", "LIST", "REMOVE", "PUT", "GET",
        "DEALLOCATE", "OPEN", "CLOSE", "FETCH", "RAISERROR", "THROW", "KILL", "GO",
    }
)
_READ_AFTER = frozenset({"FROM", "JOIN", "USING", "LIKE", "CLONE", "TABLE", "MODEL", "APPLY"})
_NOT_NAMES = frozenset(
    {
        "SELECT", "WHERE", "ON", "SET", "VALUES", "VALUE", "AS", "WITH", "GROUP", "ORDER",
        "LIMIT", "UNNEST", "LATERAL", "LEFT", "RIGHT", "INNER", "OUTER", "FULL", "CROSS",
        "JOIN", "UNION", "EXCEPT", "INTERSECT", "WHEN", "THEN", "IF", "NOT", "EXISTS",
        "OVERWRITE", "INTO", "TABLE", "FROM", "DIRECTORY", "LOCAL", "ONLY", "DATA",
    }
)
_CREATE_MODIFIERS = frozenset(
    {
        "OR", "REPLACE", "TEMP", "TEMPORARY", "VOLATILE", "TRANSIENT", "EXTERNAL", "GLOBAL",
        "LOCAL", "MATERIALIZED", "SECURE", "RECURSIVE", "UNLOGGED", "MULTISET", "SET",
        "SNAPSHOT", "DYNAMIC", "STREAMING", "LIVE", "ICEBERG",
    }
)
_TEMP_WORDS = frozenset({"TEMP", "TEMPORARY", "VOLATILE"})
_NAME_TYPES = frozenset({TokenType.VAR, TokenType.IDENTIFIER})


class _Reader:
    def __init__(self, tokens: list[Token], dialect: str) -> None:
        self.toks = tokens
        self.words = [word(t) for t in tokens]
        self.dialect = dialect

    def is_name_token(self, i: int) -> bool:
        if i >= len(self.toks):
            return False
        tok = self.toks[i]
        if tok.token_type in _NAME_TYPES:
            return True
        if tok.token_type in QUOTED:
            return False
        text = tok.text
        return text[:1].isalpha() or text[:1] in "_#"

    def backquoted(self, i: int) -> bool:
        """A `name` the dialect's tokenizer did not know (backquotes as UNKNOWN tokens)."""
        return (
            i + 2 < len(self.toks)
            and self.toks[i].text == "`"
            and self.toks[i + 2].text == "`"
            and self.is_name_token(i + 1)
        )

    def name_at(self, i: int) -> tuple[TableId | None, int]:
        """Read a dotted name at i; returns (name, index after it)."""
        if self.backquoted(i):
            pass
        elif not self.is_name_token(i) or self.words[i] in _NOT_NAMES:
            return None, i
        parts: list[str] = []
        while True:
            backquoted = self.backquoted(i)
            i += 1 if backquoted else 0
            tok = self.toks[i]
            quoted = backquoted or tok.token_type == TokenType.IDENTIFIER
            part = normalize_part(tok.text, quoted, self.dialect)
            if self.dialect == "bigquery" and tok.token_type == TokenType.IDENTIFIER:
                parts.extend(p for p in part.split(".") if p)
            else:
                parts.append(part)
            i += 2 if backquoted else 1
            if (
                i + 1 < len(self.toks)
                and self.toks[i].token_type == TokenType.DOT
                and (self.is_name_token(i + 1) or self.backquoted(i + 1))
            ):
                i += 1
                continue
            return TableId.of(*parts), i

    def alias_at(self, i: int) -> tuple[str | None, int]:
        if i < len(self.toks) and self.words[i] == "AS":
            i += 1
        if self.is_name_token(i) and self.words[i] not in _NOT_NAMES | _STOP_ALIAS:
            return self.toks[i].text.lower(), i + 1
        return None, i


_STOP_ALIAS = frozenset(
    {"WHERE", "ON", "SET", "USING", "GROUP", "ORDER", "HAVING", "QUALIFY", "WINDOW", "FOR"}
)


def _cte_names(r: _Reader) -> set[str]:
    names: set[str] = set()
    n = len(r.toks)
    for i in range(n - 1):
        if r.words[i] not in ("WITH", "RECURSIVE", ","):
            continue
        name, j = r.name_at(i + 1)
        if name is None or len(name.parts) != 1:
            continue
        if j < n and r.toks[j].token_type == TokenType.L_PAREN and r.words[i] != ",":
            pass  # WITH name (SELECT …) (Spark) or WITH name (cols) AS (…)
        elif not (j + 1 < n and r.words[j] == "AS" and r.toks[j + 1].token_type == TokenType.L_PAREN):
            continue
        names.add(name.parts[0].lower())
    return names


def _target_after(r: _Reader, i: int, facts: Facts, temp: bool = False) -> int:
    n = len(r.toks)
    while i < n and r.words[i] in ("INTO", "OVERWRITE", "TABLE", "FROM", "ONLY", "IF", "NOT", "EXISTS"):
        i += 1
    if i < n and r.words[i] in ("DIRECTORY", "LOCAL"):
        while i < n and r.toks[i].token_type not in STRINGS:
            i += 1
        if i < n:
            facts.targets.append(TableId.of(r.toks[i].text))
        return i + 1
    name, j = r.name_at(i)
    if name is not None:
        (facts.temp_targets if temp or is_temp_name(name) else facts.targets).append(name)
    return j


def extract(tokens: list[Token], dialect: str) -> Facts:
    """Best-effort facts for one statement's tokens."""
    r = _Reader(tokens, dialect)
    n = len(tokens)
    if n == 0:
        return Facts("empty")
    head = r.words[0]
    facts = Facts(head.lower() or "statement")
    if head in _NO_LINEAGE:
        return facts
    ctes = _cte_names(r)
    aliases: dict[str, TableId] = {}
    dml_target: TableId | None = None
    i = 0
    depth = 0
    in_from = False
    while i < n:
        w = r.words[i]
        tt = tokens[i].token_type
        if tt == TokenType.L_PAREN:
            depth += 1
        elif tt == TokenType.R_PAREN:
            depth -= 1
            in_from = False
        if w in ("INSERT", "UPSERT") or (w == "REPLACE" and i == 0):
            i = _target_after(r, i + 1, facts)
            continue
        if w in ("UPDATE", "MERGE", "TRUNCATE", "DELETE") and i == 0:
            before = len(facts.targets)
            i = _target_after(r, i + 1, facts)
            if len(facts.targets) > before:
                dml_target = facts.targets[-1]
            continue
        if w == "CREATE" and i == 0:
            j = 1
            temp = False
            while j < n and r.words[j] in _CREATE_MODIFIERS:
                temp = temp or r.words[j] in _TEMP_WORDS
                j += 1
            if j < n and r.words[j] in ("TABLE", "VIEW"):
                facts.creates_view = r.words[j] == "VIEW"
                i = _target_after(r, j + 1, facts, temp)
                continue
            return facts  # CREATE FUNCTION / INDEX / …: not lineage
        if w == "INTO" and head in ("SELECT", "COPY", "WITH", "LOAD"):
            i = _target_after(r, i + 1, facts)
            continue
        if w == "TO" and head == "UNLOAD":
            if i + 1 < n and tokens[i + 1].token_type in STRINGS:
                facts.targets.append(TableId.of(tokens[i + 1].text))
            i += 2
            continue
        if w in _READ_AFTER or (w == "," and in_from):
            in_from = w in ("FROM", "JOIN", ",") or (w == "USING" and head == "MERGE")
            j = i + 1
            while j < n and r.words[j] in ("ONLY", "LATERAL"):
                j += 1
            if j < n and tokens[j].token_type in STRINGS and w == "FROM":
                facts.sources.append(TableId.of(tokens[j].text))
                i = j + 1
                continue
            name, k = r.name_at(j)
            if name is None:
                i = j
                continue
            if k < n and tokens[k].token_type == TokenType.L_PAREN and not _is_hint(r, k):
                i = k  # a function call (table-valued function, UNNEST, ML.PREDICT …)
                continue
            alias, after = r.alias_at(k)
            if len(name.parts) == 1 and name.parts[0].lower() in ctes:
                pass
            else:
                facts.sources.append(name)
                if alias:
                    aliases[alias] = name
            i = after
            continue
        i += 1
    if dml_target is not None and len(dml_target.parts) == 1:
        real = aliases.get(dml_target.parts[0].lower())
        if real is not None:
            facts.targets = [real if t == dml_target else t for t in facts.targets]
            facts.sources = [s for s in facts.sources if s != real]
            dml_target = real
    return facts


def _is_hint(r: _Reader, k: int) -> bool:
    """T-SQL ``t (NOLOCK)`` / ``t WITH (…)``: a table hint, not a function call."""
    return k + 1 < len(r.toks) and r.words[k + 1] in ("NOLOCK", "READUNCOMMITTED", "UPDLOCK", "HOLDLOCK", "ROWLOCK", "TABLOCK", "NOWAIT")
