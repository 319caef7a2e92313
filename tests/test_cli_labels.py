"""Labels on apps, jobs and dashboards (config `tables:` selectors) and `-l/--label` in the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from lineage_core.artifact import loads_document
from lineage_core.cli.main import main
from lineage_core.models import LineageDocument

REPO = Path(__file__).resolve().parents[1]
WAREHOUSE = REPO / "examples" / "warehouse"

EXTRA_TABLES = [
    {"select": "kind:job", "labels": {"runs_on": "composer"}},
    {"select": "airflow:acme_marts_*", "owners": ["marts-oncall@acme.example"], "labels": {"team": "growth"}},
    {"select": "app:*", "labels": {"surface": "app"}},
    {"select": "app:sales-dashboard", "labels": {"team": "growth"}},
    {"select": "acme-analytics.marts.customer_ltv", "labels": {"team": "growth"}},
]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example warehouse with its apps and DAGs, plus selectors over apps and jobs."""
    tmp = tmp_path_factory.mktemp("labels")
    yaml = YAML(typ="rt")
    data: Any = yaml.load((WAREHOUSE / "lineage.yaml").read_text())
    for source in data["sources"]:
        source["path"] = str((WAREHOUSE / source["path"]).resolve())
    data["tables"].extend(EXTRA_TABLES)
    data.pop("probe", None)
    config = tmp / "lineage.yaml"
    with config.open("w") as handle:
        yaml.dump(data, handle)
    out = tmp / "lineage.json"
    assert main(["build", "--config", str(config), "--out", str(out), "--no-cache"]) == 0
    return out


@pytest.fixture(scope="module")
def document(built: Path) -> LineageDocument:
    return loads_document(built.read_bytes())


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def rows(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict[str, Any]]:
    code, out, err = run(capsys, *args, "--format", "json")
    assert code == 0, err
    result: list[dict[str, Any]] = json.loads(out)
    return result


# -- selectors over apps and jobs ---------------------------------------------------------


def test_kind_and_glob_selectors_label_job_and_app_nodes(document: LineageDocument) -> None:
    nodes = {n.id: n for n in document.nodes}
    jobs = [n for n in nodes.values() if n.kind == "job"]
    assert jobs and all(n.labels["runs_on"] == "composer" for n in jobs)  # kind:job
    assert all("runs_on" not in n.labels for n in nodes.values() if n.kind != "job")
    marts_job = nodes["airflow:acme_marts_daily.build_fct_orders"]  # glob airflow:acme_marts_*
    assert marts_job.labels["team"] == "growth"
    assert "marts-oncall@acme.example" in marts_job.owners
    assert "data-platform@acme.example" in marts_job.owners  # the source's owners are kept
    assert "team" not in nodes["airflow:acme_staging_daily.build_stg_orders"].labels
    apps = [n for n in nodes.values() if n.kind == "app"]
    assert apps and all(n.labels["surface"] == "app" for n in apps)  # app:* is a glob, not a method
    assert nodes["app:sales-dashboard"].labels["team"] == "growth"
    # tables are untouched by the app/job selectors
    assert "surface" not in nodes["acme-analytics.marts.fct_orders"].labels


def test_queries_carry_the_labels_of_their_source(document: LineageDocument) -> None:
    by_source = {q.source: q for q in document.queries}
    assert by_source["composer"].labels["repo"] == "composer-dags"
    assert by_source["apps"].labels["repo"] == "analytics-apps"
    assert by_source["dags"].labels["repo"] == "composer-dags"
    assert by_source["dags"].labels["tool"] == "airflow"


# -- lineage down / up / search -l ---------------------------------------------------------


def test_down_filters_by_label(built: Path, capsys: pytest.CaptureFixture[str]) -> None:
    everything = rows(capsys, "down", "marts.fct_orders", "--lineage", str(built))
    growth = rows(capsys, "down", "marts.fct_orders", "--lineage", str(built), "-l", "team=growth")
    assert len(growth) < len(everything)
    assert {r["table"] for r in growth} == {
        "acme-analytics.marts.customer_ltv", "app:sales-dashboard", "airflow:acme_marts_daily.build_customer_ltv"}
    assert all("team=growth" in r["labels"] for r in growth)
    assert {r["kind"] for r in growth} == {"table", "app", "job"}


