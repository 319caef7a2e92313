"""Jinja rendering of SQL files, sandboxed and strict.

An undefined variable must never become an empty string inside a table name (that would
invent tables), so rendering uses ``StrictUndefined`` and reports the variable and line.
Templates come from the warehouse repository, which we do not trust to run code: hence the
``SandboxedEnvironment``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from lineage_core.airflow_context import with_airflow_context
from lineage_core.errors import RenderError

_UNDEFINED_NAME = re.compile(r"'([^']+)' is undefined|has no attribute '([^']+)'")
_JINJA_MARKERS = ("{{", "{%", "{#")
# `{{ name }}` / `{{ params.project }}`: most Airflow SQL uses nothing else, and compiling a
# Jinja template per file costs more than parsing its SQL. Such templates take a fast path
# with the same result; anything else (filters, tags, calls) goes through Jinja.
_SIMPLE_EXPRESSION = re.compile(r"\{\{\s*([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)\s*\}\}")
_SCALARS = (str, int, float, bool)


def has_template_syntax(text: str) -> bool:
    return any(marker in text for marker in _JINJA_MARKERS)


def _ds_nodash(value: Any) -> str:
    return str(value).replace("-", "")


if TYPE_CHECKING:
    from jinja2.sandbox import SandboxedEnvironment


@lru_cache(maxsize=1)
def _environment() -> SandboxedEnvironment:
    # Imported on first use: most SQL files have no template, and a worker analyzing only
    # those never pays for importing Jinja.
    import jinja2
    from jinja2.sandbox import SandboxedEnvironment

    env = SandboxedEnvironment(
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        optimized=False,  # constant folding costs more compile time than it saves on one render
    )
    env.filters["ds_nodash"] = _ds_nodash
    return env


def _line_of(error: BaseException, name: str) -> int | None:
    line = getattr(error, "lineno", None)
    if isinstance(line, int):
        return line
    tb = error.__traceback__
    found: int | None = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == name or tb.tb_frame.f_code.co_filename == "<template>":
            found = tb.tb_lineno
        tb = tb.tb_next
    return found


class _NotSimple(Exception):
    """The template needs real Jinja."""


def _lookup(variables: Mapping[str, Any], dotted: str) -> str:
    value: Any = variables
    for part in dotted.split("."):
        if not isinstance(value, Mapping) or part not in value:
            raise _NotSimple  # Jinja decides: attribute access, or a precise undefined error
        value = value[part]
    if not isinstance(value, _SCALARS):
        raise _NotSimple
    return str(value)


def _render_simple(text: str, variables: Mapping[str, Any]) -> str | None:
    if "{%" in text or "{#" in text:
        return None
    if text.count("{{") != len(_SIMPLE_EXPRESSION.findall(text)):
        return None
    try:
        return _SIMPLE_EXPRESSION.sub(lambda m: _lookup(variables, m.group(1)), text)
    except _NotSimple:
        return None


def render_sql(text: str, variables: Mapping[str, Any] | None = None, name: str = "<sql>") -> str:
    """Render ``text`` with ``variables`` over Airflow's template context (fixed dates).

    Raise :class:`RenderError` naming line and variable.
    """
    if not has_template_syntax(text):
        return text
    variables = with_airflow_context(variables or {})
    fast = _render_simple(text, variables)
    if fast is not None:
        return fast
    env = _environment()
    import jinja2

    try:
        template = env.from_string(text)
        return template.render(**variables)
    except jinja2.TemplateSyntaxError as exc:
        raise RenderError(f"Jinja syntax error: {exc.message}", line=exc.lineno) from exc
    except jinja2.UndefinedError as exc:
        match = _UNDEFINED_NAME.search(str(exc.message or exc))
        variable = (match.group(1) or match.group(2)) if match else None
        raise RenderError(
            f"undefined Jinja variable: {exc.message}", line=_line_of(exc, name), variable=variable
        ) from exc
    except jinja2.exceptions.SecurityError as exc:
        raise RenderError(f"template tried an unsafe operation: {exc}") from exc
    except Exception as exc:  # any other template failure is this file's error, not the batch's
        raise RenderError(f"template failed: {type(exc).__name__}: {exc}", line=_line_of(exc, name)) from exc
