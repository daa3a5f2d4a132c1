import streamlit as st

from starviz import board, charts, queries, ui

scope = ui.scope()
index = ui.slide_index(len(board.sequence()))
slide = board.slide(scope, index)

ui.presentation_header(slide.title, scope, index, len(board.sequence()), queries.as_at_date())
ui.chart(charts.for_screen(slide.figure), name=f"board-{slide.key}", scope=scope, height=ui.PRESENT_CHART_HEIGHT)
ui.slide_controls(index, len(board.sequence()))

with st.expander("Board pack"):
    st.write("Every slide of the sequence as one PDF (a slide a page), and the data behind them as Excel.")
    left, right, _ = st.columns([1, 1, 4])
    left.download_button(
        "Board pack (PDF)",
        lambda: board.pack_pdf(scope),
        "star-board-pack.pdf",
        "application/pdf",
        icon=":material/picture_as_pdf:",
        on_click="ignore",
    )
    right.download_button(
        "Board pack data (Excel)",
        lambda: board.pack_xlsx(scope),
        "star-board-pack.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        icon=":material/download:",
        on_click="ignore",
    )
