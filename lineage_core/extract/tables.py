"""``table_lineage``: SQL text → tables read and written, per statement and per script."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlglot import exp
from sqlglot.errors import ParseError, SqlglotError
from sqlglot.tokenizer_core import Token

from lineage_core.errors import LineageError
from lineage_core.extract import fallback
from lineage_core.extract.model import ExtractIssue, StatementLineage, TableLineage
from lineage_core.extract.names import dialect_of, is_temp_name, key
from lineage_core.extract.parsing import Parsed, parse_sql, parse_tokens
from lineage_core.extract.split import (
    STATEMENT_WORDS,
    Chunk,
    Segment,
    command_types,
    segments,
    split,
    word,
)
from lineage_core.extract.statements import Facts, analyze
from lineage_core.models import TableId
from lineage_core.templating import has_template_syntax, render_sql

MAX_PAREN_DEPTH = 120  # deeper statements are read from tokens (the parser would recurse)
MAX_BODY_DEPTH = 3  # procedure bodies inside string literals, nested
MAX_RESPLITS = 200  # statements recovered from one chunk without separators


# Statements sqlglot may keep as an opaque ``Command`` although they carry lineage.
COMMAND_WITH_LINEAGE = frozenset(
    "command:" + word
    for word in (
        "unload", "insert", "update", "delete", "merge", "create", "with", "select",
        "replace", "copy", "load", "upsert", "export",
    )
)


_NORMALLY_PARSED = frozenset(
    "command:" + word for word in ("insert", "update", "delete", "merge", "create", "with", "select", "replace")
)


class _QuietCommandFallback(logging.Filter):
    """sqlglot warns once per unsupported statement; the extractor handles those itself."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "Falling back to parsing as a 'Command'" not in record.getMessage()


logging.getLogger("sqlglot").addFilter(_QuietCommandFallback())


class UnknownDialectError(LineageError):
    """The SQL dialect name is not one sqlglot knows."""


@dataclass
class _Stmt:
    facts: Facts
    line_start: int
    line_end: int


