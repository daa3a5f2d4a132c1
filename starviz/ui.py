"""Streamlit pieces every page shares: the filters kept in the URL, the scope, metric cards."""

from __future__ import annotations

import datetime as dt
import re
from contextlib import contextmanager
from urllib.parse import urlencode

import streamlit as st
from streamlit.errors import StreamlitAPIException

from starviz import auth, charts, escape, queries
from starviz.scope import (
    FILTER_KEYS,
    Filters,
    User,
    add_months,
    financial_year,
    fy_bounds,
    line_date_text,
    month_ranges,
    months_between,
    parse_filters,
)

_STATE = "starviz_filters"


def _period_widgets(f: Filters, months: list[dt.date]) -> dict:
    years = sorted({financial_year(m) for m in months}, reverse=True)
    kinds = {"fy": "Financial year", "quarter": "Quarter", "months": "Months", "all": "All years"}
    kind = st.sidebar.radio(
        "Period", list(kinds), format_func=kinds.get, index=list(kinds).index(f.period), horizontal=True, key="f_period"
    )
    out: dict = {"period": kind}
    if kind in ("fy", "quarter") and years:
        fy = f.fy if f.fy in years else years[0]
        out["fy"] = st.sidebar.selectbox("Financial year", years, index=years.index(fy), key="f_fy")
        if kind == "quarter":
            out["quarter"] = st.sidebar.selectbox(
                "Quarter",
                [1, 2, 3, 4],
                index=(f.quarter or 1) - 1,
                key="f_q",
                format_func=lambda q: f"Q{q} ({['Apr–Jun', 'Jul–Sep', 'Oct–Dec', 'Jan–Mar'][q - 1]})",
            )
    elif kind == "months" and months:
        start = f.month_from if f.month_from in months else months[max(0, len(months) - 12)]
        end = f.month_to if f.month_to in months else months[-1]
        out["month_from"], out["month_to"] = st.sidebar.select_slider(
            "Months", options=months, value=(start, end), format_func=lambda m: m.strftime("%b %Y"), key="f_months"
        )
    else:  # no data months yet: nothing to pick
        out["period"] = "all"
    return out


def render_filters(user: User) -> Filters:
    """Sidebar filters, initialised from the URL and written back to it on every run."""
    names = queries.council_names()
    ids = list(names)
    months = queries.months_loaded()
    if _STATE not in st.session_state:
        parsed, notices = parse_filters(
            st.query_params.to_dict()
            | {k: st.query_params.get_all(k) for k in st.query_params if len(st.query_params.get_all(k)) > 1},
            user=user,
            council_ids=ids,
            months=months,
            names=names,
        )
        st.session_state[_STATE] = parsed
        st.session_state["starviz_notices"] = notices
    current: Filters = st.session_state[_STATE]
    st.sidebar.header("Filters")
    visible = list(user.allowed(ids))
    chosen = st.sidebar.multiselect(
        "Councils",
        visible,
        default=[c for c in current.councils if c in visible] if not current.all_councils else [],
        format_func=names.get,
        placeholder="All councils" if len(visible) > 1 else names.get(visible[0], ""),
        key="f_councils",
        disabled=len(visible) <= 1,
    )
    period = _period_widgets(current, months)
    addressable = st.sidebar.toggle(
        "Addressable spend only",
        value=current.addressable_only,
        key="f_addr",
        help="Leaves out levies, HMRC, pensions, redacted personal payments and payments to other authorities.",
    )
    filters = Filters(
        councils=tuple(chosen) or tuple(visible), all_councils=not chosen, addressable_only=addressable, names=names, **period
    )
    st.session_state[_STATE] = filters
    # Filters own their keys in the link; other keys (a slide, a selected supplier) are kept.
    params = {k: v for k, v in st.query_params.to_dict().items() if k not in FILTER_KEYS} | filters.to_params()
    if st.query_params.to_dict() != params:
        st.query_params.from_dict(params)
    return filters


def scope() -> queries.Scope:
    """The current user's scope with the shared filters (rendered by app.py before the page)."""
    user = auth.current_user()
    if user is None:  # pages are only reachable after login; this is a second lock on the door
        # Until app.py has declared its navigation once since the server started, Streamlit runs a
        # page address (/spend) as the bare file from pages/. Send the browser through app.py, which
        # shows the sign-in page; the filters in the address survive.
        try:
            st.switch_page("app.py", query_params=st.query_params.to_dict())
        except StreamlitAPIException:  # already inside app.py's navigation
            st.stop()
    return queries.Scope(st.session_state[_STATE], user)


