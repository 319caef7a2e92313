"""Data health: which outputs are late, the root cause upstream, what is affected downstream."""

from lineage_core.ui.data import app_settings
from lineage_core.ui.health_view import render_page

render_page(app_settings())
