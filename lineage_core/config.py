"""lineage.yaml → validated, frozen settings.

A config file only holds what SQL cannot say: Jinja variables, sources, owners, labels,
freshness rules. Every mistake in it is reported with the file, the line and the key.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from lineage_core.errors import ConfigError

DEFAULT_CONFIG_NAME = "lineage.yaml"


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FileVars(_Frozen):
    match: str
    vars: dict[str, Any] = Field(default_factory=dict)


class SourceSettings(_Frozen):
    name: str = "default"
    type: Literal["sql"] = "sql"
    path: str = "."
    include: tuple[str, ...] = ("**/*.sql",)
    exclude: tuple[str, ...] = ()
    dialect: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    vars: dict[str, Any] = Field(default_factory=dict)
    files: tuple[FileVars, ...] = ()


class TableSettings(_Frozen):
    select: str
    owners: tuple[str, ...] = ()
    labels: dict[str, str] = Field(default_factory=dict)
    description: str | None = None

    @field_validator("labels", mode="before")
    @classmethod
    def _labels_as_text(cls, value: Any) -> Any:
        if isinstance(value, Mapping):
            return {str(k): str(v) for k, v in value.items()}
        return value


class Settings(_Frozen):
    version: Literal[1] = 1
    dialect: str = "bigquery"
    default_project: str | None = None
    default_dataset: str | None = None
    vars: dict[str, Any] = Field(default_factory=dict)
    sources: tuple[SourceSettings, ...] = ()
    tables: tuple[TableSettings, ...] = ()
    columns_schema: str | None = None
    history_keep: int = Field(default=30, ge=1, le=10_000)
    # Health settings are validated by lineage_core.health.rules (they have their own vocabulary).
    freshness: tuple[dict[str, Any], ...] = ()
    subscriptions: tuple[dict[str, Any], ...] = ()
    probe: dict[str, Any] = Field(default_factory=dict)
    dashboard_url: str | None = None
    # Where the config came from: relative paths resolve against this directory.
    base_dir: str = Field(default=".", exclude=True)
    config_path: str | None = Field(default=None, exclude=True)

    def digest(self) -> str:
        payload = json.dumps(self.model_dump(mode="json"), sort_keys=True, default=str)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]

    def with_root(self, root: str | Path) -> Settings:
        """Resolve sources against ``root`` (the SQL repository given on the command line)."""
        sources = self.sources or (SourceSettings(name="default", path="."),)
        return self.model_copy(update={"base_dir": str(root), "sources": sources})


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


def _explain(error: ValidationError, tree: Any, path: str) -> str:
    lines = []
    for item in error.errors():
        loc = [p for p in item["loc"] if not (isinstance(p, str) and p.startswith("function-"))]
        key = ".".join(str(p) for p in loc) or "(top level)"
        line = _line_of(tree, loc)
        where = f"{path}:{line}" if line else path
        if item["type"] == "extra_forbidden":
            message = f"unknown key '{loc[-1]}'"
        else:
            message = item["msg"]
        lines.append(f"{where}: {key}: {message}")
    return "invalid configuration:\n  " + "\n  ".join(lines)


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
    data.pop("base_dir", None)
    data.pop("config_path", None)
    try:
        settings = Settings(**data)
    except ValidationError as exc:
        raise ConfigError(_explain(exc, tree, path)) from exc
    return settings.model_copy(update={"base_dir": base_dir, "config_path": path})


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
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{config_path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except OSError as exc:
        raise ConfigError(f"{config_path}: cannot read configuration: {exc.strerror}") from exc
    return parse_settings(text, str(config_path), str(config_path.parent))