def chart(fig, name: str | None = None, scope: queries.Scope | None = None, **kwargs):
    """A Plotly chart on the STAR template (Streamlit's own theme would override its fonts). With a
    `name`, it gets branded PNG/SVG exports at the named presets, alt text, and a camera button that
    saves under the same name and size. Extra keyword arguments go to `st.plotly_chart`."""
    from starviz import config as cfg

    presets = cfg.settings().export_presets
    first = next(iter(presets.values()), None)
    # Every chart exports: a chart without a name is named after its title.
    title_text = fig.layout.title.text if fig.layout.title and fig.layout.title.text else ""
    name = name or re.sub(r"[^a-z0-9]+", "-", re.sub(r"<[^>]+>", " ", title_text).lower()).strip("-")[:60] or None
    if name and scope is None and _STATE in st.session_state and auth.current_user() is not None:
        scope = queries.Scope(st.session_state[_STATE], auth.current_user())
    options = {"displaylogo": False}
    if name and first:
        options["toImageButtonOptions"] = {"filename": name, "width": first.width, "height": first.height, "format": "png"}
    result = st.plotly_chart(fig, theme=None, width="stretch", config=options, **kwargs)
    if name:
        _export_controls(fig, name, scope)
    return result


def _export_controls(fig, name: str, scope: queries.Scope | None, title: str | None = None) -> None:
    from starviz import config as cfg
    from starviz import export

    if title is None:
        title = (fig.layout.title.text or name.replace("-", " ").capitalize()) if fig.layout.title else name
        title = re.sub(r"<[^>]+>", "", title.split("<br>")[0])  # the headline, not a chart's <sup> note
    subtitle = scope.filters.label if scope else ""
    alt = export.alt_text(fig, title, subtitle)
    presets = cfg.settings().export_presets
    with st.popover("Export chart", icon=":material/ios_share:"):
        if not export.chromium_path():
            st.info(export.CHROMIUM_HINT)
        else:
            key = st.selectbox("Size", list(presets), format_func=lambda k: presets[k].label, key=f"preset-{name}")
            fmt = st.radio("Format", ["png", "svg"], horizontal=True, format_func=str.upper, key=f"fmt-{name}")
            preset = presets[key]

            def render() -> bytes:
                source = export.source_line(queries.as_at_date())
                art = export.branded(fig, title=title, subtitle=subtitle, source=source, width=preset.width, height=preset.height)
                return export.image(art, fmt, preset.width, preset.height)

            st.download_button(
                f"Download {fmt.upper()}",
                render,
                f"{name}-{key}.{fmt}",
                "image/png" if fmt == "png" else "image/svg+xml",
                key=f"img-{name}",
                icon=":material/download:",
                on_click="ignore",
            )
        st.caption("Alt text, for accessible posts")
        st.markdown("> " + escape.md(alt))
        st.download_button("Alt text (.txt)", alt, f"{name}-alt-text.txt", "text/plain", key=f"alt-{name}", on_click="ignore")


def url_choice(label: str, options: list, param: str, key: str | None = None, default=None, widget: str = "segmented", **kwargs):
    """One choice of a page kept in the address under the short ``?param=`` (so a link reopens the same
    view). The address holds ``str(option)``; a value there that is not one of ``options`` falls back to
    ``default`` (the first option when None), never an error. ``widget``: "segmented", "radio" or "select";
    other keyword arguments (format_func, horizontal, ...) go to the widget."""
    assert param not in FILTER_KEYS, f"{param} is a shared filter key"
    if not options:
        return None
    by_text = {str(o): o for o in options}
    default = default if default in options else options[0]
    asked = st.query_params.get(param)
    start = by_text.get(asked, default)
    key = key or param
    if widget == "segmented":
        chosen = st.segmented_control(label, options, default=start, required=True, key=key, **kwargs)
    elif widget == "radio":
        chosen = st.radio(label, options, index=options.index(start), key=key, **kwargs)
    else:
        chosen = st.selectbox(label, options, index=options.index(start), key=key, **kwargs)
    chosen = chosen if chosen in options else default
    # Kept in the address by hand, not with bind="query-params": the shared filters rewrite the whole
    # query string, which Streamlit refuses for a parameter bound to a widget (commit 3129935).
    if asked != str(chosen):
        st.query_params[param] = str(chosen)
    return chosen


