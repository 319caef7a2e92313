"""Discover the SQL files of every configured source, in a stable order.

A source is a local directory (relative to the config file, or to the repository given on
the command line) or a ``gs://bucket/prefix/``; include/exclude are globs relative to it.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lineage_core.config import Settings, SourceSettings, deep_merge
from lineage_core.errors import ConfigError

# Airflow's date macros, so templates that use them render without a config entry.
# A config's `vars` overrides any of them.
AIRFLOW_DEFAULTS: Mapping[str, Any] = {
    "ds": "2000-01-01",
    "ds_nodash": "20000101",
    "ts": "2000-01-01T00:00:00+00:00",
    "ts_nodash": "20000101T000000",
    "prev_ds": "1999-12-31",
    "next_ds": "2000-01-02",
    "data_interval_start": "2000-01-01T00:00:00+00:00",
    "data_interval_end": "2000-01-02T00:00:00+00:00",
}


@dataclass(frozen=True)
class SqlFile:
    source: str  # the source's name
    root: str  # the source's root as configured (a path or gs:// prefix)
    rel_path: str  # posix path relative to root
    dialect: str

    @property
    def uri(self) -> str:
        if self.root.startswith("gs://"):
            return self.root.rstrip("/") + "/" + self.rel_path
        return f"{self.root.rstrip('/')}/{self.rel_path}" if self.root not in ("", ".") else self.rel_path

    @property
    def id(self) -> str:
        return f"{self.source}:{self.rel_path}"


def matches(rel_path: str, patterns: Sequence[str]) -> bool:
    """gitignore-style globs: `**/x` also matches `x` at the top level."""
    for pattern in patterns:
        if fnmatch.fnmatchcase(rel_path, pattern):
            return True
        if pattern.startswith("**/") and fnmatch.fnmatchcase(rel_path, pattern[3:]):
            return True
    return False


def walk_matching(
    root: str | Path, include: Sequence[str], exclude: Sequence[str], skip_dirs: Collection[str] = ()
) -> list[str]:
    """Posix paths under ``root`` matching ``include`` and not ``exclude``, in a stable order.

    os.walk + string joins: pathlib costs more than the rest of a warm build together.
    Directories named in ``skip_dirs`` or starting with a dot are not entered when given.
    """
    found = []
    for directory, subdirs, names in os.walk(root):
        if skip_dirs:
            subdirs[:] = [d for d in subdirs if d not in skip_dirs and not d.startswith(".")]
        subdirs.sort()
        rel_dir = os.path.relpath(directory, root).replace(os.sep, "/")
        prefix = "" if rel_dir == "." else rel_dir + "/"
        for name in sorted(names):
            rel = prefix + name
            if matches(rel, include) and not matches(rel, exclude):
                found.append(rel)
    return found


def source_root(settings: Settings, source: SourceSettings) -> str:
    if source.path.startswith("gs://"):
        return source.path
    if settings.base_dir.startswith("gs://"):  # `lineage build gs://bucket/sql/`
        base = settings.base_dir.rstrip("/")
        return base if source.path in ("", ".") else f"{base}/{source.path.strip('/')}"
    root = Path(settings.base_dir) / source.path
    return root.as_posix()


def _local_files(root: str, source: SourceSettings) -> list[str]:
    if not os.path.isdir(root):
        what = "is not a directory" if os.path.exists(root) else "does not exist"
        raise ConfigError(f"source '{source.name}': directory {root} {what}")
    return walk_matching(root, source.include, source.exclude)


def _gcs_files(root: str, source: SourceSettings) -> list[str]:
    from lineage_core.store import list_uris

    prefix = root.rstrip("/") + "/"
    rels = [uri[len(prefix) :] for uri in list_uris(prefix)]
    return [r for r in rels if matches(r, source.include) and not matches(r, source.exclude)]


def discover(settings: Settings) -> list[SqlFile]:
    """Every SQL file of every source, sorted by (source, path) so builds are reproducible."""
    files: list[SqlFile] = []
    for source in settings.sources:
        if source.type != "sql":
            continue
        root = source_root(settings, source)
        rels = _gcs_files(root, source) if root.startswith("gs://") else _local_files(root, source)
        dialect = source.dialect or settings.dialect
        files.extend(SqlFile(source.name, root, rel, dialect) for rel in sorted(rels))
    return files


def effective_vars(settings: Settings, source_name: str, rel_path: str) -> dict[str, Any]:
    """Jinja variables for one file: Airflow defaults < global < source < matching file globs."""
    merged = deep_merge(AIRFLOW_DEFAULTS, settings.vars)
    for source in settings.sources:
        if source.name != source_name:
            continue
        merged = deep_merge(merged, source.vars)
        for override in source.files:
            if matches(rel_path, (override.match,)):
                merged = deep_merge(merged, override.vars)
    return merged


def query_labels(settings: Settings, source_name: str, rel_path: str) -> dict[str, str]:
    """Labels of one file's query: its source's, then those of every matching `files:` glob."""
    labels: dict[str, str] = {}
    for source in settings.sources:
        if source.name != source_name:
            continue
        labels.update(source.labels)
        for override in source.files:
            if override.labels and matches(rel_path, (override.match,)):
                labels.update(override.labels)
    return labels
