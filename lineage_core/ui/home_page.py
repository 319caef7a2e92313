"""Home: which document is loaded, how old it is, what it holds, health at a glance, search."""

from __future__ import annotations

import streamlit as st

from lineage_core.ui import rows, shell
from lineage_core.ui.data import load_health, require_lineage
from lineage_core.ui.settings import AppSettings


def render(settings: AppSettings) -> None:
    st.title("Lineage Dashboard")
    loaded = require_lineage(settings)
    document = loaded.document

    with st.form("home_search", border=False):
        query = st.text_input(
            "Search tables", placeholder="table, dataset, label, owner or SQL file…", key="home_query"
        )
        if st.form_submit_button("Search", type="primary") and query.strip():
            st.switch_page(shell.SEARCH, query_params={"q": query.strip()})

    counts = rows.counts(document, loaded.graph)
    columns = st.columns(5)
    columns[0].metric("Tables", f"{counts['tables']:,}")
    columns[1].metric("Views", f"{counts['views']:,}")
    columns[2].metric("Queries (SQL files)", f"{counts['queries']:,}")
    columns[3].metric("Edges", f"{counts['edges']:,}")
    columns[4].metric("Errors", f"{counts['errors']:,}")
    if not document.nodes:
        st.info("This lineage document has no tables yet: the build found no SQL that reads or writes one.")

    st.subheader("Loaded document")
    st.dataframe(
        [
            {"field": "URI", "value": loaded.uri},
            {"field": "generated at", "value": f"{document.generated_at} ({rows.age(document.generated_at)})"},
            {"field": "generation", "value": loaded.generation},
            {"field": "schema version", "value": str(document.schema_version)},
            {"field": "config digest", "value": document.config_digest or "—"},
            *({"field": f"generator: {name}", "value": version} for name, version in sorted(document.generator.items())),
        ],
        hide_index=True,
        width="stretch",
    )

    health = load_health(settings)
    st.subheader("Data health")
    if health is None:
        st.caption(f"No health document at {settings.health_uri}: run `lineage health` to publish one.")
    else:
        st.caption(f"Evaluated at {health.evaluated_at} ({rows.age(health.evaluated_at)}) · {health.uri}")
        status_counts = health.counts
        if status_counts:
            cols = st.columns(len(status_counts))
            for col, (status, count) in zip(cols, status_counts.items(), strict=True):
                col.metric(status.replace("_", " "), f"{count:,}")
        else:
            st.caption("The health document lists no tables.")
    if counts["errors"]:
        st.page_link(shell.ERRORS, label=f"{counts['errors']:,} files could not be read fully: see Errors & coverage", icon=":material/healing:")
