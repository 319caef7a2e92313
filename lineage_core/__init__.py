"""Lineage Dashboard core: SQL → table lineage → versioned documents.

The core is pure: it never imports streamlit, pyvis or cloud clients outside of
``ui/``, ``render/`` and ``store/`` (enforced by tests/test_layering.py).
"""

__version__ = "0.1.0"
