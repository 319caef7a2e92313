"""``type: dbt_manifest`` sources of ``lineage build``: a dbt project's ``target/manifest.json``.

Every model and snapshot becomes a query whose target is its relation and whose sources come
from its compiled SQL (see :mod:`lineage_core.discovery.dbt_manifest`); dbt sources become
``external`` nodes, exposures ``dashboard``/``app``/``job`` nodes with their owner, tags the
``dbt_tags`` label. So dbt models and plain SQL files of the same warehouse land in one graph.

.. code-block:: yaml

    sources:
      - name: dbt
        type: dbt_manifest
        path: ../analytics-dbt            # the dbt project, relative to lineage.yaml (default .)
        options:
          path: target/manifest.json      # relative to the source's path (default)
          dialect: bigquery               # default: the source's dialect, else the manifest's adapter
"""

from __future__ import annotations

import dataclasses
import os

import msgspec

from lineage_core.config import Settings, SourceSettings
from lineage_core.discovery.consumers._common import Builder, Collected
from lineage_core.errors import LineageError
from lineage_core.models import Node


class DbtManifestOptions(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    path: str = "target/manifest.json"
    dialect: str | None = None

    def __post_init__(self) -> None:
        if not self.path.strip():
            raise ValueError("path must not be empty")
        if self.dialect is not None and not self.dialect.strip():
            raise ValueError("dialect must not be empty")


def manifest_location(settings: Settings, source: SourceSettings, options: DbtManifestOptions) -> str:
    """Where the manifest is: ``options.path`` under the source's path (itself relative to lineage.yaml)."""
    from lineage_core.discovery.sql_files import source_root

    if "://" in options.path or os.path.isabs(options.path):
        return options.path
    root = source_root(settings, source)
    if "://" in root:
        return root.rstrip("/") + "/" + options.path.lstrip("/")
    return os.path.normpath(os.path.join(root, options.path))


def _project_dir(location: str) -> str:
    """The dbt project of ``.../project/target/manifest.json``: model URIs are ``project/models/x.sql``."""
    directory = location.rsplit("/", 1)[0] if "://" in location else os.path.dirname(location)
    parent, _, leaf = directory.rstrip("/").rpartition("/" if "://" in location else os.sep)
    project = parent if leaf == "target" else directory
    return "" if project in ("", ".") else project


def collect_dbt_manifest(settings: Settings, source: SourceSettings, options: DbtManifestOptions) -> Collected:
    from lineage_core.discovery.dbt_manifest import import_manifest, load_manifest

    location = manifest_location(settings, source, options)
    try:
        manifest = load_manifest(location)
    except LineageError as exc:
        builder = Builder(source, settings, "dbt")
        builder.error(location, options.path, None, "read", f"source '{source.name}' (dbt_manifest): {exc}")
        return builder.finish()
    imported = import_manifest(
        manifest,
        settings,
        source_name=source.name,
        dialect=options.dialect or source.dialect,
        project_dir=_project_dir(location),
    )
    extra = {"source": source.name, **source.labels}
    nodes = {
        node.id: Node(node.id, node.kind, {**extra, **node.labels}, node.owners, node.url, node.description)
        for node in imported.nodes
    }
    results = [
        dataclasses.replace(
            result, query=dataclasses.replace(result.query, labels={**source.labels, **result.query.labels})
        )
        for result in imported.results
    ]
    return Collected(nodes=nodes, results=results)
