"""Search: fuzzy over table names, datasets, labels, owners and SQL file paths.

Permalink: ``?q=orders&kind=table,view&label=team=growth,tier=gold``. Apps, dashboards and jobs
are found like tables, each with its own icon. The label filter keeps nodes that carry every
``key=value`` given (``key`` alone: any value); with no search text it lists those nodes.
Choosing a result opens its table view.
"""

from __future__ import annotations

from collections.abc import Mapping

import streamlit as st

from lineage_core.models import Node, NodeKind
from lineage_core.search import SearchHit
from lineage_core.ui import rows, shell, urlstate
from lineage_core.ui.data import load_health, require_lineage
from lineage_core.ui.params import list_param, text_param
from lineage_core.ui.settings import AppSettings
from lineage_core.ui.text import md

KINDS: tuple[NodeKind, ...] = ("table", "view", "external", "dashboard", "app", "job", "path")
LIMIT = 50
ICONS: Mapping[str, str] = {
    "table": "🗄️ table",
    "view": "👁️ view",
    "external": "🌐 external",
    "dashboard": "📊 dashboard",
    "app": "🖥️ app",
    "job": "⚙️ job",
    "path": "📁 path",
    "column": "▫️ column",
}


def parse_labels(text: str) -> dict[str, str | None]:
    """``"team=growth, tier=gold"`` → ``{"team": "growth", "tier": "gold"}`` (``key`` alone: None)."""
    wanted: dict[str, str | None] = {}
    for part in text.split(","):
        key, sep, value = part.strip().partition("=")
        if key.strip():
            wanted[key.strip()] = value.strip() if sep else None
    return wanted


def has_labels(node: Node | None, wanted: Mapping[str, str | None]) -> bool:
    if not wanted:
        return True
    if node is None:
        return False
    return all(k in node.labels and (v is None or node.labels[k] == v) for k, v in wanted.items())


def _labelled_hits(nodes: Mapping[str, Node], wanted: Mapping[str, str | None], limit: int) -> list[SearchHit]:
    """With a label filter and no text: the labelled nodes themselves, by id."""
    shown = ", ".join(k if v is None else f"{k}={v}" for k, v in wanted.items())
    found = sorted(n for n, node in nodes.items() if has_labels(node, wanted))
    return [SearchHit(n, 100.0, f"label: {shown}") for n in found[:limit]]


def render(settings: AppSettings) -> None:
    st.title("Search")
    loaded = require_lineage(settings)
    params = st.query_params
    urlstate.seed("search_q", text_param(params, "q"))
    urlstate.seed("search_kinds", list_param(params, "kind", KINDS))
    urlstate.seed("search_labels", text_param(params, "label"))
    left, middle, right = st.columns([3, 2, 2])
    query = left.text_input("Search", placeholder="table, dataset, label, owner or SQL file…", key="search_q")
    kinds = middle.multiselect("Kinds", KINDS, format_func=lambda k: ICONS.get(k, k), key="search_kinds")
    label_text = right.text_input("Labels", placeholder="team=growth, tier=gold", key="search_labels",
                                  help="only nodes with every label given (key=value; a key alone: any value)")
    wanted = parse_labels(label_text)
    labels_value = ",".join(k if v is None else f"{k}={v}" for k, v in wanted.items())
    urlstate.publish({"q": ("search_q", query.strip(), ""), "kind": ("search_kinds", kinds, []),
                      "label": ("search_labels", labels_value, "")})

    if not loaded.document.nodes:
        st.info("This lineage document has no tables to search.")
        return
    if not query.strip() and not wanted:
        st.caption(f"{len(loaded.graph):,} tables, apps, dashboards and jobs. Type part of a name, a dataset, "
                   "`team=growth`, an owner or a file path, or filter by labels.")
        return
    health = load_health(settings)
    nodes = loaded.graph.nodes
    if query.strip():
        widen = 20 if wanted else 4 if kinds else 1
        hits = loaded.search_index.search(query, limit=LIMIT * widen)
    else:
        hits = _labelled_hits(nodes, wanted, LIMIT * (4 if kinds else 1))
    found = rows.search_rows(loaded, hits, health.statuses if health else None)
    if kinds:
        found = [row for row in found if row["kind"] in kinds]
    if wanted:
        found = [row for row in found if has_labels(nodes.get(str(row["table"])), wanted)]
    found = found[:LIMIT]
    for row in found:
        node = nodes.get(str(row["table"]))
        row["type"] = ICONS.get(str(row["kind"]), str(row["kind"]))
        row["labels"] = ", ".join(f"{k}={v}" for k, v in sorted(node.labels.items())) if node else ""
    if not found:
        what = f"“{md(query.strip())}”" if query.strip() else "these labels"
        where = f" with {md(labels_value)}" if wanted and query.strip() else ""
        st.warning(f"Nothing matches {what}{where}. Try fewer letters or another field (owner, label, file).")
        return
    st.caption(f"{len(found)} best matches · click a column header to sort · select a row to open it")
    event = st.dataframe(
        found,
        hide_index=True,
        width="stretch",
        on_select="rerun",
        selection_mode="single-row",
        key="search_results",
        column_order=["type", "table", "kind", "upstream", "downstream", "owner", "labels", "matched", "score",
                      *(["health"] if health else [])],
        column_config={
            "type": st.column_config.TextColumn("", help="kind of node: table, view, app, dashboard, job…"),
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
