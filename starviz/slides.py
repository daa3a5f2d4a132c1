"""Board presentation mode: one slide a screen, driven by a clicker's keys."""

from __future__ import annotations

import json
from contextlib import contextmanager
from urllib.parse import urlencode

import streamlit as st

from starviz import charts, queries, ui

# A slide is one screen: the header (title, filters, "as at" date), the chart taking what height is
# left, and a footer (controls, slide n of N, a small demo tag). The page is a flex column of exactly
# the window's height, so nothing scrolls at 1920x1080 or 1280x720; type is sized in vh so that it
# scales with the screen. A clicker's keys (Right, Left, Space, PageDown, PageUp, Home, End; Esc leaves) are
# Streamlit button shortcuts.

PRESENT_CHART_HEIGHT = 720  # the chart's height where it is not stretched to the window (AppTest)


def presentation_style() -> None:
    """Hide the sidebar and Streamlit's own chrome; lay the slide out as one window-high column."""
    st.html("""<style>
    [data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stHeader"],
    [data-testid="stToolbar"], [data-testid="stDecoration"], [data-testid="stStatusWidget"] {display: none;}
    [data-testid="stMainBlockContainer"] {padding: 1.6vh 2.2vw 1.2vh; max-width: 100%; height: 100vh;
      box-sizing: border-box;}
    [data-testid="stMainBlockContainer"] > [data-testid="stVerticalBlock"] {height: 100%; gap: 0.8vh;
      flex-wrap: nowrap;}
    [data-testid="stMainBlockContainer"] > [data-testid="stVerticalBlock"] > [data-testid="stElementContainer"]:has(
      style, script, iframe[height="0"]) {display: none;}
    [data-testid="stMainBlockContainer"] > [data-testid="stVerticalBlock"] > * {flex: 0 0 auto;}
    /* the footer keeps one line (beside the sidebar, on the page, it may wrap) */
    .st-key-slide-footer {flex-wrap: nowrap;} .st-key-slide-footer > * {flex-shrink: 0;}
    [data-testid="stMainBlockContainer"] > [data-testid="stVerticalBlock"] > :has(.st-key-slide-chart) {
      flex: 1 1 0; min-height: 0;}
    .st-key-slide-chart, .st-key-slide-chart > [data-testid="stElementContainer"],
    .st-key-slide-chart [data-testid="stFullScreenFrame"], .st-key-slide-chart [data-testid="stPlotlyChart"] {
      height: 100%; min-height: 0;}
    </style>""")


