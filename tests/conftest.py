"""Fixtures shared by the whole suite.

Every lineage document the suite writes under pytest's temporary directory is validated
against the shipped JSON Schema when the session ends (see `_validate_written_documents`).
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "warehouse"


def require(condition: bool, what: str) -> None:
    """Fail in CI, skip elsewhere, when something a test needs is missing."""
    if condition:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{what} is missing in CI: `make test` should have installed it")
    pytest.skip(f"{what} is missing")


def require_tool(name: str) -> str:
    path = shutil.which(name) or (
        str(REPO / ".venv" / "bin" / name) if (REPO / ".venv" / "bin" / name).exists() else None
    )
    require(path is not None, f"the `{name}` command")
    assert path is not None
    return path


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def example_dir() -> Path:
    return EXAMPLE



def _documents_under(root: Path) -> Iterator[tuple[Path, dict[str, object]]]:
    for path in root.rglob("*.json*"):
        if "history" in path.parts or not path.is_file() or path.stat().st_size > 50_000_000:
            continue
        try:
            raw = path.read_bytes()
            if raw[:2] == b"\x1f\x8b":
                raw = gzip.decompress(raw)
            data = json.loads(raw)
        except (OSError, ValueError, EOFError):
            continue  # deliberately broken documents are written by the bad-input tests
        if isinstance(data, dict) and data.get("schema_version") == 1 and "queries" in data and "edges" in data:
            yield path, data


@pytest.fixture(scope="session", autouse=True)
def _validate_written_documents(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    yield
    import jsonschema

    from lineage_core.artifact import schema

    validator = jsonschema.Draft202012Validator(schema())
    problems = []
    for path, data in _documents_under(tmp_path_factory.getbasetemp()):
        errors = sorted(validator.iter_errors(data), key=lambda e: list(e.path))
        if errors:
            problems.append(f"{path}: {errors[0].message} at {list(errors[0].path)}")
    assert not problems, "documents written by the suite do not match the schema:\n" + "\n".join(problems)
