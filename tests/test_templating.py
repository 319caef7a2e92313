"""Jinja rendering: strict, sandboxed, and the fast path renders exactly what Jinja renders."""

from __future__ import annotations

import jinja2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lineage_core.errors import RenderError
from lineage_core.templating import _render_simple, render_sql

VARS = {
    "ds": "2026-01-01",
    "params": {"project": "acme-data", "env": "prod", "n": 3, "flag": True, "countries": ["jp", "us"]},
}


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("select 1", "select 1"),
        ("from `{{ params.project }}.d.t`", "from `acme-data.d.t`"),
        ("{{ds}} {{ params.n }} {{ params.flag }}", "2026-01-01 3 True"),
        ("{% for c in params.countries %}t_{{ c }} {% endfor %}", "t_jp t_us "),
        ("{% if params.env == 'prod' %}p.d.t{% else %}dev.d.t{% endif %}", "p.d.t"),
        ("{{ params.countries | join(',') }}", "jp,us"),
        ("{{ ds | ds_nodash }}", "20260101"),
        ("{# a comment #}x", "x"),
    ],
)
def test_render(template: str, expected: str) -> None:
    assert render_sql(template, VARS) == expected


@pytest.mark.parametrize(
    ("template", "line", "variable"),
    [
        ("select 1\nfrom {{ missing }}.t", 2, "missing"),
        ("select 1\n\nfrom {{ params.missing }}.t", 3, "missing"),
        ("{% for x in nothing %}{{ x }}{% endfor %}", 1, "nothing"),
    ],
)
def test_undefined_variables_are_errors_with_line(template: str, line: int, variable: str) -> None:
    with pytest.raises(RenderError) as caught:
        render_sql(template, VARS)
    assert caught.value.line == line and caught.value.variable == variable


@pytest.mark.parametrize(
    ("template", "variables", "expected"),
    [
        ("{{ ds }} {{ ds_nodash }} {{ next_ds }} {{ prev_ds_nodash }}", {}, "2024-01-01 20240101 2024-01-02 20231231"),
        ("{{ macros.ds_add(ds, -7) }}", {}, "2023-12-25"),
        ("{{ macros.ds_format(ds, '%Y-%m-%d', '%Y/%m') }}", {}, "2024/01"),
        ("{{ execution_date.strftime('%Y%m') }} {{ logical_date.add(days=1).to_date_string() }}", {}, "202401 2024-01-02"),
        ("{{ data_interval_end.format('YYYYMMDD') }}", {}, "20240102"),
        ("{{ ti.xcom_pull(task_ids='x') }}|{{ dag.dag_id }}|{{ dag_run.conf.get('a', 'b') }}", {}, "|lineage|b"),
        # the user's `ds` moves every derived date; their own values win
        ("{{ ds_nodash }} {{ macros.ds_add(ds, 1) }} {{ yesterday_ds }}", {"ds": "2026-11-24"}, "20261124 2026-11-25 2026-11-23"),
        ("{{ ds_nodash }}", {"ds": "2026-11-24", "ds_nodash": "custom"}, "custom"),
    ],
)
def test_airflow_context_has_fixed_defaults(template: str, variables: dict[str, object], expected: str) -> None:
    assert render_sql(template, variables) == expected


@pytest.mark.parametrize("template", ["{{ params.project }}.d.t", "{{ var.value.project }}.d.t", "{{ conn.bq.host }}"])
def test_variables_that_can_name_tables_have_no_default(template: str) -> None:
    with pytest.raises(RenderError, match="undefined"):
        render_sql(template, {})


def test_syntax_error_has_a_line() -> None:
    with pytest.raises(RenderError, match="syntax") as caught:
        render_sql("select\n{% if %}", VARS)
    assert caught.value.line == 2


def test_sandbox_blocks_unsafe_code() -> None:
    with pytest.raises(RenderError, match="unsafe"):
        render_sql("{{ ''.__class__.__mro__[1].__subclasses__() }}", VARS)


def test_fast_path_only_takes_simple_templates() -> None:
    assert _render_simple("{{ params.project }}", VARS) == "acme-data"
    assert _render_simple("{{ params.countries }}", VARS) is None  # not a scalar: Jinja formats it
    assert _render_simple("{{ params.project | upper }}", VARS) is None
    assert _render_simple("{% if x %}{{ ds }}{% endif %}", VARS) is None
    assert _render_simple("{{ params.nope }}", VARS) is None  # Jinja reports it precisely


names = st.sampled_from(["ds", "params.project", "params.env", "params.n", "params.flag", "params.nope", "nope"])
chunks = st.lists(
    st.one_of(st.text(alphabet="select *from.`\n 0123", max_size=8), names.map(lambda n: "{{ " + n + " }}")), max_size=8
)


@settings(max_examples=200, derandomize=True, deadline=None)
@given(chunks)
def test_fast_path_agrees_with_jinja(parts: list[str]) -> None:
    template = "".join(parts)
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    try:
        expected: str | None = env.from_string(template).render(**VARS)
    except jinja2.UndefinedError:
        expected = None
    try:
        got: str | None = render_sql(template, VARS)
    except RenderError:
        got = None
    assert got == expected
