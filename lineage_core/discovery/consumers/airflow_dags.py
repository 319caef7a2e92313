"""Airflow / Cloud Composer DAG files: the SQL each task runs, found with ``ast`` (never run).

A DAG is ``DAG("id", …)`` / ``DAG(dag_id="id", …)`` (``with DAG(…) as dag:`` or ``dag = DAG(…)``)
or a function decorated with ``@dag`` (its ``dag_id``, else the function's name). Its tasks are
the calls of BigQuery / SQL operators inside the ``with`` block or the decorated function, or
anywhere in the file with ``dag=<the DAG variable>`` (with one DAG in a file, every operator of the
file belongs to it):

* ``BigQueryInsertJobOperator(task_id=…, configuration={"query": {"query": SQL}})``
* ``BigQueryExecuteQueryOperator(sql=SQL)``, ``BigQueryOperator(sql=SQL)``,
  ``SQLExecuteQueryOperator(sql=SQL)`` (``sql`` may be a list of statements)

``SQL`` is a string (or a name assigned one): a path ending in ``.sql``, a Jinja
``{% include 'x.sql' %}``, or inline SQL. Paths are looked up as Airflow does: in the DAG's
``template_searchpath`` (relative to the DAG file), in the source's ``template_searchpath`` option
(relative to the source's ``path``), then next to the DAG file.

Each task is one node of kind ``job`` (``airflow:<dag_id>.<task_id>``, labels ``tool``, ``dag_id``,
``task_id``, ``operator``) and one entry of ``queries``: the tables the SQL reads → job → the tables
it writes. When the SQL file belongs to a ``type: sql`` source of the config, it is rendered with
that file's variables (``effective_vars``) and the query gets the label ``sql_query`` — the id of
the SQL source's query for that file — so a table's writer query and the job that runs it meet.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import msgspec

from lineage_core.config import Settings, SourceSettings
from lineage_core.discovery.consumers._common import Builder, Collected, local_root, read_sql
from lineage_core.discovery.consumers.python_apps import SKIP_DIRS
from lineage_core.discovery.sql_files import effective_vars, source_root
from lineage_core.discovery.walk import matches, walk_matching
from lineage_core.errors import RenderError
from lineage_core.models import ErrorRecord
from lineage_core.templating import render_sql

OPERATORS: Mapping[str, str] = {
    "BigQueryInsertJobOperator": "configuration",
    "BigQueryExecuteQueryOperator": "sql",
    "BigQueryOperator": "sql",
    "SQLExecuteQueryOperator": "sql",
}
_INCLUDE = re.compile(r"\{%-?\s*include\s+(['\"])([^'\"]+)\1\s*-?%\}")


class DagSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    owners: tuple[str, ...] = ()
    labels: dict[str, str] = {}
    url: str | None = None


class AirflowOptions(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    include: tuple[str, ...] = ("**/*.py",)
    exclude: tuple[str, ...] = ()
    template_searchpath: tuple[str, ...] = ()  # relative to the source's path
    # "https://composer.example/dags/{dag_id}/grid?task_id={task_id}"
    url_template: str | None = None
    owners: tuple[str, ...] = ()  # owners of every job of this source
    dags: dict[str, DagSettings] = {}  # per dag_id: owners, labels, url
    default_project: str | None = None  # for names written as dataset.table (default: the config's)
    max_file_bytes: int = 2 * 1024 * 1024


@dataclass
class Dag:
    dag_id: str
    searchpath: list[str]
    variable: str | None = None
    scope: ast.AST | None = None  # the `with` block or the decorated function


@dataclass
class Task:
    dag: Dag
    task_id: str
    operator: str
    sql: list[str] | None  # None: not a string we can follow
    line_start: int
    line_end: int
    problems: list[str] = field(default_factory=list)


def _name(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Call):
        return _name(func.func)
    return ""


class _Module:
    """Names assigned in a file (any scope, last assignment wins), to follow ``sql=QUERY``."""

    def __init__(self, tree: ast.Module) -> None:
        self.assigned: dict[str, ast.expr] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                self.assigned[node.targets[0].id] = node.value
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
                self.assigned[node.target.id] = node.value

    def value(self, node: ast.expr | None, depth: int = 0) -> ast.expr | None:
        while isinstance(node, ast.Name) and depth < 10:
            node, depth = self.assigned.get(node.id), depth + 1
        return node

    def string(self, node: ast.expr | None) -> str | None:
        node = self.value(node)
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left, right = self.string(node.left), self.string(node.right)
            return left + right if left is not None and right is not None else None
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("strip", "format")
        ):
            return self.string(node.func.value) if not node.args and not node.keywords else None
        return None

    def strings(self, node: ast.expr | None) -> list[str] | None:
        node = self.value(node)
        if isinstance(node, ast.List | ast.Tuple):
            items = [self.string(e) for e in node.elts]
            return None if any(i is None for i in items) else [i for i in items if i is not None]
        text = self.string(node)
        return None if text is None else [text]

    def key(self, node: ast.expr | None, key: str) -> ast.expr | None:
        node = self.value(node)
        if isinstance(node, ast.Dict):
            for k, v in zip(node.keys, node.values, strict=True):
                if k is not None and self.string(k) == key:
                    return v
        if isinstance(node, ast.Call) and _name(node.func) == "dict":
            for keyword in node.keywords:
                if keyword.arg == key:
                    return keyword.value
        return None


def _kwarg(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _dag_of(call: ast.Call, module: _Module, default_id: str | None) -> Dag | None:
    dag_id = module.string(_kwarg(call, "dag_id")) or (module.string(call.args[0]) if call.args else None)
    dag_id = dag_id or default_id
    if not dag_id:
        return None
    searchpath = module.strings(_kwarg(call, "template_searchpath")) or []
    return Dag(dag_id, searchpath)


def find_dags(tree: ast.Module, module: _Module) -> list[Dag]:
    dags: list[Dag] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.With | ast.AsyncWith):
            for item in node.items:
                if isinstance(item.context_expr, ast.Call) and _name(item.context_expr.func) == "DAG":
                    found = _dag_of(item.context_expr, module, None)
                    if found is not None:
                        found.scope = node
                        if isinstance(item.optional_vars, ast.Name):
                            found.variable = item.optional_vars.id
                        dags.append(found)
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and _name(node.value.func) == "DAG":
            found = _dag_of(node.value, module, None)
            if found is not None and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                found.variable = node.targets[0].id
                dags.append(found)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for decorator in node.decorator_list:
                if _name(decorator) == "dag":
                    call = decorator if isinstance(decorator, ast.Call) else ast.Call(decorator, [], [])
                    found = _dag_of(call, module, node.name)
                    if found is not None:
                        found.scope = node
                        dags.append(found)
    return dags


def _operator_calls(node: ast.AST) -> Iterator[ast.Call]:
    for child in ast.walk(node):
        if (
            isinstance(child, ast.Call)
            and _name(child.func) in OPERATORS
            and isinstance(child.func, ast.Name | ast.Attribute)
        ):
            yield child


def find_tasks(tree: ast.Module, module: _Module, dags: list[Dag]) -> tuple[list[Task], list[tuple[int, str]]]:
    """Tasks with their SQL, and (line, message) of operators that could not be attributed."""
    owner: dict[int, Dag] = {}
    # innermost scope wins: visit outer scopes first
    for scoped in sorted((d for d in dags if d.scope is not None), key=lambda d: getattr(d.scope, "lineno", 0)):
        assert scoped.scope is not None
        for call in _operator_calls(scoped.scope):
            owner[id(call)] = scoped
    by_variable = {d.variable: d for d in dags if d.variable}
    tasks: list[Task] = []
    problems: list[tuple[int, str]] = []
    for call in _operator_calls(tree):
        operator = _name(call.func)
        explicit = _kwarg(call, "dag")
        dag: Dag | None = by_variable.get(explicit.id) if isinstance(explicit, ast.Name) else None
        dag = dag or owner.get(id(call)) or (dags[0] if len(dags) == 1 else None)
        if dag is None:
            problems.append((call.lineno, f"{operator} at line {call.lineno} belongs to no DAG found in the file"))
            continue
        task_id = module.string(_kwarg(call, "task_id"))
        if not task_id:
            problems.append((call.lineno, f"{operator} at line {call.lineno} has no task_id given as a string"))
            continue
        if OPERATORS[operator] == "configuration":
            query = module.key(module.key(_kwarg(call, "configuration"), "query"), "query")
            sql = module.strings(query)
        else:
            sql = module.strings(_kwarg(call, "sql"))
        task = Task(dag, task_id, operator, sql, call.lineno, getattr(call, "end_lineno", None) or call.lineno)
        if sql is None:
            task.problems.append(f"the SQL of {dag.dag_id}.{task_id} is not a string the scanner can follow")
        tasks.append(task)
    return tasks, problems


def list_files(root: Path, options: AirflowOptions) -> list[str]:
    return walk_matching(root, options.include, options.exclude, SKIP_DIRS)


@dataclass(frozen=True)
class _SqlOwner:
    """The `type: sql` source a file belongs to: its query id and its Jinja variables."""

    query_id: str
    source: str
    rel: str
    dialect: str


def _sql_owner(settings: Settings, path: Path) -> _SqlOwner | None:
    for source in settings.sources:
        if source.type != "sql":
            continue
        root_text = source_root(settings, source)
        if root_text.startswith("gs://"):
            continue
        try:
            rel = path.relative_to(Path(root_text).resolve()).as_posix()
        except ValueError:
            continue
        if matches(rel, source.include) and not matches(rel, source.exclude):
            return _SqlOwner(f"{source.name}:{rel}", source.name, rel, source.dialect or settings.dialect)
    return None


def collect_airflow(settings: Settings, source: SourceSettings, options: AirflowOptions) -> Collected:
    builder = Builder(source, settings, "airflow")
    located = local_root(builder, settings, source, "DAG folder")
    if located is None:
        return builder.finish()
    root_text, root = located
    qualify_settings = (
        settings.replace(default_project=options.default_project) if options.default_project else settings
    )
    dialect = source.dialect or settings.dialect
    option_paths = [root / p for p in options.template_searchpath]

    def uri(rel: str) -> str:
        return f"{root_text.rstrip('/')}/{rel}"

    for rel in list_files(root, options):
        if not rel.endswith(".py"):
            continue
        try:
            data = (root / rel).read_bytes()
            if len(data) > options.max_file_bytes:
                builder.error(uri(rel), rel, None, "read", f"larger than {options.max_file_bytes:,} bytes; not read")
                continue
            if b"DAG" not in data and b"dag" not in data:
                continue
            tree = ast.parse(data, filename=rel)
        except SyntaxError as exc:
            builder.error(uri(rel), rel, exc.lineno, "parse", f"Python syntax error: {exc.msg}")
            continue
        except (OSError, ValueError) as exc:
            builder.error(uri(rel), rel, None, "read", f"cannot read file: {getattr(exc, 'strerror', None) or exc}")
            continue
        module = _Module(tree)
        dags = find_dags(tree, module)
        tasks, problems = find_tasks(tree, module, dags)
        for line, message in problems:
            builder.error(uri(rel), rel, line, "unresolved", message)
        here = (root / rel).parent
        for task in tasks:
            searchpath = [here / p for p in task.dag.searchpath] + option_paths + [here]
            _record_task(builder, settings, qualify_settings, source, options, task, rel, uri(rel), searchpath, dialect)
    return builder.finish()


def _find_file(name: str, searchpath: list[Path]) -> Path | None:
    for directory in searchpath:
        candidate = (directory / name).resolve()
        if candidate.is_file():
            return candidate
    return None


def _expand_includes(text: str, searchpath: list[Path], used: list[Path]) -> str:
    """``{% include 'x.sql' %}`` → the file's text (nested up to 5 levels); a missing file raises."""
    for _ in range(5):
        if not _INCLUDE.search(text):
            break

        def inline(match: re.Match[str]) -> str:
            found = _find_file(match.group(2), searchpath)
            if found is None:
                raise FileNotFoundError(match.group(2))
            used.append(found)
            return found.read_text(encoding="utf-8")

        text = _INCLUDE.sub(inline, text)
    return text


