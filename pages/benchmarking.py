from starviz import ui

ui.scope()
ui.not_built("Benchmarking", "Spend cube and cross-council benchmarking pages")
