"""Streamlit / Python app repositories: the SQL an app sends to BigQuery, found with ``ast``.

What counts as SQL sent to the warehouse (a *sink*):

* ``client.query(sql)`` / ``client.query_and_wait(sql)`` on a BigQuery client
  (``bigquery.Client().query``), ``st.connection(...).query(sql)``, ``conn.query(sql)``;
* ``pandas.read_gbq(sql)`` / ``pd.read_gbq`` / ``pandas_gbq.read_gbq``, ``pd.read_sql[_query](sql, …)``;
* any function of the app whose parameter flows straight into one of those (a wrapper such as
  ``@st.cache_data def load(sql): return conn.query(sql)``): its callers are sinks too.

The SQL argument may be a string literal, a concatenation, ``"…".format()``, ``"…" % x``, an
f-string, a variable assigned one of those (module or function scope, last assignment wins),
or the text of a ``.sql`` file read with ``open("x.sql").read()`` / ``Path("x.sql").read_text()``
(paths relative to the file, the app or the repository, or built from ``__file__``). Parts that
cannot be resolved become identifier placeholders: the SQL is still parsed, the query is marked
``partial`` and an ``unresolved`` error with file:line says what was missing.

``.query`` on an object that is not known to be a client (``df.query("a > 1")`` is pandas) counts
only when the text looks like SQL.

Apps: each top-level ``.py`` file that imports streamlit is an app (named after the file); each
directory holding a Streamlit entry (a file importing streamlit outside ``pages/``) is an app,
named after the directory, and owns every file below it. With exactly one top-level app, the
top-level directories that are not apps themselves (``pages/``, ``lib/``) belong to it.
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import msgspec

from lineage_core.config import Settings, SourceSettings
from lineage_core.discovery.consumers._common import Builder, Collected, local_root, placeholder, read_sql
from lineage_core.discovery.walk import walk_matching
from lineage_core.models import ErrorRecord

SKIP_DIRS = frozenset({".git", ".hg", ".venv", "venv", "env", "node_modules", "__pycache__", "site-packages", ".tox"})


class AppSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    owners: tuple[str, ...] = ()
    url: str | None = None
    labels: dict[str, str] = {}
    description: str | None = None


class PythonAppsOptions(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    include: tuple[str, ...] = ("**/*.py",)
    exclude: tuple[str, ...] = ()
    # "https://{name}-xyz.a.run.app": {name} is the app's name (hyphenated, as Cloud Run names it)
    app_url_template: str | None = None
    owners: tuple[str, ...] = ()  # owners of every app of this source
    apps: dict[str, AppSettings] = {}  # per app name: owners, url, labels, description
    default_project: str | None = None  # for names written as dataset.table (default: the config's)
    # "opened": .sql files the code reads; "all": also every other .sql file inside an app
    sql_files: Literal["opened", "all"] = "opened"
    max_file_bytes: int = 2 * 1024 * 1024


# ---------------------------------------------------------------------------------------------
# values the scanner tracks


@dataclass(frozen=True)
class Text:
    """A SQL text (with placeholders where a part is unknown)."""

    text: str
    holes: tuple[str, ...] = ()  # source of each unresolved part, e.g. "region"
    sql_file: str | None = None  # the .sql file it came from (relative to the source root)
    problem: str | None = None  # why the file could not be read


@dataclass(frozen=True)
class PathValue:
    path: str  # absolute, or relative (resolved against the file, the app, the root)


@dataclass(frozen=True)
class Client:
    """A name bound to a warehouse client or connection."""


Value = Text | PathValue | Client


@dataclass
class Found:
    line: int
    end_line: int
    col: int
    call: str
    text: Text | None
    unresolved: str | None = None  # the argument's source when it could not be resolved at all


@dataclass
class FileScan:
    found: list[Found] = field(default_factory=list)
    read_sql_files: set[str] = field(default_factory=set)


_SQL_START = re.compile(
    r"^\s*(?:(?:--|#)[^\n]*\n\s*|/\*.*?\*/\s*)*\(?\s*(?:select|with|insert|update|delete|merge|create|declare|"
    r"call|begin|replace|truncate|from)\b",
    re.IGNORECASE | re.DOTALL,
)
_CLIENT_NAME = re.compile(r"^(?:.*client|bq|db|con|conn|.*_conn|connection|.*_connection|session|engine|cnx)$", re.I)
_CLIENT_FACTORIES = frozenset({"Client", "connection", "connect", "create_engine", "experimental_connection"})
_FORMAT_FIELD = re.compile(r"\{([^{}]*)\}")
_PERCENT_FIELD = re.compile(r"%(?:\((\w+)\))?[sdifr]")


def looks_like_sql(text: str) -> bool:
    return bool(_SQL_START.match(text))


def dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{dotted(node.value)}.{node.attr}"
    if isinstance(node, ast.Call):
        return f"{dotted(node.func)}()"
    return "…"


# module-level calls that do not draw anything: a helper module may make them
_NOT_DRAWING = frozenset(
    {
        "connection",
        "experimental_connection",
        "cache_data",
        "cache_resource",
        "cache",
        "secrets",
        "session_state",
        "connections",
    }
)
ENTRY_NAMES = frozenset({"app.py", "main.py", "streamlit_app.py", "home.py", "dashboard.py"})


def _imports_streamlit(tree: ast.Module) -> bool:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(a.name.split(".")[0] == "streamlit" for a in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "streamlit":
            return True
    return False


def is_streamlit_entry(rel: str, tree: ast.Module) -> bool:
    """Imports streamlit and draws something when run (module-level ``st.…`` calls), or is named like
    an entry (``app.py``, ``streamlit_app.py``…); helper modules that only define functions are not."""
    if not _imports_streamlit(tree):
        return False
    if rel.rsplit("/", 1)[-1].lower() in ENTRY_NAMES:
        return True
    for statement in tree.body:
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Import | ast.ImportFrom):
            continue
        for node in _walk_in_order(statement):
            if isinstance(node, ast.Call):
                parts = dotted(node.func).split(".")
                if parts[0] in ("st", "streamlit") and len(parts) > 1 and parts[1] not in _NOT_DRAWING:
                    return True
    return False


def _is_client_factory(node: ast.expr) -> bool:
    return isinstance(node, ast.Call) and dotted(node.func).split(".")[-1] in _CLIENT_FACTORIES


@dataclass(frozen=True)
class Sink:
    call: str
    arg: ast.expr | None
    strict: bool  # False: count it only when the text looks like SQL


def _sql_argument(call: ast.Call, position: int, keywords: Sequence[str]) -> ast.expr | None:
    for keyword in call.keywords:
        if keyword.arg in keywords:
            return keyword.value
    if len(call.args) > position and not isinstance(call.args[position], ast.Starred):
        return call.args[position]
    return None


# ---------------------------------------------------------------------------------------------
# the scanner of one file


class _Scanner:
    def __init__(
        self,
        path: Path,
        app_dir: Path,
        root: Path,
        wrappers: Mapping[str, tuple[int, str, bool]],
        max_bytes: int,
    ) -> None:
        self.path = path
        self.app_dir = app_dir
        self.root = root
        self.wrappers = wrappers
        self.max_bytes = max_bytes
        self.scopes: list[dict[str, Value]] = [{}]
        self.params: list[set[str]] = [set()]
        self.result = FileScan()

    # -- scopes -----------------------------------------------------------------------------
    def lookup(self, name: str) -> Value | None:
        for scope in reversed(self.scopes):
            if name in scope:
                return scope[name]
        return None

    def bind(self, name: str, value: Value | None) -> None:
        if value is None:
            self.scopes[-1].pop(name, None)
            # a later unknown assignment hides an outer value of the same name
            if any(name in s for s in self.scopes[:-1]):
                self.scopes[-1][name] = _unknown(name)
        else:
            self.scopes[-1][name] = value

    # -- walking ----------------------------------------------------------------------------
    def run(self, tree: ast.Module) -> FileScan:
        self.block(tree.body)
        return self.result

    def block(self, statements: Sequence[ast.stmt]) -> None:
        for statement in statements:
            self.statement(statement)

    def statement(self, node: ast.stmt) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for decorator in node.decorator_list:
                self.expressions(decorator)
            params = {a.arg for a in (*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs)}
            self.scopes.append({p: _unknown(p) for p in params})
            self.params.append(params)
            self.block(node.body)
            self.scopes.pop()
            self.params.pop()
            return
        if isinstance(node, ast.ClassDef):
            self.scopes.append({})
            self.block(node.body)
            self.scopes.pop()
            return
        if isinstance(node, ast.Assign):
            self.expressions(node.value)
            value = self.value(node.value)
            for target in node.targets:
                self.assign(target, value)
            return
        if isinstance(node, ast.AnnAssign):
            if node.value is not None:
                self.expressions(node.value)
                self.assign(node.target, self.value(node.value))
            return
        if isinstance(node, ast.AugAssign):
            self.expressions(node.value)
            if isinstance(node.target, ast.Name) and isinstance(node.op, ast.Add):
                old = self.lookup(node.target.id)
                added = self.text(node.value)
                if isinstance(old, Text) and added is not None:
                    self.bind(node.target.id, _join(old, added))
                    return
            if isinstance(node.target, ast.Name):
                self.bind(node.target.id, None)
            return
        if isinstance(node, ast.With | ast.AsyncWith):
            for item in node.items:
                self.expressions(item.context_expr)
                if isinstance(item.optional_vars, ast.Name):
                    opened = self.opened_path(item.context_expr)
                    self.bind(item.optional_vars.id, opened)
            self.block(node.body)
            return
        # every other statement: visit its expressions, then its nested blocks in order
        for _, value in ast.iter_fields(node):
            if isinstance(value, list) and value and isinstance(value[0], ast.stmt):
                self.block(value)
            elif isinstance(value, list):
                for item in value:
                    if isinstance(item, ast.expr):
                        self.expressions(item)
                    elif isinstance(item, ast.ExceptHandler | ast.match_case):
                        self.block(item.body)
            elif isinstance(value, ast.expr):
                self.expressions(value)

    def assign(self, target: ast.expr, value: Value | None) -> None:
        if isinstance(target, ast.Name):
            self.bind(target.id, value)
        elif isinstance(target, ast.Tuple | ast.List):
            for element in target.elts:
                self.assign(element, None)

    def expressions(self, node: ast.expr) -> None:
        """Find sink calls anywhere inside ``node`` (outermost first, in source order)."""
        for child in _walk_in_order(node):
            if isinstance(child, ast.Call):
                sink = self.sink(child)
                if sink is not None:
                    self.record(child, sink)

    # -- sinks ------------------------------------------------------------------------------
    def sink(self, call: ast.Call) -> Sink | None:
        func = call.func
        name = dotted(func)
        last = name.split(".")[-1]
        if last == "read_gbq":
            return Sink(name, _sql_argument(call, 0, ("query",)), True)
        if last in ("read_sql", "read_sql_query") and name.split(".")[0] in ("pd", "pandas"):
            return Sink(name, _sql_argument(call, 0, ("sql",)), True)
        if isinstance(func, ast.Attribute) and func.attr in ("query", "query_and_wait"):
            receiver = func.value
            strict = _is_client_factory(receiver) or (
                isinstance(receiver, ast.Name)
                and (isinstance(self.lookup(receiver.id), Client) or bool(_CLIENT_NAME.match(receiver.id)))
            )
            return Sink(name, _sql_argument(call, 0, ("query", "sql")), strict)
        if isinstance(func, ast.Name) and func.id in self.wrappers:
            position, keyword, strict = self.wrappers[func.id]
            return Sink(name, _sql_argument(call, position, (keyword,)), strict)
        return None

    def record(self, call: ast.Call, sink: Sink) -> None:
        line, end = call.lineno, getattr(call, "end_lineno", None) or call.lineno
        if sink.arg is None:
            return
        arg = sink.arg
        if isinstance(arg, ast.Call) and dotted(arg.func).split(".")[-1] == "text" and arg.args:
            arg = arg.args[0]  # sqlalchemy.text("…")
        if isinstance(arg, ast.Name) and arg.id in self.params[-1] and self.lookup(arg.id) == _unknown(arg.id):
            return  # a wrapper's parameter: its callers are the sinks
        text = self.text(arg)
        if text is None or (len(text.holes) == 1 and text.text.strip() == placeholder(text.holes[0])):
            if sink.strict:
                self.result.found.append(Found(line, end, call.col_offset, sink.call, None, ast.unparse(arg)))
            return
        if text.problem is None and not sink.strict and not looks_like_sql(text.text):
            return
        self.result.found.append(Found(line, end, call.col_offset, sink.call, text))

    # -- values -----------------------------------------------------------------------------
    def value(self, node: ast.expr) -> Value | None:
        if _is_client_factory(node):
            return Client()
        if isinstance(node, ast.Name) and node.id != "__file__":
            return self.lookup(node.id)
        path = self.path_of(node)
        if path is not None:
            return PathValue(path)
        opened = self.opened_path(node)
        if opened is not None:
            return opened
        return self.text(node)

    def text(self, node: ast.expr) -> Text | None:
        if isinstance(node, ast.Constant):
            return Text(node.value) if isinstance(node.value, str) else None
        if isinstance(node, ast.Name):
            found = self.lookup(node.id)
            return found if isinstance(found, Text) else None
        if isinstance(node, ast.JoinedStr):
            return self.fstring(node)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left, right = self.text(node.left), self.text(node.right)
            if left is None and right is None:
                return None
            return _join(left or _hole(node.left), right or _hole(node.right))
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
            template = self.text(node.left)
            return None if template is None else self.percent(template, node.right)
        if isinstance(node, ast.Call):
            return self.call_text(node)
        return None

    def fstring(self, node: ast.JoinedStr) -> Text:
        parts: list[Text] = []
        for value in node.values:
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                parts.append(Text(value.value))
            elif isinstance(value, ast.FormattedValue):
                inner = self.text(value.value)
                if inner is not None and value.format_spec is None and value.conversion == -1:
                    parts.append(inner)
                else:
                    parts.append(_hole(value.value))
        result = Text("")
        for part in parts:
            result = _join(result, part)
        return result

    def call_text(self, node: ast.Call) -> Text | None:
        func = node.func
        name = dotted(func)
        last = name.split(".")[-1]
        if last == "dedent" and node.args:
            return self.text(node.args[0])
        if isinstance(func, ast.Attribute):
            if func.attr in ("strip", "lstrip", "rstrip") and not node.args:
                return self.text(func.value)
            if func.attr == "format":
                template = self.text(func.value)
                return None if template is None else self.format(template, node)
            if func.attr in ("read", "read_text"):
                return self.read_file(func.value, read_text=func.attr == "read_text")
        return None

    def format(self, template: Text, call: ast.Call) -> Text:
        keywords = {k.arg: k.value for k in call.keywords if k.arg}
        holes = list(template.holes)
        counter = iter(range(len(call.args) + 100))

        def fill(match: re.Match[str]) -> str:
            field_name = match.group(1).split("!")[0].split(":")[0]
            expr: ast.expr | None
            if field_name == "":
                index = next(counter)
                expr = call.args[index] if index < len(call.args) else None
            elif field_name.isdigit():
                expr = call.args[int(field_name)] if int(field_name) < len(call.args) else None
            else:
                expr = keywords.get(field_name)
            value = self.text(expr) if expr is not None else None
            if value is not None and not value.holes:
                return value.text
            label = ast.unparse(expr) if expr is not None else field_name or "arg"
            holes.append(label)
            return placeholder(label)

        text = _FORMAT_FIELD.sub(fill, template.text.replace("{{", "\0").replace("}}", "\1"))
        return Text(text.replace("\0", "{").replace("\1", "}"), tuple(holes), template.sql_file, template.problem)

    def percent(self, template: Text, values: ast.expr) -> Text:
        holes = list(template.holes)
        items = list(values.elts) if isinstance(values, ast.Tuple) else [values]
        by_name = (
            {k.value: v for k, v in zip(values.keys, values.values, strict=True) if isinstance(k, ast.Constant)}
            if isinstance(values, ast.Dict)
            else {}
        )
        counter = iter(range(1000))

        def fill(match: re.Match[str]) -> str:
            if match.group(1):
                expr = by_name.get(match.group(1))
            else:
                index = next(counter)
                expr = items[index] if index < len(items) else None
            value = self.text(expr) if expr is not None else None
            if value is not None and not value.holes:
                return value.text
            label = match.group(1) or (ast.unparse(expr) if expr is not None else "arg")
            holes.append(label)
            return placeholder(label)

        text = _PERCENT_FIELD.sub(fill, template.text.replace("%%", "\0")).replace("\0", "%")
        return Text(text, tuple(holes), template.sql_file, template.problem)

    # -- files ------------------------------------------------------------------------------
    def path_of(self, node: ast.expr) -> str | None:
        if isinstance(node, ast.Name):
            if node.id == "__file__":
                return str(self.path)
            found = self.lookup(node.id)
            return found.path if isinstance(found, PathValue) else None
        if isinstance(node, ast.Attribute) and node.attr == "parent":
            inner = self.path_of(node.value)
            return None if inner is None else os.path.dirname(inner)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            left = self.path_of(node.left)
            right = self.text(node.right)
            if left is None or right is None or right.holes:
                return None
            return os.path.join(left, right.text)
        if isinstance(node, ast.Call):
            name = dotted(node.func)
            last = name.split(".")[-1]
            if last in ("Path", "PurePath", "PosixPath") and len(node.args) == 1:
                inner = self.path_of(node.args[0])
                if inner is not None:
                    return inner
                text = self.text(node.args[0])
                return text.text if text is not None and not text.holes and not text.sql_file else None
            if isinstance(node.func, ast.Attribute) and node.func.attr in ("resolve", "absolute") and not node.args:
                return self.path_of(node.func.value)
            if name in ("os.path.dirname", "path.dirname", "dirname") and len(node.args) == 1:
                inner = self.path_of(node.args[0])
                return None if inner is None else os.path.dirname(inner)
            if name in ("os.path.abspath", "os.path.realpath") and len(node.args) == 1:
                return self.path_of(node.args[0])
            if name in ("os.path.join", "path.join") and node.args:
                parts: list[str] = []
                for index, arg in enumerate(node.args):
                    piece = self.path_of(arg) if index == 0 else None
                    if piece is None:
                        text = self.text(arg)
                        if text is None or text.holes:
                            return None
                        piece = text.text
                    parts.append(piece)
                return os.path.join(*parts)
        return None

    def opened_path(self, node: ast.expr) -> PathValue | None:
        """``open(p)`` / ``Path(p).open()`` → the path opened (bound by ``with … as f``)."""
        if isinstance(node, ast.Call):
            name = dotted(node.func)
            if name in ("open", "io.open") and node.args:
                return self._path_argument(node.args[0])
            if isinstance(node.func, ast.Attribute) and node.func.attr == "open":
                inner = self.path_of(node.func.value)
                return PathValue(inner) if inner is not None else None
        return None

    def _path_argument(self, arg: ast.expr) -> PathValue | None:
        found = self.path_of(arg)
        if found is not None:
            return PathValue(found)
        text = self.text(arg)
        if text is not None and not text.holes and text.sql_file is None:
            return PathValue(text.text)
        return None

    def read_file(self, receiver: ast.expr, *, read_text: bool) -> Text | None:
        target: PathValue | None
        if read_text:
            found = self.path_of(receiver)
            target = PathValue(found) if found is not None else None
        else:
            target = self.opened_path(receiver)
            if target is None and isinstance(receiver, ast.Name):
                bound = self.lookup(receiver.id)
                target = bound if isinstance(bound, PathValue) else None
        if target is None:
            return None
        return self.load(target.path)

    def load(self, written: str) -> Text | None:
        if not written.lower().endswith(".sql"):
            return None
        candidates = (
            [Path(written)]
            if os.path.isabs(written)
            else [self.path.parent / written, self.app_dir / written, self.root / written]
        )
        root = self.root.resolve()
        for candidate in candidates:
            resolved = candidate.resolve()
            if not resolved.is_relative_to(root):
                continue
            rel = resolved.relative_to(root).as_posix()
            if resolved.is_file():
                try:
                    if resolved.stat().st_size > self.max_bytes:
                        return Text("", (), rel, f"{rel} is larger than {self.max_bytes:,} bytes; not read")
                    content = resolved.read_text(encoding="utf-8")
                except (OSError, UnicodeDecodeError) as exc:
                    return Text("", (), rel, f"cannot read {rel}: {getattr(exc, 'strerror', None) or exc}")
                self.result.read_sql_files.add(rel)
                return Text(content, (), rel)
        shown = os.path.basename(written) if os.path.isabs(written) else written
        return Text(
            "", (), shown, f"the SQL file {shown} was not found (next to the code, in the app or the repository)"
        )


def _unknown(name: str) -> Text:
    return Text(placeholder(name), (name,))


def _hole(node: ast.expr) -> Text:
    label = ast.unparse(node)
    return Text(placeholder(label), (label,))


def _join(left: Text, right: Text) -> Text:
    return Text(
        left.text + right.text,
        left.holes + right.holes,
        left.sql_file or right.sql_file,
        left.problem or right.problem,
    )


def _walk_in_order(node: ast.AST) -> Iterator[ast.AST]:
    """Like ``ast.walk`` but depth-first in source order, without entering nested scopes."""
    yield node
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.Lambda | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue
        yield from _walk_in_order(child)


# ---------------------------------------------------------------------------------------------
# wrappers: functions whose parameter is sent to the warehouse


def find_wrappers(trees: Sequence[ast.Module]) -> dict[str, tuple[int, str, bool]]:
    """``def load(sql): return conn.query(sql)`` → {"load": (0, "sql", strict)}."""
    wrappers: dict[str, tuple[int, str, bool]] = {}
    for tree in trees:
        clients = {
            t.id
            for node in ast.walk(tree)
            if isinstance(node, ast.Assign) and _is_client_factory(node.value)
            for t in node.targets
            if isinstance(t, ast.Name)
        }
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            positional = [a.arg for a in (*function.args.posonlyargs, *function.args.args)]
            if positional and positional[0] in ("self", "cls"):
                positional = positional[1:]
            for call in ast.walk(function):
                if not isinstance(call, ast.Call) or not isinstance(call.func, ast.Attribute):
                    continue
                func = call.func
                strict: bool
                if func.attr in ("query", "query_and_wait"):
                    receiver = func.value
                    strict = _is_client_factory(receiver) or (
                        isinstance(receiver, ast.Name)
                        and (receiver.id in clients or bool(_CLIENT_NAME.match(receiver.id)))
                    )
                    arg = _sql_argument(call, 0, ("query", "sql"))
                elif func.attr == "read_gbq":
                    strict, arg = True, _sql_argument(call, 0, ("query",))
                else:
                    continue
                if isinstance(arg, ast.Name) and arg.id in positional:
                    wrappers[function.name] = (positional.index(arg.id), arg.id, strict)
    return wrappers


# ---------------------------------------------------------------------------------------------
# apps


@dataclass
class App:
    name: str  # as it appears in the node id: lower case, hyphens
    directory: Path
    entry: str  # rel path of the entry file
    files: list[str] = field(default_factory=list)
    title: str | None = None


def app_name(raw: str) -> str:
    return re.sub(r"[^a-z0-9-]+", "-", raw.lower().replace("_", "-")).strip("-") or "app"


def list_files(root: Path, options: PythonAppsOptions) -> list[str]:
    return walk_matching(root, options.include, options.exclude, SKIP_DIRS)


def group_apps(root: Path, trees: Mapping[str, ast.Module]) -> list[App]:
    entries = [
        rel for rel, tree in trees.items() if "pages" not in rel.split("/")[:-1] and is_streamlit_entry(rel, tree)
    ]
    top_level = [rel for rel in entries if "/" not in rel]
    nested_dirs = sorted({rel.rsplit("/", 1)[0] for rel in entries if "/" in rel})
    # the shallowest directory holding an entry is the app; deeper entries are part of it
    app_dirs = [d for d in nested_dirs if not any(d.startswith(other + "/") for other in nested_dirs)]
    apps: list[App] = []
    for directory in app_dirs:
        entry = min((e for e in entries if e.startswith(directory + "/")), key=lambda e: (e.count("/"), e))
        app = App(app_name(directory.rsplit("/", 1)[-1]), root / directory, entry)
        app.files = [rel for rel in trees if rel.startswith(directory + "/")]
        apps.append(app)
    for rel in top_level:
        apps.append(App(app_name(rel[: -len(".py")] if rel.endswith(".py") else rel), root, rel, [rel]))
    if len(top_level) == 1:
        owned = {f for app in apps for f in app.files}
        apps[-1].files += [
            rel for rel in trees if rel not in owned and not any(rel.startswith(d + "/") for d in app_dirs)
        ]
    for app in apps:
        app.title = _title(trees[app.entry])
    return sorted(apps, key=lambda a: a.name)


def _title(tree: ast.Module) -> str | None:
    """The app's title: ``st.set_page_config(page_title=…)``, ``st.title(…)`` or the docstring."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = dotted(node.func)
            if name.endswith("set_page_config"):
                for keyword in node.keywords:
                    if keyword.arg == "page_title" and isinstance(keyword.value, ast.Constant):
                        return str(keyword.value.value)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and dotted(node.func) in ("st.title", "streamlit.title") and node.args:
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                return first.value
    doc = ast.get_docstring(tree)
    return doc.strip().splitlines()[0] if doc else None


