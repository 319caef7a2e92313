"""`lineage check` for CI and `lineage check --fix`: stubs written into a commented lineage.yaml."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from lineage_core.cli.main import main
from lineage_core.stubs import MissingVariable, add_stubs, derive_path, missing_in_text

CONFIG = """\
# lineage.yaml of the test warehouse
version: 1
dialect: bigquery
default_project: acme   # names without a project live here

vars:
  ds: "2026-11-24"      # fixed date: lineage must not change daily
  params:
    project: acme       # the GCP project
    countries: [jp, us]

# where the SQL files are
sources:
  - name: dags
    path: sql
    labels: {repo: dags}

tables:
  - select: acme.marts.*
    owners: [data-team@acme.test]
# end of file
"""

# The golden result of `lineage check --fix` on CONFIG with the SQL files below: every comment,
# blank line, quote and key stays where it was; stubs are appended, nested by dotted path.
FIXED = """\
# lineage.yaml of the test warehouse
version: 1
dialect: bigquery
default_project: acme   # names without a project live here

vars:
  ds: "2026-11-24"      # fixed date: lineage must not change daily
  params:
    project: acme       # the GCP project
    countries: [jp, us]
    missing_dataset: TODO  # TODO: set; undefined in marts/orders.sql:2
  env:
    region: TODO  # TODO: set; undefined in staging/events.sql:1
  source_table: TODO  # TODO: set; undefined in marts/orders.sql:3

# where the SQL files are
sources:
  - name: dags
    path: sql
    labels: {repo: dags}

tables:
  - select: acme.marts.*
    owners: [data-team@acme.test]
