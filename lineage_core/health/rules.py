"""Freshness rules, subscriptions, probe and notify settings: validated with pydantic.

``lineage_core.config`` keeps the ``freshness:``, ``subscriptions:``, ``probe:`` and ``notify:``
sections as plain data because they have their own vocabulary; this module turns them into
frozen models and explains every mistake with the file, the line and the key path::

    lineage.yaml:41: freshness[2].deadline.timezone: unknown time zone 'Asia/Tokio'

Vocabulary (borrowed from dbt's source freshness and Dagster's freshness policies)::

    freshness:
      - select: dataset:raw                 # any selector of lineage_core.selectors
        name: raw-hourly                    # optional, default: the selector
        warn_after: {count: 2, period: hour}
        error_after: {count: 1, period: day}
        observe: last_modified              # or {column: loaded_at}
        owners: [data-platform@acme.example]
      - select: acme-analytics.marts.fct_orders
        deadline: {cron: "0 9 * * *", timezone: Asia/Tokyo, grace: 30m}
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from lineage_core.config import Settings
from lineage_core.errors import ConfigError, UsageError
from lineage_core.selectors import Selector

Period = Literal["minute", "hour", "day"]
_PERIOD_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|h|d|sec|min|hour|hours|day|days)?\s*$")
_DURATION_UNITS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hour": 3600, "hours": 3600,
                   "d": 86400, "day": 86400, "days": 86400}
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_selector(value: str) -> str:
    for part in value.split(","):
        try:
            Selector.parse(part)
        except UsageError as exc:
            raise ValueError(str(exc)) from exc
    return value


class Age(_Strict):
    """``{count: 2, period: hour}``: a maximum age of the data."""

    count: int = Field(gt=0)
    period: Period

    @property
    def delta(self) -> timedelta:
        return timedelta(seconds=self.count * _PERIOD_SECONDS[self.period])

    def __str__(self) -> str:
        return f"{self.count} {self.period}{'s' if self.count != 1 else ''}"


def parse_duration(value: Any) -> timedelta:
    """``30m``, ``2h``, ``1d``, ``45s`` or a number of minutes."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 30m, 2h or 1d")
    if isinstance(value, int):
        seconds = value * 60
    else:
        match = _DURATION.match(str(value))
        if not match:
            raise ValueError(f"'{value}' is not a duration such as 30m, 2h or 1d")
        seconds = int(match.group(1)) * _DURATION_UNITS[match.group(2) or "m"]
    return timedelta(seconds=seconds)


class Deadline(_Strict):
    """``{cron, timezone, grace}``: updated since the previous scheduled run, by run + grace."""

    cron: str
    timezone: str = "UTC"
    grace: timedelta = timedelta(0)

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, value: str) -> str:
        from croniter import croniter

        if len(value.split()) != 5 or not croniter.is_valid(value):
            raise ValueError(f"'{value}' is not a 5-field cron expression such as \"0 9 * * *\"")
        return value

    @field_validator("timezone")
    @classmethod
    def _valid_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone '{value}'") from exc
        return value

    @field_validator("grace", mode="before")
    @classmethod
    def _grace(cls, value: Any) -> timedelta:
        if isinstance(value, timedelta):
            return value
        return parse_duration(value)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class Observation(_Strict):
    """How a table's last update is observed: ``last_modified`` or ``{column: loaded_at}``."""

    column: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if value == "last_modified":
            return {"column": None}
        if isinstance(value, str):
            raise ValueError(f"'{value}' is neither 'last_modified' nor {{column: NAME}}")
        return value

    @field_validator("column")
    @classmethod
    def _identifier(cls, value: str | None) -> str | None:
        if value is not None and not IDENTIFIER.match(value):
            raise ValueError(f"'{value}' is not a plain column name (letters, digits, _)")
        return value


class FreshnessRule(_Strict):
    select: str
    name: str | None = None
    warn_after: Age | None = None
    error_after: Age | None = None
    deadline: Deadline | None = None
    observe: Observation = Observation()
    owners: tuple[str, ...] = ()
    description: str | None = None

    @field_validator("select")
    @classmethod
    def _select(cls, value: str) -> str:
        return _check_selector(value)

    @model_validator(mode="after")
    def _has_a_limit(self) -> FreshnessRule:
        if self.warn_after is None and self.error_after is None and self.deadline is None:
            raise ValueError("give warn_after, error_after or deadline")
        if self.warn_after and self.error_after and self.error_after.delta < self.warn_after.delta:
            raise ValueError(f"error_after ({self.error_after}) is shorter than warn_after ({self.warn_after})")
        return self

    @property
    def label(self) -> str:
        return self.name or self.select

    @property
    def column(self) -> str | None:
        return self.observe.column

    @property
    def observed_as(self) -> str:
        return f"max({self.column})" if self.column else "last_modified"


