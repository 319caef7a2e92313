from lineage_core.ui import table_page
from lineage_core.ui.data import app_settings

table_page.render(app_settings())
