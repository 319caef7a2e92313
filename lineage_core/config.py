"""lineage.yaml → validated, frozen settings.

A config file only holds what SQL cannot say: Jinja variables, sources, owners, labels,
freshness rules. Every mistake in it is reported with the file, the line and the key.
Validation uses msgspec: it costs next to nothing to import, and `lineage build` on a warm
cache must not spend its time importing a validation library.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from lineage_core.errors import ConfigError

DEFAULT_CONFIG_NAME = "lineage.yaml"


class FileVars(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Variables and labels for the files of a source that match a glob."""

    match: str
    vars: dict[str, Any] = {}
    labels: dict[str, str] = {}


class SelectTarget(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Where a SELECT-only file's rows go, read from its path (see lineage_core.path_targets)."""

    path: str  # e.g. "{project}/{dataset}/{table}/query.sql"
    table: str | None = None  # e.g. "{project}.{dataset}.{table}" (default: placeholders joined by dots)


class SourceSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    name: str = "default"
    # "sql": a directory of SQL files. Other types (apps, BI tools, job logs) are read by
    # lineage_core.discovery.consumers, with their own settings under `options`.
    type: str = "sql"
    options: dict[str, Any] = {}
    path: str = "."
    include: tuple[str, ...] = ("**/*.sql",)
    exclude: tuple[str, ...] = ()
    dialect: str | None = None
    labels: dict[str, str] = {}
    vars: dict[str, Any] = {}
    files: tuple[FileVars, ...] = ()
    select_target: SelectTarget | None = None


class TableSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    select: str
    owners: tuple[str, ...] = ()
    labels: dict[str, str] = {}
    description: str | None = None


class Settings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    version: Literal[1] = 1
    dialect: str = "bigquery"
    default_project: str | None = None
    default_dataset: str | None = None
    vars: dict[str, Any] = {}
    sources: tuple[SourceSettings, ...] = ()
    tables: tuple[TableSettings, ...] = ()
    columns_schema: str | None = None
    history_keep: Annotated[int, msgspec.Meta(ge=1, le=10_000)] = 30
    max_file_bytes: Annotated[int, msgspec.Meta(ge=1)] = 4 * 1024 * 1024
    # Health settings are validated by lineage_core.health.rules (they have their own vocabulary).
    freshness: tuple[dict[str, Any], ...] = ()
    subscriptions: tuple[dict[str, Any], ...] = ()
    probe: dict[str, Any] = {}
    notify: dict[str, Any] = {}
    dashboard_url: str | None = None
    # Where the config came from (not keys of the file): relative paths resolve against base_dir.
    base_dir: str = "."
    config_path: str | None = None

    def digest(self) -> str:
        data = msgspec.to_builtins(self)
        data.pop("base_dir", None)
        data.pop("config_path", None)
        payload = json.dumps(data, sort_keys=True, default=str)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]

    def with_root(self, root: str | Path) -> Settings:
        """Resolve sources against ``root`` (the SQL repository given on the command line)."""
        sources = self.sources or (SourceSettings(name="default", path="."),)
        return msgspec.structs.replace(self, base_dir=str(root), sources=sources)

    def replace(self, **changes: Any) -> Settings:
        return msgspec.structs.replace(self, **changes)


_INTERNAL_KEYS = ("base_dir", "config_path")


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Merge nested dicts: ``override`` wins, mappings are merged key by key."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _plain(node: Any) -> Any:
    if isinstance(node, Mapping):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list | tuple):
        return [_plain(v) for v in node]
    # ruamel wraps scalars (ScalarFloat, ScalarBoolean…); msgspec wants the plain types
    for plain in (bool, int, float, str):
        if isinstance(node, plain) and type(node) is not plain:
            return plain(node)
    return node


def _line_of(tree: Any, loc: Sequence[int | str]) -> int | None:
    """The 1-based line of the YAML node at ``loc`` (or of its nearest existing parent)."""
    line: int | None = None
    node = tree
    for key in loc:
        lc = getattr(node, "lc", None)
        try:
            if isinstance(node, Mapping) and key in node:
                line = lc.key(key)[0] + 1 if lc is not None else line
                node = node[key]
            elif isinstance(node, list) and isinstance(key, int) and key < len(node):
                line = lc.item(key)[0] + 1 if lc is not None else line
                node = node[key]
            else:
                break
        except (KeyError, IndexError, TypeError, AttributeError):
            break
    return line


