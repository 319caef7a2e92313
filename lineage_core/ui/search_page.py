"""Search: fuzzy over table names, datasets, labels, owners and SQL file paths.

Permalink: ``?q=orders&kind=table,view``. Choosing a result opens its table view.
"""

from __future__ import annotations

import streamlit as st

from lineage_core.models import NodeKind
from lineage_core.ui import rows, shell, urlstate
from lineage_core.ui.data import load_health, require_lineage
from lineage_core.ui.params import list_param, text_param
from lineage_core.ui.settings import AppSettings
from lineage_core.ui.text import md

KINDS: tuple[NodeKind, ...] = ("table", "view", "external", "dashboard", "app", "job", "path")
LIMIT = 50


def render(settings: AppSettings) -> None:
    st.title("Search")
    loaded = require_lineage(settings)
    params = st.query_params
    urlstate.seed("search_q", text_param(params, "q"))
    urlstate.seed("search_kinds", list_param(params, "kind", KINDS))
    left, right = st.columns([3, 2])
    query = left.text_input("Search", placeholder="table, dataset, label, owner or SQL file…", key="search_q")
    kinds = right.multiselect("Kinds", KINDS, key="search_kinds")
    urlstate.publish({"q": ("search_q", query.strip(), ""), "kind": ("search_kinds", kinds, [])})

    if not loaded.document.nodes:
        st.info("This lineage document has no tables to search.")
        return
    if not query.strip():
        st.caption(f"{len(loaded.graph):,} tables. Type part of a name, a dataset, `team=growth`, an owner or a file path.")
        return
    health = load_health(settings)
    hits = loaded.search_index.search(query, limit=LIMIT * 4 if kinds else LIMIT)
    found = rows.search_rows(loaded, hits, health.statuses if health else None)
    if kinds:
        found = [row for row in found if row["kind"] in kinds][:LIMIT]
    if not found:
        st.warning(f"Nothing matches “{md(query.strip())}”. Try fewer letters or another field (owner, label, file).")
        return
    st.caption(f"{len(found)} best matches · click a column header to sort · select a row to open it")
    event = st.dataframe(
        found,
        hide_index=True,
        width="stretch",
        on_select="rerun",
        selection_mode="single-row",
        key="search_results",
        column_config={
            "upstream": st.column_config.NumberColumn("#upstream", help="direct sources"),
            "downstream": st.column_config.NumberColumn("#downstream", help="direct consumers"),
            "score": st.column_config.ProgressColumn("score", min_value=0, max_value=100, format="%.0f"),
        },
    )
    selected = list(getattr(getattr(event, "selection", None), "rows", []) or [])
    if selected:
        st.switch_page(shell.TABLE, query_params={"table": found[selected[0]]["table"]})

    choice = st.selectbox("Open a result", [row["table"] for row in found], key="search_open")
    open_table, open_graph = st.columns(2)
    if open_table.button("Open table view", type="primary", key="search_open_table"):
        st.switch_page(shell.TABLE, query_params={"table": choice})
    if open_graph.button("Open lineage graph", key="search_open_graph"):
        st.switch_page(shell.GRAPH, query_params={"table": choice})
