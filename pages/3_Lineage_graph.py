from lineage_core.ui import graph_page
from lineage_core.ui.data import app_settings

graph_page.render(app_settings())
