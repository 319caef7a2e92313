"""Lineage graph: the neighborhood of one table, capped, with the same nodes as a table beside it.

Permalink: ``?table=proj.ds.t&up=1&down=2&cap=150&color=dataset``.
"""

from __future__ import annotations

import streamlit as st

from lineage_core.render.colors import COLOR_BY, ColorBy
from lineage_core.render.pyvis_html import render_neighborhood
from lineage_core.ui import rows, shell, urlstate
from lineage_core.ui.common import choose_table
from lineage_core.ui.data import load_health, require_lineage
from lineage_core.ui.params import choice_param, int_param, text_param
from lineage_core.ui.settings import AppSettings

DEFAULT_DEPTH = 1
MAX_DEPTH = 10
DEFAULT_CAP = 150
MAX_CAP = 1000
GRAPH_HEIGHT = 620


def render(settings: AppSettings) -> None:
    st.title("Lineage graph")
    loaded = require_lineage(settings)
    params = st.query_params
    urlstate.seed("graph_table", text_param(params, "table"))
    urlstate.seed("graph_up", int_param(params, "up", DEFAULT_DEPTH, 0, MAX_DEPTH))
    urlstate.seed("graph_down", int_param(params, "down", DEFAULT_DEPTH, 0, MAX_DEPTH))
    urlstate.seed("graph_cap", int_param(params, "cap", DEFAULT_CAP, 10, MAX_CAP))
    urlstate.seed("graph_color", choice_param(params, "color", COLOR_BY, "kind"))
    name_col, up_col, down_col, cap_col, color_col = st.columns([4, 1, 1, 1, 2])
    name = name_col.text_input("Table", key="graph_table", placeholder="proj.dataset.table")
    up = up_col.number_input("Upstream", 0, MAX_DEPTH, step=1, key="graph_up", help="hops upstream")
    down = down_col.number_input("Downstream", 0, MAX_DEPTH, step=1, key="graph_down", help="hops downstream")
    cap = cap_col.number_input("Node cap", 10, MAX_CAP, step=50, key="graph_cap", help="most nodes drawn")
    color_by: ColorBy = color_col.radio("Color by", COLOR_BY, key="graph_color", horizontal=True)
    urlstate.publish(
        {
            "table": ("graph_table", name.strip(), ""),
            "up": ("graph_up", int(up), DEFAULT_DEPTH),
            "down": ("graph_down", int(down), DEFAULT_DEPTH),
            "cap": ("graph_cap", int(cap), DEFAULT_CAP),
            "color": ("graph_color", color_by, "kind"),
        }
    )
    if not loaded.document.nodes:
        st.info("This lineage document has no tables to draw.")
        return
    table = choose_table(loaded, name, shell.GRAPH)
    if table is None:
        return

    health = load_health(settings)
    statuses = health.statuses if health else None
    if color_by == "health" and statuses is None:
        st.caption("No health document is loaded: every node is shown as “no health data”.")
    hood = loaded.graph.neighborhood(table, up=int(up), down=int(down), cap=int(cap))
    shown, total = len(hood.nodes), hood.total
    st.markdown(f"**{shown:,} of {total:,} nodes shown** · {len(hood.edges):,} edges")
    if hood.truncated:
        st.warning(
            f"The neighborhood has {total:,} nodes; the nearest {shown:,} are drawn (node cap {int(cap):,}). "
            "To narrow it, lower the upstream/downstream depth; the Table page lists every consumer, "
            f"and the cap goes up to {MAX_CAP:,}.",
            icon=":material/content_cut:",
        )
    graph_col, table_col = st.columns([3, 2])
    with graph_col:
        html = render_neighborhood(hood, loaded.graph.nodes, color_by=color_by, health=statuses, height=GRAPH_HEIGHT)
        st.iframe(html, height=GRAPH_HEIGHT + 70, alt="Lineage graph")
    with table_col:
        node_rows = rows.neighborhood_rows(hood, loaded.graph.nodes, statuses)
        st.dataframe(node_rows, hide_index=True, width="stretch", height=GRAPH_HEIGHT)
        st.download_button(
            "Download these nodes (CSV)",
            data=rows.to_csv(node_rows, list(node_rows[0]) if node_rows else ["table"]),
            file_name="neighborhood.csv",
            mime="text/csv",
            key="graph_csv",
        )
    st.page_link(shell.TABLE, label="Open the table view (all consumers, SQL, CSV)", icon=":material/table_view:", query_params={"table": table})
