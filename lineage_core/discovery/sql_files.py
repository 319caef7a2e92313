"""Discover the SQL files of every configured source, in a stable order.

A source is a local directory (relative to the config file, or to the repository given on
the command line) or a ``gs://bucket/prefix/``; include/exclude are globs relative to it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lineage_core.config import Settings, SourceSettings, deep_merge
from lineage_core.discovery.walk import DirectoryListings, matches, walk_matching
from lineage_core.errors import ConfigError


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


def source_root(settings: Settings, source: SourceSettings) -> str:
    if source.path.startswith("gs://"):
        return source.path
    if settings.base_dir.startswith("gs://"):  # `lineage build gs://bucket/sql/`
        base = settings.base_dir.rstrip("/")
        return base if source.path in ("", ".") else f"{base}/{source.path.strip('/')}"
    root = Path(settings.base_dir) / source.path
    return root.as_posix()


def _local_files(
    root: str, source: SourceSettings, cache_dir: str | None, walks: list[DirectoryListings] | None
) -> list[str]:
    if not os.path.isdir(root):
        what = "is not a directory" if os.path.exists(root) else "does not exist"
        raise ConfigError(f"source '{source.name}': directory {root} {what}")
    if cache_dir is None:
        return walk_matching(root, source.include, source.exclude)
    listings = DirectoryListings.for_walk(cache_dir, root, source.include, source.exclude)
    found = walk_matching(root, source.include, source.exclude, listings=listings)
    listings.save()
    if walks is not None:
        walks.append(listings)
    return found


def _gcs_files(root: str, source: SourceSettings) -> list[str]:
    from lineage_core.store import list_uris

    prefix = root.rstrip("/") + "/"
    rels = [uri[len(prefix) :] for uri in list_uris(prefix)]
    return [r for r in rels if matches(r, source.include) and not matches(r, source.exclude)]


def discover(
    settings: Settings, cache_dir: str | None = None, walks: list[DirectoryListings] | None = None
) -> list[SqlFile]:
    """Every SQL file of every source, sorted by (source, path) so builds are reproducible.

    With a ``cache_dir``, directory listings are remembered there (see ``DirectoryListings``);
    ``walks`` receives them (what each local walk looked at).
    """
    files: list[SqlFile] = []
    for source in settings.sources:
        if source.type != "sql":
            continue
        root = source_root(settings, source)
        rels = _gcs_files(root, source) if root.startswith("gs://") else _local_files(root, source, cache_dir, walks)
        dialect = source.dialect or settings.dialect
        files.extend(SqlFile(source.name, root, rel, dialect) for rel in sorted(rels))
    return files


class VariablesOfFiles:
    """``effective_vars`` for many files: one merged mapping (the same object) per distinct
    source and set of matching file globs, so callers can key work by it."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._merged: dict[tuple[str, tuple[int, ...]], dict[str, Any]] = {}

    def __call__(self, source_name: str, rel_path: str) -> dict[str, Any]:
        globs = tuple(
            index
            for source in self.settings.sources
            if source.name == source_name
            for index, override in enumerate(source.files)
            if matches(rel_path, (override.match,))
        )
        key = (source_name, globs)
        merged = self._merged.get(key)
        if merged is None:
            merged = self._merged[key] = effective_vars(self.settings, source_name, rel_path)
        return merged


def effective_vars(settings: Settings, source_name: str, rel_path: str) -> dict[str, Any]:
    """Jinja variables for one file: global < source < matching file globs.

    (Airflow's template context lies beneath them all: see ``lineage_core.airflow_context``.)
    """
    merged = dict(settings.vars)
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
