import streamlit as st

from starviz import board, export, queries, slides, ui

scope = ui.scope()
count = len(board.sequence())
index = slides.slide_index(count)
slide = board.slide(scope, index)

slides.presentation_header(slide.title, scope, index, count, queries.as_at_date(), export.shown(slide.figure))
slides.slide_chart(slide.figure, f"board-{slide.key}", scope, slide.title)
footer = slides.slide_footer(index, count, bool(queries.build_info().get("is_demo")), scope)
with footer, st.popover("Board pack", icon=":material/picture_as_pdf:"):
    st.write("Every slide of the sequence as one PDF (a slide a page), and the data behind them as Excel.")
    st.download_button(
        "Board pack (PDF)",
        lambda: board.pack_pdf(scope),
        "star-board-pack.pdf",
        "application/pdf",
        icon=":material/picture_as_pdf:",
        on_click="ignore",
    )
    st.download_button(
        "Board pack data (Excel)",
        lambda: board.pack_xlsx(scope),
        "star-board-pack.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        icon=":material/download:",
        on_click="ignore",
    )