def view_switch(labels: list[str], key: str = "tab") -> str:
    """The part of a page to show, chosen like tabs but kept in the address (``?tab=``) and computed
    alone: ``st.tabs`` runs every tab's queries and charts on every run, this runs only the one open."""
    return url_choice("Show", labels, key, label_visibility="collapsed")


def notices() -> None:
    for text in st.session_state.pop("starviz_notices", []):
        st.warning(text, icon=":material/warning:")


def metric(label: str, value: str, delta: str | None = None, help: str | None = None, delta_color: str = "normal") -> None:
    st.metric(label, value, delta=delta, help=help, delta_color=delta_color, border=True)


def comparison_notes(cmp: queries.Comparison, filters: Filters) -> list[str]:
    """What the headline shows and what its changes compare, in sentences (Markdown, council names
    escaped): the months shown, the like-for-like months (or why there are none), each council's
    "complete through" month, and any partial latest month the figures hold."""
    period = {"fy": "year", "quarter": "quarter"}.get(filters.period, "period")
    a, b = cmp.window
    span = month_ranges(add_months(a, i) for i in range(months_between(a, b))) if b.year < 9999 and a.year > 1 else "all years"
    notes = [f"Showing {span} as loaded."]
    if cmp.shift is not None:
        if cmp.months:
            notes.append(
                f"Changes compare {month_ranges(cmp.months)} with {month_ranges(cmp.previous_months)}: the months every "
                f"council shown has loaded in full in both {period}s."
            )
        else:
            notes.append(
                f"No change shown: no month of this {period} has every council's spend loaded in full, both in it and "
                f"in the same month of the {period} before."
            )
    loaded = [
        f"{escape.md(c.council)} {c.complete_through:%b %Y}"
        if c.complete_through
        else f"{escape.md(c.council)}: no complete month yet"
        for c in cmp.councils
        if c.months
    ]
    loaded += [f"{escape.md(council)}: no data loaded yet" for council in cmp.awaiting]
    if loaded:
        notes.append("Complete through: " + " · ".join(loaded) + ".")
    for c in cmp.partial:
        paid = f" (payments to {c.partial_last_date:%d %b %Y})" if c.partial_last_date else ""
        notes.append(
            f":material/warning: {c.partial_month:%b %Y} is partial for {escape.md(c.council)}{paid}: "
            "in the figures, not in the changes."
        )
    return notes


def change_pp(now: float | None, before: float | None) -> str | None:
    """Change of a share in percentage points, e.g. '+2.1 pp'."""
    if now is None or before is None:
        return None
    return f"{(now - before) * 100:+.1f} pp"


def change_gbp(now: float | None, before: float | None) -> str | None:
    if now is None or before is None or before == 0:
        return None
    return f"{charts.gbp(now - before)} ({(now - before) / abs(before) * 100:+.1f}%)"


def demo_banner() -> None:
    info = queries.build_info()
    if info.get("is_demo"):
        st.info(
            "**Demo data.** Every council's extracts here are synthetic, generated by `python -m starviz "
            "demo`; they look like the real files but describe no real payment.",
            icon=":material/science:",
        )


def not_built(title: str, issue: str) -> None:
    st.title(title)
    st.info(f"This page is not built yet. It is planned in the issue “{issue}”.", icon=":material/construction:")


__all__ = ["demo_banner", "fy_bounds", "metric", "not_built", "notices", "render_filters", "scope"]


def require(action: str) -> queries.Scope:
    """Stop the page unless the user's role allows ``action`` (a second lock behind the navigation)."""
    current = scope()
    if not current.user.can(action):
        st.error("Your role does not allow this page.")
        st.stop()
    return current


def export_buttons(name: str, df, scope: queries.Scope | None = None, title: str | None = None, formats=None) -> None:
    """CSV and XLSX downloads of a table, named after it, with the filters in the XLSX notes
    (``formats``: number formats of columns whose names do not say their unit, see export.to_xlsx)."""
    from starviz import export

    notes = {"Filters": scope.filters.label if scope else "", "Rows": f"{len(df):,}"}
    left, right, _ = st.columns([1, 1, 6])
    # Files are made when a button is clicked, not on every rerun of the page.
    left.download_button(
        "CSV",
        lambda: export.to_csv(df),
        f"{name}.csv",
        "text/csv",
        key=f"csv-{name}",
        icon=":material/download:",
        on_click="ignore",
    )
    right.download_button(
        "Excel",
        lambda: export.to_xlsx(df, title or name, notes, formats),
        f"{name}.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key=f"xlsx-{name}",
        icon=":material/download:",
        on_click="ignore",
    )


