from lineage_core.ui import errors_page
from lineage_core.ui.data import app_settings

errors_page.render(app_settings())
