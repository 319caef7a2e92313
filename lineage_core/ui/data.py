"""Loading documents for the pages, shared with the data-health page.

Cached process-wide by (uri, generation): every session shares one decoded document, the
store is asked for the generation at most once per ``refresh_seconds`` (a stat, not a
download), a newly published document appears without a restart, and a broken newest document
falls back to the last good one with a visible warning (see ``loader``).
"""

from __future__ import annotations

import streamlit as st

from lineage_core.models import Query
from lineage_core.ui import health_overlay
from lineage_core.ui.health_overlay import HealthSnapshot
from lineage_core.ui.loader import (
    HOW_TO_BUILD,
    GenerationWatch,
    LastGood,
    LoadedDocument,
    LoadFailure,
    latest_good_from_store,
    load_from_store,
    with_fallback,
)
from lineage_core.ui.settings import AppSettings
from lineage_core.ui.sql_text import SqlText, read_sql
from lineage_core.ui.text import md

__all__ = [
    "LoadFailure",
    "LoadedDocument",
    "app_settings",
    "load_health",
    "load_lineage",
    "require_lineage",
    "sql_text",
    "use_settings",
]

_SETTINGS_KEY = "lineage_app_settings"


def use_settings(settings: AppSettings) -> None:
    """Called by app.py on every run: the pages read settings from here, never from the process environment."""
    st.session_state[_SETTINGS_KEY] = settings


def app_settings() -> AppSettings:
    settings = st.session_state.get(_SETTINGS_KEY)
    if isinstance(settings, AppSettings):
        return settings
    if _leave_pages_directory_mode():
        st.rerun()  # now through app.py, which sets the settings and routes to this same page
    st.error("Start the dashboard with `streamlit run app.py`: the pages get their settings from it.")
    st.stop()
    raise AssertionError("unreachable")  # st.stop() raises


def _leave_pages_directory_mode() -> bool:
    """Cold-start deep links: until some session has run app.py (which calls st.navigation),
    Streamlit treats ``pages/`` as a v1 pages directory and runs a requested page *without*
    app.py. Switch it to st.navigation mode once; the rerun then goes through app.py and
    resolves the same page (page ids are derived from the URL path in both modes)."""
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        return True
    return False


@st.cache_resource(show_spinner=False)
def _watch(uri: str, interval: float) -> GenerationWatch:
    return GenerationWatch(uri, interval)


@st.cache_resource(show_spinner=False)
def _last_good() -> LastGood:
    return LastGood()


@st.cache_resource(show_spinner="Loading the lineage document…", max_entries=2)
def _load(uri: str, generation: str) -> LoadedDocument | LoadFailure:
    # failures are cached too: a broken generation is read once, not on every interaction
    return load_from_store(uri)


def load_lineage(settings: AppSettings) -> LoadedDocument | LoadFailure:
    uri = settings.lineage_uri
    generation, error = _watch(uri, settings.refresh_seconds).current()
    result: LoadedDocument | LoadFailure
    if error is not None:
        result = LoadFailure(uri, None, error)
    elif generation is None:
        result = LoadFailure(uri, None, f"There is no lineage document at {uri}. {HOW_TO_BUILD}")
    else:
        result = _load(uri, generation)
    return with_fallback(result, _last_good(), latest_good_from_store)


def require_lineage(settings: AppSettings) -> LoadedDocument:
    """The document, or a clear error and the end of this run; shows the last-good warning."""
    result = load_lineage(settings)
    if isinstance(result, LoadFailure):
        st.error(f"**The lineage document cannot be shown.** {md(result.message)}", icon=":material/block:")
        st.caption(f"LINEAGE\\_URI = {md(result.uri)}")
        st.stop()
    if result.warning:
        st.warning(md(result.warning), icon=":material/warning:")
    return result


@st.cache_resource(show_spinner=False, max_entries=2)
def _health(uri: str, generation: str) -> HealthSnapshot | str | None:
    return health_overlay.load_health(uri)


def load_health(settings: AppSettings) -> HealthSnapshot | None:
    """The health statuses, or None when there is no (readable) health document."""
    uri = settings.health_uri
    generation, error = _watch(uri, settings.refresh_seconds).current()
    if error is not None or generation is None:
        return None
    result = _health(uri, generation)
    if isinstance(result, str):
        st.caption(f"Health: {md(result)}")
        return None
    return result


@st.cache_data(show_spinner=False, ttl=60, max_entries=256)
def _sql_text(uri: str, line_start: int, line_end: int, document_uri: str) -> SqlText:
    return read_sql(Query(id=uri, uri=uri, path=uri, line_start=line_start, line_end=line_end), document_uri)


def sql_text(query: Query, document_uri: str) -> SqlText:
    """The SQL of ``query`` from its file (cached a minute), or why it cannot be shown."""
    return _sql_text(query.uri, query.line_start, query.line_end, document_uri)