def stream_buttons(name: str, batches, notes: dict[str, str], title: str | None = None) -> None:
    """CSV and XLSX downloads of a table too long to hold at once: ``batches()`` gives it as a stream
    of frames, written batch by batch when a button is clicked."""
    from starviz import export

    left, right, _ = st.columns([1, 1, 6])
    left.download_button(
        "CSV",
        lambda: export.stream_csv(batches()),
        f"{name}.csv",
        "text/csv",
        key=f"csv-{name}",
        icon=":material/download:",
        on_click="ignore",
    )
    right.download_button(
        "Excel",
        lambda: export.stream_xlsx(batches(), title or name, notes),
        f"{name}.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key=f"xlsx-{name}",
        icon=":material/download:",
        on_click="ignore",
    )


def database_unavailable(user: User, problem: Exception) -> None:
    """A clear page when the database is missing or corrupt; an admin can rebuild it from here."""
    from starviz import build

    st.title("The database cannot be opened")
    st.error(escape.md(str(problem)))
    if build.is_building():
        st.info("A build is in progress; this page will work again when it has finished.")
    elif user.can("rebuild"):
        st.write("Rebuild it from the extracts under `data/raw/`. The current file is replaced only if the build succeeds.")
        if st.button("Rebuild the database", type="primary", icon=":material/build:"):
            bar = st.progress(0.0, text="Starting")
            try:
                build.build(progress=lambda f, m: bar.progress(min(max(f, 0.0), 1.0), text=m))
            except build.BuildError as exc:
                st.error(f"The build failed; nothing was replaced.\n\n{escape.md(str(exc))}")
            else:
                auth.audit("rebuild", "from the page shown when the database cannot be opened")
                st.success("Rebuilt.")
                st.rerun()
    else:
        st.info("Ask an administrator to rebuild the database.")


def run_guarded(page) -> None:
    """Run a page; an error nobody foresaw becomes a notice (the details go to the server log only)."""
    import logging

    try:
        page.run()
    except Exception:
        logging.getLogger("starviz").exception("page %s failed", getattr(page, "title", "?"))
        st.warning(
            "Part of this page could not be drawn from the current data. The other pages still work; "
            "an administrator can check the Data quality page or rebuild the database."
        )


# --- Board presentation mode ------------------------------------------------------------------------
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
    index = int(raw) - 1 if raw.isdigit() and 1 <= int(raw) <= count else 0
    if raw != str(index + 1):  # the link always names its slide
        st.query_params["slide"] = str(index + 1)
    return index


def presentation_header(title: str, scope: queries.Scope, index: int, count: int, as_at) -> None:
    with st.container(key="slide-header", gap=None):
        st.title(title, anchor=False)
        st.caption(f"{scope.filters.label} · data as at {as_at:%d %B %Y}" if as_at else scope.filters.label)
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
            _export_controls(fig, name, scope, title)
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


# --- table columns and copyable text (issue 6) ---------------------------------------------------


def money_column(label: str, help: str | None = None):
    return st.column_config.NumberColumn(label, help=help, format="£%,.0f")


def share_column(label: str, help: str | None = None):
    return st.column_config.NumberColumn(label, help=help, format="percent")


def copyable_text(text: str, file_name: str, label: str = "Download as text") -> None:
    """A block of text with a copy button (top right of the block) and a download of it as .txt."""
    st.code(text, language=None, wrap_lines=True)
    st.download_button(label, text.encode("utf-8"), file_name, "text/plain", key=f"txt-{file_name}", icon=":material/download:")


EMPTY = "–"  # a table cell with no value: "None" means nothing to a reader


_RAG_CELL = {
    "green": "background-color: #D7F0E6; color: #00573F",
    "amber": "background-color: #FBEBCB; color: #6B4600",
    "red": "background-color: #F8DCCB; color: #8A3200",
}


