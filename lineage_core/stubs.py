"""Config stubs for undefined Jinja variables: find them, and write them into lineage.yaml.

Two halves:

- :func:`find_missing` renders each file that failed with an undefined variable again, in
  process, adding a stub for each variable Jinja complains about until the file renders. So
  one run finds every missing variable of a file, not only the first, and the full dotted
  path (``params.missing_dataset``) is re-derived from the template text: Jinja's message
  names only the last attribute (``'dict object' has no attribute 'missing_dataset'``) or
  only the root (``'params' is undefined``).
- :func:`add_stubs` writes them under ``vars:`` with a ruamel.yaml round trip, so the file's
  comments, key order, quoting and indentation survive. Adding what is already there
  changes nothing, so running ``lineage check --fix`` twice is a no-op the second time.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from lineage_core.config import Settings, deep_merge
from lineage_core.errors import ConfigError, RenderError
from lineage_core.models import ErrorRecord

STUB_VALUE = "TODO"
_MAX_ROUNDS = 100  # stubs added to one file before giving up (a template that loops on itself)

_TOP_UNDEFINED = re.compile(r"'([^']+)' is undefined")
_ATTR_UNDEFINED = re.compile(r"has no attribute '([^']+)'")
_JINJA_BLOCK = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.S)
# A dotted name inside a Jinja expression; not one inside a string, not an attribute of one.
_CHAIN = re.compile(r"(?<![\w.'\"])([A-Za-z_]\w*(?:[ \t]*\.[ \t]*[A-Za-z_]\w*)*)([ \t]*\()?")


@dataclass(frozen=True)
class MissingVariable:
    """A variable path with no value, and where it is used (``path:line``)."""

    path: tuple[str, ...]
    used_in: tuple[str, ...] = ()

    @property
    def dotted(self) -> str:
        return ".".join(self.path)


@dataclass
class MissingReport:
    variables: list[MissingVariable] = field(default_factory=list)
    # Problems a stub cannot solve: functions (``macros.ds_add(...)``), loop variables, ...
    unresolved: list[str] = field(default_factory=list)


@dataclass
class StubResult:
    text: str
    added: list[str] = field(default_factory=list)  # dotted paths written
    skipped: list[str] = field(default_factory=list)  # why a path could not be written

    @property
    def changed(self) -> bool:
        return bool(self.added)


# -- finding the full dotted path of an undefined variable -------------------------------


@dataclass(frozen=True)
class _Chain:
    parts: tuple[str, ...]
    called: bool  # the last part is followed by "(": a function or method
    line: int


def _chains(text: str) -> list[_Chain]:
    found: list[_Chain] = []
    for block in _JINJA_BLOCK.finditer(text):
        start_line = text.count("\n", 0, block.start()) + 1
        body = block.group(0)[2:-2]
        for match in _CHAIN.finditer(body):
            parts = tuple(p.strip() for p in match.group(1).split("."))
            line = start_line + body.count("\n", 0, match.start())
            found.append(_Chain(parts, match.group(2) is not None, line))
    return found


def _resolve(variables: Mapping[str, Any], parts: Sequence[str]) -> tuple[bool, Any]:
    value: Any = variables
    for part in parts:
        if not isinstance(value, Mapping) or part not in value:
            return False, None
        value = value[part]
    return True, value


def derive_path(
    text: str, message: str, line: int | None, variables: Mapping[str, Any]
) -> tuple[tuple[str, ...] | None, str | None]:
    """The full dotted path Jinja's ``message`` is about, or (None, why not)."""
    top = _TOP_UNDEFINED.search(message)
    attr = None if top else _ATTR_UNDEFINED.search(message)
    if not top and not attr:
        return None, None
    name = (top or attr).group(1)  # type: ignore[union-attr]
    chains = _chains(text)
    on_line = [c for c in chains if line is not None and c.line == line]
    best: tuple[str, ...] | None = None
    why: str | None = None
    for group in (on_line, chains):
        for chain in group:
            if top:
                if chain.parts[0] != name:
                    continue
                index = 0
            else:
                positions = [i for i, p in enumerate(chain.parts) if i >= 1 and p == name]
                if not positions:
                    continue
                index = positions[0]
                found, value = _resolve(variables, chain.parts[:index])
                if not found or not isinstance(value, Mapping):
                    # a loop variable, a macro argument or a value that is not a mapping
                    why = f"{'.'.join(chain.parts[: index + 1])}: '{chain.parts[index - 1]}' is not a mapping of vars"
                    continue
            if chain.called:
                why = f"{'.'.join(chain.parts)}(): a function, which config vars cannot define"
                continue
            if best is None or len(chain.parts) > len(best):
                best = chain.parts
        if best is not None:
            return best, None
    if top and why is None:
        return (name,), None  # e.g. used only as a {% for %} iterable: a plain stub
    return None, why or f"cannot find where '{name}' is used in the template"


