"""Lineage Dashboard: `streamlit run app.py`.

Settings come from the environment, read here and nowhere else:
LINEAGE_URI (path, file:// or gs:// URI of the lineage document; default: the demo's
build/demo/lineage.json, refused on Cloud Run), HEALTH_URI (default: health.json beside it),
LINEAGE_REFRESH_SECONDS (how often to look for a new document, default 60).
"""

import os
from pathlib import Path

from lineage_core.ui import shell
from lineage_core.ui.settings import AppSettings

shell.run(AppSettings.from_env(os.environ), Path(__file__).resolve().parent)
