from starviz import ui

ui.scope()
ui.not_built("Contract pipeline", "Collaborative opportunities and contract pipeline pages, with exception reports")