class _Run:
    def __init__(self, dialect: str) -> None:
        self.dialect = dialect
        self.stmts: list[_Stmt] = []
        self.issues: list[ExtractIssue] = []
        self.resplits = 0
        self.asts: list[exp.Expr] = []  # parsed statements, in order (for column lineage)

    # -- driving ---------------------------------------------------------------------------
    def text(self, text: str, line_offset: int, depth: int) -> None:
        segs, errors = segments(text, self.dialect)
        for line, message in errors:
            self.issues.append(ExtractIssue("parse", line + line_offset, message))
        for seg in segs:
            seg.line_offset += line_offset
            for chunk in split(seg.tokens):
                self.chunk(seg, chunk, depth)

    def chunk(self, seg: Segment, chunk: Chunk, depth: int) -> None:
        toks = seg.tokens
        first, last = toks[chunk.start], toks[chunk.end - 1]
        line_start = first.line + seg.line_offset
        line_end = last.line + seg.line_offset
        if chunk.kind == "unresolved":
            self.issues.append(
                ExtractIssue("unresolved", line_start, f"{chunk.message}: {_snippet(seg, chunk)}")
            )
            return
        if chunk.kind == "body":
            if depth < MAX_BODY_DEPTH:
                self.text(first.text, line_start - 1, depth + 1)
            return
        body = seg.text[first.start : last.end + 1]
        lead = word(first)
        if chunk.kind == "stmt" and lead in _FLOW_CONTROL:
            # `RAISE USING MESSAGE = …`, `LEAVE`, `CONTINUE`…: flow control reads no table,
            # unless a subquery computes its message; sqlglot does not parse these.
            self._flow_control(seg, chunk, lead, line_start, line_end)
            return
        try:
            if chunk.kind == "expr":
                condition = parse_sql(self.dialect, "SELECT " + body)
                if not condition:
                    return
                facts = _facts(condition[0], self.dialect)
                facts.kind = "condition"
            elif chunk.kind == "query" or first.token_type in command_types(self.dialect):
                facts = self.parsed(parse_sql(self.dialect, body))
            elif body.count("(") > MAX_PAREN_DEPTH and _too_deep(toks, chunk):  # fewer "(" cannot nest deeper
                self.fallback(seg, chunk, "statement nested too deeply to parse", line_start)
                return
            else:
                facts = self.parsed(
                    parse_tokens(self.dialect, toks[chunk.start : chunk.end], seg.text)
                )
            if facts.kind in COMMAND_WITH_LINEAGE:
                # sqlglot kept this statement as an opaque command: read it from tokens
                if facts.kind in _NORMALLY_PARSED:
                    # sqlglot parses these kinds; a fallback means unsupported syntax or a typo
                    self.issues.append(
                        ExtractIssue(
                            "unresolved",
                            line_start,
                            f"statement not fully understood (unsupported syntax or a typo); "
                            f"tables read from its tokens: {_snippet(seg, chunk)}",
                        )
                    )
                facts = fallback.extract(toks[chunk.start : chunk.end], self.dialect)
        except ParseError as exc:
            facts_or_none = self.reparse_table_arguments(body)
            if facts_or_none is not None:
                self.stmts.append(_Stmt(facts_or_none, line_start, line_end))
                return
            if not self.resplit(seg, chunk, exc, depth):
                self.fallback(seg, chunk, _message(exc), _line(exc, line_start, chunk, seg))
            return
        except (SqlglotError, RecursionError, ValueError, TypeError, KeyError) as exc:
            self.fallback(seg, chunk, f"{type(exc).__name__}: {exc}", line_start)
            return
        self.stmts.append(_Stmt(facts, line_start, line_end))

    def _flow_control(self, seg: Segment, chunk: Chunk, lead: str, line_start: int, line_end: int) -> None:
        toks = seg.tokens
        facts = Facts(lead.lower())
        selects = [k for k in range(chunk.start, chunk.end) if word(toks[k]) == "SELECT"]
        if selects:
            equals = next((k for k in range(chunk.start, chunk.end) if toks[k].text == "="), None)
            start = equals + 1 if equals is not None else selects[0]
            body = seg.text[toks[start].start : toks[chunk.end - 1].end + 1]
            try:
                message = parse_sql(self.dialect, "SELECT " + body)
                if message:
                    facts = _facts(message[0], self.dialect)
                    facts.kind = lead.lower()
            except (SqlglotError, RecursionError, ValueError) as exc:
                self.fallback(seg, chunk, _message(exc) if isinstance(exc, ParseError) else str(exc), line_start)
                return
        self.stmts.append(_Stmt(facts, line_start, line_end))

    def parsed(self, found: list[Parsed]) -> Facts:
        self.asts.extend(p.tree for p in found)
        if not found:
            return Facts("empty")
        facts = _facts(found[0], self.dialect)
        for extra in found[1:]:
            more = _facts(extra, self.dialect)
            facts.sources += more.sources
            facts.targets += more.targets
            facts.temp_targets += more.temp_targets
            facts.temp_hidden += more.temp_hidden
        return facts

    def reparse_table_arguments(self, body: str) -> Facts | None:
        """BigQuery table functions sqlglot does not know (``ML.EVALUATE(MODEL m, TABLE t)``,
        ``APPENDS(TABLE t, …)``): read each ``MODEL x`` / ``TABLE x`` argument as a subquery."""
        if self.dialect != "bigquery":
            return None
        rewritten, count = _TABLE_ARGUMENT.subn(r"\g<lead>(SELECT * FROM \g<name>)", body)
        if not count:
            return None
        try:
            return self.parsed(parse_sql(self.dialect, rewritten))
        except (SqlglotError, RecursionError, ValueError, TypeError, KeyError):
            return None

    def resplit(self, seg: Segment, chunk: Chunk, exc: ParseError, depth: int) -> bool:
        """A parse error on a statement keyword: a new statement began without a ';'."""
        if not exc.errors or self.resplits >= MAX_RESPLITS:
            return False
        line, col = exc.errors[0].get("line"), exc.errors[0].get("col")
        toks = seg.tokens
        for k in range(chunk.start + 1, chunk.end):
            tok = toks[k]
            if tok.line == line and tok.col == col:
                if word(tok) not in STATEMENT_WORDS:
                    return False
                self.resplits += 1
                for part in split(toks, chunk.start, k) + split(toks, k, chunk.end):
                    self.chunk(seg, part, depth)
                return True
        return False

    def fallback(self, seg: Segment, chunk: Chunk, message: str, line: int) -> None:
        toks = seg.tokens[chunk.start : chunk.end]
        facts = fallback.extract(toks, self.dialect)
        self.issues.append(ExtractIssue("parse", line, message))
        first, last = toks[0], toks[-1]
        self.stmts.append(
            _Stmt(facts, first.line + seg.line_offset, last.line + seg.line_offset)
        )


_TABLE_ARGUMENT = re.compile(
    r"(?P<lead>[(,]\s*)(?:MODEL|TABLE)\s+(?P<name>(?:`[^`]+`|[\w-]+)(?:\s*\.\s*(?:`[^`]+`|[\w-]+))*)",
    re.IGNORECASE,
)
_FLOW_CONTROL = frozenset({"RAISE", "LEAVE", "BREAK", "CONTINUE", "ITERATE"})


