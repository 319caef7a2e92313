"""Tokenize a SQL script once and cut it into statements.

Scripts are flattened structurally at the token level: the control flow of BigQuery
scripting, T-SQL and PL/SQL (``BEGIN … END``, ``IF … THEN``, ``WHILE … DO``, ``LOOP``,
``FOR x IN (query) DO``, ``EXCEPTION WHEN …``) and procedure headers are dropped, their
conditions become expressions to read, and every statement of a body is lineage of its own.
sqlglot's tokenizer swallows the rest of a statement after a "command" keyword such as
BigQuery's ``BEGIN``; the splitter uses a tokenizer without that behaviour.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from sqlglot.errors import TokenError
from sqlglot.tokenizer_core import Token, TokenType
from sqlglot.tokens import Tokenizer

from lineage_core.extract.names import dialect_of, per_thread

QUOTED = frozenset(
    {
        TokenType.STRING,
        TokenType.IDENTIFIER,
        TokenType.NATIONAL_STRING,
        TokenType.RAW_STRING,
        TokenType.BYTE_STRING,
        TokenType.HEREDOC_STRING,
        TokenType.UNICODE_STRING,
        TokenType.NATIONAL_RAW_STRING,
        TokenType.BIT_STRING,
        TokenType.HEX_STRING,
    }
)
STRINGS = QUOTED - {TokenType.IDENTIFIER}

# Words that can only begin a statement (a parse error on one of them means a new
# statement started without a separator, as T-SQL allows).
STATEMENT_WORDS = frozenset(
    {
        "SELECT", "INSERT", "UPDATE", "DELETE", "MERGE", "CREATE", "WITH", "DROP", "ALTER",
        "TRUNCATE", "DECLARE", "SET", "EXEC", "EXECUTE", "BEGIN", "END", "IF", "ELSE",
        "PRINT", "RETURN", "USE", "GRANT", "COPY", "CALL", "WHILE", "RAISERROR", "THROW",
        "ELSEIF", "ELSIF", "LOOP", "REPEAT", "UNTIL", "FOR", "COMMIT", "ROLLBACK", "GO",
        "OPEN", "CLOSE", "FETCH", "DEALLOCATE", "REPLACE", "UPSERT", "LOAD", "EXPORT",
        "ASSERT", "RAISE", "LEAVE", "BREAK", "CONTINUE", "ITERATE", "TRY", "CATCH",
    }
)
# At depth 0 these end an IF/WHILE condition that has no THEN/DO (T-SQL).
_COND_STOP = STATEMENT_WORDS - {"SELECT", "WITH", "SET", "END", "REPLACE", "IF", "FOR"}
_END_FOLLOWERS = frozenset({"IF", "LOOP", "WHILE", "FOR", "REPEAT", "CASE", "TRY", "CATCH"})
_TRANSACTION = frozenset({"TRANSACTION", "TRAN", "WORK", "DISTRIBUTED"})
_PROC_WORDS = frozenset({"PROCEDURE", "PROC"})


@dataclass
class Chunk:
    """A span of tokens [start, end) and how to read it."""

    kind: str  # "stmt" | "expr" | "query" | "body" | "unresolved"
    start: int
    end: int
    message: str = ""


@dataclass
class Segment:
    """A piece of the input text with its own tokens (normally the whole text)."""

    text: str
    line_offset: int
    tokens: list[Token] = field(default_factory=list)


@lru_cache(maxsize=64)
def _tokenizer_class(dialect: str) -> type[Tokenizer]:
    base: Any = dialect_of(dialect).tokenizer_class
    cls: type[Tokenizer] = type("ScriptTokenizer", (base,), {"COMMANDS": set()})
    return cls


@lru_cache(maxsize=64)
def command_types(dialect: str) -> frozenset[TokenType]:
    return frozenset(dialect_of(dialect).tokenizer_class.COMMANDS)


def _tokenizer(dialect: str) -> Tokenizer:
    return per_thread("tokenizer", dialect, lambda: _tokenizer_class(dialect)(dialect=dialect_of(dialect)))


def tokenize(text: str, dialect: str) -> list[Token]:
    return list(_tokenizer(dialect).tokenize(text))


_PIECE = re.compile(r";[ \t]*(?:--[^\n]*)?\n")


def segments(text: str, dialect: str) -> tuple[list[Segment], list[tuple[int, str]]]:
    """Tokenize ``text``; if that fails (say, an unterminated string), tokenize it piece by
    piece (cut at line-ending semicolons) so one broken statement does not lose the rest."""
    try:
        return [Segment(text, 0, tokenize(text, dialect))], []
    except TokenError:
        pass
    segs: list[Segment] = []
    errors: list[tuple[int, str]] = []
    pos = 0
    line = 0
    pieces = [*(m.end() for m in _PIECE.finditer(text)), len(text)]
    for end in pieces:
        piece = text[pos:end]
        try:
            segs.append(Segment(piece, line, tokenize(piece, dialect)))
        except TokenError as exc:
            errors.append((line + 1 + _leading_blank_lines(piece), f"cannot tokenize: {exc}"))
        line += piece.count("\n")
        pos = end
    return segs, errors


def _leading_blank_lines(piece: str) -> int:
    return len(piece) - len(piece.lstrip("\n")) if piece.strip() else 0


def word(token: Token) -> str:
    return "" if token.token_type in QUOTED else token.text.upper()


def _find_at_depth0(tokens: list[Token], i: int, hi: int, stops: frozenset[str]) -> int:
    depth = 0
    while i < hi:
        tt = tokens[i].token_type
        if tt == TokenType.SEMICOLON:
            return i
        if tt in (TokenType.L_PAREN, TokenType.L_BRACKET):
            depth += 1
        elif tt in (TokenType.R_PAREN, TokenType.R_BRACKET):
            depth = max(depth - 1, 0)
        elif depth == 0 and word(tokens[i]) in stops:
            return i
        i += 1
    return hi


def _alone_on_line(tokens: list[Token], i: int) -> bool:
    line = tokens[i].line
    before = i == 0 or tokens[i - 1].line < line
    after = i + 1 >= len(tokens) or tokens[i + 1].line > line
    return before and after


def split(tokens: list[Token], lo: int = 0, hi: int | None = None) -> list[Chunk]:
    """Cut tokens[lo:hi] into chunks (see module docstring)."""
    hi = len(tokens) if hi is None else hi
    chunks: list[Chunk] = []
    start = i = lo
    depth = 0
    marks = _marks(tokens, lo, hi)

    def flush(end: int) -> None:
        if end > start:
            chunks.append(Chunk("stmt", start, end))

    while i < hi:
        tok = tokens[i]
        tt = tok.token_type
        if tt == TokenType.SEMICOLON:
            flush(i)
            start = i = i + 1
            depth = 0
            continue
        if i == start:
            w = word(tok)
            nxt = word(tokens[i + 1]) if i + 1 < hi else ""
            if w == "BEGIN" and nxt not in _TRANSACTION:
                skip = 2 if nxt in ("TRY", "CATCH") else 1
                start = i = i + skip
                continue
            if w == "END":
                skip = 1
                if nxt in _END_FOLLOWERS and tokens[i + 1].line == tok.line:
                    skip = 2
                start = i = i + skip
                continue
            if w in ("ELSE", "LOOP", "REPEAT", "DO", "EXCEPTION", "CASE", "THEN") or (
                w == "GO" and _alone_on_line(tokens, i)
            ):
                start = i = i + 1
                continue
            if w in ("IF", "ELSEIF", "ELSIF", "WHILE", "WHEN", "UNTIL"):
                stops = frozenset({"THEN", "DO", "BEGIN", "END"}) | (
                    _COND_STOP if w in ("IF", "WHILE") else frozenset()
                )
                j = _find_at_depth0(tokens, i + 1, hi, stops)
                if j > i + 1:
                    chunks.append(Chunk("expr", i + 1, j))
                start = i = j + 1 if j < hi and word(tokens[j]) in ("THEN", "DO") else j
                continue
            if w == "FOR" and nxt not in ("SYSTEM_TIME", "UPDATE"):
                j = _find_at_depth0(tokens, i + 1, hi, frozenset({"IN"}))
                k = _find_at_depth0(tokens, j + 1, hi, frozenset({"DO", "LOOP"}))
                if j + 1 < k:
                    chunks.append(Chunk("query", j + 1, k))
                start = i = k + 1 if k < hi and word(tokens[k]) in ("DO", "LOOP") else k
                continue
            if w in ("EXECUTE", "EXEC") and (
                nxt in ("IMMEDIATE", "SP_EXECUTESQL", "(", "")
                or (i + 1 < hi and tokens[i + 1].token_type in STRINGS)
            ):
                j = _find_at_depth0(tokens, i + 1, hi, frozenset())
                chunks.append(Chunk("unresolved", i, j, "dynamic SQL is not analysed"))
                start = i = j
                continue
            if w == "CREATE" and _is_procedure(tokens, i, hi):
                j = _find_at_depth0(tokens, i + 1, hi, frozenset({"BEGIN", "AS", "IS"}))
                if j < hi and word(tokens[j]) in ("AS", "IS"):
                    if j + 1 < hi and tokens[j + 1].token_type in STRINGS:
                        chunks.append(Chunk("body", j + 1, j + 2))
                        start = i = j + 2
                        continue
                    start = i = j + 1
                    continue
                start = i = j  # the BEGIN opens the body
                continue
        # Inside a statement only a ';' or a T-SQL `GO` matters: jump to the next of them
        # (most tokens of a file are here, so they are not visited one by one).
        at = bisect_right(marks, i)
        mark = marks[at] if at < len(marks) else hi
        if mark < hi and tokens[mark].token_type != TokenType.SEMICOLON:  # a `GO` candidate
            depth = _depth(tokens, i, mark, depth)
            if depth == 0 and word(tokens[mark]) == "GO" and _alone_on_line(tokens, mark):
                flush(mark)
                start = mark + 1
            i = mark + 1
            continue
        i = mark
    flush(hi)
    return chunks


def _marks(tokens: list[Token], lo: int, hi: int) -> list[int]:
    """Positions of ';' and of `GO` words in tokens[lo:hi]."""
    semicolon = TokenType.SEMICOLON
    return [
        k
        for k in range(lo, hi)
        if tokens[k].token_type == semicolon or (len(tokens[k].text) == 2 and tokens[k].text.upper() == "GO")
    ]


def _depth(tokens: list[Token], lo: int, hi: int, depth: int) -> int:
    """Bracket depth after tokens[lo:hi], starting from ``depth`` (never below zero)."""
    for k in range(lo, hi):
        tt = tokens[k].token_type
        if tt in (TokenType.L_PAREN, TokenType.L_BRACKET):
            depth += 1
        elif tt in (TokenType.R_PAREN, TokenType.R_BRACKET):
            depth = max(depth - 1, 0)
    return depth


def _is_procedure(tokens: list[Token], i: int, hi: int) -> bool:
    for j in range(i + 1, min(i + 6, hi)):
        w = word(tokens[j])
        if w in _PROC_WORDS:
            return True
        if w not in ("OR", "REPLACE", "ALTER", "TEMP", "TEMPORARY", "DEFINER", "EDITIONABLE"):
            return False
    return False