def _set_path(target: dict[str, Any], path: Sequence[str], value: Any) -> bool:
    node = target
    for part in path[:-1]:
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        if not isinstance(child, dict):
            return False
        node = child
    if isinstance(node.get(path[-1]), dict):
        return False
    node[path[-1]] = value
    return True


def missing_in_text(
    text: str, variables: Mapping[str, Any], name: str = "<sql>"
) -> tuple[list[tuple[tuple[str, ...], int | None]], str | None]:
    """Every variable path ``text`` needs beyond ``variables``, and why it still fails (if it does)."""
    from lineage_core.templating import render_sql

    stubs: dict[str, Any] = {}
    needed: list[tuple[tuple[str, ...], int | None]] = []
    for _ in range(_MAX_ROUNDS):
        current = deep_merge(variables, stubs)
        try:
            render_sql(text, current, name)
            return needed, None
        except RenderError as exc:
            path, why = derive_path(text, str(exc), exc.line, current)
            if path is None:
                return needed, why or str(exc)
            if any(p == path for p, _ in needed) or not _set_path(stubs, path, STUB_VALUE):
                return needed, f"{'.'.join(path)}: a stub does not make the template render ({exc})"
            needed.append((path, exc.line))
    return needed, f"more than {_MAX_ROUNDS} undefined variables"


def _read_text(uri: str, local_path: str | None) -> str | None:
    try:
        if local_path is not None:
            with open(local_path, "rb") as handle:
                data = handle.read()
        else:
            from lineage_core.store import read_bytes

            data = read_bytes(uri).data
        return data.decode("utf-8-sig")
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    except Exception:  # a store error: the file is reported as unresolved, the rest goes on
        return None


def find_missing(settings: Settings, errors: Iterable[ErrorRecord]) -> MissingReport:
    """The variables to stub so that every file that failed on an undefined variable renders."""
    from lineage_core.discovery import discover, effective_vars

    render_errors = [e for e in errors if e.kind == "render" and ("is undefined" in e.message or e.variable)]
    if not render_errors:
        return MissingReport()
    files = {f.uri: f for f in discover(settings)}
    used: dict[tuple[str, ...], list[str]] = {}
    report = MissingReport()
    for error in sorted({e.uri: e for e in render_errors}.values(), key=lambda e: e.uri):
        sql_file = files.get(error.uri)
        if sql_file is None:
            report.unresolved.append(f"{error.uri}: not found among the configured sources")
            continue
        local = None if sql_file.root.startswith("gs://") else os.path.join(sql_file.root, sql_file.rel_path)
        text = _read_text(sql_file.uri, local)
        if text is None:
            report.unresolved.append(f"{error.uri}: cannot read the file again")
            continue
        variables = effective_vars(settings, sql_file.source, sql_file.rel_path)
        needed, why = missing_in_text(text, variables, sql_file.rel_path)
        for path, line in needed:
            used.setdefault(path, []).append(f"{error.path}:{line}" if line else error.path)
        if why:
            report.unresolved.append(f"{error.uri}: {why}")
    # `params` alone and `params.x` elsewhere: the mapping wins (`{{ params }}` still renders).
    paths = sorted(used)
    for path in paths:
        if any(len(other) > len(path) and other[: len(path)] == path for other in paths):
            continue
        where = [w for other in paths if other[: len(path)] == path for w in used[other]]
        report.variables.append(MissingVariable(path, tuple(dict.fromkeys(where))))
    return report


