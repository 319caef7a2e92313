"""App settings come from the environment (read only in app.py) through AppSettings.from_env."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from lineage_core.ui.settings import DEFAULT_LINEAGE_URI, AppSettings, beside

REPO = Path(__file__).resolve().parents[1]


def test_defaults_to_the_demo_document() -> None:
    settings = AppSettings.from_env({})
    assert settings.lineage_uri == DEFAULT_LINEAGE_URI == "build/demo/lineage.json"
    assert settings.health_uri == "build/demo/health.json"
    assert settings.problem is None and settings.refresh_seconds == 60


@pytest.mark.parametrize(
    ("lineage", "health"),
    [
        ("gs://bucket/lineage/lineage.json", "gs://bucket/lineage/health.json"),
        ("file:///srv/docs/lineage.json.gz", "file:///srv/docs/health.json"),
        ("lineage.json", "health.json"),
    ],
)
def test_health_document_is_found_beside_the_lineage_document(lineage: str, health: str) -> None:
    assert AppSettings.from_env({"LINEAGE_URI": lineage}).health_uri == health
    assert beside(lineage, "health.json") == health


def test_health_uri_overrides() -> None:
    settings = AppSettings.from_env({"LINEAGE_URI": "gs://a/l.json", "HEALTH_URI": "gs://b/h.json"})
    assert settings.health_uri == "gs://b/h.json"


def test_cloud_run_needs_lineage_uri() -> None:
    settings = AppSettings.from_env({"K_SERVICE": "lineage-dashboard"})
    assert settings.on_cloud_run and settings.problem is not None
    assert "LINEAGE_URI is not set" in settings.problem and "gcloud run services update" in settings.problem
    assert AppSettings.from_env({"K_SERVICE": "x", "LINEAGE_URI": "gs://b/l.json"}).problem is None


def test_bad_refresh_interval_is_a_problem() -> None:
    assert AppSettings.from_env({"LINEAGE_REFRESH_SECONDS": "0"}).refresh_seconds == 0
    assert "LINEAGE_REFRESH_SECONDS" in (AppSettings.from_env({"LINEAGE_REFRESH_SECONDS": "soon"}).problem or "")


def test_only_app_py_reads_the_environment_and_pages_stay_thin() -> None:
    mine = [REPO / "app.py", *sorted((REPO / "pages").glob("[0-4]_*.py")), *sorted((REPO / "lineage_core" / "ui").glob("*.py"))]
    for path in mine:
        if path.name == "health_view.py":
            continue  # the data-health page's module (another owner)
        text = path.read_text()
        reads_env = "os.environ" in text or "getenv" in text
        assert reads_env == (path.name == "app.py"), f"{path} must {'' if path.name == 'app.py' else 'not '}read the environment"
    for page in sorted((REPO / "pages").glob("[0-4]_*.py")):
        tree = ast.parse(page.read_text())
        assert len(tree.body) <= 4, f"{page.name} should only call into lineage_core.ui"
        assert "import streamlit" not in page.read_text()
