"""lineage.yaml: valid files load into frozen settings; every mistake names file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from lineage_core.cli.main import main
from lineage_core.config import Settings, deep_merge, load_settings, parse_settings
from lineage_core.discovery import effective_vars
from lineage_core.errors import ConfigError

BAD_CONFIGS = [
    # (yaml text, what the message must contain)
    (
        "dialect: bigquery\nsources:\n  - name: a\n    inlcude: ['*.sql']\n",
        "lineage.yaml:4: sources.0.inlcude: unknown key 'inlcude'",
    ),
    ("unknown_top: 1\n", "lineage.yaml:1: unknown_top: unknown key 'unknown_top'"),
    ("history_keep: lots\n", "lineage.yaml:1: history_keep"),
    ("history_keep: 0\n", "lineage.yaml:1: history_keep: Expected `int` >= 1"),
    ("version: 2\n", "lineage.yaml:1: version"),
    ("sources: {name: a}\n", "sources"),
    ("tables:\n  - owners: [a]\n", "tables.0.select: required key is missing"),
    ("vars: [1, 2]\n", "lineage.yaml:1: vars"),
    ("dialect: bigquery\n  bad: indent\n", "not valid YAML"),
    ("- a\n- b\n", "must be a mapping"),
    (
        "sources:\n  - name: a\n    files:\n      - match: '*.sql'\n        varz: {}\n",
        "lineage.yaml:5: sources.0.files.0.varz: unknown key",
    ),
]


@pytest.mark.parametrize(("text", "expected"), BAD_CONFIGS)
def test_bad_config_is_a_clear_error(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings(text, "lineage.yaml")
    assert expected in str(caught.value)


def test_settings_are_frozen() -> None:
    settings = parse_settings("dialect: snowflake\n")
    with pytest.raises(AttributeError):
        settings.dialect = "bigquery"  # type: ignore[misc]


def test_defaults_without_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings(None)
    assert settings == Settings()
    assert settings.dialect == "bigquery"


def test_missing_and_binary_config_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="configuration file not found"):
        load_settings(tmp_path / "nope.yaml")
    binary = tmp_path / "lineage.yaml"
    binary.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_settings(binary)


def test_config_error_exits_2_and_names_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "lineage.yaml"
    config.write_text("sources:\n  - path: .\n    colour: blue\n")
    (tmp_path / "a.sql").write_text("select 1")
    assert main(["build", str(tmp_path), "--config", str(config), "--out", str(tmp_path / "o.json")]) == 2
    err = capsys.readouterr().err
    assert f"{config}:3" in err and "colour" in err


def test_variables_merge_global_then_source_then_file_glob() -> None:
    settings = parse_settings(
        """
vars: {params: {project: p-global, env: prod, keep: 1}}
sources:
  - name: s
    vars: {params: {project: p-source}}
    files:
      - match: "reporting/*.sql"
        vars: {params: {env: dev}}
"""
    )
    plain = effective_vars(settings, "s", "staging/a.sql")
    report = effective_vars(settings, "s", "reporting/a.sql")
    assert plain["params"] == {"project": "p-source", "env": "prod", "keep": 1}
    assert report["params"] == {"project": "p-source", "env": "dev", "keep": 1}
    from lineage_core.templating import render_sql

    assert render_sql("{{ ds }}", plain) == "2024-01-01"  # Airflow's context lies beneath them all


def test_deep_merge_overrides_leaves_only() -> None:
    assert deep_merge({"a": {"b": 1, "c": 2}, "d": 1}, {"a": {"b": 3}}) == {"a": {"b": 3, "c": 2}, "d": 1}


def test_digest_ignores_where_the_config_lives() -> None:
    a = parse_settings("dialect: bigquery\n", "x/lineage.yaml", "x")
    b = parse_settings("dialect: bigquery\n", "y/lineage.yaml", "y")
    assert a.digest() == b.digest()
    assert a.digest() != parse_settings("dialect: snowflake\n").digest()
