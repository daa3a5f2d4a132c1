from starviz import ui

ui.scope()
ui.not_built("KPIs and balanced scorecard", "Social value against the 20% target, KPI trends and the balanced scorecard")
