"""The data-health page: status counts, the graph of outputs in health colors, root causes,
impact, the timeline of recent evaluations. Everything in a document is untrusted text: it
goes into dataframes, code blocks and escaped markdown, never into HTML.

URL parameters (permalinks): ``table`` selects a table, ``problems=1`` shows problems only.
"""

from __future__ import annotations

import re

import pandas as pd
import streamlit as st

from lineage_core.errors import LineageError
from lineage_core.graph import LineageGraph
from lineage_core.health.document import format_time
from lineage_core.health.model import STATUSES, HealthDocument
from lineage_core.health.view_model import (
    GRAPH_CAP,
    STATUS_COLORS,
    STATUS_LABELS,
    graph_view,
    levels,
    problem_tables,
    root_causes,
    table_rows,
    timeline_rows,
    to_csv,
    transition_rows,
)
from lineage_core.models import LineageDocument
from lineage_core.ui.data import require_lineage
from lineage_core.ui.settings import AppSettings

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def md(text: str) -> str:
    """Untrusted text made inert inside Streamlit markdown (no links, images or formatting)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def _generation(uri: str) -> str | None:
    from lineage_core.store import stat

    found = stat(uri)
    return found.generation if found else None


@st.cache_data(max_entries=4, show_spinner=False)
def _health(uri: str, generation: str) -> HealthDocument:
    from lineage_core.health.document import loads_health
    from lineage_core.store import read_bytes

    return loads_health(read_bytes(uri).data, f"health document {uri}")


def load(settings: AppSettings) -> tuple[LineageDocument, LineageGraph, HealthDocument] | None:
    """Both documents (cached by generation), or None after explaining what is missing."""
    loaded = require_lineage(settings)  # stops the run with a clear error when there is none
    health_uri = settings.health_uri
    try:
        generation = _generation(health_uri)
        if generation is None:
            st.info(
                "No health document yet: add `freshness:` rules and a `probe:` to lineage.yaml, then run "
                "`lineage health --config lineage.yaml --lineage URI` (docs/health.md). Expected at:"
            )
            st.code(health_uri, language=None)
            return None
        return loaded.document, loaded.graph, _health(health_uri, generation)
    except LineageError as exc:
        st.error("The health document could not be read:")
        st.code(str(exc), language=None)
        return None


def _counts(doc: HealthDocument) -> None:
    counts = doc.counts()
    columns = st.columns(len(STATUSES))
    for column, status in zip(columns, STATUSES, strict=True):
        column.metric(STATUS_LABELS[status], counts[status])


def _graph_section(graph: LineageGraph, doc: HealthDocument, wanted: list[str], selected: str | None) -> None:
    """The graph in health colors, drawn by the shared renderer (escaped, offline, in an iframe)."""
    from lineage_core.render.colors import node_colors
    from lineage_core.render.pyvis_html import GraphNode, render_graph

    view = graph_view(graph, wanted, GRAPH_CAP)
    if not view.nodes:
        st.caption("Nothing to draw.")
        return
    if view.truncated:
        st.caption(f"{len(view.nodes)} of {view.total} tables shown (cap {GRAPH_CAP}); the table below lists all.")
    health = doc.by_id()
    statuses: dict[str, str] = {t.id: t.status for t in doc.tables}
    colors, legend = node_colors(view.nodes, graph.nodes, "health", statuses)
    layers = levels(view)
    nodes = []
    for node_id in view.nodes:
        t = health.get(node_id)
        title = [node_id, f"health: {STATUS_LABELS[t.status]}" if t else "health: unknown"]
        if t:
            title.append(t.message)
            if t.late_upstream_roots:
                title.append("root causes: " + ", ".join(t.late_upstream_roots))
        nodes.append(GraphNode(id=node_id, label=node_id.split(".")[-1], title=title, level=layers.get(node_id),
                               center=node_id == selected))
    page = render_graph(nodes, view.edges, node_colors=colors, legend=legend, height=520)
    st.iframe(page, height=580)  # our page: document text in it is escaped by render_graph


def _problems_section(graph: LineageGraph, doc: HealthDocument) -> list[str]:
    causes = root_causes(doc, graph)
    if not causes:
        st.success("No table is late: every checked output is on time.")
        return []
    st.subheader(f"Root causes ({len(causes)})")
    shown: list[str] = []
    for n, cause in enumerate(causes):
        t = cause.table
        with st.container(border=True):
            st.markdown(f"**{md(t.id)}** — {md(STATUS_LABELS[t.status])} since {md(format_time(t.since) or '?')}")
            st.text(
                f"expected by {format_time(t.expected_by) or '-'} · last update {format_time(t.last_update) or 'never'}"
                f" · rule {t.rule or '-'}\n{t.message}"
            )
            st.markdown(f"Impacted consumers downstream: **{len(cause.impacted)}**")
            health = doc.by_id()
            rows = [
                {"table": i, "status": STATUS_LABELS[health[i].status] if i in health else "unknown"}
                for i in cause.impacted
            ]
            if rows:
                st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
                st.download_button(
                    "Download impacted tables (CSV)", to_csv(rows), file_name=f"impacted-{n + 1}.csv",
                    mime="text/csv", key=f"impact-csv-{n}",
                )
        shown += [t.id, *cause.impacted]
    return shown


def _timeline_section(doc: HealthDocument, selected: str | None) -> None:
    st.subheader("Recent evaluations")
    rows = timeline_rows(doc)
    if len(rows) > 1:
        frame = pd.DataFrame(rows).set_index("evaluated at")
        st.area_chart(frame, color=[STATUS_COLORS[s] for s in STATUSES])
    else:
        st.caption("Only one evaluation so far: the timeline grows with every `lineage health` run.")
    changes = transition_rows(doc, selected)
    if changes:
        st.dataframe(pd.DataFrame(changes), hide_index=True, width="stretch")


def _selected_section(graph: LineageGraph, doc: HealthDocument, table: str) -> None:
    t = doc.by_id()[table]
    st.subheader("Selected table")
    st.markdown(f"**{md(t.id)}**: {md(STATUS_LABELS[t.status])} since {md(format_time(t.since) or '?')}")
    st.text(t.message)
    facts = {
        "last update": format_time(t.last_update) or "never",
        "expected by": format_time(t.expected_by) or "-",
        "rule": t.rule or "(none: derived from upstream)",
        "observed": t.observed or "-",
        "root causes": ", ".join(t.late_upstream_roots) or "-",
        "downstream": str(len(graph.impact(table))) if table in graph else "0",
    }
    st.dataframe(pd.DataFrame([{"": k, "value": v} for k, v in facts.items()]), hide_index=True)


def _query_flag(name: str) -> bool:
    return st.query_params.get(name, "") in {"1", "true", "yes"}


def render_page(settings: AppSettings) -> None:
    st.title("Data health")
    loaded = load(settings)
    if loaded is None:
        return
    document, graph, doc = loaded
    st.caption(
        f"Evaluated {md(format_time(doc.evaluated_at) or '')} against the lineage document generated "
        f"{md(doc.lineage.generated_at)}."
    )
    if doc.lineage.generated_at != document.generated_at:
        st.warning("The health document was evaluated against an older lineage document; run `lineage health` again.")
    _counts(doc)
    for problem in doc.probe.errors[:5]:
        st.error("Probe error:")
        st.code(problem, language=None)

    known = doc.by_id()
    requested = st.query_params.get("table")
    if requested and requested not in known:
        st.warning("No table with this id in the health document (the link may be out of date):")
        st.code(requested, language=None)
        requested = None

    problems_only = st.toggle("Problems only", value=_query_flag("problems"), key="health-problems",
                              help="late tables with their root causes upstream and impacted consumers downstream")
    if problems_only:
        st.query_params["problems"] = "1"
    elif "problems" in st.query_params:
        del st.query_params["problems"]

    listed = problem_tables(doc) if problems_only else list(doc.tables)
    options = [""] + [t.id for t in listed]
    if requested and requested not in options:
        options.append(requested)
    selected = st.selectbox(
        "Table", options, index=options.index(requested) if requested else 0,
        format_func=lambda v: v or "(choose a table)", key="health-table",
    )
    if selected:
        st.query_params["table"] = selected
    elif "table" in st.query_params and requested:
        del st.query_params["table"]

    wanted = _problems_section(graph, doc) if problems_only else [t.id for t in doc.tables if t.status != "unknown"]
    if selected:
        _selected_section(graph, doc, selected)
        wanted = [selected, *(r.id for r in graph.upstream(selected, 2)), *(r.id for r in graph.downstream(selected, 2))] \
            if selected in graph else [selected]
    st.subheader("Graph of outputs")
    _graph_section(graph, doc, wanted, selected or None)

    st.subheader(f"{'Problems' if problems_only else 'All tables'} ({len(listed)})")
    rows = table_rows(listed)
    if rows:
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
        st.download_button("Download (CSV)", to_csv(rows), file_name="health.csv", mime="text/csv", key="health-csv")
    _timeline_section(doc, selected or None)
