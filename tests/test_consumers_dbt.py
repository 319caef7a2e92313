"""``type: dbt_manifest`` sources in ``lineage build``, with a manifest written by dbt itself.

``tests/fixtures/dbt/manifest.json`` was produced by ``dbt compile`` (dbt-core 1.10.23,
dbt-duckdb 1.10.1) from the project in ``tests/fixtures/dbt/project`` (see the README there):

- seeds ``raw_orders`` and ``raw_customers``, the source ``shop.payments`` (schema ``raw``);
- ``stg_orders`` (view, tag ``staging``) reads ``ref('raw_orders')``;
- ``int_payments`` (ephemeral) reads ``source('shop', 'payments')``: dbt inlines it as a CTE;
- ``fct_orders`` (table, tags ``finance``/``daily``) reads ``ref('stg_orders')``,
  ``ref('raw_customers')`` and ``ref('int_payments')``, hence ``raw.payments``;
- the exposure ``orders_dashboard`` (type dashboard, owner Finance Analytics) depends on
  ``ref('fct_orders')``.

DuckDB's database is ``jaffle`` (the profile's file name), default schema ``main``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from lineage_core.artifact import loads_document
from lineage_core.cli.main import main
from lineage_core.discovery.dbt_manifest import import_manifest, load_manifest
from lineage_core.models import LineageDocument

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "dbt"
MANIFEST = FIXTURE / "manifest.json"

DBT_EDGES = {
    ("jaffle.main.raw_orders", "jaffle.main.stg_orders"),
    ("jaffle.main.stg_orders", "jaffle.main.fct_orders"),
    ("jaffle.main.raw_customers", "jaffle.main.fct_orders"),
    ("jaffle.raw.payments", "jaffle.main.fct_orders"),  # through the ephemeral int_payments
    ("jaffle.main.fct_orders", "dbt:exposure/orders_dashboard"),
}
DBT_NODES = {
    "jaffle.main.raw_orders": "table",
    "jaffle.main.raw_customers": "table",
    "jaffle.main.stg_orders": "view",
    "jaffle.main.fct_orders": "table",
    "jaffle.raw.payments": "external",
    "dbt:exposure/orders_dashboard": "dashboard",
}


def write_config(tmp_path: Path, dbt_source: dict[str, Any], sql: dict[str, str] | None = None) -> Path:
    """A lineage.yaml with a plain SQL source (``sql/``) and the given dbt source, as YAML flow text."""
    sql = sql if sql is not None else {
        "daily.sql": "CREATE OR REPLACE TABLE jaffle.reporting.daily_revenue AS "
        "SELECT sum(amount) AS revenue FROM jaffle.main.fct_orders\n"
    }
    for rel, text in sql.items():
        path = tmp_path / "sql" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    config = tmp_path / "lineage.yaml"
    config.write_text(
        "version: 1\n"
        "default_project: jaffle\n"
        "sources:\n"
        "  - name: warehouse\n"
        "    path: sql\n"
        f"  - {json.dumps(dbt_source)}\n"
    )
    return config


def dbt_project(tmp_path: Path) -> Path:
    """The fixture manifest where dbt writes it: <project>/target/manifest.json."""
    target = tmp_path / "analytics-dbt" / "target"
    target.mkdir(parents=True)
    shutil.copy(MANIFEST, target / "manifest.json")
    return target.parent


def build(tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, LineageDocument | None, str]:
    out = tmp_path / "lineage.json"
    code = main(["build", "--config", str(config), "--out", str(out), "--no-cache"])
    err = capsys.readouterr().err
    return code, (loads_document(out.read_bytes()) if out.exists() else None), err


# -- the real manifest ---------------------------------------------------------------------


def test_fixture_is_a_dbt_written_manifest_without_machine_paths() -> None:
    manifest = json.loads(MANIFEST.read_text())
    assert manifest["metadata"]["dbt_version"] == "1.10.23"
    assert manifest["metadata"]["adapter_type"] == "duckdb"
    assert manifest["metadata"]["dbt_schema_version"].endswith("/manifest/v12.json")
    # seeds record the project's root: the machine's path was replaced by /project
    assert {n["root_path"] for n in manifest["nodes"].values() if n["resource_type"] == "seed"} == {"/project"}
    assert "/tmp/" not in MANIFEST.read_text() and "/home/" not in MANIFEST.read_text()
    assert MANIFEST.stat().st_size < 40_000
    # the project it was compiled from is kept beside it, so it can be regenerated
    for rel in ("dbt_project.yml", "models/schema.yml", "models/staging/stg_orders.sql",
                "models/staging/int_payments.sql", "models/marts/fct_orders.sql"):
        assert (FIXTURE / "project" / rel).is_file(), rel


def test_import_gives_exactly_the_nodes_and_edges_of_the_models() -> None:
    imported = import_manifest(load_manifest(str(MANIFEST)))
    assert {n.id: n.kind for n in imported.nodes} == DBT_NODES
    edges = {e for r in imported.results for e in r.edges}
    assert edges == DBT_EDGES
    by_id = {r.query.id: r for r in imported.results}
    assert set(by_id) == {
        "dbt:model.jaffle_lite.stg_orders",
        "dbt:model.jaffle_lite.int_payments",
        "dbt:model.jaffle_lite.fct_orders",
        "dbt:exposure.jaffle_lite.orders_dashboard",
    }
    # the ephemeral model has no relation of its own: no target, its read shows up in fct_orders
    assert by_id["dbt:model.jaffle_lite.int_payments"].query.targets == ()
    assert by_id["dbt:model.jaffle_lite.int_payments"].query.sources == ("jaffle.raw.payments",)
    # compiled SQL and depends_on agree everywhere: no warnings
    assert [e for r in imported.results for e in r.errors] == []
    assert {m.name: m.sql is not None for m in imported.models} == {
        "stg_orders": True, "int_payments": True, "fct_orders": True}


def test_exposure_owners_tags_and_sources_become_node_metadata() -> None:
    nodes = {n.id: n for n in import_manifest(load_manifest(str(MANIFEST))).nodes}
    dashboard = nodes["dbt:exposure/orders_dashboard"]
    assert dashboard.kind == "dashboard"
    assert dashboard.owners == ("finance-analytics@acme.test",)
    assert dashboard.url == "https://bi.acme.test/dashboards/7"
    assert dashboard.description == "Daily orders for the finance team"
    fct = nodes["jaffle.main.fct_orders"]
    assert fct.owners == ("finance@acme.test",)
    assert fct.labels["dbt_tags"] == "daily,finance"
    assert fct.labels["dbt_materialized"] == "table"
    assert nodes["jaffle.main.stg_orders"].labels["dbt_tags"] == "staging"
    assert nodes["jaffle.main.stg_orders"].owners == ("data-eng@acme.test",)
    payments = nodes["jaffle.raw.payments"]
    assert payments.labels["dbt_source"] == "shop.payments"
    assert payments.owners == ("payments-team@acme.test",)
    assert nodes["jaffle.main.raw_orders"].labels["dbt_seed"] == "seeds/raw_orders.csv"


def queries_uri_of_sql(document: LineageDocument) -> str:
    return next(q.uri for q in document.queries if q.id == "warehouse:daily.sql")


# -- lineage build -------------------------------------------------------------------------


def test_build_puts_dbt_models_and_sql_files_in_one_graph(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dbt_project(tmp_path)
    config = write_config(
        tmp_path, {"name": "dbt", "type": "dbt_manifest", "path": "analytics-dbt", "labels": {"team": "analytics"}}
    )
    code, document, err = build(tmp_path, config, capsys)
    assert code == 0, err
    assert document is not None
    edges = {(e.source, e.target) for e in document.edges}
    assert edges == DBT_EDGES | {("jaffle.main.fct_orders", "jaffle.reporting.daily_revenue")}
    nodes = {n.id: n for n in document.nodes}
    assert {n: node.kind for n, node in nodes.items()} == {**DBT_NODES, "jaffle.reporting.daily_revenue": "table"}
    assert nodes["dbt:exposure/orders_dashboard"].owners == ("finance-analytics@acme.test",)
    assert nodes["jaffle.main.fct_orders"].labels["team"] == "analytics"
    assert nodes["jaffle.main.fct_orders"].labels["source"] == "dbt"
    queries = {q.id: q for q in document.queries}
    fct = queries["dbt:model.jaffle_lite.fct_orders"]
    assert fct.uri.endswith("analytics-dbt/models/marts/fct_orders.sql")
    assert fct.source == "dbt" and fct.labels["team"] == "analytics"
    assert queries["warehouse:daily.sql"].sources == ("jaffle.main.fct_orders",)
    assert document.errors == ()


def test_options_path_and_dialect(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "exports").mkdir()
    shutil.copy(MANIFEST, tmp_path / "exports" / "dbt-manifest.json")
    config = write_config(
        tmp_path,
        {"name": "analytics", "type": "dbt_manifest",
         "options": {"path": "exports/dbt-manifest.json", "dialect": "duckdb"}},
    )
    code, document, err = build(tmp_path, config, capsys)
    assert code == 0, err
    assert document is not None
    assert ("jaffle.main.fct_orders", "analytics:exposure/orders_dashboard") in {
        (e.source, e.target) for e in document.edges}
    # not in a target/ directory: model paths are relative to the manifest's own directory
    [stg] = [q for q in document.queries if q.id == "analytics:model.jaffle_lite.stg_orders"]
    assert stg.uri == f"{tmp_path}/exports/models/staging/stg_orders.sql"
    assert queries_uri_of_sql(document) == f"{tmp_path}/sql/daily.sql"  # the same form as SQL files


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"pth": "target/manifest.json"}, "sources.1.options.pth: unknown key 'pth'"),
        ({"path": "target/manifest.json", "adapter": "duckdb"}, "sources.1.options.adapter: unknown key 'adapter'"),
        ({"dialect": 3}, "sources.1.options.dialect"),
        ({"path": ""}, "sources.1.options"),
    ],
)
def test_bad_options_are_config_errors_naming_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], options: dict[str, Any], message: str
) -> None:
    dbt_project(tmp_path)
    config = write_config(
        tmp_path, {"name": "dbt", "type": "dbt_manifest", "path": "analytics-dbt", "options": options}
    )
    code, document, err = build(tmp_path, config, capsys)
    assert code == 2
    assert document is None
    assert message in err
    assert "lineage.yaml" in err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "dbt manifest not found"),
        ("{not json", "invalid JSON"),
        ('{"metadata": {}}', "no `nodes` object"),
    ],
)
def test_missing_or_broken_manifest_is_an_error_of_that_source_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, message: str
) -> None:
    project = tmp_path / "analytics-dbt" / "target"
    project.mkdir(parents=True)
    if content is not None:
        (project / "manifest.json").write_text(content)
    config = write_config(tmp_path, {"name": "dbt", "type": "dbt_manifest", "path": "analytics-dbt"})
    code, document, err = build(tmp_path, config, capsys)
    assert code == 0, err
    assert document is not None
    assert {(e.source, e.target) for e in document.edges} == {
        ("jaffle.main.fct_orders", "jaffle.reporting.daily_revenue")}
    [error] = document.errors
    assert error.kind == "read"
    assert "source 'dbt' (dbt_manifest)" in error.message and message in error.message
    assert error.uri.endswith("analytics-dbt/target/manifest.json")