class SlackTarget(_Strict):
    webhook_env: str

    @field_validator("webhook_env")
    @classmethod
    def _env_name(cls, value: str) -> str:
        if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", value):
            raise ValueError(f"'{value}' is not an environment variable name (write the name, not the URL)")
        return value


class SlackChannel(_Strict):
    slack: SlackTarget

    @property
    def key(self) -> str:
        return f"slack:{self.slack.webhook_env}"


class EmailChannel(_Strict):
    email: str

    @field_validator("email")
    @classmethod
    def _address(cls, value: str) -> str:
        if not re.match(r"^[^@\s,<>]+@[^@\s,<>]+$", value):
            raise ValueError(f"'{value}' is not an e-mail address")
        return value

    @property
    def key(self) -> str:
        return f"email:{self.email}"


def _channel_kind(value: Any) -> str | None:
    if isinstance(value, Mapping):
        for kind in ("slack", "email"):
            if kind in value:
                return kind
        return None
    return "slack" if isinstance(value, SlackChannel) else "email" if isinstance(value, EmailChannel) else None


Channel = Annotated[
    Annotated[SlackChannel, Tag("slack")] | Annotated[EmailChannel, Tag("email")],
    Discriminator(
        _channel_kind,
        custom_error_type="channel",
        custom_error_message="a channel is {slack: {webhook_env: NAME}} or {email: ADDRESS}",
    ),
]


class Subscription(_Strict):
    select: str
    notify: tuple[Channel, ...]
    name: str | None = None

    @field_validator("notify", mode="before")
    @classmethod
    def _not_empty(cls, value: Any) -> Any:
        if isinstance(value, list | tuple) and not value:
            raise ValueError("give at least one channel: {slack: {webhook_env: NAME}} or {email: ADDRESS}")
        return value

    @field_validator("select")
    @classmethod
    def _select(cls, value: str) -> str:
        return _check_selector(value)

    @property
    def label(self) -> str:
        return self.name or self.select


class BigQueryProbeSettings(_Strict):
    type: Literal["bigquery"]
    project: str | None = None  # the billing project that runs the queries
    region: str = "us"  # region of INFORMATION_SCHEMA.TABLE_STORAGE, e.g. us, eu, asia-northeast1
    regions: dict[str, str] = Field(default_factory=dict)  # per data project, overrides region
    maximum_bytes_billed: int = Field(default=10 * 1024**3, gt=0)
    batch_size: int = Field(default=50, ge=1, le=1000)  # column maxima per UNION ALL query
    dry_run: bool = True  # estimate the cost first, skip queries above maximum_bytes_billed
    api_endpoint: str | None = None  # an emulator; then anonymous credentials are used


class SqlProbeSettings(_Strict):
    type: Literal["duckdb", "sqlite"]
    path: str  # database file, relative to the config file
    metadata_table: str | None = "table_freshness"  # (table_id, last_modified) rows; null: none
    table_name: str = "{dataset}.{name}"  # how a lineage table id maps to a table of this database
    batch_size: int = Field(default=50, ge=1, le=1000)

    @field_validator("table_name")
    @classmethod
    def _template(cls, value: str) -> str:
        try:
            value.format(project="p", dataset="d", name="n")
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"'{value}' may only use {{project}}, {{dataset}} and {{name}}") from exc
        return value

    @field_validator("metadata_table")
    @classmethod
    def _meta(cls, value: str | None) -> str | None:
        if value is not None and not all(IDENTIFIER.match(p) for p in value.split(".")):
            raise ValueError(f"'{value}' is not a plain (schema.)table name")
        return value


ProbeSettings = BigQueryProbeSettings | SqlProbeSettings


class SmtpSettings(_Strict):
    host: str
    port: int = Field(default=25, gt=0, lt=65536)
    sender: str = Field(alias="from")
    starttls: bool = False
    ssl: bool = False
    username: str | None = None
    password_env: str | None = None  # the password is read from this environment variable
    timeout_seconds: float = Field(default=30, gt=0)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class NotifySettings(_Strict):
    smtp: SmtpSettings | None = None
    retries: int = Field(default=4, ge=0, le=10)  # extra attempts after a 429/5xx/transient error
    backoff_seconds: float = Field(default=2.0, ge=0, le=60)  # first wait, doubled each retry
    max_backoff_seconds: float = Field(default=60.0, ge=0, le=600)
    timeout_seconds: float = Field(default=15.0, gt=0, le=300)
    subject_prefix: str = "[data health]"


