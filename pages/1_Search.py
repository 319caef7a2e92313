from lineage_core.ui import search_page
from lineage_core.ui.data import app_settings

search_page.render(app_settings())