# ---------------------------------------------------------------------------------------------
# the source


def collect_python_apps(settings: Settings, source: SourceSettings, options: PythonAppsOptions) -> Collected:

    builder = Builder(source, settings, "streamlit")
    located = local_root(builder, settings, source, "app repository")
    if located is None:
        return builder.finish()
    root_text, root = located
    qualify_settings = (
        settings.replace(default_project=options.default_project) if options.default_project else settings
    )
    dialect = source.dialect or settings.dialect

    def uri(rel: str) -> str:
        return f"{root_text.rstrip('/')}/{rel}"

    trees: dict[str, ast.Module] = {}
    for rel in list_files(root, options):
        if not rel.endswith(".py"):
            continue
        try:
            data = (root / rel).read_bytes()
            if len(data) > options.max_file_bytes:
                builder.error(uri(rel), rel, None, "read", f"larger than {options.max_file_bytes:,} bytes; not read")
                continue
            trees[rel] = ast.parse(data, filename=rel)
        except SyntaxError as exc:
            builder.error(uri(rel), rel, exc.lineno, "parse", f"Python syntax error: {exc.msg}")
        except (OSError, ValueError) as exc:
            builder.error(uri(rel), rel, None, "read", f"cannot read file: {getattr(exc, 'strerror', None) or exc}")
    for app in group_apps(root, trees):
        node_id = f"app:{app.name}"
        extra = options.apps.get(app.name) or options.apps.get(app.directory.name) or AppSettings()
        url = extra.url or (options.app_url_template.replace("{name}", app.name) if options.app_url_template else None)
        builder.node(
            node_id,
            "app",
            labels={"entry": app.entry, "title": app.title or "", **extra.labels},
            owners=(*extra.owners, *options.owners),
            url=url,
            description=extra.description or app.title,
        )
        wrappers = find_wrappers([trees[rel] for rel in app.files])
        used_ids: set[str] = set()
        read_files: set[str] = set()
        for rel in sorted(app.files):
            try:
                scan = _Scanner(root / rel, app.directory, root, wrappers, options.max_file_bytes).run(trees[rel])
            except RecursionError:
                builder.error(uri(rel), rel, None, "parse", "code nested too deeply to scan")
                continue
            read_files |= scan.read_sql_files
            for found in scan.found:
                _record(builder, qualify_settings, dialect, node_id, rel, uri(rel), found, used_ids)
        if options.sql_files == "all":
            app_rel = app.directory.relative_to(root).as_posix() if app.directory != root else ""
            for rel in list_files(app.directory, PythonAppsOptions(include=("**/*.sql",))):
                full_rel = f"{app_rel}/{rel}" if app_rel else rel
                if full_rel in read_files:
                    continue
                try:
                    content = (root / full_rel).read_text(encoding="utf-8")
                except (OSError, UnicodeDecodeError) as exc:
                    builder.error(uri(full_rel), full_rel, None, "read", f"cannot read file: {exc}")
                    continue
                found = Found(1, max(1, content.count("\n") + 1), 0, "(sql file)", Text(content, (), full_rel))
                _record(builder, qualify_settings, dialect, node_id, full_rel, uri(full_rel), found, used_ids)
    return builder.finish()