def test_up_filters_by_label_and_finds_the_job_that_writes(built: Path, capsys: pytest.CaptureFixture[str]) -> None:
    writers = rows(capsys, "up", "marts.fct_orders", "--depth", "1", "--lineage", str(built), "-l", "tool=airflow")
    assert [(r["table"], r["kind"]) for r in writers] == [("airflow:acme_marts_daily.build_fct_orders", "job")]


def test_labels_are_anded_and_key_alone_means_any_value(built: Path, capsys: pytest.CaptureFixture[str]) -> None:
    both = rows(capsys, "down", "staging.stg_orders", "--lineage", str(built), "-l", "team=growth", "--label", "tool=airflow")
    assert sorted(r["table"] for r in both) == [
        "airflow:acme_marts_daily.build_customer_ltv", "airflow:acme_marts_daily.build_fct_orders"]
    any_team = rows(capsys, "down", "staging.stg_orders", "--lineage", str(built), "-l", "team")
    assert {r["table"] for r in any_team} >= {r["table"] for r in both}
    assert rows(capsys, "down", "staging.stg_orders", "--lineage", str(built), "-l", "team=nobody") == []


def test_search_includes_jobs_and_apps_and_filters_by_label(built: Path, capsys: pytest.CaptureFixture[str]) -> None:
    hits = rows(capsys, "search", "fct_orders", "--limit", "50", "--lineage", str(built))
    kinds = {r["table"]: r["kind"] for r in hits}
    assert kinds["acme-analytics.marts.fct_orders"] == "table"
    assert kinds["airflow:acme_marts_daily.build_fct_orders"] == "job"
    gold = rows(capsys, "search", "orders", "--lineage", str(built), "-l", "tier=gold", "--limit", "5")
    assert 0 < len(gold) <= 5
    assert all(r["table"].startswith("acme-analytics.marts.") and "tier=gold" in r["labels"] for r in gold)
    jobs = rows(capsys, "search", "orders", "--lineage", str(built), "-l", "runs_on=composer")
    assert jobs and {r["kind"] for r in jobs} == {"job"}


def test_search_with_no_labelled_hit_exits_1(built: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, _ = run(capsys, "search", "orders", "--lineage", str(built), "-l", "tier=platinum")
    assert code == 1


def test_table_format_names_the_filter(built: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "down", "marts.fct_orders", "--lineage", str(built), "-l", "team=growth")
    assert code == 0
    assert out.splitlines()[0].startswith("3 consumers of acme-analytics.marts.fct_orders with team=growth")
    assert "labels" in out


def test_a_malformed_label_is_a_usage_error(built: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "down", "marts.fct_orders", "--lineage", str(built), "-l", "=growth")
    assert code == 2
    assert "KEY=VALUE" in err


def test_every_sql_query_knows_the_job_that_runs_it(tmp_path: Path) -> None:
    out = tmp_path / "lineage.json"
    assert main(["build", "--config", str(WAREHOUSE / "lineage.yaml"), "--out", str(out), "--no-cache"]) == 0
    queries = {q["id"]: q for q in json.loads(out.read_bytes())["queries"]}
    assert queries["composer:marts/fct_orders.sql"]["labels"]["job"] == "airflow:acme_marts_daily.build_fct_orders"
    assert "job" not in queries["composer:marts/dim_date.sql"]["labels"]


def test_labels_by_file_glob(tmp_path: Path) -> None:
    sql = tmp_path / "sql"
    (sql / "growth").mkdir(parents=True)
    (sql / "growth" / "a.sql").write_text("INSERT INTO p.d.t SELECT * FROM p.d.s")
    (sql / "b.sql").write_text("INSERT INTO p.d.u SELECT * FROM p.d.s")
    (tmp_path / "lineage.yaml").write_text(
        "sources:\n  - path: sql\n    labels: {repo: r}\n    files:\n      - match: 'growth/*.sql'\n        labels: {team: growth}\n"
    )
    out = tmp_path / "o.json"
    assert main(["build", "--config", str(tmp_path / "lineage.yaml"), "--out", str(out), "--no-cache"]) == 0
    labels = {q["path"]: q["labels"] for q in json.loads(out.read_bytes())["queries"]}
    assert labels == {"growth/a.sql": {"repo": "r", "team": "growth"}, "b.sql": {"repo": "r"}}
