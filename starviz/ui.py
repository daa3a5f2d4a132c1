"""Streamlit pieces every page shares: the filters kept in the URL, the scope, metric cards."""

from __future__ import annotations

import datetime as dt

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


def chart(fig) -> None:
    """A Plotly chart on the STAR template (Streamlit's own theme would override its fonts)."""
    st.plotly_chart(fig, theme=None, width="stretch", config={"displaylogo": False})


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
    left.download_button("CSV", export.to_csv(df), f"{name}.csv", "text/csv", key=f"csv-{name}",
                         icon=":material/download:")
    right.download_button("Excel", export.to_xlsx(df, title or name, notes), f"{name}.xlsx",
                          "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key=f"xlsx-{name}",
                          icon=":material/download:")
