from starviz import ui

ui.require("import")
ui.not_built("Import", "Data import for admins and a data quality page")
