"""App settings from the environment: read once per run in app.py, passed to everything else."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_LINEAGE_URI = "build/demo/lineage.json"
DEFAULT_REFRESH_SECONDS = 60.0


def beside(uri: str, name: str) -> str:
    """The URI of ``name`` in the same folder as ``uri`` (path, file:// or gs://)."""
    head, sep, _ = uri.rpartition("/")
    return f"{head}{sep}{name}" if sep else name


@dataclass(frozen=True)
class AppSettings:
    lineage_uri: str = DEFAULT_LINEAGE_URI
    health_uri: str = "build/demo/health.json"
    # how often the document's generation is checked (a stat, never a download)
    refresh_seconds: float = DEFAULT_REFRESH_SECONDS
    on_cloud_run: bool = False
    problem: str | None = None  # set when the app must not start; say why and how to fix it

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> AppSettings:
        on_cloud_run = bool(environ.get("K_SERVICE"))
        lineage_uri = environ.get("LINEAGE_URI", "").strip()
        problem = None
        if not lineage_uri and on_cloud_run:
            problem = (
                f"LINEAGE_URI is not set. On Cloud Run (service {environ['K_SERVICE']!r}) the app has no "
                "demo document to fall back to: set LINEAGE_URI to the published lineage document, e.g. "
                f"`gcloud run services update {environ['K_SERVICE']} "
                "--update-env-vars LINEAGE_URI=gs://BUCKET/lineage/lineage.json`."
            )
        lineage_uri = lineage_uri or DEFAULT_LINEAGE_URI
        health_uri = environ.get("HEALTH_URI", "").strip() or beside(lineage_uri, "health.json")
        refresh = DEFAULT_REFRESH_SECONDS
        raw_refresh = environ.get("LINEAGE_REFRESH_SECONDS", "").strip()
        if raw_refresh:
            try:
                refresh = max(0.0, float(raw_refresh))
            except ValueError:
                problem = problem or f"LINEAGE_REFRESH_SECONDS must be a number of seconds, not {raw_refresh!r}"
        return cls(lineage_uri, health_uri, refresh, on_cloud_run, problem)