# -- writing stubs into lineage.yaml ---------------------------------------------------


_NULL_WORD = re.compile(r":[ \t]+(null|Null|NULL|~)[ \t]*(#|$)", re.M)


def _yaml(indent: tuple[int, int, int] = (2, 2, 0), null: str = "") -> Any:
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap long lines
    mapping, sequence, offset = indent
    yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
    if null:  # the file writes `key: null` (or `~`): keep it so, not `key:`

        def represent_none(representer: Any, data: Any) -> Any:
            return representer.represent_scalar("tag:yaml.org,2002:null", null)

        yaml.representer.add_representer(type(None), represent_none)
    return yaml


def _null_word(text: str) -> str:
    found = _NULL_WORD.search(text)
    return found.group(1) if found else ""


def _dump(yaml: Any, tree: Any) -> str:
    buffer = io.StringIO()
    yaml.dump(tree, buffer)
    return buffer.getvalue()


_INDENTS = ((2, 2, 0), (2, 4, 2), (4, 6, 4), (4, 4, 2), (4, 4, 0), (4, 2, 0), (3, 3, 0))


def _best_indent(text: str) -> tuple[int, int, int]:
    """The indentation that reproduces the file best (a file may mix styles)."""
    best, best_score = _INDENTS[0], -(10**9)
    for indent in _INDENTS:
        yaml = _yaml(indent, _null_word(text))
        out = _dump(yaml, yaml.load(text))
        if out == text:
            return indent
        score = sum(1 for a, b in zip(out.splitlines(), text.splitlines(), strict=False) if a == b)
        score -= abs(len(out.splitlines()) - len(text.splitlines()))
        if score > best_score:
            best, best_score = indent, score
    return best


