"""Streamlit pieces every page shares: the filters kept in the URL, the scope, metric cards."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlencode

import streamlit as st

from starviz import auth, charts, queries
from starviz.scope import FILTER_KEYS, Filters, User, financial_year, fy_bounds, parse_filters

_STATE = "starviz_filters"


def _period_widgets(f: Filters, months: list[dt.date]) -> dict:
    years = sorted({financial_year(m) for m in months}, reverse=True)
    kinds = {"fy": "Financial year", "quarter": "Quarter", "months": "Months", "all": "All years"}
    kind = st.sidebar.radio("Period", list(kinds), format_func=kinds.get, index=list(kinds).index(f.period),
                            horizontal=True, key="f_period")
    out: dict = {"period": kind}
    if kind in ("fy", "quarter") and years:
        fy = f.fy if f.fy in years else years[0]
        out["fy"] = st.sidebar.selectbox("Financial year", years, index=years.index(fy), key="f_fy")
        if kind == "quarter":
            out["quarter"] = st.sidebar.selectbox(
                "Quarter", [1, 2, 3, 4], index=(f.quarter or 1) - 1, key="f_q",
                format_func=lambda q: f"Q{q} ({['Apr–Jun', 'Jul–Sep', 'Oct–Dec', 'Jan–Mar'][q - 1]})")
    elif kind == "months" and months:
        start = f.month_from if f.month_from in months else months[max(0, len(months) - 12)]
        end = f.month_to if f.month_to in months else months[-1]
        out["month_from"], out["month_to"] = st.sidebar.select_slider(
            "Months", options=months, value=(start, end), format_func=lambda m: m.strftime("%b %Y"), key="f_months")
    else:  # no data months yet: nothing to pick
        out["period"] = "all"
    return out


def render_filters(user: User) -> Filters:
    """Sidebar filters, initialised from the URL and written back to it on every run."""
    table = queries.councils()
    ids = table["council_id"].tolist()
    names = dict(zip(table["council_id"], table["short_name"], strict=True))
    months = queries.months_loaded()
    if _STATE not in st.session_state:
        parsed, notices = parse_filters(st.query_params.to_dict() | {k: st.query_params.get_all(k)
                                        for k in st.query_params if len(st.query_params.get_all(k)) > 1},
                                        user=user, council_ids=ids, months=months, names=names)
        st.session_state[_STATE] = parsed
        st.session_state["starviz_notices"] = notices
    current: Filters = st.session_state[_STATE]
    st.sidebar.header("Filters")
    visible = list(user.allowed(ids))
    chosen = st.sidebar.multiselect(
        "Councils", visible, default=[c for c in current.councils if c in visible] if not current.all_councils else [],
        format_func=names.get, placeholder="All councils" if len(visible) > 1 else names.get(visible[0], ""),
        key="f_councils", disabled=len(visible) <= 1)
    period = _period_widgets(current, months)
    addressable = st.sidebar.toggle("Addressable spend only", value=current.addressable_only, key="f_addr",
                                    help="Leaves out levies, HMRC, pensions, redacted personal payments and "
                                         "payments to other authorities.")
    filters = Filters(councils=tuple(chosen) or tuple(visible), all_councils=not chosen,
                      addressable_only=addressable, names=names, **period)
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
        options["toImageButtonOptions"] = {"filename": name, "width": first.width, "height": first.height,
                                           "format": "png"}
    result = st.plotly_chart(fig, theme=None, width="stretch", config=options, **kwargs)
    if name:
        _export_controls(fig, name, scope)
    return result


def _export_controls(fig, name: str, scope: queries.Scope | None) -> None:
    from starviz import config as cfg
    from starviz import export

    title = (fig.layout.title.text or name.replace("-", " ").capitalize()) if fig.layout.title else name
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
                art = export.branded(fig, title=title, subtitle=subtitle, source=source,
                                     width=preset.width, height=preset.height)
                return export.image(art, fmt, preset.width, preset.height)

            st.download_button(f"Download {fmt.upper()}", render, f"{name}-{key}.{fmt}",
                               "image/png" if fmt == "png" else "image/svg+xml", key=f"img-{name}",
                               icon=":material/download:", on_click="ignore")
        st.caption("Alt text, for accessible posts")
        st.markdown("> " + alt.replace("\n", " "))
        st.download_button("Alt text (.txt)", alt, f"{name}-alt-text.txt", "text/plain", key=f"alt-{name}",
                           on_click="ignore")


def notices() -> None:
    for text in st.session_state.pop("starviz_notices", []):
        st.warning(text, icon=":material/warning:")


def metric(label: str, value: str, delta: str | None = None, help: str | None = None,
           delta_color: str = "normal") -> None:
    st.metric(label, value, delta=delta, help=help, delta_color=delta_color, border=True)


def window_caption(window: tuple[dt.date, dt.date], previous: tuple[dt.date, dt.date] | None) -> str:
    def span(a: dt.date, b: dt.date) -> str:
        return f"{a:%b %Y}" if (a.year, a.month) == (b.year, b.month) else f"{a:%b %Y} – {b:%b %Y}"

    text = f"Showing {span(*window)}"
    return text + (f"; changes are against {span(*previous)}." if previous else ".")


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
        st.info("**Demo data.** Every council's extracts here are synthetic, generated by `python -m starviz "
                "demo`; they look like the real files but describe no real payment.", icon=":material/science:")


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


def export_buttons(name: str, df, scope: queries.Scope | None = None, title: str | None = None) -> None:
    """CSV and XLSX downloads of a table, named after it, with the filters in the XLSX notes."""
    from starviz import export

    notes = {"Filters": scope.filters.label if scope else "", "Rows": f"{len(df):,}"}
    left, right, _ = st.columns([1, 1, 6])
    # Files are made when a button is clicked, not on every rerun of the page.
    left.download_button("CSV", lambda: export.to_csv(df), f"{name}.csv", "text/csv", key=f"csv-{name}",
                         icon=":material/download:", on_click="ignore")
    right.download_button("Excel", lambda: export.to_xlsx(df, title or name, notes), f"{name}.xlsx",
                          "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key=f"xlsx-{name}",
                          icon=":material/download:", on_click="ignore")


def database_unavailable(user: User, problem: Exception) -> None:
    """A clear page when the database is missing or corrupt; an admin can rebuild it from here."""
    from starviz import build

    st.title("The database cannot be opened")
    st.error(str(problem))
    if build.is_building():
        st.info("A build is in progress; this page will work again when it has finished.")
    elif user.can("rebuild"):
        st.write("Rebuild it from the extracts under `data/raw/`. The current file is replaced only if the build succeeds.")
        if st.button("Rebuild the database", type="primary", icon=":material/build:"):
            bar = st.progress(0.0, text="Starting")
            try:
                build.build(progress=lambda f, m: bar.progress(min(max(f, 0.0), 1.0), text=m))
            except build.BuildError as exc:
                st.error(f"The build failed; nothing was replaced.\n\n{exc}")
            else:
                st.success("Rebuilt.")
                st.rerun()
    else:
        st.info("Ask an administrator to rebuild the database.")


# --- Board presentation mode ------------------------------------------------------------------------

PRESENT_CHART_HEIGHT = 720


def presentation_style() -> None:
    """Hide the sidebar and Streamlit's own chrome; larger type for a shared screen."""
    st.html("""<style>
    [data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stHeader"],
    [data-testid="stToolbar"], [data-testid="stDecoration"], [data-testid="stStatusWidget"] {display: none;}
    .block-container, [data-testid="stMainBlockContainer"] {padding-top: 1.2rem; max-width: 100%;}
    html, body, [data-testid="stMarkdownContainer"] p {font-size: 1.35rem;}
    h1 {font-size: 3rem !important;}
    </style>""")


