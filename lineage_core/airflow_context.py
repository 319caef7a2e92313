"""Airflow's template variables, with fixed values, beneath the variables a user configures.

SQL in a Composer repository is rendered by Airflow with ``ds``, ``macros.ds_add(ds, -1)``,
``data_interval_end``, ``ti.xcom_pull(...)`` and the like. Those values say *when* a query runs,
not *which tables* it touches, so lineage renders them with one fixed logical date (so that the
document does not change from one day to the next) instead of failing on every file. A value
the user sets wins (``vars: {ds: "2026-11-24"}`` moves every derived date with it). Variables
that can name tables (``params``, ``var``, ``conn``) get no default: an unknown one stays a
render error, never an invented table name.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

DEFAULT_LOGICAL_DATE = dt.date(2024, 1, 1)
_DAG_ID = "lineage"
_TASK_ID = "lineage"


class LogicalDateTime(dt.datetime):
    """A datetime with the pendulum methods Airflow templates call (``add``, ``format`` …)."""

    def add(self, **delta: float) -> LogicalDateTime:
        return self + dt.timedelta(**delta)

    def subtract(self, **delta: float) -> LogicalDateTime:
        return self - dt.timedelta(**delta)

    def to_date_string(self) -> str:
        return self.strftime("%Y-%m-%d")

    def to_datetime_string(self) -> str:
        return self.strftime("%Y-%m-%d %H:%M:%S")

    def to_iso8601_string(self) -> str:
        return self.isoformat()

    def format(self, fmt: str = "YYYY-MM-DD") -> str:
        """pendulum tokens (the common ones) → strftime."""
        for token, directive in (("YYYY", "%Y"), ("MM", "%m"), ("DD", "%d"), ("HH", "%H"), ("mm", "%M"), ("ss", "%S")):
            fmt = fmt.replace(token, directive)
        return self.strftime(fmt)



def _ds_add(ds: str, days: int) -> str:
    return (dt.date.fromisoformat(str(ds)) + dt.timedelta(days=int(days))).isoformat()


def _ds_format(ds: str, input_format: str, output_format: str) -> str:
    return dt.datetime.strptime(str(ds), input_format).strftime(output_format)


class _Macros:
    """``macros.*`` as Airflow offers them; attributes only, safe in the sandbox."""

    ds_add = staticmethod(_ds_add)
    ds_format = staticmethod(_ds_format)
    datetime = dt.datetime
    timedelta = dt.timedelta
    date = dt.date
    time = time
    uuid = uuid

    @staticmethod
    def datetime_diff_for_humans(dt_from: Any, since: Any = None) -> str:
        return "0 seconds"


class _TaskInstance:
    """``ti`` / ``task_instance``: XComs are only known at run time; they render as ''."""

    dag_id = _DAG_ID
    task_id = _TASK_ID
    try_number = 1
    map_index = -1

    @staticmethod
    def xcom_pull(*_args: Any, **_kwargs: Any) -> str:
        return ""


class _Named:
    def __init__(self, **attributes: Any) -> None:
        self.__dict__.update(attributes)


def _moment(day: dt.date) -> LogicalDateTime:
    return LogicalDateTime(day.year, day.month, day.day, tzinfo=dt.UTC)


@lru_cache(maxsize=8)
def _context_for(day: dt.date) -> Mapping[str, Any]:
    start, end = _moment(day), _moment(day + dt.timedelta(days=1))
    yesterday, tomorrow = day - dt.timedelta(days=1), day + dt.timedelta(days=1)
    run_id = f"scheduled__{start.isoformat()}"
    context: dict[str, Any] = {
        "ds": day.isoformat(),
        "ds_nodash": day.strftime("%Y%m%d"),
        "ts": start.isoformat(),
        "ts_nodash": start.strftime("%Y%m%dT%H%M%S"),
        "ts_nodash_with_tz": start.strftime("%Y%m%dT%H%M%S+0000"),
        "logical_date": start,
        "execution_date": start,
        "data_interval_start": start,
        "data_interval_end": end,
        "prev_data_interval_start_success": _moment(yesterday),
        "prev_data_interval_end_success": start,
        "prev_start_date_success": start,
        "prev_execution_date": _moment(yesterday),
        "next_execution_date": end,
        "prev_execution_date_success": _moment(yesterday),
        "prev_ds": yesterday.isoformat(),
        "prev_ds_nodash": yesterday.strftime("%Y%m%d"),
        "next_ds": tomorrow.isoformat(),
        "next_ds_nodash": tomorrow.strftime("%Y%m%d"),
        "yesterday_ds": yesterday.isoformat(),
        "yesterday_ds_nodash": yesterday.strftime("%Y%m%d"),
        "tomorrow_ds": tomorrow.isoformat(),
        "tomorrow_ds_nodash": tomorrow.strftime("%Y%m%d"),
        "run_id": run_id,
        "dag_run": _Named(run_id=run_id, conf={}, logical_date=start, execution_date=start),
        "dag": _Named(dag_id=_DAG_ID, owner="airflow"),
        "task": _Named(task_id=_TASK_ID, owner="airflow"),
        "ti": _TaskInstance(),
        "task_instance": _TaskInstance(),
        "macros": _Macros(),
        "test_mode": False,
    }
    return context


def logical_date_of(variables: Mapping[str, Any]) -> dt.date:
    """The date the user's ``ds`` names, else the fixed default."""
    ds = variables.get("ds")
    if isinstance(ds, dt.date):
        return ds
    if isinstance(ds, str):
        try:
            return dt.date.fromisoformat(ds[:10])
        except ValueError:
            return DEFAULT_LOGICAL_DATE
    return DEFAULT_LOGICAL_DATE


def with_airflow_context(variables: Mapping[str, Any]) -> dict[str, Any]:
    """Airflow's variables for the user's logical date, overlaid with the user's own."""
    merged = dict(_context_for(logical_date_of(variables)))
    merged.update(variables)
    return merged
