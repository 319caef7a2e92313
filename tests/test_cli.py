"""The `lineage` command end to end on the bundled example warehouse."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from lineage_core.cli.main import main


@pytest.fixture(scope="module")
def built(example_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cli") / "lineage.json"
    assert main(["build", "--config", str(example_dir / "lineage.yaml"), "--out", str(out), "--no-cache"]) == 0
    return out


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_every_command_has_help() -> None:
    from lineage_core.cli.main import COMMAND_HOMES

    for command in COMMAND_HOMES:
        proc = subprocess.run([sys.executable, "-m", "lineage_core.cli.main", command, "--help"], capture_output=True, text=True)
        assert proc.returncode == 0 and "usage: lineage" in proc.stdout, command


def test_each_command_is_registered_by_the_module_named_for_it() -> None:
    """`lineage CMD` imports only COMMAND_HOMES[CMD]: that module must define CMD, and every
    command of the full parser must be listed (or it would silently take the slow path)."""
    from lineage_core.cli.main import COMMAND_HOMES, COMMAND_MODULES, make_parser

    def commands(parser: object) -> set[str]:
        action = next(a for a in parser._actions if a.dest == "command")  # type: ignore[attr-defined]
        return set(action.choices)

    assert commands(make_parser()) == set(COMMAND_HOMES)
    for command, module in COMMAND_HOMES.items():
        assert module in COMMAND_MODULES and command in commands(make_parser((module,))), command


def test_usage_errors_exit_2() -> None:
    proc = subprocess.run([sys.executable, "-m", "lineage_core.cli.main", "down"], capture_output=True, text=True)
    assert proc.returncode == 2 and "TABLE" in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "lineage_core.cli.main", "frobnicate"], capture_output=True, text=True)
    assert proc.returncode == 2


def test_down_lists_consumers_with_paths(built: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "down", "marts.fct_orders", "--depth", "1", "--lineage", str(built), "--format", "json")
    rows = json.loads(out)
    assert code == 0 and rows and all(r["depth"] == 1 for r in rows)
    assert all(r["via"][0] == "acme-analytics.marts.fct_orders" for r in rows)
    code, out, _ = run(capsys, "down", "acme-analytics.marts.fct_orders", "--lineage", str(built), "--format", "json")
    deeper = json.loads(out)
    assert len(deeper) > len(rows) and max(r["depth"] for r in deeper) >= 2


def test_up_csv_and_table(built: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "up", "reporting.v_exec_kpis", "--lineage", str(built), "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and {"table", "depth", "kind", "owners", "via"} <= set(rows[0])
    assert any(r["table"].startswith("acme-ingest.") for r in rows)
    code, out, _ = run(capsys, "up", "reporting.v_exec_kpis", "--lineage", str(built), "--depth", "1")
    assert code == 0 and "sources of acme-analytics.reporting.v_exec_kpis" in out


def test_unknown_table_suggests_names(built: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "down", "marts.fct_ordrs", "--lineage", str(built))
    assert code == 2 and "no table 'marts.fct_ordrs'" in err and "fct_orders" in err


def test_search(built: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "search", "orders", "--lineage", str(built), "--format", "json")
    hits = json.loads(out)
    assert code == 0 and hits and all("orders" in h["matched"] for h in hits[:3])
    code, out, _ = run(capsys, "search", "zzzzqqq", "--lineage", str(built))
    assert code == 1


def test_missing_or_broken_document(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "down", "t", "--lineage", str(tmp_path / "none.json"))
    assert code == 1 and "none.json" in err
    broken = tmp_path / "broken.json"
    broken.write_text('{"schema_version": 1, "nodes": [')
    code, _, err = run(capsys, "up", "t", "--lineage", str(broken))
    assert code == 1 and "truncated" in err and "broken.json" in err
    newer = tmp_path / "newer.json"
    newer.write_text('{"schema_version": 7}')
    code, _, err = run(capsys, "up", "t", "--lineage", str(newer))
    assert code == 1 and "upgrade" in err


def test_sql_shows_statements(example_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = next(example_dir.rglob("customer_ltv.sql"))
    code, out, _ = run(capsys, "sql", str(path), "--config", str(example_dir / "lineage.yaml"), "--format", "json")
    result = json.loads(out)
    assert code == 0 and len(result["statements"]) >= 2
    assert any("customer_order_summary" in t for t in result["targets"])
    assert not any("customer_order_summary" in s for s in result["sources"])


def test_check_reports_the_broken_files(example_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = str(example_dir / "lineage.yaml")
    code, out, _ = run(capsys, "check", "--config", config, "--no-cache", "--format", "github")
    assert code == 1
    assert "::error file=" in out and "broken/syntax_error.sql,line=12" in out
    code, out, _ = run(capsys, "check", "--config", config, "--no-cache", "--format", "json")
    report = json.loads(out)
    assert "missing_dataset" in report["undefined_variables"] and "missing_dataset: TODO" in report["config_stub"]
    code, out, _ = run(capsys, "check", "--config", config, "--no-cache", "--format", "markdown")
    assert "| file | line | kind | message |" in out and "```yaml" in out


def test_check_clean_repository_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a.sql").write_text("INSERT INTO d.t SELECT * FROM d.s")
    code, out, _ = run(capsys, "check", str(tmp_path), "--no-cache")
    assert code == 0 and "all 1 files rendered and parsed" in out


def test_synth_writes_a_repository(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "synth", "--tables", "50", "--files", "60", "--out", str(tmp_path / "s"))
    assert code == 0 and len(list((tmp_path / "s").rglob("*.sql"))) == 60
    code, out, _ = run(capsys, "build", str(tmp_path / "s"), "--config", str(tmp_path / "s" / "lineage.yaml"),
                       "--out", str(tmp_path / "s.json"), "--no-cache")
    assert code == 0 and "60 files" in out


def test_warm_build_reuses_the_document_and_notices_config_changes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "a.sql").write_text("CREATE TABLE p.d.t AS SELECT * FROM p.d.s")
    config = tmp_path / "lineage.yaml"
    config.write_text("tables:\n  - select: p.d.t\n    owners: [ann]\n")
    args = ["build", str(repo), "--config", str(config), "--out", str(tmp_path / "o.json"), "--cache-dir", str(tmp_path / "c")]
    assert run(capsys, *args)[0] == 0
    code, out, _ = run(capsys, *args)
    assert code == 0
    assert "0 analyzed, 1 cached" in out
    config.write_text("tables:\n  - select: p.d.t\n    owners: [bob]\n")
    assert run(capsys, *args)[0] == 0
    nodes = {n["id"]: n for n in json.loads((tmp_path / "o.json").read_bytes())["nodes"]}
    assert nodes["p.d.t"]["owners"] == ["bob"]


def test_demo_no_serve_writes_lineage_health_and_duckdb(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "demo"
    code, stdout, _ = run(capsys, "demo", "--no-serve", "--out-dir", str(out))
    assert code == 0
    for name in ("lineage.json", "health.json", "warehouse.duckdb"):
        assert (out / name).is_file(), f"{name} missing; printed:\n{stdout}"
        assert str(out / name) in stdout
    health = json.loads((out / "health.json").read_bytes())
    statuses = {entry["status"] for entry in health["tables"].values()} if isinstance(health["tables"], dict) else {t["status"] for t in health["tables"]}
    assert "late" in statuses or "stale" in statuses, "the demo must show a late table"
    assert "on_time" in statuses and "upstream_late" in statuses


def test_column_lineage_in_the_document_and_up_down_on_columns(example_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cols.json"
    code, _, _ = run(capsys, "build", "--config", str(example_dir / "lineage.yaml"), "--out", str(out), "--columns", "--no-cache")
    assert code == 0
    columns = json.loads(out.read_bytes())["columns"]
    assert ("acme-analytics.raw.orders.order_id", "acme-analytics.staging.stg_orders.order_id") in {(c["source"], c["target"]) for c in columns}
    code, stdout, _ = run(capsys, "down", "raw.orders.order_id", "--lineage", str(out), "--format", "json")
    reached = {r["table"]: r["depth"] for r in json.loads(stdout)}
    assert code == 0 and reached["acme-analytics.staging.stg_orders.order_id"] == 1
    code, stdout, _ = run(capsys, "up", "acme-analytics.marts.fct_orders.order_id", "--lineage", str(out), "--format", "json")
    assert "acme-analytics.raw.orders.order_id" in {r["table"] for r in json.loads(stdout)}


def test_columns_schema_from_an_information_schema_export(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "sql").mkdir()
    (tmp_path / "sql" / "a.sql").write_text("INSERT INTO p.d.t SELECT * FROM p.d.s")
    schema = tmp_path / "columns.json"
    schema.write_text(json.dumps([
        {"table_catalog": "p", "table_schema": "d", "table_name": "s", "column_name": "id"},
        {"table_catalog": "p", "table_schema": "d", "table_name": "s", "column_name": "amount"},
    ]))
    out = tmp_path / "o.json"
    assert run(capsys, "build", str(tmp_path / "sql"), "--out", str(out), "--schema", str(schema), "--no-cache")[0] == 0
    pairs = {(c["source"], c["target"]) for c in json.loads(out.read_bytes())["columns"]}
    assert pairs == {("p.d.s.id", "p.d.t.id"), ("p.d.s.amount", "p.d.t.amount")}


def test_columns_schema_from_the_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "sql").mkdir()
    (tmp_path / "sql" / "a.sql").write_text("INSERT INTO p.d.t SELECT * FROM p.d.s")
    (tmp_path / "columns.json").write_text(json.dumps([{"table_catalog": "p", "table_schema": "d", "table_name": "s", "column_name": "id"}]))
    (tmp_path / "lineage.yaml").write_text("columns_schema: columns.json\nsources:\n  - path: sql\n")
    out = tmp_path / "o.json"
    assert run(capsys, "build", "--config", str(tmp_path / "lineage.yaml"), "--out", str(out), "--no-cache")[0] == 0
    assert [(c["source"], c["target"]) for c in json.loads(out.read_bytes())["columns"]] == [("p.d.s.id", "p.d.t.id")]
    (tmp_path / "columns.json").write_text("{broken")
    code, _, err = run(capsys, "build", "--config", str(tmp_path / "lineage.yaml"), "--out", str(out), "--no-cache")
    assert code in (1, 2) and "columns.json" in err


def test_columns_learnt_from_the_previous_document_expand_star(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sql = tmp_path / "sql"
    sql.mkdir()
    (sql / "a.sql").write_text("INSERT INTO p.d.mid SELECT id, amount FROM p.d.src")
    (sql / "b.sql").write_text("INSERT INTO p.d.out SELECT * FROM p.d.mid")
    out = tmp_path / "o.json"
    assert run(capsys, "build", str(sql), "--out", str(out), "--columns", "--no-cache")[0] == 0
    first = {(c["source"], c["target"]) for c in json.loads(out.read_bytes())["columns"]}
    assert ("p.d.mid.id", "p.d.out.id") not in first  # `*` of p.d.mid is unknown at first
    assert run(capsys, "build", str(sql), "--out", str(out), "--columns", "--no-cache")[0] == 0
    second = {(c["source"], c["target"]) for c in json.loads(out.read_bytes())["columns"]}
    assert {("p.d.mid.id", "p.d.out.id"), ("p.d.mid.amount", "p.d.out.amount")} <= second


def test_a_dashboard_can_be_subscribed_like_a_table(example_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "demo"
    assert run(capsys, "demo", "--no-serve", "--out-dir", str(out))[0] == 0
    health = {t["id"]: t for t in json.loads((out / "health.json").read_bytes())["tables"]}
    assert health["app:sales-dashboard"]["status"] == "upstream_late"
    assert health["app:sales-dashboard"]["late_upstream_roots"]
    code, stdout, _ = run(capsys, "notify", "--config", str(example_dir / "lineage.yaml"),
                          "--health", str(out / "health.json"), "--dry-run")
    notice = stdout[stdout.index("to email:sales-ops@acme.example"):]
    assert code == 0 and "app:sales-dashboard" in notice and "root cause" in notice


def test_build_command_leaves_fast_with_its_output_and_exit_code(tmp_path: Path) -> None:
    """`lineage build` exits without the interpreter's teardown: nothing printed may be lost."""
    import subprocess
    import sys

    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "a.sql").write_text("CREATE TABLE p.d.t AS SELECT * FROM p.d.s")
    (repo / "b.sql").write_text("SELECT (((")
    out = tmp_path / "o.json"
    command = [sys.executable, "-m", "lineage_core.cli.main", "build", str(repo), "--out", str(out), "--no-cache"]
    done = subprocess.run([*command, "--strict"], capture_output=True, text=True, check=False)
    assert done.returncode == 1
    assert done.stdout.startswith("built: 2 files") and "b.sql" in done.stderr
    assert json.loads(out.read_bytes())["queries"][0]["id"].endswith("a.sql")
    assert subprocess.run(command, capture_output=True, text=True, check=False).returncode == 0
