"""Untrusted text in Streamlit markdown (titles, st.error, captions) made inert."""

from __future__ import annotations

import re

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:=&])")


def md(text: str) -> str:
    """Every markdown/HTML-significant character escaped: no links, images, HTML or formatting."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text.replace("\n", " "))
