"""Board presentation mode: one slide a screen, driven by a clicker's keys."""

from __future__ import annotations

from contextlib import contextmanager
from urllib.parse import urlencode

import streamlit as st

from starviz import charts, queries, ui

# A slide is one screen: the header (title, filters, "as at" date), the chart taking what height is
# left, and a footer (controls, slide n of N, a small demo tag). The page is a flex column of exactly
# the window's height, so nothing scrolls at 1920x1080 or 1280x720; type is sized in vh so that it
# scales with the screen. A clicker's keys (Right, Left, Space, PageDown, PageUp, Home, End) are
# Streamlit button shortcuts.

PRESENT_CHART_HEIGHT = 720  # the chart's height where it is not stretched to the window (AppTest)


def presentation_style() -> None:
    """Hide the sidebar and Streamlit's own chrome; lay the slide out as one window-high column."""
    st.html("""<style>
    [data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stHeader"],
    [data-testid="stToolbar"], [data-testid="stDecoration"], [data-testid="stStatusWidget"],
    .st-key-slide-keys {display: none;}
    [data-testid="stMainBlockContainer"] {padding: 1.6vh 2.2vw 1.2vh; max-width: 100%; height: 100vh;
      box-sizing: border-box;}
    [data-testid="stMainBlockContainer"] > [data-testid="stVerticalBlock"] {height: 100%; gap: 0.8vh;
      flex-wrap: nowrap;}
    [data-testid="stMainBlockContainer"] > [data-testid="stVerticalBlock"] > [data-testid="stElementContainer"]:has(
      style, script, iframe[height="0"]) {display: none;}
    [data-testid="stMainBlockContainer"] > [data-testid="stVerticalBlock"] > * {flex: 0 0 auto;}
    [data-testid="stMainBlockContainer"] > [data-testid="stVerticalBlock"] > :has(.st-key-slide-chart) {
      flex: 1 1 0; min-height: 0;}
    .st-key-slide-chart, .st-key-slide-chart > [data-testid="stElementContainer"],
    .st-key-slide-chart [data-testid="stFullScreenFrame"], .st-key-slide-chart [data-testid="stPlotlyChart"] {
      height: 100%; min-height: 0;}
    .st-key-slide-header, .st-key-slide-footer, .st-key-slide-header > * {flex: none;}
    .st-key-slide-header [data-testid="stElementContainer"], .st-key-slide-header [data-testid="stElementContainer"] * {
      margin: 0 !important; height: auto !important;}
    .st-key-slide-footer button {min-height: 0; padding: 0.25rem 0.7rem;}
    .st-key-slide-header h1 {font-size: 4.6vh !important; line-height: 1.15; padding: 0;}
    .st-key-slide-header [data-testid="stCaptionContainer"] p {font-size: 2.2vh; margin: 0;}
    .st-key-slide-footer {align-items: center; font-size: 1.9vh;}
    .st-key-slide-footer p {font-size: 1.9vh; margin: 0;}
    .slide-tag {display: inline-block; padding: 0.1em 0.6em; border-radius: 0.8em; background: #FBEBCB;
      color: #7A4B00; font-size: 0.85em; margin-left: 0.6em;}
    </style>""")


def slide_index(count: int) -> int:
    """The 0-based slide from the link's 1-based `slide` parameter (bad values go to the first)."""
    raw = st.query_params.get("slide", "")
    index = int(raw) - 1 if raw.isascii() and raw.isdigit() and 1 <= int(raw) <= count else 0  # not "²"
    if raw != str(index + 1):  # the link always names its slide
        st.query_params["slide"] = str(index + 1)
    return index


def presentation_header(title: str, scope: queries.Scope, index: int, count: int, as_at, shown: str = "") -> None:
    """Title, then the filters, the "as at" date and how much of the data the chart draws (``shown``,
    the figure's ``meta.shown``, as its exports say)."""
    with st.container(key="slide-header", gap=None):
        st.title(title, anchor=False)
        parts = [scope.filters.label, f"data as at {as_at:%d %B %Y}" if as_at else "", shown]
        st.caption(" · ".join(p for p in parts if p))
    # Each slide opens at its top with nothing focused (a focused button would take the next Space).
    st.html(
        f"<script>/* slide {index + 1} */ document.querySelector('[data-testid=\"stMain\"]')?.scrollTo(0, 0);"
        " window.scrollTo(0, 0); if (document.activeElement) document.activeElement.blur();</script>",
        unsafe_allow_javascript=True,
    )


def slide_chart(fig, name: str, scope: queries.Scope, title: str) -> None:
    """The slide's chart, stretched to the height the header and footer leave."""
    screen = charts.for_screen(fig)
    screen.update_layout(height=None, autosize=True)
    with st.container(key="slide-chart"):
        st.plotly_chart(screen, theme=None, width="stretch", height="stretch", config={"displaylogo": False}, key=name)
    st.session_state["starviz_slide_export"] = (fig, name, title)


def _go_to(index: int) -> None:
    st.query_params["slide"] = str(index + 1)


@contextmanager
def slide_footer(index: int, count: int, is_demo: bool, scope: queries.Scope | None = None):
    """Controls, "Slide n of N" and the demo tag on one line; the block's body adds its own controls."""
    last = count - 1
    with st.container(key="slide-footer", horizontal=True, vertical_alignment="center", gap="small"):
        st.button(
            "First",
            icon=":material/first_page:",
            on_click=_go_to,
            args=(0,),
            disabled=index == 0,
            key="slide-first",
            shortcut="Home",
        )
        st.button(
            "Previous",
            icon=":material/arrow_back:",
            on_click=_go_to,
            args=(max(index - 1, 0),),
            disabled=index == 0,
            key="slide-prev",
            shortcut="Left",
        )
        st.button(
            "Next",
            icon=":material/arrow_forward:",
            on_click=_go_to,
            args=(min(index + 1, last),),
            disabled=index == last,
            key="slide-next",
            type="primary",
            shortcut="Right",
        )
        st.button(
            "Last",
            icon=":material/last_page:",
            on_click=_go_to,
            args=(last,),
            disabled=index == last,
            key="slide-last",
            shortcut="End",
        )
        params = {k: v for k, v in st.query_params.to_dict().items() if k not in ("present", "slide")}
        st.link_button("Exit", "./?" + urlencode(params), icon=":material/close:")
        exported = st.session_state.pop("starviz_slide_export", None)
        if exported:
            fig, name, title = exported
            ui.export_controls(fig, name, scope, title)
        yield
        tag = "<span class='slide-tag'>Demo data</span>" if is_demo else ""
        st.markdown(
            f"<div style='text-align:right;white-space:nowrap'>Slide {index + 1} of {count}{tag}</div>",
            unsafe_allow_html=True,
            width="stretch",
        )
    with st.container(key="slide-keys"):  # a clicker's other keys, on buttons never seen
        st.button("Next (Space)", on_click=_go_to, args=(min(index + 1, last),), key="slide-space", shortcut="Space")
        st.button("Next (Page Down)", on_click=_go_to, args=(min(index + 1, last),), key="slide-pgdn", shortcut="PageDown")
        st.button("Previous (Page Up)", on_click=_go_to, args=(max(index - 1, 0),), key="slide-pgup", shortcut="PageUp")