def _facts(parsed: Parsed, dialect: str) -> Facts:
    return analyze(parsed.tree, dialect, parsed.tables, parsed.has_with)


def _too_deep(toks: list[Token], chunk: Chunk) -> bool:
    depth = 0
    for tok in toks[chunk.start : chunk.end]:
        text = tok.text
        if text == "(":
            depth += 1
            if depth > MAX_PAREN_DEPTH:
                return True
        elif text == ")":
            depth -= 1
    return False


def _snippet(seg: Segment, chunk: Chunk) -> str:
    toks = seg.tokens
    text = seg.text[toks[chunk.start].start : toks[chunk.end - 1].end + 1]
    text = " ".join(text.split())
    return text if len(text) <= 80 else text[:77] + "..."


def _message(exc: ParseError) -> str:
    if exc.errors:
        return str(exc.errors[0].get("description") or exc).splitlines()[0]
    return str(exc).splitlines()[0] if str(exc) else "parse error"


def _line(exc: ParseError, default: int, chunk: Chunk, seg: Segment) -> int:
    if exc.errors:
        line = exc.errors[0].get("line")
        if isinstance(line, int) and chunk.kind == "stmt":
            return line + seg.line_offset
    return default


def _unique(items: list[TableId]) -> tuple[TableId, ...]:
    return tuple(sorted(set(items)))


def _assemble(run: _Run) -> TableLineage:
    temps: dict[tuple[str, ...], set[TableId]] = {}
    written: set[TableId] = set()
    sources: list[TableId] = []
    targets: list[TableId] = []
    views: list[TableId] = []
    edges: set[tuple[TableId, TableId]] = set()
    statements: list[StatementLineage] = []
    for index, stmt in enumerate(run.stmts):
        facts = stmt.facts
        flowing: set[TableId] = set()
        for src in facts.sources:
            temp = temps.get(key(src))
            if temp is not None:
                flowing |= temp
            elif not is_temp_name(src):
                flowing.add(src)
                if src not in written:
                    sources.append(src)
        persistent: list[TableId] = []
        for tgt in facts.targets:
            if key(tgt) in temps:
                temps[key(tgt)] |= flowing
            else:
                persistent.append(tgt)
        for tgt in facts.temp_targets + facts.temp_hidden:
            temps.setdefault(key(tgt), set()).update(flowing)
        written.update(persistent)
        targets.extend(persistent)
        if facts.creates_view:
            views.extend(persistent)
        edges.update((s, t) for s in flowing for t in persistent)
        statements.append(
            StatementLineage(
                index=index,
                line_start=stmt.line_start,
                line_end=stmt.line_end,
                kind=facts.kind,
                sources=_unique(list(flowing)),
                targets=_unique(persistent),
                creates_view=facts.creates_view,
            )
        )
    return TableLineage(
        sources=_unique(sources),
        targets=_unique(targets),
        edges=tuple(sorted(edges)),
        statements=tuple(statements),
        issues=tuple(run.issues),
        views=_unique(views),
    )


def parse_script(sql: str, dialect: str) -> _Run:
    """Split and parse ``sql`` (never raises on bad SQL); the run keeps the parsed trees."""
    dialect = dialect or ""
    try:
        dialect_of(dialect)
    except (ValueError, KeyError) as exc:
        raise UnknownDialectError(f"unknown SQL dialect: {dialect!r}") from exc
    run = _Run(dialect)
    try:
        run.text(sql, 0, 0)
    except RecursionError:
        run.issues.append(ExtractIssue("parse", None, "SQL nested too deeply to analyse"))
    except LineageError:
        raise
    except Exception as exc:  # never let one file's SQL break a build
        run.issues.append(ExtractIssue("parse", None, f"{type(exc).__name__}: {exc}"))
    return run


def table_lineage(
    sql: str, dialect: str = "bigquery", vars: Mapping[str, Any] | None = None
) -> TableLineage:
    """Tables read (``sources``) and written (``targets``) by a SQL script.

    Never raises on bad SQL: statements that do not parse become issues (and are read
    leniently from their tokens); only :class:`LineageError` subclasses escape. A template
    is rendered first (Jinja, sandboxed, strict) with ``vars`` over Airflow's context.
    """
    if vars is not None or has_template_syntax(sql):
        sql = render_sql(sql, vars)
    return rendered_lineage(sql, dialect)


def rendered_lineage(sql: str, dialect: str = "bigquery") -> TableLineage:
    """``table_lineage`` of SQL that is already rendered (or is no template): never renders,
    so `{{` in a string literal or a BI tool's `{{ parameter }}` stays text."""
    return _assemble(parse_script(sql, dialect))
