"""Ranked lists that link to the detail of their rows, and the widgets that narrow them.

Every list of the collaboration and pipeline pages is ranked by value, can be searched, filtered by
category and a minimum value, downloads as CSV or Excel, and links each row to the supplier,
contract or category it is about: a relative link (``?<shared filters>&supplier=S...#<label>``)
that reopens the same page, which ``starviz.detail`` reads back.
"""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import quote, urlencode

import streamlit as st

from starviz import fmt, nodata, queries
from starviz.scope import _shown, line_date_text
from starviz.tables import table
from starviz.ui import export_buttons, metric, url_choice, url_value

DETAIL_KEYS: dict[str, str] = {"supplier": "supplier_id", "contract": "contract_id", "category": "category"}
_DETAIL_LABEL = {"supplier": "supplier_name", "contract": "contract_title", "category": "category"}
_DETAIL_PATTERN = {
    "supplier": re.compile(r"^S[0-9a-f]{10}$"),
    "contract": re.compile(r"^[a-z][a-z0-9_]*:\S.{0,79}$"),
    "category": re.compile(r"^[\w ,&'’()/.:›-]{2,80}$"),
}
_LABELS = {
    "council": "Council",
    "supplier_name": "Supplier",
    "contract_title": "Contract",
    "contract_ref": "Reference",
    "category": "Category",
    "count_councils": "Councils",
    "count_councils_with_contract": "Councils with a contract",
    "spend_gbp": "Spend",
    "value_gbp": "Value",
    "annual_value_gbp": "Annual value",
    "saving_gbp": "Estimated saving",
    "count_suppliers": "Suppliers",
    "count_shared_suppliers": "Suppliers used by 2+ councils",
    "first_due_date": "First due",
    "last_due_date": "Last due",
    "owners": "Held by",
    "count_owners": "Councils or STAR",
    "count_contracts": "Contracts",
    "contracts": "Contracts ending together",
    "off_contract_gbp": "Off-contract spend",
    "count_months": "Months",
    "count_partner_contracts": "Partner contracts",
    "partner_contracts": "Partner contracts (largest)",
    "category_manager": "Category manager",
    "route": "Route",
    "start_date": "Start",
    "end_date": "End",
    "max_end_date": "Maximum end",
    "due_date": "Due",
    "months_to_due": "Months to due",
    "bucket": "Ends in",
    "lead_months": "Lead time (months)",
    "start_by_date": "Start by",
    "rag": "Status",
    "effort": "Effort",
    "ended_date": "Ended",
    "months_since_end": "Months since end",
    "count_lines": "Lines",
    "last_payment_date": "Last payment",
    "first_payment_date": "First payment",
    "threshold_gbp": "Threshold reached",
    "months_running": "Months running",
    "count_missing": "Fields missing",
    "missing_fields": "Missing",
    "on_contract_gbp": "On contract",
    "payment_date": "Paid",
    "amount_gbp": "Amount",
    "department": "Department",
    "purpose": "Purpose",
    "transaction_number": "Transaction",
    "status": "Status",
    "months_apart": "Months apart",
    "last_month": "Last month",
    "is_on_contract": "On contract",
    "annual_spend_gbp": "Addressable spend, last 12 months",
    "is_over_threshold": "Over the threshold",
    "source_file": "File",
    "source_row": "Row",
    "first_contract_title": "First to end",
    "covers": "For",
    "under_threshold_gbp": "Just under",
}
_HIDDEN = {
    "supplier_id",
    "contract_id",
    "council_id",
    "opportunity",
    "bucket_index",
    "is_route_unrecognised",
    "is_in_extension",
    "has_extension_option",
    "band",
    "is_unassigned",
    "quarter_start",
}
RAG_TEXT = {"late": "Late", "due": "Due", "on track": "On track"}
# pale fills behind the words (colour-blind safe, and the word says it anyway)
_RAG_FILL = {"Late": "#F6CDBF", "Due": "#FCE3B4", "On track": "#CFE9DF"}


def detail_link(kind: str, value: str, label: str, scope: queries.Scope) -> str:
    """A relative link that reopens the current page on one supplier, contract or category, with the
    shared filters kept; the label rides in the fragment so the table can show it as the link text."""
    return "?" + urlencode(scope.filters.to_params() | {kind: value}) + "#" + quote(str(label), safe="")


def _column_config(df, scope: queries.Scope) -> dict:
    names = queries.council_names()
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


