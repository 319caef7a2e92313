"""Table view: one table's consumers (with the path to each), its sources, the SQL files that
write and read it, its labels and owners, and the impact list as CSV.

Permalink: ``?table=proj.ds.t&depth=3``.
"""

from __future__ import annotations

import re

import streamlit as st

from lineage_core.ui import rows, shell, urlstate
from lineage_core.ui.common import choose_table
from lineage_core.ui.data import load_health, require_lineage, sql_text
from lineage_core.ui.loader import LoadedDocument
from lineage_core.ui.params import int_param, text_param
from lineage_core.ui.settings import AppSettings
from lineage_core.ui.text import md

DEFAULT_DEPTH = 3
MAX_DEPTH = 10
MAX_SQL_SHOWN = 20  # files whose SQL is shown inline; the table above lists them all


def impact_file_name(table: str) -> str:
    return "impact-" + re.sub(r"[^A-Za-z0-9._-]+", "_", table)[:120] + ".csv"


def render(settings: AppSettings) -> None:
    st.title("Table")
    loaded = require_lineage(settings)
    params = st.query_params
    urlstate.seed("table_name", text_param(params, "table"))
    urlstate.seed("table_depth", int_param(params, "depth", DEFAULT_DEPTH, 1, MAX_DEPTH))
    left, right = st.columns([3, 1])
    name = left.text_input("Table", key="table_name", placeholder="proj.dataset.table (or dataset.table)")
    depth = right.slider("Consumer depth", 1, MAX_DEPTH, key="table_depth", help="hops downstream (and upstream) to list")
    urlstate.publish({"table": ("table_name", name.strip(), ""), "depth": ("table_depth", depth, DEFAULT_DEPTH)})
    if not loaded.document.nodes:
        st.info("This lineage document has no tables yet.")
        return
    table = choose_table(loaded, name, shell.TABLE)
    if table is None:
        return
    _render_table(settings, loaded, table, depth)


def _render_table(settings: AppSettings, loaded: LoadedDocument, table: str, depth: int) -> None:
    graph = loaded.graph
    node = graph.nodes.get(table)
    health = load_health(settings)
    statuses = health.statuses if health else None

    st.subheader(md(table))
    facts = {
        "kind": node.kind if node else "table",
        "owners": ", ".join(node.owners) if node and node.owners else "—",
        "labels": ", ".join(f"{k}={v}" for k, v in sorted(node.labels.items())) if node and node.labels else "—",
    }
    if statuses is not None:
        facts["health"] = statuses.get(table, "no health data")
    st.dataframe([{"field": k, "value": v} for k, v in facts.items()], hide_index=True, width="stretch")
    if node and node.description:
        st.text(node.description)
    st.page_link(shell.GRAPH, label="Open the lineage graph of this table", icon=":material/hub:", query_params={"table": table})

    downstream = graph.downstream(table, depth)
    upstream = graph.upstream(table, depth)
    impact = graph.impact(table)
    direct = sum(1 for r in downstream if r.distance == 1)
    consumers_tab, sources_tab, sql_tab = st.tabs(
        [f"Consumers ({len(downstream):,})", f"Upstream sources ({len(upstream):,})", "SQL files"]
    )
    with consumers_tab:
        if not impact:
            st.info("No consumers: nothing in this document reads this table.")
        else:
            st.caption(
                f"{direct:,} direct consumers · {len(downstream):,} within {depth} hop(s) · "
                f"{len(impact):,} downstream in total (the impact list)"
            )
            st.dataframe(rows.reached_rows(downstream, graph.nodes, statuses), hide_index=True, width="stretch")
        st.download_button(
            "Download the impact list (CSV: everything downstream, any depth)",
            data=rows.impact_csv(loaded, table),
            file_name=impact_file_name(table),
            mime="text/csv",
            key="impact_csv",
            icon=":material/download:",
        )
    with sources_tab:
        if not upstream:
            st.info("No upstream sources: this table is a source (nothing in this document writes it from another table).")
        else:
            st.dataframe(rows.reached_rows(upstream, graph.nodes, statuses), hide_index=True, width="stretch")
    with sql_tab:
        _render_sql(loaded, table)


def _render_sql(loaded: LoadedDocument, table: str) -> None:
    writes, reads = rows.query_rows(loaded, table)
    for title, found in (("Written by", writes), ("Read by", reads)):
        st.markdown(f"**{title}** ({len(found)} file{'s' if len(found) != 1 else ''})")
        if not found:
            st.caption("none")
            continue
        st.dataframe(found, hide_index=True, width="stretch", column_order=("file", "lines", "source", "writes"))
        for row in found[:MAX_SQL_SHOWN]:
            query = loaded.queries_by_id[row["id"]]
            with st.expander(f"{md(query.path)} · lines {query.line_start}–{query.line_end}"):
                sql = sql_text(query, loaded.uri)
                if sql.text is None:
                    st.caption(md(sql.reason or "The SQL text is not available."))
                else:
                    st.code(sql.text, language="sql", line_numbers=True)
        if len(found) > MAX_SQL_SHOWN:
            st.caption(f"SQL shown for the first {MAX_SQL_SHOWN} files; all {len(found)} are listed above.")