def table(df, column_config: dict | None = None, shares: tuple[str, ...] = (), rag: str | None = None, **kwargs):
    """``st.dataframe`` (a pandas Styler too) with no index, a missing value shown as "–", shares (0-1)
    as 12.3% (Streamlit's own percent format drops trailing zeros) and, if ``rag`` names a column
    holding Green/Amber/Red, that column's cells tinted. Returns what ``st.dataframe`` returns (the
    selection, when ``on_select`` is given)."""
    if {"payment_date", "date_precision"} <= set(getattr(df, "columns", ())):  # a Styler has none
        # a month-only date ("Sep 2014", kept as the 1st) is shown as the month, not as a day
        df = df.assign(
            payment_date=[line_date_text(d, p) for d, p in zip(df["payment_date"], df["date_precision"], strict=True)]
        ).drop(columns="date_precision")
        column_config = {**(column_config or {}), "payment_date": st.column_config.TextColumn("Date")}
    shown = [c for c in shares if c in df.columns]
    view = df.style.format("{:.1%}", subset=shown, na_rep=EMPTY) if shown else df.style if rag else df
    if rag and rag in df.columns:
        view = view.map(lambda v: next((css for k, css in _RAG_CELL.items() if str(v).lower().startswith(k)), ""), subset=[rag])
    return st.dataframe(view, hide_index=True, column_config=column_config, **({"placeholder": EMPTY} | kwargs))


# --- spend cube: the page's view in the link, its pickers, charts that filter, the pivot ----------
# The spend page keeps what it shows (rows, columns, measure, clicked selections, the supplier in the
# profile) in a cube.View, in session state and in the link, beside the shared filters' own keys.

from dataclasses import replace  # noqa: E402  (kept with the section that uses it)

from starviz import config, cube  # noqa: E402

_VIEW = "starviz_spend_view"


def cube_view() -> cube.View:
    """The spend page's view: from the link on the first visit (bad values ignored with a notice),
    then from the session."""
    if _VIEW not in st.session_state:
        view, problems = cube.parse_view({k: st.query_params.get(k) for k in st.query_params if k in cube.PARAM_KEYS})
        st.session_state[_VIEW] = view
        st.session_state.setdefault("starviz_notices", []).extend(problems)
    return st.session_state[_VIEW]


def _keep_view(view: cube.View) -> None:
    st.session_state[_VIEW] = view
    params = view.to_params()
    for key in cube.PARAM_KEYS:
        if key in st.query_params and key not in params:
            del st.query_params[key]
    changed = {k: v for k, v in params.items() if st.query_params.get(k) != v}
    if changed:
        st.query_params.update(changed)


def cube_controls() -> cube.View:
    """Row, column and measure pickers; returns the view with the choices applied (and in the link)."""
    view = cube_view()
    dims = list(cube.DIMENSIONS)
    columns = [cube.NONE, *dims]
    st.session_state.setdefault("cube_rows", view.rows)
    st.session_state.setdefault("cube_measure", view.measure)
    st.session_state.setdefault("cube_cols", view.columns)
    left, middle, right = st.columns(3)
    rows = left.selectbox("Rows", dims, key="cube_rows", format_func=lambda d: cube.DIMENSIONS[d].label)
    if st.session_state["cube_cols"] == rows:
        st.session_state["cube_cols"] = cube.NONE
    cols = middle.selectbox(
        "Columns",
        [c for c in columns if c != rows],
        key="cube_cols",
        format_func=lambda d: "(none)" if d == cube.NONE else cube.DIMENSIONS[d].label,
    )
    measure = right.selectbox("Measure", list(cube.MEASURES), key="cube_measure", format_func=lambda m: cube.MEASURES[m].label)
    view = replace(view, rows=rows, columns=cols, measure=measure)
    _keep_view(view)
    return view


def _apply_picks(picks: dict[str, str | None]) -> None:
    view = st.session_state[_VIEW]
    for dimension, key in picks.items():
        view = view.unpick(dimension) if key is None else view.pick(dimension, key)
    if picks.get("supplier"):  # a supplier clicked anywhere opens in the profile too
        view = replace(view, supplier=picks["supplier"])
        st.session_state["supplier_pick"] = picks["supplier"]
    st.session_state[_VIEW] = view


def picks_bar(view: cube.View, names: dict[tuple[str, str], str]) -> None:
    """The selections made by clicking charts, each a button that removes it, and one to clear all."""
    if not view.picks:
        st.caption("Click a bar or a box in the charts to filter everything on this page by it.")
        return
    row = st.container(horizontal=True, gap="small", vertical_alignment="center")
    row.markdown("**Selected:**")
    for dimension, key in view.picks:
        label = cube.DIMENSIONS[dimension].label_of(key, names.get((dimension, key)))
        row.button(
            f"{cube.DIMENSIONS[dimension].label}: {escape.md(label)}",
            icon=":material/close:",
            key=f"unpick-{dimension}",
            on_click=_apply_picks,
            args=({dimension: None},),
            help="Remove this selection",
        )
    row.button("Clear all", key="unpick-all", type="tertiary", on_click=_apply_picks, args=({d: None for d, _ in view.picks},))


