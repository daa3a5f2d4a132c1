from starviz import ui

ui.scope()
ui.not_built("Spend", "Spend cube and cross-council benchmarking pages")
