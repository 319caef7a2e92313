"""The app's frame: page config, the Cloud Run guard, settings for the pages, navigation."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from lineage_core.ui.data import use_settings
from lineage_core.ui.settings import AppSettings

HOME = "pages/0_Home.py"
SEARCH = "pages/1_Search.py"
TABLE = "pages/2_Table.py"
GRAPH = "pages/3_Lineage_graph.py"
ERRORS = "pages/4_Errors_and_coverage.py"
HEALTH = "pages/5_Data_health.py"  # the data-health engineer's page, listed when present
# Material icons ship with Streamlit's frontend; emoji depend on the viewer's fonts.
ICONS = {
    HOME: ":material/home:",
    SEARCH: ":material/search:",
    TABLE: ":material/table_view:",
    GRAPH: ":material/hub:",
    ERRORS: ":material/healing:",
    HEALTH: ":material/monitor_heart:",
}


def run(settings: AppSettings, app_dir: Path) -> None:
    # An emoji favicon: with a material icon (or none, which uses the page's material icon)
    # the browser fetches the favicon SVG from fonts.gstatic.com, which fails offline.
    st.set_page_config(page_title="Lineage Dashboard", page_icon="🧬", layout="wide")
    if settings.problem:
        st.error(f"**The dashboard cannot start.** {settings.problem}", icon=":material/block:")
        st.stop()
    use_settings(settings)
    pages = []
    for path in sorted((app_dir / "pages").glob("*.py")):
        relative = f"pages/{path.name}"
        pages.append(st.Page(relative, icon=ICONS.get(relative), default=relative == HOME))
    st.navigation(pages).run()