_PATH_PART = re.compile(r"\.([A-Za-z_][\w-]*)|\[(\d+)\]|\[\.\.\.\]")
_UNKNOWN_FIELD = re.compile(r"Object contains unknown field `([^`]+)`")
_MISSING_FIELD = re.compile(r"Object missing required field `([^`]+)`")


def _explain(error: msgspec.ValidationError, tree: Any, path: str) -> str:
    """`Expected int, got str - at $.sources[0].x` → `lineage.yaml:4: sources.0.x: ...`."""
    text = str(error)
    message, _, where = text.rpartition(" - at ")
    if not message:
        message, where = text, "$"
    loc: list[int | str] = [
        m.group(1) if m.group(1) is not None else int(m.group(2))
        for m in _PATH_PART.finditer(where)
        if m.group(0) != "[...]"
    ]
    unknown = _UNKNOWN_FIELD.match(message)
    missing = _MISSING_FIELD.match(message)
    if unknown:
        loc.append(unknown.group(1))
        message = f"unknown key '{unknown.group(1)}'"
    elif missing:
        loc.append(missing.group(1))
        message = "required key is missing"
    key = ".".join(str(p) for p in loc) or "(top level)"
    line = _line_of(tree, loc)
    return (
        f"invalid configuration:\n  {path}:{line}: {key}: {message}"
        if line
        else f"invalid configuration:\n  {path}: {key}: {message}"
    )


def parse_settings(text: str, path: str = DEFAULT_CONFIG_NAME, base_dir: str = ".") -> Settings:
    yaml = YAML(typ="rt")
    try:
        tree = yaml.load(text)
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else path
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{where}: not valid YAML: {problem}") from exc
    if tree is None:
        tree = {}
    if not isinstance(tree, Mapping):
        raise ConfigError(f"{path}:1: the configuration must be a mapping of keys, not {type(tree).__name__}")
    data = _plain(tree)
    for key in _INTERNAL_KEYS:
        if key in data:
            raise ConfigError(f"{path}:{_line_of(tree, [key])}: {key}: unknown key '{key}'")
    try:
        settings = msgspec.convert(data, Settings, str_keys=True)
    except msgspec.ValidationError as exc:
        raise ConfigError(_explain(exc, tree, path)) from exc
    _check_select_targets(settings, tree, path)
    return msgspec.structs.replace(settings, base_dir=base_dir, config_path=path)


def _check_select_targets(settings: Settings, tree: Any, path: str) -> None:
    from lineage_core.path_targets import PathPatternError, check_template

    for index, source in enumerate(settings.sources):
        if source.select_target is None:
            continue
        try:
            check_template(source.select_target.path, source.select_target.table)
        except PathPatternError as exc:
            loc: list[int | str] = ["sources", index, "select_target"]
            raise ConfigError(
                f"invalid configuration:\n  {path}:{_line_of(tree, loc)}: sources.{index}.select_target: {exc}"
            ) from exc


def load_settings(path: str | Path | None, *, required: bool = False) -> Settings:
    """Read ``path`` (default ``lineage.yaml`` here if present, else built-in defaults)."""
    if path is None:
        default = Path(DEFAULT_CONFIG_NAME)
        if not default.is_file():
            if required:
                raise ConfigError(f"no {DEFAULT_CONFIG_NAME} in the current directory; pass --config FILE")
            return Settings()
        path = default
    config_path = Path(path)
    try:
        text = config_path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(f"{config_path}: configuration file not found") from exc
    except IsADirectoryError as exc:
        raise ConfigError(f"{config_path}: is a directory, expected a YAML file") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{config_path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except OSError as exc:
        raise ConfigError(f"{config_path}: cannot read configuration: {exc.strerror}") from exc
    return parse_settings(text, str(config_path), str(config_path.parent))
