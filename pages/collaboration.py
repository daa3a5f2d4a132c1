from starviz import ui

ui.scope()
ui.not_built("Collaborative opportunities", "Collaborative opportunities and contract pipeline pages, with exception reports")
