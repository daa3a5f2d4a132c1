from starviz import ui

ui.scope()
ui.not_built("Data quality", "Data import for admins and a data quality page")
