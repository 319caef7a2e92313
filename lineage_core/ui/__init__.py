"""Streamlit helpers shared by the pages: the only package that imports streamlit.

Pure parts (settings, document loading and caching policy, view rows) live in modules that do
not import streamlit, so they are unit-tested without an app; ``data`` and the ``*_page``
modules are the Streamlit edges.
"""
