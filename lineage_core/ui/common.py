"""Helpers the pages share: inert markdown for untrusted text, choosing a table by name."""

from __future__ import annotations

import streamlit as st

from lineage_core.ui import rows
from lineage_core.ui.loader import LoadedDocument
from lineage_core.ui.text import md


def choose_table(loaded: LoadedDocument, name: str, page: str) -> str | None:
    """The table ``name`` resolves to, or None after explaining why not (with suggestions)."""
    name = name.strip()
    if not name:
        st.info("Choose a table: type its name above, or find it on the Search page.")
        return None
    matches = loaded.graph.resolve(name)
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        st.warning(f"“{md(name)}” matches {len(matches)} tables; pick one:")
        for match in matches[:20]:
            st.page_link(page, label=md(match), query_params={"table": match})
        return None
    st.error(f"No table named “{md(name)}” in this lineage document.", icon=":material/search_off:")
    suggestions = rows.suggestions(loaded.search_index, loaded.graph, name)
    if suggestions:
        st.write("Did you mean:")
        for suggestion in suggestions:
            st.page_link(page, label=md(suggestion), query_params={"table": suggestion})
    else:
        st.caption("No similar names either. The table may be new: is the document up to date?")
    return None
