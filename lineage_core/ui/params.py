"""Reading permalink parameters (``st.query_params``) defensively: a URL is user input."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

MAX_TEXT = 500  # a table name or query longer than this is not one


def text_param(params: Mapping[str, str], key: str, default: str = "") -> str:
    value = params.get(key, default)
    return str(value).strip()[:MAX_TEXT]


def int_param(params: Mapping[str, str], key: str, default: int, low: int, high: int) -> int:
    try:
        value = int(str(params.get(key, default)).strip())
    except ValueError:
        return default
    return min(max(value, low), high)


def choice_param(params: Mapping[str, str], key: str, choices: Sequence[str], default: str) -> str:
    value = str(params.get(key, default))
    return value if value in choices else default


def list_param(params: Mapping[str, str], key: str, choices: Sequence[str]) -> list[str]:
    raw = str(params.get(key, ""))
    return [item for item in (part.strip() for part in raw.split(",")) if item in choices]
