"""Targets named by a file's path, for repositories whose SQL files are bare SELECTs.

Some warehouses keep one SELECT per table and let the scheduler write its result:
`sql/<project>/<dataset>/<table>/query.sql` (Mozilla's bigquery-etl), `models/<dataset>/<table>.sql`.
The SQL cannot say where its rows go, but the path does; a source's `select_target` pattern
says how to read it. It applies only to files whose SQL writes no table of its own.
"""

from __future__ import annotations

import re
from functools import lru_cache

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


class PathPatternError(ValueError):
    """A `select_target` pattern that cannot be used."""


@lru_cache(maxsize=64)
def compile_pattern(pattern: str) -> tuple[re.Pattern[str], tuple[str, ...]]:
    """``{name}`` matches one path segment, ``*`` part of one, ``**/`` any folders."""
    names: list[str] = []
    out: list[str] = []
    position = 0
    for match in _PLACEHOLDER.finditer(pattern):
        out.append(_glob(pattern[position : match.start()]))
        name = match.group(1)
        if name in names:
            raise PathPatternError(f"placeholder {{{name}}} appears twice in {pattern!r}")
        names.append(name)
        out.append(f"(?P<{name}>[^/]+)")
        position = match.end()
    out.append(_glob(pattern[position:]))
    if not names:
        raise PathPatternError(f"{pattern!r} has no placeholder such as {{table}}")
    if "{" in "".join(out).replace("(?P<", "") or "}" in pattern[position:]:
        raise PathPatternError(f"{pattern!r}: placeholders are {{name}} with letters, digits and _")
    return re.compile("".join(out) + r"\Z"), tuple(names)


def _glob(text: str) -> str:
    parts = re.split(r"(\*\*/|\*)", text)
    return "".join("(?:.*/)?" if p == "**/" else "[^/]*" if p == "*" else re.escape(p) for p in parts)


def check_template(pattern: str, table: str | None) -> None:
    """Raise PathPatternError when the table template names a placeholder the path lacks."""
    _, names = compile_pattern(pattern)
    for used in _PLACEHOLDER.findall(table or ""):
        if used not in names:
            raise PathPatternError(f"table template {table!r} uses {{{used}}}, which {pattern!r} does not capture")


def path_target(pattern: str, table: str | None, rel_path: str) -> str | None:
    """The table ``rel_path`` names under ``pattern`` (placeholders joined by dots, or the
    ``table`` template), or None when the path does not match."""
    regex, names = compile_pattern(pattern)
    found = regex.match(rel_path)
    if found is None:
        return None
    values = found.groupdict()
    if table:
        return _PLACEHOLDER.sub(lambda m: values[m.group(1)], table)
    return ".".join(values[name] for name in names)
