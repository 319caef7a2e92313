"""The core stays pure: only the modules named here may import these packages."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parents[1] / "lineage_core"

# package prefix → the only places (relative to lineage_core/) allowed to import it
RULES = {
    "streamlit": ("ui/",),
    "pyvis": ("render/",),
    "google.cloud.storage": ("store/gcs.py",),
    "google.cloud.bigquery": ("health/probes/bigquery.py", "discovery/consumers/bigquery_jobs.py"),
    "google.cloud": ("store/gcs.py", "health/probes/bigquery.py", "discovery/consumers/bigquery_jobs.py"),
    "google.api_core": ("store/", "health/probes/bigquery.py", "discovery/consumers/bigquery_jobs.py"),
    "google.auth": ("store/", "health/probes/bigquery.py", "discovery/consumers/bigquery_jobs.py"),
    "sqlglot": ("extract/",),
}


def imports_of(path: Path) -> list[tuple[str, int]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, node.lineno))
    return found


def violations() -> list[str]:
    problems = []
    for path in sorted(CORE.rglob("*.py")):
        rel = path.relative_to(CORE).as_posix()
        for module, line in imports_of(path):
            for prefix, allowed in RULES.items():
                if (module == prefix or module.startswith(prefix + ".")) and not rel.startswith(allowed):
                    problems.append(f"lineage_core/{rel}:{line} imports {module} (only {', '.join(allowed)} may)")
    return problems


def test_core_imports_follow_the_layering() -> None:
    assert violations() == []


@pytest.mark.parametrize("module", ["streamlit", "pyvis.network", "google.cloud.storage"])
def test_the_rule_catches_a_violation(tmp_path: Path, module: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The checker itself must notice a forbidden import (so the test above can fail)."""
    fake_core = tmp_path / "lineage_core"
    (fake_core / "graph").mkdir(parents=True)
    (fake_core / "graph" / "bad.py").write_text(f"import {module}\n")
    monkeypatch.setattr(sys.modules[__name__], "CORE", fake_core)
    assert any(module in v for v in violations())


def test_entry_points_are_the_only_readers_of_the_environment() -> None:
    """Configuration comes from the environment only in cli/ and app.py (DESIGN.md)."""
    offenders = []
    for path in sorted(CORE.rglob("*.py")):
        rel = path.relative_to(CORE).as_posix()
        if rel.startswith(("cli/", "ui/settings.py")):
            continue
        text = path.read_text(encoding="utf-8")
        if "os.environ" in text or "os.getenv" in text:
            offenders.append(rel)
    # The GCS backend reads STORAGE_EMULATOR_HOST as google-cloud-storage itself does.
    assert [o for o in offenders if not o.startswith(("store/", "health/probes/"))] == []