def selectable_chart(fig, key: str, to_picks) -> None:
    """A Plotly chart (STAR template) whose clicks filter the page: ``to_picks(points)`` turns the
    clicked points into selections (dimension -> key, None to clear) applied before the next run."""

    def on_select() -> None:
        _apply_picks(to_picks(st.session_state[key]["selection"]["points"]))

    st.plotly_chart(
        fig, theme=None, width="stretch", config={"displaylogo": False}, key=key, on_select=on_select, selection_mode="points"
    )
    _export_controls(fig, f"spend-{key}", _current_scope())  # a chart that filters the page exports too


def _current_scope() -> queries.Scope | None:
    if _STATE in st.session_state and auth.current_user() is not None:
        return queries.Scope(st.session_state[_STATE], auth.current_user())
    return None


def pivot_key(pivot: cube.Pivot) -> str:
    """The pivot table's widget key: a new table (other rows, columns, measure, selections or size)
    starts with no cell selected rather than with a cell of the old one."""
    import hashlib

    view = pivot.view
    text = repr((view.rows, view.columns, view.measure, view.picks, len(pivot.table), list(pivot.table.columns)))
    return "pivot-" + hashlib.sha1(text.encode()).hexdigest()[:12]


def pivot_table(pivot: cube.Pivot) -> tuple[cube.Criterion, ...] | None:
    """The pivot as a table whose cells can be clicked; returns the criteria of the clicked cell."""
    unit = cube.MEASURES[pivot.view.measure].unit
    number = st.column_config.NumberColumn(format="£%,.0f" if unit == "gbp" else "%,d")
    formats = {c: number for c in pivot.table.columns[1:]}
    last = len(pivot.table) - 1
    styled = pivot.table.style.apply(
        lambda row: ["font-weight: bold; background-color: #EEF2F5" if row.name == last else "" for _ in row], axis=1
    )
    event = table(styled, formats, key=pivot_key(pivot), on_select="rerun", selection_mode="single-cell", height="content")
    cells = event.selection.cells if event else []
    return pivot.cell_criteria(*cells[0]) if cells else None


def addressable_toggle(scope: queries.Scope) -> None:
    """The shared "addressable spend only" filter, on the page: flipping it here flips the sidebar's."""

    def flip() -> None:
        value = st.session_state["page_addressable"]
        st.session_state[_STATE] = replace(st.session_state[_STATE], addressable_only=value)
        st.session_state["f_addr"] = value  # the sidebar's toggle (set before it is drawn again)

    st.session_state["page_addressable"] = scope.filters.addressable_only
    st.toggle(
        "Addressable spend only",
        key="page_addressable",
        on_change=flip,
        help="Leaves out levies, HMRC, pensions, redacted personal payments and payments to other "
        "authorities (see “Excluded spend”). The same switch as in the sidebar.",
    )


def drilldown(
    scope: queries.Scope,
    criteria: tuple[cube.Criterion, ...],
    selection: tuple[cube.Criterion, ...] = (),
    clicked: bool = True,
) -> None:
    """The lines behind a cell or a selection: how many and how much, then a page of lines (sortable,
    each with its source file and row), or, for a role without line-level access, totals per supplier
    with redacted payments as one total."""
    import hashlib

    from starviz import export

    picked = tuple((c.dimension, c.value) for c in (*criteria, *selection) if c.value is not None)
    names = {k: v for (_, k), v in queries.pick_names(scope, picked).items()}
    st.caption(escape.md(" · ".join(c.describe(names) for c in criteria)) or "Everything in the filters")
    lines = queries.drill_summary(scope, criteria)
    redacted = (
        f", of which {lines['count_redacted']:,} redacted payments ({charts.gbp(lines['redacted_gbp'])})"
        if lines["count_redacted"]
        else ""
    )
    st.markdown(f"**{lines['count_lines']:,} lines, {charts.gbp(lines['spend_gbp'])}**{redacted}")
    if scope.user.can("line_detail"):
        if lines["count_shown"] < lines["count_lines"]:
            st.caption("Redacted payments are counted in the totals above but not listed for your role.")
        key = "drill-" + hashlib.sha1(repr(criteria).encode()).hexdigest()[:10]  # a new cell starts at page 1
        sort, descending, page = line_pager(lines["count_shown"], key)
        shown = queries.drill_lines(scope, criteria, sort, descending, page)
        table(shown, COLUMNS)
        notes = export.drill_notes(
            scope.filters.label,
            [c.describe(names) for c in selection],
            [c.describe(names) for c in criteria] if clicked else None,
            f"{queries.LINE_SORTS[sort]}, {'descending' if descending else 'ascending'}",
            lines["count_shown"],
        )
        # Every line behind the cell, not the page shown: streamed from DuckDB batch by batch.
        stream_buttons("spend-lines", lambda: queries.drill_lines_batches(scope, criteria, sort, descending), notes)
    else:
        st.caption("Your role sees the lines behind a cell as totals per supplier, redacted payments as one total.")
        shown = queries.drill_by_supplier(scope, criteria)
        table(shown, COLUMNS)
        export_buttons("spend-cell-by-supplier", shown, scope)