# end of file
"""

SQL = {
    "marts/orders.sql": (
        "-- orders mart\n"
        "INSERT INTO {{ params.project }}.{{ params.missing_dataset }}.orders\n"
        "SELECT * FROM {{ params.project }}.raw.{{ source_table }} WHERE ds = '{{ ds }}'\n"
    ),
    "staging/events.sql": "CREATE TABLE acme.staging.events_{{ env.region }} AS SELECT * FROM acme.raw.events\n",
    "ok.sql": "CREATE TABLE acme.marts.daily AS SELECT * FROM acme.marts.orders\n",
}


def make_repo(root: Path, config: str = CONFIG, sql: dict[str, str] | None = None) -> Path:
    for rel, text in (SQL if sql is None else sql).items():
        path = root / "sql" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (root / "lineage.yaml").write_text(config)
    return root


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    make_repo(tmp_path)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_check_fails_on_undefined_variables_in_every_format(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "check", "--no-cache")
    assert code == 1 and "missing_dataset" in out and "2 problem(s) in 3 files" in out
    code, out, _ = run(capsys, "check", "--no-cache", "--format", "github")
    lines = out.splitlines()
    assert code == 1 and len(lines) == 2
    assert lines[0].startswith("::error file=sql/marts/orders.sql,line=2,title=lineage render::undefined Jinja")
    code, out, _ = run(capsys, "check", "--no-cache", "--format", "json")
    data = json.loads(out)
    assert code == 1 and data["files"] == 3 and len(data["errors"]) == 2
    code, out, _ = run(capsys, "check", "--no-cache", "--format", "markdown")
    assert code == 1 and out.startswith("### Lineage check: 2 problem(s) in 3 files")


def test_check_exit_1_on_parse_error_and_0_when_clean(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_repo(tmp_path, "version: 1\n", {"bad.sql": "SELEC * FROM (\n"})
    assert run(capsys, "check", str(tmp_path / "sql"), "--no-cache", "--config", str(tmp_path / "lineage.yaml"))[0] == 1
    make_repo(tmp_path / "clean", "version: 1\n", {"ok.sql": "SELECT 1 FROM a.b.c\n"})
    code, out, _ = run(
        capsys, "check", str(tmp_path / "clean" / "sql"), "--no-cache", "--config", str(tmp_path / "clean/lineage.yaml")
    )
    assert code == 0 and "all 1 files rendered and parsed" in out


def test_fix_matches_golden_file_and_second_run_changes_nothing(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "check", "--fix", "--no-cache")
    assert (repo / "lineage.yaml").read_text() == FIXED
    # it says what it changed (each stub, where used, and the diff) and checks again: all fixed
    assert "added 3 stub(s)" in out and "vars.params.missing_dataset = TODO" in out
    assert "+    missing_dataset: TODO" in out and "all 3 files rendered and parsed" in out
    assert code == 0
    code, out, _ = run(capsys, "check", "--fix", "--no-cache")
    assert code == 0 and "nothing changed" in out
    assert (repo / "lineage.yaml").read_text() == FIXED


def test_fix_keeps_values_set_by_hand(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "check", "--fix", "--no-cache")
    config = repo / "lineage.yaml"
    config.write_text(config.read_text().replace("missing_dataset: TODO", "missing_dataset: sales"))
    code, _, _ = run(capsys, "check", "--fix", "--no-cache")
    assert code == 0 and "missing_dataset: sales" in config.read_text()


def test_fix_reports_what_a_stub_cannot_fix_and_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sql = {"a.sql": "SELECT * FROM {{ ref('orders') }}\n", "b.sql": "SELECT * FROM {{ params.x }}.t\n"}
    make_repo(tmp_path, "version: 1\nsources:\n  - path: sql\n", sql)
    code, out, _ = run(capsys, "check", "--fix", "--no-cache", "--config", str(tmp_path / "lineage.yaml"))
    text = (tmp_path / "lineage.yaml").read_text()
    # `'params' is undefined` names only the root: the full path comes from the template
    assert "params:\n    x: TODO" in text
    assert "ref" not in text and "ref(): a function" in out
    assert code == 1  # a.sql still fails


def test_fix_creates_a_missing_config_and_json_reports_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "sql").mkdir()
    (tmp_path / "sql" / "a.sql").write_text("SELECT * FROM {{ project }}.raw.t\n")
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys, "check", "sql", "--fix", "--no-cache", "--format", "json")
    data = json.loads(out)
    assert code == 0 and data["fix"]["added"] == ["project"] and data["errors"] == []
    assert (
        tmp_path / "lineage.yaml"
    ).read_text() == "version: 1\nvars:\n  project: TODO  # TODO: set; undefined in a.sql:1\n"


def test_github_format_with_fix_keeps_stdout_for_annotations(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "check", "--fix", "--no-cache", "--format", "github")
    assert code == 0 and out.strip() == "" and "added 3 stub(s)" in err


def test_open_pr_usage_errors_exit_2(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.delenv("GITHUB_REPOSITORY", raising=False)
    code, _, err = run(capsys, "check", "--open-pr", "--repo", "a/b")
    assert code == 2 and "--open-pr needs --fix" in err
    code, _, err = run(capsys, "check", "--fix", "--open-pr", "--repo", "a/b")
    assert code == 2 and "GITHUB_TOKEN" in err
    monkeypatch.setenv("GITHUB_TOKEN", "t")
    code, _, err = run(capsys, "check", "--fix", "--open-pr")
    assert code == 2 and "--repo OWNER/NAME" in err
    code, _, err = run(capsys, "check", "--fix", "--open-pr", "--repo", "not-a-repo")
    assert code == 2 and "OWNER/NAME" in err
    assert (repo / "lineage.yaml").read_text() == CONFIG  # nothing written before the preflight passed


# -- the pieces ------------------------------------------------------------------------


def test_derive_path_from_attribute_and_root_messages() -> None:
    text = "SELECT 1\nFROM {{ params.project }}.{{ params.missing_dataset }}.t"
    message = "undefined Jinja variable: 'dict object' has no attribute 'missing_dataset'"
    assert derive_path(text, message, 2, {"params": {"project": "p"}}) == (("params", "missing_dataset"), None)
    assert derive_path(text, "'params' is undefined", 2, {}) == (("params", "project"), None)
    loop = "{% for t in tables %}{{ t.name }}{% endfor %}"
    path, why = derive_path(loop, "'str object' has no attribute 'name'", 1, {"tables": "TODO"})
    assert path is None and why and "not a mapping" in why


def test_missing_in_text_finds_every_variable_of_a_file() -> None:
    text = "{{ a.b }} {{ a.c | upper }}\n{% if flag %}{{ x.y.z }}{% endif %}"
    needed, why = missing_in_text(text, {})
    assert why is None and [p for p, _ in needed] == [("a", "b"), ("a", "c"), ("flag",), ("x", "y", "z")]


def test_add_stubs_indentation_flow_maps_and_conflicts() -> None:
    four = "version: 1\nvars:\n    a:\n        keep: 1\nsources:\n    - path: sql\n"
    result = add_stubs(four, [MissingVariable(("a", "b"))])
    assert (
        result.text
        == "version: 1\nvars:\n    a:\n        keep: 1\n        b: TODO  # TODO: set\nsources:\n    - path: sql\n"
    )
    flow = add_stubs("vars: {}\n", [MissingVariable(("p", "q"), ("x.sql:1",))])
    assert flow.text == "vars:\n  p:\n    q: TODO  # TODO: set; undefined in x.sql:1\n"
    conflict = add_stubs("vars:\n  p: scalar\n", [MissingVariable(("p", "q"))])
    assert not conflict.changed and "not a mapping" in conflict.skipped[0]


def test_config_stub_suggestion_is_unchanged_without_fix(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "check", "--no-cache")
    assert code == 1 and "suggested config stub:" in out
    assert (repo / "lineage.yaml").read_text() == CONFIG
    assert not any(name.endswith(".tmp") or ".tmp-" in name for name in os.listdir(repo))


def test_the_example_config_only_gains_lines(example_dir: Path) -> None:
    """The bundled, heavily commented lineage.yaml: stubs add lines and change none."""
    text = (example_dir / "lineage.yaml").read_text()
    result = add_stubs(text, [MissingVariable(("params", "new_one"), ("x.sql:1",)), MissingVariable(("zzz",))])
    assert result.added == ["params.new_one", "zzz"]
    import difflib

    changes = [
        line
        for line in difflib.unified_diff(text.splitlines(), result.text.splitlines(), lineterm="")
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    assert changes == ["+    new_one: TODO  # TODO: set; undefined in x.sql:1", "+  zzz: TODO  # TODO: set"]