def slide_style() -> None:
    """How a slide's own parts look, in the presentation and on the Present to the Board page with
    the sidebar: the header, the footer's controls on one line, the demo tag; the keys' hidden buttons."""
    st.html("""<style>
    .st-key-slide-keys {display: none;}
    .st-key-slide-header, .st-key-slide-footer, .st-key-slide-header > * {flex: none;}
    .st-key-slide-header [data-testid="stElementContainer"], .st-key-slide-header [data-testid="stElementContainer"] * {
      margin: 0 !important; height: auto !important;}
    .st-key-slide-footer button {min-height: 0; padding: 0.25rem 0.7rem;}
    .st-key-slide-header h1 {font-size: 4.6vh !important; line-height: 1.15; padding: 0;}
    .st-key-slide-header [data-testid="stCaptionContainer"] p {font-size: 2.2vh; margin: 0;}
    .st-key-slide-footer {align-items: center; font-size: 1.9vh; gap: 0.9vw;}
    .slide-counter {white-space: nowrap;}
    /* on a narrow screen (1024x768) the keys' hints give way, so the controls and "Slide n of N" keep one line */
    @media (max-width: 1300px) {.st-key-slide-footer button kbd {display: none;}}
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
    slide_style()
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
    """The slide's chart, stretched to the height the header and footer leave; a table figure (the
    scorecard) as an HTML table whose type is sized to the screen, every row shown."""
    with st.container(key="slide-chart"):
        if (fig.layout.meta or {}).get("kind") == "table" and fig.data:
            st.html(table_html(fig))
        else:
            screen = charts.for_screen(fig)
            screen.update_layout(height=None, autosize=True)
            st.plotly_chart(screen, theme=None, width="stretch", height="stretch", config={"displaylogo": False}, key=name)
    st.session_state["starviz_slide_export"] = (fig, name, title)


# The table's type: as large as the screen allows, up to TABLE_MAX_VH, so that every row, the header
# and the footnotes fit the height the slide's header and footer leave (TABLE_HEIGHT, in CSS) and the
# widest row fits the width unwrapped. A Plotly table has type of fixed pixels and scrolls the rows it
# has no room for out of sight: at 1024x768 the last KPIs of the scorecard were simply not on the screen.
TABLE_MAX_VH = 3.4
TABLE_HEIGHT = "(100vh - 12.5vh - 4.5rem)"  # the window less the slide's header, footer and gaps
# the width of the box the table is in (a CSS container), not of the window: on the Present to the
# Board page the sidebar takes part of the window, and a table sized to the window ran off the right.
TABLE_WIDTH = "100cqw"
_ROW_EM, _CELL_PAD_EM, _NOTE_EM = 1.5, 1.1, 0.8 * 1.35


def table_html(fig) -> str:
    """A Plotly table figure (header, cells, cell fills, footnote annotations) as an HTML table for a
    slide; text from data escaped."""
    import html

    from starviz import escape, layout

    trace = fig.data[0]

    def text(value) -> str:
        return escape.unplotly(layout._TAG.sub("", str(value)))

    header = [text(v) for v in trace.header.values]
    columns = [[text(v) for v in column] for column in trace.cells.values]
    fills = trace.cells.fill.color if trace.cells.fill and trace.cells.fill.color is not None else None
    rows = max((len(c) for c in columns), default=0)
    notes = [text(line) for a in fig.layout.annotations or () for line in layout._BR.split(str(a.text or ""))]
    # widths in em of the type (measured with the export's font, wider than the app's): the widest row
    width_em = sum(
        max([layout.text_width(h, 100, bold=True) / 100] + [layout.text_width(v, 100) / 100 for v in col]) + _CELL_PAD_EM
        for h, col in zip(header, columns, strict=False)
    )
    width_em = max([width_em] + [layout.text_width(n, 80) / 100 for n in notes])
    height_em = (rows + 1) * _ROW_EM + len(notes) * _NOTE_EM + 0.6
    size = f"min({TABLE_MAX_VH}vh, calc({TABLE_HEIGHT} / {height_em:.2f}), calc({TABLE_WIDTH} / {width_em:.2f}))"

    def fill(c: int, r: int) -> str:
        colour = fills[c][r] if fills is not None and c < len(fills) and not isinstance(fills[c], str) else None
        return f" style='background:{html.escape(str(colour))}'" if colour and colour != "white" else ""

    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td{fill(c, r)}>{html.escape(col[r])}</td>" for c, col in enumerate(columns) if r < len(col)) + "</tr>"
        for r in range(rows)
    )
    foot = "".join(f"<p>{html.escape(n)}</p>" for n in notes)
    return f"""<style>
    .slide-table-box {{container-type: inline-size;}}
    .slide-table {{font-size: {size}; border-collapse: collapse; white-space: nowrap; color: #1F2933;}}
    .slide-table th, .slide-table td {{text-align: left; padding: 0.16em 0.55em; line-height: 1.15;
      border-bottom: 1px solid #E4E7EB;}}
    .slide-table th {{background: #E4E7EB;}}
    .slide-notes {{font-size: calc(0.8 * {size}); color: #52606D;}} .slide-notes p {{margin: 0.2em 0 0;}}
    </style><div class="slide-table-box"><table class="slide-table"><thead><tr>{head}</tr></thead>
    <tbody>{body}</tbody></table><div class="slide-notes">{foot}</div></div>"""


def _go_to(index: int) -> None:
    st.query_params["slide"] = str(index + 1)


def _exit_params() -> dict[str, str | list[str]]:
    """The address's parameters without the presentation's own: the same view, out of presentation."""
    return {k: st.query_params.get_all(k) for k in st.query_params if k not in ("present", "slide")}


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
        if st.query_params.get("present") == "1":
            exit_to = "./?" + urlencode(_exit_params(), doseq=True)
            st.link_button("Exit", exit_to, icon=":material/close:", help="Esc")
        else:  # the Present to the Board page, beside the sidebar: the same slide and filters, full screen
            start = "./?" + urlencode({**_exit_params(), "present": "1", "slide": str(index + 1)}, doseq=True)
            st.link_button("Present", start, icon=":material/slideshow:", help="One slide a screen, no sidebar")
        exported = st.session_state.pop("starviz_slide_export", None)
        if exported:
            fig, name, title = exported
            ui.export_controls(fig, name, scope, title)
        yield
        tag = "<span class='slide-tag'>Demo data</span>" if is_demo else ""
        st.markdown(
            f"<div class='slide-counter' style='text-align:right'>Slide {index + 1} of {count}{tag}</div>",
            unsafe_allow_html=True,
            width="stretch",
        )
    with st.container(key="slide-keys"):  # a clicker's other keys, on buttons never seen
        st.button("Next (Space)", on_click=_go_to, args=(min(index + 1, last),), key="slide-space", shortcut="Space")
        st.button("Next (Page Down)", on_click=_go_to, args=(min(index + 1, last),), key="slide-pgdn", shortcut="PageDown")
        st.button("Previous (Page Up)", on_click=_go_to, args=(max(index - 1, 0),), key="slide-pgup", shortcut="PageUp")
        if st.button("Exit (Esc)", key="slide-esc", shortcut="Esc"):  # as the Exit link: the same view, out of presentation
            st.html(f"<script>window.location.assign({json.dumps(exit_to)});</script>", unsafe_allow_javascript=True)