def ranked_table(
    name: str,
    df,
    scope: queries.Scope,
    link: str | None = None,
    label: str | None = None,
    hide: tuple[str, ...] = (),
    height: int | None = None,
    empty: str = "Nothing to show.",
    total: str | None = None,
) -> None:
    """A ranked list with friendly column names, £ and date formats, and CSV/Excel downloads of the
    rows as they are (ids kept, links left out). With ``link`` ("supplier", "contract" or
    "category") the ``label`` column links to that row's detail on this page; with ``total`` (a
    money column) a line above says how many rows and their sum."""
    if df is None or df.empty:
        st.info(empty, icon=":material/info:")
        return
    if total:
        st.markdown(f"**{len(df):,}** {'row' if len(df) == 1 else 'rows'} · **{fmt.gbp(df[total].sum())}** in total")
    view = df.copy()
    config = _column_config(view, scope)
    for col in [c for c in view.columns if str(c).endswith("_date") and f"{str(c)[:-5]}_precision" in view.columns]:
        # a date known only to the month (a council publishing "Sep 2014", kept as the 1st) reads as the month
        precision = f"{str(col)[:-5]}_precision"
        view[col] = [
            None if d is None or d != d else line_date_text(d, p) for d, p in zip(view[col], view[precision], strict=True)
        ]
        config[col] = st.column_config.TextColumn(_LABELS.get(col, str(col).replace("_", " ").capitalize()))
        hide = (*hide, precision)
    if "rag" in view.columns:
        # a coloured label per cell, drawn by the table itself: a pandas Styler would render every
        # cell of the table to HTML on each rerun (0.65 s of the pipeline page's 0.78 s at 1M lines)
        words = view["rag"].map(RAG_TEXT).fillna(view["rag"])
        view["rag"] = [[w] if isinstance(w, str) else [] for w in words]
        config["rag"] = st.column_config.MultiselectColumn(
            _LABELS["rag"], options=list(_RAG_FILL), color=list(_RAG_FILL.values())
        )
    if "covers" in view.columns:  # only STAR contracts cover councils: leave the others blank, not "None"
        view["covers"] = view["covers"].fillna("")
        config["covers"] = st.column_config.TextColumn(
            _LABELS["covers"], width="medium", help="The councils (of those you can see) a STAR contract covers"
        )
    if link:
        key, label = DETAIL_KEYS[link], label or _DETAIL_LABEL[link]
        view[label] = [
            detail_link(link, k, t if t is not None and t == t else k, scope) if k is not None and k == k else None
            for k, t in zip(view[key], view[label], strict=True)
        ]
        config[label] = st.column_config.LinkColumn(
            _LABELS.get(label, label), display_text=r"#(.+)$", help="Opens the detail in a new tab"
        )
    order = [c for c in view.columns if c not in _HIDDEN and c not in hide]
    table(view, config, column_order=order, width="stretch", height=height or ("content" if len(view) <= 12 else 460))
    # a council's column with nothing loaded behind it is "no data" in the files too, not a blank
    export_buttons(name, nodata.fill_council_columns(df), scope)


def list_filter(key: str, categories: bool = True, search: str = "Search") -> queries.ListFilter:
    """Search text, categories and a minimum value that narrow one ranked list."""
    left, middle, right = st.columns([3, 4, 2])
    # kept in the address (?<key>_search=, _categories=, _min=) so that a link reopens the list narrowed alike
    param = key.replace("-", "_")
    text = url_value(
        left.text_input, search, f"{param}_search", key=f"{key}-search", default="", placeholder="Part of a name or title"
    )
    chosen = url_value(
        middle.multiselect,
        "Categories",
        f"{param}_categories",
        key=f"{key}-categories",
        default=[],
        many=True,
        options=queries.category_names(),
        placeholder="All categories",
        disabled=not categories,
    )
    minimum = url_value(
        right.number_input,
        "Minimum value (£)",
        f"{param}_min",
        key=f"{key}-min",
        default=0,
        kind=int,
        min_value=0,
        step=10_000,
    )
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


def month_picker(key: str, label: str = "Report month", param: str | None = None) -> dt.date | None:
    """A month of the loaded spend, the latest by default (``None`` when there is no data); with ``param``,
    kept in the address as ``?param=YYYY-MM-DD``."""
    months = queries.months_loaded()
    if not months:
        return None
    if param:
        return url_choice(label, list(reversed(months)), param, key=key, widget="select", format_func=lambda m: f"{m:%B %Y}")
    return st.selectbox(label, list(reversed(months)), index=0, key=key, format_func=lambda m: f"{m:%B %Y}")


def council_columns(df, suffix: str = "spend_gbp") -> dict[str, str]:
    """The per-council columns of a wide table (``<council_id>_<suffix>``) -> council name, in order."""
    names = queries.council_names()
    return {
        c: names[c.removesuffix("_" + suffix)]
        for c in df.columns
        if str(c).endswith("_" + suffix) and str(c).removesuffix("_" + suffix) in names
    }


def list_metrics(df, things: str, money_column: str, money_label: str) -> None:
    """Two cards above a ranked list: how many rows, and the total of its money column."""
    left, right, _ = st.columns([1, 1, 2])
    with left:
        metric(things[:1].upper() + things[1:], f"{len(df):,}")
    with right:
        metric(money_label[:1].upper() + money_label[1:], fmt.gbp(df[money_column].sum() if len(df) else 0))
