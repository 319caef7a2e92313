"""``options`` of non-SQL sources are validated: a mistake is a ConfigError naming file:line and key."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_consumers_support import settings_with

from lineage_core.discovery.consumers import collect, validate
from lineage_core.errors import ConfigError


def config_error(tmp_path: Path, text: str) -> str:
    settings = settings_with(text, tmp_path)
    with pytest.raises(ConfigError) as caught:
        validate(settings)
    return str(caught.value)


def test_an_unknown_option_names_the_file_line_and_key(tmp_path: Path) -> None:
    message = config_error(tmp_path, (
        "sources:\n"
        "  - name: sql\n"
        "    path: .\n"
        "  - name: redash\n"
        "    type: redash\n"
        "    options:\n"
        "      url: https://redash.example\n"
        "      api_kye_env: REDASH_API_KEY\n"
    ))
    assert f"{tmp_path / 'lineage.yaml'}:8: sources.1.options.api_kye_env: unknown key 'api_kye_env'" in message


def test_a_missing_required_option_is_named(tmp_path: Path) -> None:
    message = config_error(tmp_path, "sources:\n  - name: r\n    type: redash\n    options: {url: 'https://r.example'}\n")
    assert "sources.0.options.api_key_env: required key is missing" in message


def test_a_value_out_of_range_is_named_with_its_nested_key(tmp_path: Path) -> None:
    message = config_error(tmp_path, (
        "sources:\n  - name: r\n    type: redash\n    options:\n      url: https://r.example\n"
        "      api_key_env: K\n      page_size: 1000\n"
    ))
    assert ":7: sources.0.options.page_size:" in message and "<= 250" in message


def test_an_unknown_tool_of_bigquery_jobs_is_an_error(tmp_path: Path) -> None:
    message = config_error(tmp_path, (
        "sources:\n  - name: g\n    type: bigquery_jobs\n"
        "    options: {project: acme-analytics, tools: [looker_studio, tableau]}\n"
    ))
    assert "sources.0.options.tools.1:" in message and "tableau" in message


def test_metabase_needs_a_key_or_a_login(tmp_path: Path) -> None:
    message = config_error(tmp_path, "sources:\n  - name: m\n    type: metabase\n    options: {url: 'https://m.example'}\n")
    assert "sources.0.options:" in message and "api_key_env, or username and password_env" in message


def test_an_unknown_source_type_lists_the_known_ones(tmp_path: Path) -> None:
    message = config_error(tmp_path, "sources:\n  - name: t\n    type: tableau\n")
    assert ":3: sources.0.type: unknown source type 'tableau'" in message and "bigquery_jobs" in message


def test_options_are_checked_before_any_service_is_called(tmp_path: Path) -> None:
    """A bad second source stops collect() before the first one (a reachable-looking URL) is read."""
    settings = settings_with(
        "sources:\n"
        "  - {name: r, type: redash, options: {url: 'http://127.0.0.1:9', api_key_env: K}}\n"
        "  - {name: p, type: python, options: {includ: ['*.py']}}\n",
        tmp_path,
    )
    with pytest.raises(ConfigError, match=r"sources\.1\.options\.includ"):
        collect(settings, {"K": "x"})
