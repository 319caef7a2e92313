"""Lineage documents for the dashboard tests, built from the model dataclasses (no extractor)."""

from __future__ import annotations

from pathlib import Path

from lineage_core.artifact import dumps_document
from lineage_core.models import Edge, ErrorRecord, LineageDocument, Node, Query, SourceCoverage

XSS = "<img src=x onerror=alert(1)>"
GENERATED_AT = "2025-06-01T08:00:00+00:00"

SQL = {
    "staging/stg_orders.sql": "-- staging orders\nCREATE OR REPLACE VIEW acme.staging.stg_orders AS\nSELECT o.id, o.customer_id, o.amount\nFROM acme.raw.orders AS o\nWHERE o.amount > 0\n",
    "marts/fct_orders.sql": "INSERT INTO acme.marts.fct_orders\nSELECT s.id, c.name, s.amount\nFROM acme.staging.stg_orders s\nJOIN acme.raw.customers c ON c.id = s.customer_id\n",
    "marts/dim_customers.sql": "CREATE TABLE acme.marts.dim_customers AS\nSELECT id, name FROM acme.raw.customers\n",
    "marts/xss.sql": "-- <script>alert('sql')</script>\nCREATE TABLE acme.marts.xss_table AS SELECT * FROM acme.marts.fct_orders\n",
}


def small_document(sql_root: Path | None = None) -> LineageDocument:
    """raw.orders → staging.stg_orders → marts.fct_orders → bi.revenue (dashboard) …"""
    nodes = (
        Node("acme.raw.orders", "table", {"tier": "bronze"}, ("ingest@acme.example",)),
        Node("acme.raw.customers", "table", {"tier": "bronze", "pii": "yes"}, ("ingest@acme.example",)),
        Node("acme.staging.stg_orders", "view", {"team": "growth"}, ("growth@acme.example",)),
        Node("acme.marts.fct_orders", "table", {"tier": "gold", "team": "finance"}, ("finance@acme.example",)),
        Node("acme.marts.dim_customers", "table", {"tier": "gold"}, ("finance@acme.example",)),
        Node("acme.marts.xss_table", "table", {"evil": XSS}, (XSS,), description=XSS),
        Node("bi.revenue_dashboard", "dashboard", {}, ("analytics@acme.example",)),
        Node("acme.raw.lonely", "table", {}, ()),
    )

    def uri(path: str) -> str:
        return str(sql_root / path) if sql_root else f"/nonexistent/{path}"

    queries = (
        Query("wh:staging/stg_orders.sql", uri("staging/stg_orders.sql"), "staging/stg_orders.sql", 1, 5, "wh",
              sources=("acme.raw.orders",), targets=("acme.staging.stg_orders",)),
        Query("wh:marts/fct_orders.sql", uri("marts/fct_orders.sql"), "marts/fct_orders.sql", 1, 4, "wh",
              sources=("acme.raw.customers", "acme.staging.stg_orders"), targets=("acme.marts.fct_orders",)),
        Query("wh:marts/dim_customers.sql", uri("marts/dim_customers.sql"), "marts/dim_customers.sql", 1, 2, "wh",
              sources=("acme.raw.customers",), targets=("acme.marts.dim_customers",)),
        Query("wh:marts/xss.sql", uri("marts/xss.sql"), "marts/xss.sql", 1, 2, "wh",
              sources=("acme.marts.fct_orders",), targets=("acme.marts.xss_table",)),
        Query("bi:revenue", "bi://revenue", "bi/revenue", 1, 1, "bi",
              sources=("acme.marts.fct_orders",), targets=("bi.revenue_dashboard",)),
    )  # fmt: skip
    edges = tuple(Edge(s, t, (q.id,)) for q in queries for s in q.sources for t in q.targets)
    errors = (
        ErrorRecord(uri("marts/broken.sql"), "marts/broken.sql", 3, "render", "'run_date' is undefined", "run_date"),
        ErrorRecord(uri("marts/bad_parse.sql"), "marts/bad_parse.sql", 7, "parse", "Invalid expression / Unexpected token"),
        ErrorRecord(uri("marts/xss_err.sql"), "marts/xss_err.sql", 1, "parse", f"bad token {XSS}"),
    )
    coverage = (SourceCoverage("wh", "warehouse/sql", 7, 4, 3), SourceCoverage("bi", "bi://", 1, 1, 0))
    return LineageDocument(
        generated_at=GENERATED_AT,
        generator={"name": "lineage-dashboard", "version": "0.1.0", "sqlglot": "30.30.0"},
        config_digest="sha256:test",
        nodes=nodes,
        queries=queries,
        edges=edges,
        errors=errors,
        coverage=coverage,
    )


def write_sql(root: Path) -> Path:
    for path, text in SQL.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    return root


def empty_document() -> LineageDocument:
    return LineageDocument(generated_at=GENERATED_AT, generator={"name": "lineage-dashboard", "version": "0.1.0", "sqlglot": "30.30.0"}, config_digest="")


def star_document(consumers: int = 4999) -> LineageDocument:
    """A hub table read by ``consumers`` tables: a neighborhood far over any cap."""
    hub = "acme.hub.center"
    ids = [f"acme.spoke.t{i:05d}" for i in range(consumers)]
    return LineageDocument(
        generated_at=GENERATED_AT,
        generator={"name": "lineage-dashboard", "version": "0.1.0", "sqlglot": "30.30.0"},
        config_digest="",
        nodes=(Node(hub), *(Node(i) for i in ids)),
        edges=tuple(Edge(hub, i) for i in ids),
    )


def write(document: LineageDocument, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(dumps_document(document))
    return path