def _record(
    builder: Builder,
    settings: Settings,
    dialect: str,
    node_id: str,
    rel: str,
    file_uri: str,
    found: Found,
    used_ids: set[str],
) -> None:
    query_id = f"{builder.source.name}:{rel}:{found.line}"
    if query_id in used_ids:
        query_id = f"{query_id}:{found.col}"
    used_ids.add(query_id)
    uri = f"{file_uri}#L{found.line}"
    where = f"{rel}:{found.line}"
    errors: list[ErrorRecord] = []
    labels = {"call": found.call}
    reads: tuple[str, ...] = ()
    writes: tuple[str, ...] = ()
    text = found.text
    if text is None:
        errors.append(
            ErrorRecord(
                uri,
                rel,
                found.line,
                "unresolved",
                f"{where}: the SQL passed to {found.call}() is not a literal ({found.unresolved}); "
                "its tables are unknown",
            )
        )
    elif text.problem is not None:
        errors.append(ErrorRecord(uri, rel, found.line, "read", f"{where}: {found.call}(): {text.problem}"))
    else:
        if text.sql_file:
            labels["sql_file"] = text.sql_file
        sql_reads = read_sql(text.text, dialect, settings)
        reads, writes = sql_reads.sources, sql_reads.targets
        for kind, line, message in sql_reads.issues:
            if text.sql_file and text.sql_file != rel:
                errors.append(
                    ErrorRecord(
                        uri, text.sql_file, line, kind, f"{text.sql_file}:{line or '?'} (read at {where}): {message}"
                    )
                )
            else:
                file_line = found.line + (line - 1 if line else 0)
                errors.append(ErrorRecord(uri, rel, file_line, kind, f"{where}: {message}"))
        if text.holes or sql_reads.unknown_tables:
            labels["partial"] = "true"
            holes = ", ".join(dict.fromkeys(f"{{{h}}}" for h in text.holes))
            message = f"{where}: SQL passed to {found.call}() has unresolved parts {holes}; parsed with placeholders"
            if sql_reads.unknown_tables:
                shown = ", ".join(t.replace("__lineage_", "{").replace("__", "}") for t in sql_reads.unknown_tables)
                message += f"; tables not resolved: {shown}"
            errors.append(ErrorRecord(uri, rel, found.line, "unresolved", message))
    builder.query(
        query_id=query_id,
        consumer=node_id,
        uri=uri,
        path=rel,
        reads=reads,
        writes=writes,
        line_start=found.line,
        line_end=found.end_line,
        errors=errors,
        labels=labels,
    )
