"""dbt manifest.json → per-model lineage and a lineage document (`lineage dbt-lineage`).

The manifest is hand-written in the shape dbt 1.8 writes (schema v12, BigQuery adapter):
sources, a view, an ephemeral model inlined as a CTE, a table, a snapshot, a model from
`dbt parse` without compiled SQL, one whose depends_on disagrees with its SQL, and an exposure.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lineage_core.artifact import loads_document
from lineage_core.cli.main import main
from lineage_core.discovery.dbt_manifest import check_manifest, import_manifest, model_lineage, relation


def _model(name: str, sql: str | None, deps: list[str], materialized: str = "table", **extra: Any) -> dict[str, Any]:
    node: dict[str, Any] = {
        "resource_type": "model",
        "name": name,
        "package_name": "jaffle",
        "original_file_path": f"models/{name}.sql",
        "database": "acme",
        "schema": "analytics",
        "relation_name": None if materialized == "ephemeral" else f"`acme`.`analytics`.`{name}`",
        "raw_code": "select 1",
        "config": {"materialized": materialized, "tags": [], "meta": {}},
        "tags": [],
        "meta": {},
        "depends_on": {"macros": [], "nodes": deps},
        "description": "",
    }
    if sql is not None:
        node["compiled_code"] = sql
    node.update(extra)
    return node


def manifest() -> dict[str, Any]:
    return {
        "metadata": {
            "dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json",
            "dbt_version": "1.8.7",
            "adapter_type": "bigquery",
        },
        "nodes": {
            "model.jaffle.stg_orders": _model(
                "stg_orders",
                "select id, customer_id, amount from `acme`.`raw`.`orders`",
                ["source.jaffle.raw.orders"],
                "view",
                meta={"owner": "data-eng@acme.test"},
                tags=["staging"],
            ),
            "model.jaffle.int_customers": _model(
                "int_customers", "select * from `acme`.`raw`.`customers`", ["source.jaffle.raw.customers"], "ephemeral"
            ),
            "model.jaffle.fct_orders": _model(
                "fct_orders",
                "with __dbt__cte__int_customers as (\n  select * from `acme`.`raw`.`customers`\n)\n"
                "select o.*, c.name from `acme`.`analytics`.`stg_orders` o\n"
                "join __dbt__cte__int_customers c on c.id = o.customer_id",
                ["model.jaffle.stg_orders", "model.jaffle.int_customers"],
                description="One row per order",
            ),
            "snapshot.jaffle.orders_snapshot": {
                **_model(
                    "orders_snapshot", "select * from `acme`.`analytics`.`stg_orders`", ["model.jaffle.stg_orders"]
                ),
                "resource_type": "snapshot",
                "relation_name": "`acme`.`snapshots`.`orders_snapshot`",
            },
            "model.jaffle.parsed_only": _model("parsed_only", None, ["model.jaffle.fct_orders"]),
            "model.jaffle.drifted": _model(
                "drifted", "select * from `acme`.`raw`.`payments`", ["model.jaffle.fct_orders"]
            ),
            "seed.jaffle.countries": {
                "resource_type": "seed",
                "name": "countries",
                "relation_name": "`acme`.`analytics`.`countries`",
                "depends_on": {"nodes": []},
            },
            "test.jaffle.not_null_orders_id": {
                "resource_type": "test",
                "name": "not_null",
                "depends_on": {"nodes": []},
            },
        },
        "sources": {
            "source.jaffle.raw.orders": {
                "resource_type": "source",
                "name": "orders",
                "source_name": "raw",
                "relation_name": "`acme`.`raw`.`orders`",
            },
            "source.jaffle.raw.customers": {
                "resource_type": "source",
                "name": "customers",
                "source_name": "raw",
                "relation_name": "`acme`.`raw`.`customers`",
                "meta": {"owner": "crm-team"},
            },
        },
        "exposures": {
            "exposure.jaffle.weekly_revenue": {
                "name": "weekly_revenue",
                "type": "dashboard",
                "url": "https://bi.acme.test/dashboards/7",
                "owner": {"name": "Finance", "email": "finance@acme.test"},
                "depends_on": {"nodes": ["model.jaffle.fct_orders"]},
                "original_file_path": "models/exposures.yml",
            }
        },
    }


def test_model_lineage_sources_and_targets() -> None:
    models = {m.name: m for m in model_lineage(manifest())}
    assert set(models) == {"stg_orders", "int_customers", "fct_orders", "orders_snapshot", "parsed_only", "drifted"}
    assert models["stg_orders"].target == "acme.analytics.stg_orders" and models["stg_orders"].kind == "view"
    assert models["stg_orders"].sources == ("acme.raw.orders",)
    assert models["stg_orders"].owners == ("data-eng@acme.test",)
    # the ephemeral model is inlined as a CTE: fct_orders reads what it reads; depends_on agrees
    assert models["int_customers"].target is None
    fct = models["fct_orders"]
    assert fct.sources == ("acme.analytics.stg_orders", "acme.raw.customers") and fct.expected == fct.sources
    assert fct.issues == ()
    assert models["orders_snapshot"].target == "acme.snapshots.orders_snapshot"
    # `dbt parse` manifest: no compiled SQL, depends_on is used and said so
    parsed = models["parsed_only"]
    assert parsed.sources == ("acme.analytics.fct_orders",) and "dbt compile" in parsed.issues[0][1]
    # the cross-check: SQL and depends_on disagree both ways
    drifted = models["drifted"]
    assert drifted.sources == ("acme.raw.payments",)
    messages = " ".join(m for _, m in drifted.issues)
    assert "depends_on lists acme.analytics.fct_orders" in messages and "reads acme.raw.payments" in messages


def test_dbt_lineage_command_writes_a_document(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = tmp_path / "jaffle"
    (project / "target").mkdir(parents=True)
    (project / "target" / "manifest.json").write_text(json.dumps(manifest()))
    out = tmp_path / "dbt-lineage.json"
    code = main(["dbt-lineage", str(project / "target" / "manifest.json"), "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    document = loads_document(out.read_bytes())
    edges = {(e.source, e.target) for e in document.edges}
    assert edges == {
        ("acme.raw.orders", "acme.analytics.stg_orders"),
        ("acme.analytics.stg_orders", "acme.analytics.fct_orders"),
        ("acme.raw.customers", "acme.analytics.fct_orders"),
        ("acme.analytics.stg_orders", "acme.snapshots.orders_snapshot"),
        ("acme.analytics.fct_orders", "acme.analytics.parsed_only"),
        ("acme.raw.payments", "acme.analytics.drifted"),
        ("acme.analytics.fct_orders", "dbt:exposure/weekly_revenue"),
    }
    nodes = {n.id: n for n in document.nodes}
    dashboard = nodes["dbt:exposure/weekly_revenue"]
    assert dashboard.kind == "dashboard" and dashboard.owners == ("finance@acme.test",)
    assert dashboard.url == "https://bi.acme.test/dashboards/7"
    assert nodes["acme.analytics.stg_orders"].kind == "view"
    assert nodes["acme.analytics.stg_orders"].labels["dbt_tags"] == "staging"
    assert nodes["acme.raw.customers"].kind == "external" and nodes["acme.raw.customers"].owners == ("crm-team",)
    assert nodes["acme.analytics.fct_orders"].description == "One row per order"
    queries = {q.id: q for q in document.queries}
    assert queries["dbt:model.jaffle.fct_orders"].uri.endswith("jaffle/models/fct_orders.sql")
    assert {e.kind for e in document.errors} == {"unresolved"} and len(document.errors) == 3
    assert main(["dbt-lineage", str(project / "target" / "manifest.json"), "--out", str(out), "--strict"]) == 1


def test_malformed_manifests_fail_with_clear_messages(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = str(tmp_path / "x.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert main(["dbt-lineage", str(bad), "--out", out]) == 1
    assert "not a dbt manifest: invalid JSON" in capsys.readouterr().err
    bad.write_text(json.dumps({"metadata": {}}))
    assert main(["dbt-lineage", str(bad), "--out", out]) == 1
    assert "no `nodes` object" in capsys.readouterr().err
    bad.write_text(json.dumps({"nodes": {"model.x": []}}))
    assert main(["dbt-lineage", str(bad), "--out", out]) == 1
    assert "nodes.model.x is not an object" in capsys.readouterr().err
    assert main(["dbt-lineage", str(tmp_path / "missing.json"), "--out", out]) == 1
    assert "dbt manifest not found" in capsys.readouterr().err
    with pytest.raises(Exception, match="top level is not an object"):
        check_manifest([1, 2])


def test_relation_names_of_other_adapters() -> None:
    assert relation('"analytics"."main"."orders"') == "analytics.main.orders"
    assert relation("`my-proj`.`ds`.`t`") == "my-proj.ds.t"
    assert relation(None) is None
    duck = manifest()
    duck["metadata"]["adapter_type"] = "duckdb"
    duck["nodes"] = {
        "model.p.m": _model("m", 'select * from "db"."main"."src"', ["source.p.s.src"], relation_name='"db"."main"."m"')
    }
    duck["sources"] = {"source.p.s.src": {"relation_name": '"db"."main"."src"', "name": "src", "source_name": "s"}}
    duck["exposures"] = {}
    imported = import_manifest(duck)
    assert [(r.query.sources, r.query.targets) for r in imported.results] == [(("db.main.src",), ("db.main.m",))]
    assert imported.models[0].issues == ()
