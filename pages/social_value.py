from starviz import ui

ui.scope()
ui.not_built("Social value", "Social value against the 20% target, KPI trends and the balanced scorecard")