def line_pager(count: int, key: str) -> tuple[str, bool, int]:
    """Sort order, direction and page (0-based) for a paged table of ``count`` lines."""
    left, middle, right = st.columns([2, 2, 3], vertical_alignment="bottom")
    sort = left.selectbox("Sort lines by", list(queries.LINE_SORTS), format_func=queries.LINE_SORTS.get, key=f"{key}-sort")
    descending = middle.toggle("Descending (largest, latest or Z first)", value=True, key=f"{key}-desc")
    pages = max(1, -(-count // config.settings().drilldown_page_size))
    with right:
        page = st.pagination(pages, key=f"{key}-page", max_visible_pages=7) if pages > 1 else 1
    return sort, descending, page - 1


# Column headings and formats shared by the spend and benchmarking tables.
COLUMNS = {
    "payment_date": st.column_config.DateColumn("Date", format="DD MMM YYYY"),
    "council": "Council",
    "supplier": "Supplier",
    "amount_gbp": st.column_config.NumberColumn("Amount", format="£%,.2f"),
    "spend_gbp": st.column_config.NumberColumn("Spend", format="£%,.0f"),
    "value_gbp": st.column_config.NumberColumn("Contract value", format="£%,.0f"),
    "count_lines": st.column_config.NumberColumn("Lines", format="%,d"),
    "category": "Category",
    "category_l2": "Level 2",
    "department": "Department / service",
    "purpose": "Purpose",
    "contract_id": "Contract",
    "exclusion_reason": "Excluded as",
    "source_file": "Source file",
    "source_row": st.column_config.NumberColumn("Row", format="%d"),
    "name_as_published": "Name as published",
    "first_month": st.column_config.DateColumn("First paid", format="MMM YYYY"),
    "last_month": st.column_config.DateColumn("Last paid", format="MMM YYYY"),
    "contract_ref": "Reference",
    "contract_title": "Title",
    "let_by": "Let by",
    "status": "Status",
    "start_date": st.column_config.DateColumn("Start", format="DD MMM YYYY"),
    "end_date": st.column_config.DateColumn("End", format="DD MMM YYYY"),
    "max_end_date": st.column_config.DateColumn("End with extensions", format="DD MMM YYYY"),
    "council_id": None,
}


def supplier_picker(scope: queries.Scope, view: cube.View) -> str | None:
    """Search by any published spelling, then pick; the choice goes into the view (and the link)."""
    left, right = st.columns([1, 2])
    text = left.text_input("Find a supplier", key="supplier_search", placeholder="Part of any name it is published under")
    found = queries.supplier_search(scope, text, config.settings().supplier_search_results)
    options = found["supplier_id"].tolist()
    names = dict(zip(found["supplier_id"], found["supplier_name"], strict=True))
    if text != st.session_state.get("supplier_search_done"):  # a new search shows its best match
        st.session_state["supplier_search_done"] = text
        if text and options:
            st.session_state["supplier_pick"] = options[0]
    current = st.session_state.get("supplier_pick") or view.supplier or queries.top_supplier(scope, view.criteria())
    if current and current not in options and not text:
        options.insert(0, current)
        names |= {k: v for (_, k), v in queries.pick_names(scope, (("supplier", current),)).items()}
    if not options:
        right.selectbox("Supplier", ["No supplier matches"], disabled=True, key="supplier_none")
        return None
    if st.session_state.get("supplier_pick") not in options:
        st.session_state["supplier_pick"] = current if current in options else options[0]
    chosen = right.selectbox("Supplier", options, key="supplier_pick", format_func=lambda s: names.get(s, s))
    if chosen != view.supplier:
        _keep_view(replace(view, supplier=chosen))
    return chosen


def _flag(value: bool | None) -> str:
    return "Unknown" if value is None else ("Yes" if value else "No")


def supplier_facts(facts: dict) -> None:
    """The supplier's headline figures and flags (unknown shown as unknown)."""
    st.subheader(escape.md(facts["supplier_name"]))
    ids = [
        f"{label} {facts[key]}"
        for key, label in (
            ("company_number", "Company"),
            ("charity_number", "Charity"),
            ("vat_number", "VAT"),
            ("postcode_district", "Postcode district"),
        )
        if facts.get(key)
    ]
    st.caption(escape.md(" · ".join(ids)) or "No company, charity or VAT number on record.")
    if facts.get("exclusion_reasons"):
        st.warning(
            "Payments to this supplier are outside addressable spend: " + escape.md(", ".join(facts["exclusion_reasons"])) + ".",
            icon=":material/block:",
        )
    first, last = facts.get("first_month"), facts.get("last_month")
    row = st.columns(4)
    with row[0]:
        metric(
            "Spend to date",
            charts.gbp(facts["spend_gbp"]),
            help=f"All months loaded, {first:%b %Y} to {last:%b %Y}." if first is not None else None,
        )
    with row[1]:
        metric("Lines", f"{int(facts['count_lines'] or 0):,}")
    with row[2]:
        metric("Councils paying", f"{int(facts['count_councils'] or 0):,}")
    with row[3]:
        metric(
            "Contracts held",
            f"{int(facts['count_contracts'] or 0):,}",
            help=f"{int(facts['count_live_contracts'] or 0):,} of them live today (extensions included). "
            "Contracts in the registers of the councils you can see, STAR collaborative ones included.",
        )
    row = st.columns(4)
    with row[0]:
        metric("Local (GM)", _flag(facts["is_local"]), help="From the supplier's postcode in the contracts registers.")
    with row[1]:
        metric("SME", _flag(facts["is_sme"]), help="As recorded in the contracts registers.")
    with row[2]:
        metric("VCSE", _flag(facts["is_vcse"]), help="As recorded in the contracts registers.")
    with row[3]:
        metric(
            "Name variants merged",
            f"{int(facts['count_name_variants'] or 0):,}",
            help="Spellings of the name, across the councils you can see, that resolve to this supplier.",
        )


COVERAGE_COLUMNS = {
    "months_loaded": st.column_config.NumberColumn("Months loaded", format="%d"),
    "months_in_period": st.column_config.NumberColumn(
        "Months in period", format="%d", help="Months of the period for which any council has data"
    ),
    "categorised_share": st.column_config.NumberColumn(
        "Spend categorised", format="percent", help="Share of spend with a ProClass category"
    ),
    "matched_share": st.column_config.NumberColumn(
        "Spend to identified suppliers", format="percent", help="Share of spend whose payee is named (not redacted, not blank)"
    ),
}
RANKING_COLUMNS = {
    "measure": "Measure",
    "value_text": "Value",
    "value": None,  # the number behind value_text, in the downloads
    "rank": st.column_config.NumberColumn("Rank", format="%d"),
    "of": st.column_config.NumberColumn("Of", format="%d"),
    "best_council": "Best partner",
    "gap": st.column_config.NumberColumn("Gap to best", format="%,.1f"),
    "gap_unit": "Unit",
    "gap_text": "In words",
}
BENCHMARK_COLUMNS = {
    "population": st.column_config.NumberColumn("Population", format="%,d"),
    "spend_per_head_gbp": st.column_config.NumberColumn("Spend per resident", format="£%,.2f"),
    "avg_line_gbp": st.column_config.NumberColumn("Average line", format="£%,.2f"),
    "count_suppliers": st.column_config.NumberColumn("Suppliers", format="%,d"),
    "hhi": st.column_config.NumberColumn("HHI", format="%,.0f"),
    **{
        f"{m}_share": st.column_config.NumberColumn(label, format="percent")
        for m, label in (
            ("on_contract", "On contract"),
            ("local", "Local (GM)"),
            ("local_known", "Local known"),
            ("sme", "SME"),
            ("sme_known", "SME known"),
            ("vcse", "VCSE"),
            ("vcse_known", "VCSE known"),
            ("top10", "Top-10 share"),
            ("small_line", "Small lines"),
            ("spend", "Share of spend"),
        )
    },
}