def slide_index(count: int) -> int:
    """The 0-based slide from the link's 1-based `slide` parameter (bad values go to the first)."""
    raw = st.query_params.get("slide", "")
    index = int(raw) - 1 if raw.isdigit() and 1 <= int(raw) <= count else 0
    if raw != str(index + 1):  # the link always names its slide
        st.query_params["slide"] = str(index + 1)
    return index


def presentation_header(title: str, scope: queries.Scope, index: int, count: int, as_at) -> None:
    left, right = st.columns([5, 1])
    left.title(title)
    left.caption(f"{scope.filters.label} · data as at {as_at:%d %B %Y}" if as_at else scope.filters.label)
    right.markdown(f"<div style='text-align:right;font-size:1.6rem;padding-top:1.4rem'>{index + 1} / {count}</div>",
                   unsafe_allow_html=True)


def _go_to(index: int) -> None:
    st.query_params["slide"] = str(index + 1)


def slide_controls(index: int, count: int) -> None:
    previous, following, leave, _ = st.columns([1.4, 1.4, 1.1, 4])
    previous.button("Previous", icon=":material/arrow_back:", on_click=_go_to, args=((index - 1) % count,),
                    disabled=index == 0, key="slide-prev")
    following.button("Next", icon=":material/arrow_forward:", on_click=_go_to, args=((index + 1) % count,),
                     disabled=index == count - 1, key="slide-next", type="primary")
    params = {k: v for k, v in st.query_params.to_dict().items() if k not in ("present", "slide")}
    leave.link_button("Exit", "./?" + urlencode(params), icon=":material/close:")


# --- table columns and copyable text (issue 6) ---------------------------------------------------


def money_column(label: str, help: str | None = None):
    return st.column_config.NumberColumn(label, help=help, format="£%,.0f")


def share_column(label: str, help: str | None = None):
    return st.column_config.NumberColumn(label, help=help, format="percent")


def copyable_text(text: str, file_name: str, label: str = "Download as text") -> None:
    """A block of text with a copy button (top right of the block) and a download of it as .txt."""
    st.code(text, language=None, wrap_lines=True)
    st.download_button(label, text.encode("utf-8"), file_name, "text/plain", key=f"txt-{file_name}",
                       icon=":material/download:")


_RAG_CELL = {"green": "background-color: #D7F0E6; color: #00573F", "amber": "background-color: #FBEBCB; color: #6B4600",
             "red": "background-color: #F8DCCB; color: #8A3200"}


def table(df, column_config: dict | None = None, shares: tuple[str, ...] = (), rag: str | None = None, **kwargs) -> None:
    """``st.dataframe`` with shares (0-1) shown as 12.3% (Streamlit's own percent format drops trailing
    zeros) and, if ``rag`` names a column holding Green/Amber/Red, that column's cells tinted."""
    shown = [c for c in shares if c in df.columns]
    view = df.style.format("{:.1%}", subset=shown, na_rep="–") if shown else df.style if rag else df
    if rag and rag in df.columns:
        view = view.map(lambda v: next((css for k, css in _RAG_CELL.items() if str(v).lower().startswith(k)), ""),
                        subset=[rag])
    st.dataframe(view, hide_index=True, column_config=column_config, **kwargs)