class HealthSettings(_Strict):
    freshness: tuple[FreshnessRule, ...] = ()
    subscriptions: tuple[Subscription, ...] = ()
    probe: ProbeSettings | None = Field(default=None, discriminator="type")
    notify: NotifySettings = NotifySettings()
    dashboard_url: str | None = None
    timeline_keep: int = Field(default=48, ge=1, le=1000)
    config_path: str = "lineage.yaml"
    base_dir: str = "."

    def resolve_path(self, path: str) -> Path:
        candidate = Path(path)
        return candidate if candidate.is_absolute() else Path(self.base_dir) / candidate

    def page_url(self, table: str | None = None) -> str | None:
        """The data-health page (``dashboard_url`` + ``/Data_health``), optionally for one table."""
        if not self.dashboard_url:
            return None
        from urllib.parse import quote

        base = self.dashboard_url.rstrip("/")
        if not base.endswith("/Data_health"):
            base += "/Data_health"
        return f"{base}?table={quote(table, safe='')}" if table else base


def _locate(loc: Sequence[int | str]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + part
    return text or "(top level)"


def _message(item: Mapping[str, Any]) -> str:
    kind = item["type"]
    loc = item["loc"]
    if kind == "extra_forbidden":
        return f"unknown key '{loc[-1]}'"
    if kind == "union_tag_invalid":
        ctx = item.get("ctx") or {}
        return f"unknown probe type {ctx.get('tag')!r}; expected one of {ctx.get('expected_tags')}"
    if kind == "union_tag_not_found":
        return "needs a 'type' (bigquery, duckdb or sqlite)"
    message = str(item["msg"])
    return message.removeprefix("Value error, ")


_UNION_BRANCHES = {"slack", "email"}


def _clean_loc(loc: Sequence[int | str]) -> list[int | str]:
    out: list[int | str] = []
    previous: int | str | None = None
    for part in loc:
        tag = isinstance(part, str) and (
            part.startswith(("function-", "literal[", "tagged-union["))
            or (part in _UNION_BRANCHES and isinstance(previous, int))
            or (part in {"bigquery", "duckdb", "sqlite"} and previous == "probe")
        )
        previous = part
        if not tag:
            out.append(part)
    return out


def _line_of(tree: Any, loc: Sequence[int | str]) -> int | None:
    """The 1-based line of the YAML node at ``loc`` (or of its nearest existing parent)."""
    line: int | None = None
    node = tree
    for key in loc:
        lc = getattr(node, "lc", None)
        if lc is None:
            break
        try:
            if isinstance(node, Mapping) and key in node:
                line = lc.key(key)[0] + 1
            elif isinstance(node, list) and isinstance(key, int) and key < len(node):
                line = lc.item(key)[0] + 1
            else:
                break
            node = node[key]
        except (KeyError, IndexError, TypeError, AttributeError):
            break
    return line


def _explain(error: ValidationError, path: str, tree: Any) -> str:
    lines: list[str] = []
    for item in error.errors():
        loc = _clean_loc(item["loc"])
        line = _line_of(tree, loc) if tree is not None else None
        where = f"{path}:{line}" if line else path
        text = f"{where}: {_locate(loc)}: {_message({**item, 'loc': loc or ['?']})}"
        if text not in lines:
            lines.append(text)
    return "invalid health configuration:\n  " + "\n  ".join(lines)


def _yaml_tree(config_path: str | None) -> Any:
    if not config_path:
        return None
    try:
        from ruamel.yaml import YAML

        return YAML(typ="rt").load(Path(config_path).read_text(encoding="utf-8"))
    except Exception:  # only for line numbers: a file that cannot be re-read has none
        return None


def health_settings(settings: Settings) -> HealthSettings:
    """Validate the health sections of ``settings``; ConfigError names file, line and key."""
    path = settings.config_path or "lineage.yaml"
    raw: dict[str, Any] = {
        "freshness": list(settings.freshness),
        "subscriptions": list(settings.subscriptions),
        "probe": dict(settings.probe) or None,
        "dashboard_url": settings.dashboard_url,
        "config_path": path,
        "base_dir": settings.base_dir,
    }
    if settings.notify:
        raw["notify"] = dict(settings.notify)
    return parse_health(raw, path, _yaml_tree(settings.config_path))


def parse_health(raw: Mapping[str, Any], path: str = "lineage.yaml", tree: Any = None) -> HealthSettings:
    try:
        return HealthSettings.model_validate(dict(raw))
    except ValidationError as exc:
        raise ConfigError(_explain(exc, path, tree)) from exc