def _record_task(
    builder: Builder,
    settings: Settings,
    qualify_settings: Settings,
    source: SourceSettings,
    options: AirflowOptions,
    task: Task,
    rel: str,
    dag_uri: str,
    searchpath: list[Path],
    dialect: str,
) -> None:
    dag = task.dag
    node_id = f"airflow:{dag.dag_id}.{task.task_id}"
    dag_uri = f"{dag_uri}#L{task.line_start}"  # one uri per task: `lineage merge` matches errors by uri
    extra = options.dags.get(dag.dag_id) or DagSettings()
    url = extra.url or (
        options.url_template.replace("{dag_id}", dag.dag_id).replace("{task_id}", task.task_id)
        if options.url_template
        else None
    )
    builder.node(
        node_id,
        "job",
        labels={"dag_id": dag.dag_id, "task_id": task.task_id, "operator": task.operator, **extra.labels},
        owners=(*options.owners, *extra.owners),
        url=url,
        description=f"{task.operator} {task.task_id} of DAG {dag.dag_id}",
    )
    errors: list[ErrorRecord] = [ErrorRecord(dag_uri, rel, task.line_start, "unresolved", p) for p in task.problems]
    labels: dict[str, str] = {"dag_id": dag.dag_id, "task_id": task.task_id, "operator": task.operator}
    reads: set[str] = set()
    writes: set[str] = set()
    for text in task.sql or []:
        used: list[Path] = []
        stripped = text.strip()
        try:
            if stripped.endswith(".sql") and "\n" not in stripped and " " not in stripped:
                found = _find_file(stripped, searchpath)
                if found is None:
                    raise FileNotFoundError(stripped)
                used.append(found)
                text = found.read_text(encoding="utf-8")
            text = _expand_includes(text, searchpath, used)
        except FileNotFoundError as exc:
            where = ", ".join(str(p) for p in searchpath)
            errors.append(
                ErrorRecord(
                    dag_uri,
                    rel,
                    task.line_start,
                    "read",
                    f"{dag.dag_id}.{task.task_id}: SQL file {exc} not found in {where}",
                )
            )
            continue
        except (OSError, UnicodeDecodeError) as exc:
            errors.append(ErrorRecord(dag_uri, rel, task.line_start, "read", f"{dag.dag_id}.{task.task_id}: {exc}"))
            continue
        owner = _sql_owner(settings, used[0]) if used else None
        task_dialect = dialect
        if owner is not None:
            variables = effective_vars(settings, owner.source, owner.rel)
            labels["sql_query"] = owner.query_id
            task_dialect = owner.dialect
        else:
            variables = effective_vars(settings, source.name, rel)
        if used:
            labels["sql_file"] = (
                used[0].relative_to(Path(settings.base_dir).resolve()).as_posix()
                if used[0].is_relative_to(Path(settings.base_dir).resolve())
                else str(used[0])
            )
        try:
            rendered = render_sql(text, variables, name=labels.get("sql_file", rel))
        except RenderError as exc:
            errors.append(ErrorRecord(dag_uri, rel, task.line_start, "render", f"{dag.dag_id}.{task.task_id}: {exc}"))
            continue
        found_tables = read_sql(rendered, task_dialect, qualify_settings)
        reads.update(found_tables.sources)
        writes.update(found_tables.targets)
        errors.extend(
            ErrorRecord(dag_uri, rel, task.line_start, kind, f"{dag.dag_id}.{task.task_id}: {message}")
            for kind, _, message in found_tables.issues
        )
    builder.query(
        query_id=f"{source.name}:{dag.dag_id}.{task.task_id}",
        consumer=node_id,
        uri=dag_uri,
        path=rel,
        reads=reads,
        writes=writes,
        line_start=task.line_start,
        line_end=task.line_end,
        errors=errors,
        labels=labels,
    )
