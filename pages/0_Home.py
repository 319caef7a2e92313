from lineage_core.ui import home_page
from lineage_core.ui.data import app_settings

home_page.render(app_settings())
