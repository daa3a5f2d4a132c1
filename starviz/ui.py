"""Streamlit pieces every page shares: the filters kept in the URL, the scope, metric cards."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import quote, urlencode

import streamlit as st

from starviz import auth, charts, queries
from starviz.scope import FILTER_KEYS, Filters, User, _shown, financial_year, fy_bounds, parse_filters

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
    current_params = {k: st.query_params.get(k) for k in st.query_params}
    # a page's own parameters (e.g. ?supplier=) stay; the shared filters are rewritten
    params = {k: v for k, v in current_params.items() if k not in FILTER_KEYS} | filters.to_params()
    if current_params != params:
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


# --- ranked lists that link to a supplier, contract or category; the report month ---------------

DETAIL_KEYS: dict[str, str] = {"supplier": "supplier_id", "contract": "contract_id", "category": "category"}
_DETAIL_LABEL = {"supplier": "supplier_name", "contract": "contract_title", "category": "category"}
_DETAIL_PATTERN = {
    "supplier": re.compile(r"^S[0-9a-f]{10}$"),
    "contract": re.compile(r"^[a-z][a-z0-9_]*:\S.{0,79}$"),
    "category": re.compile(r"^[\w ,&'’()/.:›-]{2,80}$"),
}
_LABELS = {
    "council": "Council", "supplier_name": "Supplier", "contract_title": "Contract", "contract_ref": "Reference",
    "category": "Category", "count_councils": "Councils", "count_councils_with_contract": "Councils with a contract",
    "spend_gbp": "Spend", "value_gbp": "Value", "annual_value_gbp": "Annual value", "saving_gbp": "Estimated saving",
    "count_suppliers": "Suppliers", "count_shared_suppliers": "Suppliers used by 2+ councils",
    "first_due_date": "First due", "last_due_date": "Last due", "owners": "Held by", "count_owners": "Councils or STAR",
    "count_contracts": "Contracts", "contracts": "Contracts ending together", "off_contract_gbp": "Off-contract spend",
    "count_months": "Months", "count_partner_contracts": "Partner contracts", "partner_contracts": "Partner contracts (largest)",
    "category_manager": "Category manager", "route": "Route", "start_date": "Start", "end_date": "End",
    "max_end_date": "Maximum end", "due_date": "Due", "months_to_due": "Months to due", "bucket": "Ends in",
    "lead_months": "Lead time (months)", "start_by_date": "Start by", "rag": "Status", "effort": "Effort",
    "ended_date": "Ended", "months_since_end": "Months since end", "count_lines": "Lines",
    "last_payment_date": "Last payment", "first_payment_date": "First payment", "threshold_gbp": "Threshold reached",
    "months_running": "Months running", "count_missing": "Fields missing", "missing_fields": "Missing",
    "on_contract_gbp": "On contract", "payment_date": "Paid",
    "amount_gbp": "Amount", "department": "Department", "purpose": "Purpose", "transaction_number": "Transaction",
    "status": "Status", "months_apart": "Months apart", "last_month": "Last month", "is_on_contract": "On contract",
    "annual_spend_gbp": "Addressable spend, last 12 months", "is_over_threshold": "Over the threshold",
    "source_file": "File", "source_row": "Row", "first_contract_title": "First to end", "under_threshold_gbp": "Just under",
}
_HIDDEN = {"supplier_id", "contract_id", "council_id", "opportunity", "bucket_index", "is_route_unrecognised",
           "is_in_extension", "has_extension_option", "band", "is_unassigned", "quarter_start"}
RAG_TEXT = {"late": "Late", "due": "Due", "on track": "On track"}
# pale fills behind the words (colour-blind safe, and the word says it anyway)
_RAG_FILL = {"Late": "background-color: #F6CDBF", "Due": "background-color: #FCE3B4", "On track": "background-color: #CFE9DF"}


def detail_link(kind: str, value: str, label: str, scope: queries.Scope) -> str:
    """A relative link that reopens the current page on one supplier, contract or category, with the
    shared filters kept; the label rides in the fragment so the table can show it as the link text."""
    return "?" + urlencode(scope.filters.to_params() | {kind: value}) + "#" + quote(str(label), safe="")


def _column_config(df, scope: queries.Scope) -> dict:
    names = dict(zip(queries.councils()["council_id"], queries.councils()["short_name"], strict=True))
    config: dict = {}
    for col in df.columns:
        council, _, rest = str(col).partition("_")
        label = _LABELS.get(col)
        if council in names and rest in ("spend_gbp", "contract", "suppliers"):
            label = f"{names[council]} {dict(spend_gbp='spend', contract='contract', suppliers='suppliers')[rest]}"
        label = label or str(col).replace("_", " ").capitalize()
        if str(col).endswith("_gbp"):
            config[col] = st.column_config.NumberColumn(label, format="£%,.0f")
        elif str(col).endswith("_date") or col == "last_month":
            config[col] = st.column_config.DateColumn(label, format="D MMM YYYY" if col != "last_month" else "MMM YYYY")
        else:
            config[col] = label
    return config


def ranked_table(name: str, df, scope: queries.Scope, link: str | None = None, label: str | None = None,
                 hide: tuple[str, ...] = (), height: int | None = None, empty: str = "Nothing to show.",
                 total: str | None = None) -> None:
    """A ranked list with friendly column names, £ and date formats, and CSV/Excel downloads of the
    rows as they are (ids kept, links left out). With ``link`` ("supplier", "contract" or
    "category") the ``label`` column links to that row's detail on this page; with ``total`` (a
    money column) a line above says how many rows and their sum."""
    if df is None or df.empty:
        st.info(empty, icon=":material/info:")
        return
    if total:
        st.markdown(f"**{len(df):,}** {'row' if len(df) == 1 else 'rows'} · **{charts.gbp(df[total].sum())}** in total")
    view = df.copy()
    config = _column_config(view, scope)
    if "rag" in view.columns:
        view["rag"] = view["rag"].map(RAG_TEXT).fillna(view["rag"])
    if link:
        key, label = DETAIL_KEYS[link], label or _DETAIL_LABEL[link]
        view[label] = [detail_link(link, k, t if t is not None and t == t else k, scope) if k is not None and k == k
                       else None for k, t in zip(view[key], view[label], strict=True)]
        config[label] = st.column_config.LinkColumn(_LABELS.get(label, label), display_text=r"#(.+)$",
                                                    help="Opens the detail in a new tab")
    order = [c for c in view.columns if c not in _HIDDEN and c not in hide]
    shown = view.style.map(lambda v: _RAG_FILL.get(v, ""), subset=["rag"]) if "rag" in view.columns else view
    st.dataframe(shown, hide_index=True, column_config=config, column_order=order, width="stretch",
                 height=height or ("auto" if len(view) <= 12 else 460))
    export_buttons(name, df, scope)


def list_filter(key: str, categories: bool = True, search: str = "Search") -> queries.ListFilter:
    """Search text, categories and a minimum value that narrow one ranked list."""
    left, middle, right = st.columns([3, 4, 2])
    text = left.text_input(search, key=f"{key}-search", placeholder="Part of a name or title")
    chosen = middle.multiselect("Categories", queries.category_names(), key=f"{key}-categories",
                                placeholder="All categories", disabled=not categories)
    minimum = right.number_input("Minimum value (£)", min_value=0, value=0, step=10_000, key=f"{key}-min")
    return queries.ListFilter(text, tuple(chosen), float(minimum))


def detail_request() -> tuple[str, str] | None:
    """The supplier, contract or category the URL asks to show (first of them), or ``None``. A value
    that cannot be one is dropped from the URL with a notice, never an error."""
    for kind in DETAIL_KEYS:
        value = st.query_params.get(kind)
        if value is None:
            continue
        value = value.strip()
        if _DETAIL_PATTERN[kind].fullmatch(value):
            return kind, value
        st.warning(f"Ignored {kind}={_shown(value)}: not a {kind} reference.", icon=":material/warning:")
        del st.query_params[kind]
    return None


def close_detail(kind: str, text: str = "Back to the lists") -> None:
    if st.button(text, icon=":material/arrow_back:", key=f"close-{kind}"):
        del st.query_params[kind]
        st.rerun()


def month_picker(key: str, label: str = "Report month") -> dt.date | None:
    """A month of the loaded spend, the latest by default (``None`` when there is no data)."""
    months = queries.months_loaded()
    if not months:
        return None
    return st.selectbox(label, list(reversed(months)), index=0, key=key, format_func=lambda m: f"{m:%B %Y}")


def council_columns(df, suffix: str = "spend_gbp") -> dict[str, str]:
    """The per-council columns of a wide table (``<council_id>_<suffix>``) -> council name, in order."""
    names = dict(zip(queries.councils()["council_id"], queries.councils()["short_name"], strict=True))
    return {c: names[c.removesuffix("_" + suffix)] for c in df.columns
            if str(c).endswith("_" + suffix) and str(c).removesuffix("_" + suffix) in names}


def list_metrics(df, things: str, money_column: str, money_label: str) -> None:
    """Two cards above a ranked list: how many rows, and the total of its money column."""
    left, right, _ = st.columns([1, 1, 2])
    with left:
        metric(things[:1].upper() + things[1:], f"{len(df):,}")
    with right:
        metric(money_label[:1].upper() + money_label[1:], charts.gbp(df[money_column].sum() if len(df) else 0))