def _last_leaf(node: Any) -> tuple[Any, Any] | None:
    """(container, key) of the last entry reached by descending into last values."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    found: tuple[Any, Any] | None = None
    while isinstance(node, CommentedMap | CommentedSeq) and len(node):
        key = next(reversed(node)) if isinstance(node, CommentedMap) else len(node) - 1
        found = (node, key)
        node = node[key]
    return found


def _take_trailing(node: Any) -> str | None:
    """Detach the comment lines after the last entry of ``node`` (they belong to what follows)."""
    leaf = _last_leaf(node)
    if leaf is None:
        return None
    container, key = leaf
    entry = container.ca.items.get(key)
    if not entry or len(entry) < 3 or entry[2] is None:
        return None
    token = entry[2]
    value: str = token.value
    first, sep, rest = value.partition("\n")
    if not sep or not rest:
        return None
    token.value = first + "\n"
    return rest


def _put_trailing(node: Any, text: str) -> None:
    from ruamel.yaml.error import CommentMark
    from ruamel.yaml.tokens import CommentToken

    leaf = _last_leaf(node)
    if leaf is None:
        return
    container, key = leaf
    entry = container.ca.items.setdefault(key, [None, None, None, None])
    while len(entry) < 4:
        entry.append(None)
    if entry[2] is None:
        entry[2] = CommentToken("\n" + text, CommentMark(0), None)
    else:
        entry[2].value = entry[2].value.rstrip("\n") + "\n" + text


def _append(mapping: Any, key: str, value: Any, comment: tuple[str, int] | None = None) -> None:
    """Append ``key`` to ``mapping``; comment lines that followed its last entry follow the new one."""
    trailing = _take_trailing(mapping)
    mapping[key] = value
    if comment is not None:
        mapping.yaml_add_eol_comment(comment[0], key, column=comment[1])
    if trailing:
        _put_trailing(mapping, trailing)


def _chain(parts: Sequence[str], comment: str, indent: int, level: int) -> Any:
    """``("a", "b")`` → ``a: {b: TODO  # comment}`` as block-style CommentedMaps."""
    from ruamel.yaml.comments import CommentedMap

    if len(parts) == 1:
        return STUB_VALUE
    inner = CommentedMap()
    inner.fa.set_block_style()
    inner[parts[1]] = _chain(parts[1:], comment, indent, level + 1)
    if len(parts) == 2:
        inner.yaml_add_eol_comment(comment, parts[1], column=_column(parts[1], indent, level + 1))
    return inner


def _column(key: str, indent: int, level: int) -> int:
    """Two spaces after ``key: TODO`` written at nesting ``level`` (``vars`` is level 0)."""
    return indent * level + len(key) + len(": ") + len(STUB_VALUE) + 2


def _describe(used_in: Sequence[str]) -> str:
    shown = ", ".join(used_in[:3]) + (f" and {len(used_in) - 3} more" if len(used_in) > 3 else "")
    return f"# TODO: set; undefined in {shown}" if shown else "# TODO: set"


def add_stubs(text: str, missing: Sequence[MissingVariable], path: str = "lineage.yaml") -> StubResult:
    """``text`` with a ``TODO`` stub under ``vars:`` for each missing path not set there yet."""
    from ruamel.yaml.comments import CommentedMap
    from ruamel.yaml.error import YAMLError

    result = StubResult(text)
    if not missing:
        return result
    indent = _best_indent(text) if text.strip() else (2, 2, 0)
    yaml = _yaml(indent, _null_word(text))
    try:
        tree = yaml.load(text) if text.strip() else None
    except YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML, cannot add stubs: {exc}") from exc
    if tree is None:
        tree = CommentedMap()
        tree["version"] = 1
    if not isinstance(tree, CommentedMap):
        raise ConfigError(f"{path}: the configuration must be a mapping of keys")
    variables = tree.get("vars")
    if variables is None:
        variables = CommentedMap()
        if "vars" in tree:
            tree["vars"] = variables
        else:
            _append(tree, "vars", variables)
    if not isinstance(variables, CommentedMap):
        raise ConfigError(f"{path}: `vars:` must be a mapping to add stubs to it")
    if not len(variables):
        variables.fa.set_block_style()
    for item in missing:
        node = variables
        depth = 0
        while depth < len(item.path) - 1 and isinstance(node.get(item.path[depth]), CommentedMap):
            node = node[item.path[depth]]
            depth += 1
        key = item.path[depth]
        if key in node and node[key] is not None:
            if depth < len(item.path) - 1:
                taken = ".".join(item.path[: depth + 1])
                result.skipped.append(f"{item.dotted}: vars.{taken} is already set to a value that is not a mapping")
            continue  # already has a value (maybe set by hand since): never overwrite
        comment = _describe(item.used_in)
        level = depth + 1
        value = _chain(item.path[depth:], comment, indent[0], level)
        eol = None if isinstance(value, CommentedMap) else (comment, _column(key, indent[0], level))
        if key in node:  # `key:` with no value
            node[key] = value
            if eol:
                node.yaml_add_eol_comment(eol[0], key, column=eol[1])
        else:
            _append(node, key, value, eol)
        result.added.append(item.dotted)
    if result.added:
        result.text = _dump(yaml, tree)
    return result


def write_stubs(config_path: str, missing: Sequence[MissingVariable]) -> StubResult:
    """Add stubs to the file at ``config_path`` (created when missing); write only on change."""
    try:
        with open(config_path, encoding="utf-8") as handle:
            text = handle.read()
    except FileNotFoundError:
        text = ""
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{config_path}: cannot read configuration: {exc}") from exc
    result = add_stubs(text, missing, config_path)
    if result.changed:
        tmp = f"{config_path}.tmp-{os.getpid()}"
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(result.text)
        os.replace(tmp, config_path)
    return result


def unified_diff(before: str, after: str, path: str) -> str:
    import difflib

    return "".join(difflib.unified_diff(before.splitlines(True), after.splitlines(True), f"a/{path}", f"b/{path}"))
