"""Widgets whose state lives in the URL, so every view is a permalink.

``seed(key, value_from_url)`` before the widget: the URL wins when it changed since this session
last wrote it (a pasted link, a page switch) or when the widget has no state yet; otherwise the
widget keeps what the user did. ``publish(values)`` after the widgets writes them back.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import streamlit as st

_MARK = "_url_seen:"


def seed(key: str, value: Any) -> None:
    mark = _MARK + key
    if key not in st.session_state or st.session_state.get(mark) != value:
        st.session_state[key] = value
        st.session_state[mark] = value


def publish(values: Mapping[str, tuple[str, Any, Any]]) -> None:
    """``values``: URL name → (widget key, current value, default). Defaults stay out of the URL."""
    wanted: dict[str, str] = {}
    for name, (key, value, default) in values.items():
        st.session_state[_MARK + key] = value
        if value != default and value not in ("", None, []):
            wanted[name] = ",".join(value) if isinstance(value, list) else str(value)
    current = {k: st.query_params.get(k) for k in st.query_params}
    if current != wanted:
        st.query_params.from_dict(wanted)
