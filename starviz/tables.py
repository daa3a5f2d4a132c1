"""How the app draws a table: ``tables.table`` for every table (one placeholder, "no data", for a missing
value, shares as 12.3%, RAG cells tinted), the money and share columns, and the column headings and
formats the spend, benchmarking, data quality and Procurement Act notices tables share."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from starviz.nodata import NO_DATA
from starviz.scope import line_date_text


def money_column(label: str, help: str | None = None):
    return st.column_config.NumberColumn(label, help=help, format="£%,.0f")


def share_column(label: str, help: str | None = None, **kwargs):
    """A share (0-1) column: ``table`` shows it as 12.3% (one decimal, as ``fmt.pct``)."""
    return st.column_config.NumberColumn(label, help=help, format="percent", **kwargs)


SHARE_FORMAT = "%.1f%%"  # the number shown is the share times 100


def _is_share(config) -> bool:
    """A number column whose format is Streamlit's "percent" (a share, 0-1)."""
    kind = config.get("type_config", {}) if isinstance(config, dict) else {}
    return kind.get("type") == "number" and kind.get("format") == "percent"


def copyable_text(text: str, file_name: str, label: str = "Download as text") -> None:
    """A block of text with a copy button (top right of the block) and a download of it as .txt."""
    st.code(text, language=None, wrap_lines=True)
    st.download_button(label, text.encode("utf-8"), file_name, "text/plain", key=f"txt-{file_name}", icon=":material/download:")


EMPTY = NO_DATA  # a table cell with no value: "None" means nothing to a reader, "–" or 0 something else


_RAG_CELL = {
    "green": "background-color: #D7F0E6; color: #00573F",
    "amber": "background-color: #FBEBCB; color: #6B4600",
    "red": "background-color: #F8DCCB; color: #8A3200",
}


def table(df, column_config: dict | None = None, shares: tuple[str, ...] = (), rag: str | None = None, **kwargs):
    """``st.dataframe`` (a pandas Styler too) with no index, a missing value shown as "no data", shares (0-1:
    the columns in ``shares`` and every column configured with ``share_column`` or format "percent")
    as 12.3% (Streamlit's own percent format drops trailing zeros) and, if ``rag`` names a column
    holding Green/Amber/Red, that column's cells tinted. Returns what ``st.dataframe`` returns (the
    selection, when ``on_select`` is given)."""
    if {"payment_date", "date_precision"} <= set(getattr(df, "columns", ())):  # a Styler has none
        # a month-only date ("Sep 2014", kept as the 1st) is shown as the month, not as a day
        df = df.assign(
            payment_date=[line_date_text(d, p) for d, p in zip(df["payment_date"], df["date_precision"], strict=True)]
        ).drop(columns="date_precision")
        column_config = {**(column_config or {}), "payment_date": st.column_config.TextColumn("Date")}
    # Shares as 12.3% everywhere: Streamlit's own "percent" drops trailing zeros ("100%" beside
    # "99.47%"), so a share column is shown times 100 with one decimal. Not with a pandas Styler,
    # which renders every cell to HTML on every rerun. The caller's frame (and its export) is untouched.
    config = dict(column_config or {})
    names = [c for c in getattr(df, "columns", ()) if c in shares or _is_share(config.get(c))]
    if names:
        df = df.assign(**{c: pd.to_numeric(df[c], errors="coerce") * 100 for c in names})
        for c in names:
            given = config.get(c)
            label = given if isinstance(given, str) else (given or {}).get("label") or c
            extra = {k: given[k] for k in ("help", "width", "pinned") if isinstance(given, dict) and given.get(k)}
            config[c] = st.column_config.NumberColumn(label, format=SHARE_FORMAT, **extra)
        column_config = config
    view = df.style if rag else df
    if rag and rag in df.columns:
        view = view.map(lambda v: next((css for k, css in _RAG_CELL.items() if str(v).lower().startswith(k)), ""), subset=[rag])
    return st.dataframe(view, hide_index=True, column_config=column_config, **({"placeholder": EMPTY} | kwargs))


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
    "publishes": st.column_config.TextColumn(
        "Publishes", help="Which payment lines the council publishes: every line, or those over a threshold"
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
    "line_floor_gbp": st.column_config.NumberColumn("Lines compared from", format="£%,.0f"),
    "publishes_from_gbp": st.column_config.NumberColumn("Publishes lines from", format="£%,.0f"),
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
# Column headings and formats of the data quality tables: what was loaded, from which file and row,
# and what went wrong.
QUALITY_COLUMNS = {
    "council": "Council",
    "dataset": "Dataset",
    "source_file": "File",
    "source_row": st.column_config.NumberColumn("Row", format="%d"),
    "source_rows": "Files and rows",
    "column_name": "Column",
    "value": "Value",
    "reason": "Reason",
    "severity": "Severity",
    "message": "Why",
    "transaction_number": "Transaction",
    "payment_date": st.column_config.DateColumn("Paid", format="D MMM YYYY"),
    "amount_gbp": st.column_config.NumberColumn("Amount", format="£%,.2f"),
    **{
        column: st.column_config.NumberColumn(label, format="%,d")
        for column, label in (
            ("count_files", "Files"),
            ("count_lines", "Lines"),
            ("count_rows", "Rows"),
            ("rows_loaded", "Rows"),
            ("count_failed", "Unreadable"),
        )
    },
}
# The Procurement Act notices table: notices expected per council, year and kind, and how many came.
NOTICE_COLUMNS = {
    "council": "Council",
    "financial_year": "Year",
    "notice_name": "Notice",
    **{
        f"count_{count}": st.column_config.NumberColumn(label, format="%d")
        for count, label in (
            ("expected", "Expected"),
            ("published", "Published"),
            ("on_time", "On time"),
            ("late", "Late"),
            ("missing", "Missing"),
            ("not_yet_due", "Not yet due"),
        )
    },
    "published_share": st.column_config.ProgressColumn("Share published", format="percent"),
}
