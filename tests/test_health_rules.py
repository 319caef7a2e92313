"""Freshness rules: clear configuration errors, and verdicts in time zones across DST switches."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from lineage_core.config import load_settings
from lineage_core.errors import ConfigError
from lineage_core.health.evaluate import scheduled_runs_after, verdict
from lineage_core.health.rules import FreshnessRule, health_settings, parse_health


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def rule(**fields: object) -> FreshnessRule:
    return FreshnessRule.model_validate({"select": "raw.orders", **fields})


# -- configuration errors name the file, the line and the key path ---------------------------
BAD_CONFIGS = [
    # (yaml under the health keys, expected "line: key: message" fragment)
    ("freshness:\n  - select: a\n    deadline: {cron: '0 9 * * *', timezone: Asia/Tokio}\n",
     ":3: freshness[0].deadline.timezone: unknown time zone 'Asia/Tokio'"),
    ("freshness:\n  - select: a\n    warn_after: {count: 2, period: week}\n",
     ":3: freshness[0].warn_after.period: Input should be 'minute', 'hour' or 'day'"),
    ("freshness:\n  - select: a\n    warn_after: {count: 0, period: hour}\n",
     ":3: freshness[0].warn_after.count: Input should be greater than 0"),
    ("freshness:\n  - select: a\n    deadline: {cron: '0 25 * * *'}\n",
     ":3: freshness[0].deadline.cron: '0 25 * * *' is not a 5-field cron expression"),
    ("freshness:\n  - select: a\n    deadline: {cron: '0 9 * * *', grace: soon}\n",
     ":3: freshness[0].deadline.grace: 'soon' is not a duration"),
    ("freshness:\n  - select: a\n", ":2: freshness[0]: give warn_after, error_after or deadline"),
    ("freshness:\n  - select: a\n    warn_after: {count: 2, period: day}\n    error_after: {count: 1, period: day}\n",
     "freshness[0]: error_after (1 day) is shorter than warn_after (2 days)"),
    ("freshness:\n  - select: a\n    warn_after: {count: 1, period: hour}\n    colour: red\n",
     ":4: freshness[0].colour: unknown key 'colour'"),
    ("freshness:\n  - select: a\n    warn_after: {count: 1, period: hour}\n    observe: {column: 'x; drop table y'}\n",
     ":4: freshness[0].observe.column: 'x; drop table y' is not a plain column name"),
    ("freshness:\n  - select: a\n    warn_after: {count: 1, period: hour}\n    observe: newest_row\n",
     ":4: freshness[0].observe: 'newest_row' is neither 'last_modified' nor {column: NAME}"),
    ("freshness:\n  - select: 'label:'\n    warn_after: {count: 1, period: hour}\n",
     ":2: freshness[0].select: selector 'label:' has no value after 'label:'"),
    ("subscriptions:\n  - select: a\n    notify: [{email: not-an-address}]\n",
     ":3: subscriptions[0].notify[0].email: 'not-an-address' is not an e-mail address"),
    ("subscriptions:\n  - select: a\n    notify: [{slack: {webhook_env: 'https://hooks.slack.com/x'}}]\n",
     "subscriptions[0].notify[0].slack.webhook_env: 'https://hooks.slack.com/x' is not an environment variable"),
    ("subscriptions:\n  - select: a\n    notify: [{pager: ops}]\n",
     ":3: subscriptions[0].notify[0]: a channel is {slack: {webhook_env: NAME}} or {email: ADDRESS}"),
    ("subscriptions:\n  - select: a\n    notify: []\n", ":3: subscriptions[0].notify: give at least one channel"),
    ("probe: {type: oracle}\n", ":1: probe: unknown probe type 'oracle'"),
    ("probe: {type: duckdb}\n", ":1: probe.path: Field required"),
    ("probe: {type: bigquery, maximum_bytes_billed: -1}\n",
     ":1: probe.maximum_bytes_billed: Input should be greater than 0"),
    ("notify: {smtp: {host: mail, from: a@b, port: 99999}}\n", ":1: notify.smtp.port: Input should be less than 65536"),
]


@pytest.mark.parametrize(("text", "expected"), BAD_CONFIGS)
def test_bad_rules_are_explained_with_file_line_and_key(tmp_path: Path, text: str, expected: str) -> None:
    config = tmp_path / "lineage.yaml"
    config.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        health_settings(load_settings(config))
    message = str(caught.value)
    assert f"{config}" in message
    assert expected in message, message


def test_every_mistake_is_reported_at_once() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_health({
            "freshness": [
                {"select": "a", "warn_after": {"count": 1, "period": "hour"}},
                {"select": "b", "warn_after": {"count": 1, "period": "hour"}},
                {"select": "c", "deadline": {"cron": "0 9 * * *", "timezone": "Asia/Tokio"}},
            ],
            "subscriptions": [{"select": "a", "notify": [{"email": "bad"}]}],
        })
    message = str(caught.value)
    assert "lineage.yaml: freshness[2].deadline.timezone: unknown time zone 'Asia/Tokio'" in message
    assert "lineage.yaml: subscriptions[0].notify[0].email: 'bad' is not an e-mail address" in message


def test_the_example_configuration_is_valid(example_dir: Path) -> None:
    health = health_settings(load_settings(example_dir / "lineage.yaml"))
    assert health.freshness and health.subscriptions and health.probe is not None
    assert health.page_url("acme-analytics.raw.orders") == (
        "http://localhost:8501/Data_health?table=acme-analytics.raw.orders"
    )


def test_grace_accepts_units_and_bare_minutes() -> None:
    assert rule(deadline={"cron": "0 9 * * *", "grace": "90s"}).deadline.grace == timedelta(seconds=90)  # type: ignore[union-attr]
    assert rule(deadline={"cron": "0 9 * * *", "grace": "2h"}).deadline.grace == timedelta(hours=2)  # type: ignore[union-attr]
    assert rule(deadline={"cron": "0 9 * * *", "grace": 45}).deadline.grace == timedelta(minutes=45)  # type: ignore[union-attr]


# -- age rules -----------------------------------------------------------------------------
def test_warn_and_error_after() -> None:
    r = rule(warn_after={"count": 2, "period": "hour"}, error_after={"count": 1, "period": "day"})
    last = utc(2026, 5, 1, 6, 0)
    on_time = verdict(r, last, utc(2026, 5, 1, 7, 59))
    assert (on_time.status, on_time.expected_by) == ("on_time", utc(2026, 5, 1, 8, 0))
    late = verdict(r, last, utc(2026, 5, 1, 8, 0))
    assert (late.status, late.since, late.expected_by) == ("late", utc(2026, 5, 1, 8, 0), utc(2026, 5, 1, 8, 0))
    stale = verdict(r, last, utc(2026, 5, 2, 6, 1))
    assert (stale.status, stale.since) == ("stale", utc(2026, 5, 2, 6, 0))
    assert verdict(r, None, utc(2026, 5, 1)).status == "unknown"


def test_minute_period_and_future_timestamps() -> None:
    r = rule(warn_after={"count": 15, "period": "minute"})
    assert verdict(r, utc(2026, 5, 1, 6, 0), utc(2026, 5, 1, 6, 16)).status == "late"
    assert verdict(r, utc(2026, 5, 1, 7, 0), utc(2026, 5, 1, 6, 16)).status == "on_time"  # clock skew


# -- deadlines in time zones --------------------------------------------------------------------
def test_tokyo_deadline_with_grace() -> None:
    # 09:00 JST is 00:00 UTC; with 30 min grace the data is due at 00:30 UTC.
    r = rule(deadline={"cron": "0 9 * * *", "timezone": "Asia/Tokyo", "grace": "30m"})
    yesterday_evening = utc(2026, 5, 1, 12, 0)  # 21:00 JST on May 1
    assert verdict(r, yesterday_evening, utc(2026, 5, 2, 0, 29)).status == "on_time"
    late = verdict(r, yesterday_evening, utc(2026, 5, 2, 0, 30))
    assert (late.status, late.since) == ("late", utc(2026, 5, 2, 0, 30))
    assert "2026-05-02 09:00 JST" in late.message
    refreshed = verdict(r, utc(2026, 5, 2, 0, 10), utc(2026, 5, 2, 3, 0))
    assert (refreshed.status, refreshed.expected_by) == ("on_time", utc(2026, 5, 3, 0, 30))
    # two runs missed: stale since the second deadline
    stale = verdict(r, yesterday_evening, utc(2026, 5, 3, 1, 0))
    assert (stale.status, stale.since, stale.expected_by) == ("stale", utc(2026, 5, 3, 0, 30), utc(2026, 5, 2, 0, 30))


def test_berlin_deadline_follows_summer_time() -> None:
    # DST starts 2026-03-29 in Europe/Berlin: 09:00 is 08:00 UTC the day before, 07:00 UTC on the day.
    r = rule(deadline={"cron": "0 9 * * *", "timezone": "Europe/Berlin"})
    last = utc(2026, 3, 28, 8, 30)  # after Saturday's 09:00 CET run
    assert verdict(r, last, utc(2026, 3, 29, 6, 59)).status == "on_time"
    late = verdict(r, last, utc(2026, 3, 29, 7, 0))  # 09:00 CEST
    assert (late.status, late.since) == ("late", utc(2026, 3, 29, 7, 0))
    before = verdict(r, utc(2026, 3, 27, 8, 30), utc(2026, 3, 28, 7, 30))  # Saturday 08:30 CET: not due yet
    assert before.status == "on_time" and before.expected_by == utc(2026, 3, 28, 8, 0)


def test_new_york_deadline_follows_the_end_of_summer_time() -> None:
    # DST ends 2026-11-01 in America/New_York: 06:00 local is 10:00 UTC before, 11:00 UTC after.
    r = rule(deadline={"cron": "0 6 * * *", "timezone": "America/New_York", "grace": "15m"})
    last = utc(2026, 10, 31, 10, 30)
    assert verdict(r, last, utc(2026, 11, 1, 11, 14)).status == "on_time"
    assert verdict(r, last, utc(2026, 11, 1, 11, 15)).status == "late"


def test_a_run_in_the_repeated_hour_counts_once() -> None:
    # 01:30 happens twice on 2026-11-01 in New York (EDT, then EST): one daily run, not two.
    r = rule(deadline={"cron": "30 1 * * *", "timezone": "America/New_York"})
    runs = scheduled_runs_after(r.deadline, utc(2026, 10, 31, 12, 0), 2)  # type: ignore[arg-type]
    assert [x.astimezone(UTC) for x in runs] == [utc(2026, 11, 1, 5, 30), utc(2026, 11, 2, 6, 30)]
    updated = utc(2026, 11, 1, 5, 45)  # after the first 01:30
    assert verdict(r, updated, utc(2026, 11, 1, 7, 0)).status == "on_time"


def test_a_run_in_the_skipped_hour_happens_at_the_next_valid_time() -> None:
    # 02:30 does not exist on 2026-03-29 in Berlin: the run is due at 03:00 CEST (01:00 UTC).
    r = rule(deadline={"cron": "30 2 * * *", "timezone": "Europe/Berlin"})
    last = utc(2026, 3, 28, 2, 0)
    assert verdict(r, last, utc(2026, 3, 29, 0, 59)).status == "on_time"
    assert verdict(r, last, utc(2026, 3, 29, 1, 0)).status == "late"


def test_deadline_and_error_after_combined() -> None:
    r = rule(deadline={"cron": "0 * * * *"}, error_after={"count": 6, "period": "hour"})
    last = utc(2026, 5, 1, 0, 10)
    assert verdict(r, last, utc(2026, 5, 1, 1, 0)).status == "late"
    assert verdict(r, last, utc(2026, 5, 1, 3, 0)).status == "late"  # two runs missed, but error_after rules
    assert verdict(r, last, utc(2026, 5, 1, 6, 10)).status == "stale"
