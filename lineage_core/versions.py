"""Versions of installed packages, found without importing them or ``importlib.metadata``.

A build records sqlglot's version in every cache key and in the document's ``generator``; an
incremental build that never parses must not pay for importing sqlglot (a tenth of a second)
or ``importlib.metadata`` (a thirtieth) just to learn it.
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
from functools import lru_cache

_VERSION_LINE = re.compile(r"""^__version__ = version = ['"]([^'"]+)['"]""", re.MULTILINE)


@lru_cache(maxsize=1)
def sqlglot_version() -> str:
    """sqlglot's version, from its ``_version.py``."""
    spec = importlib.util.find_spec("sqlglot")
    for location in (spec.submodule_search_locations or []) if spec else []:
        try:
            with open(os.path.join(location, "_version.py"), encoding="utf-8") as handle:
                found = _VERSION_LINE.search(handle.read())
        except OSError:
            continue
        if found:
            return found.group(1)
    return installed_version("sqlglot") or "unknown"


@lru_cache(maxsize=8)
def installed_version(distribution: str) -> str | None:
    """The version of an installed distribution (None if it is not installed), read from the
    name of its ``.dist-info`` folder on ``sys.path``; ``importlib.metadata`` otherwise."""
    prefix = distribution.replace("-", "_").lower() + "-"
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for name in names:
            if name.endswith(".dist-info") and name.lower().startswith(prefix):
                found = name[len(prefix) : -len(".dist-info")]
                if found[:1].isdigit():
                    return found
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return None
