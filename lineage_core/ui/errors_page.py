"""Errors & coverage: what the build could not read, and how much of each source it did read.

Permalink: ``?kind=render,parse&q=orders``.
"""

from __future__ import annotations

import streamlit as st

from lineage_core.ui import rows, urlstate
from lineage_core.ui.data import require_lineage
from lineage_core.ui.params import list_param, text_param
from lineage_core.ui.settings import AppSettings

ERROR_KINDS = ("read", "render", "parse", "unresolved", "config")
EXPLAIN = {
    "read": "the file could not be read",
    "render": "Jinja could not render it (often an undefined variable: add it to `vars` in lineage.yaml)",
    "parse": "sqlglot could not parse the rendered SQL",
    "unresolved": "a statement whose tables cannot be known statically (e.g. EXECUTE IMMEDIATE)",
    "config": "a problem in lineage.yaml",
}


def render(settings: AppSettings) -> None:
    st.title("Errors & coverage")
    loaded = require_lineage(settings)
    document = loaded.document
    params = st.query_params
    urlstate.seed("errors_kinds", list_param(params, "kind", ERROR_KINDS))
    urlstate.seed("errors_q", text_param(params, "q"))

    st.subheader("Coverage per source")
    coverage = rows.coverage_rows(document)
    if coverage:
        st.dataframe(
            coverage,
            hide_index=True,
            width="stretch",
            column_config={"coverage %": st.column_config.ProgressColumn("coverage", min_value=0, max_value=100, format="%.1f%%")},
        )
    else:
        st.caption("This document records no per-source coverage.")

    st.subheader(f"Files with errors ({len(document.errors):,})")
    left, right = st.columns([2, 3])
    kinds = left.multiselect("Kinds", ERROR_KINDS, key="errors_kinds")
    query = right.text_input("Filter by file or message", key="errors_q")
    urlstate.publish({"kind": ("errors_kinds", kinds, []), "q": ("errors_q", query.strip(), "")})
    if not document.errors:
        st.success("No errors: every file was read, rendered and parsed.")
        return
    found = rows.error_rows(document, kinds)
    needle = query.strip().lower()
    if needle:
        found = [r for r in found if needle in r["file"].lower() or needle in r["message"].lower()]
    st.dataframe(found, hide_index=True, width="stretch", column_order=("file", "line", "kind", "message", "variable"))
    st.download_button(
        "Download these errors (CSV)",
        data=rows.to_csv(found, ["file", "line", "kind", "message", "variable", "uri"]),
        file_name="lineage-errors.csv",
        mime="text/csv",
        key="errors_csv",
    )
    with st.expander("What the kinds mean"):
        st.dataframe([{"kind": k, "meaning": v} for k, v in EXPLAIN.items()], hide_index=True, width="stretch")

    st.subheader("Undefined Jinja variables")
    variables = rows.undefined_variable_rows(document)
    if variables:
        st.caption("Give these a value under `vars:` in lineage.yaml (or per source) and rebuild; `lineage check` prints a stub.")
        st.dataframe(variables, hide_index=True, width="stretch")
    else:
        st.caption("none")
