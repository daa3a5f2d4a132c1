"""The detail of one supplier, contract or category, opened from a ranked list's link.

The lists of the collaboration and pipeline pages link to ``?supplier=...``, ``?contract=...`` or
``?category=...`` on the same page (the shared filters kept). ``show`` reads that parameter,
checks that the user's councils may see it, and renders the detail instead of the lists.
"""

from __future__ import annotations

import datetime as dt

import streamlit as st

from starviz import charts, escape, fmt, lists, nodata, queries, ui
from starviz.scope import _shown


def show(scope: queries.Scope, today: dt.date | None = None) -> bool:
    """Render the detail the URL asks for and return True; False when it asks for none (or for one
    outside the user's councils, which gets a notice and is dropped from the URL)."""
    request = lists.detail_request()
    if request is None:
        return False
    kind, value = request
    render = {"supplier": _supplier, "contract": _contract, "category": _category}[kind]
    if render(scope, value, today):
        return True
    st.warning(f"Ignored {kind}={_shown(value)}: no such {kind} in the councils you can see.", icon=":material/warning:")
    del st.query_params[kind]
    return False


def _flag(value: bool | None, yes: str, no: str) -> str:
    return "unknown" if value is None else yes if value else no


def _supplier(scope: queries.Scope, supplier_id: str, today: dt.date | None) -> bool:
    profile = queries.supplier_profile(scope, supplier_id)
    if profile is None:
        return False
    lists.close_detail("supplier")
    st.header(escape.md(profile["supplier_name"]))
    ids = [
        f"company {profile['company_number']}" if profile["company_number"] else None,
        f"charity {profile['charity_number']}" if profile["charity_number"] else None,
        f"VAT {profile['vat_number']}" if profile["vat_number"] else None,
        f"postcode {profile['postcode']}" if profile["postcode"] else None,
    ]
    st.caption(
        escape.md(
            " · ".join(
                [
                    *(i for i in ids if i),
                    f"local (GM): {_flag(profile['is_local'], 'yes', 'no')}",
                    f"SME: {_flag(profile['is_sme'], 'yes', 'no')}",
                    f"VCSE: {_flag(profile['is_vcse'], 'yes', 'no')}",
                ]
            )
        )
    )
    variants = [v for v in profile["name_variants"] if v != profile["supplier_name"]]
    if variants:
        st.caption("Also published as: " + escape.md("; ".join(variants)))
    by_council = queries.supplier_spend_by_council(scope, supplier_id)
    contracts = queries.supplier_contracts(scope, supplier_id, today)
    spend = float(by_council["spend_gbp"].sum()) if len(by_council) else 0.0
    row = st.columns(4)
    with row[0]:
        ui.metric("Spend in the period", fmt.gbp(spend), help=scope.filters.label)
    with row[1]:
        ui.metric("Councils paying", f"{len(by_council):,}")
    with row[2]:
        ui.metric("On contract", fmt.pct(nodata.supplier_on_contract_share(by_council)))
    with row[3]:
        ui.metric(
            "Live contracts",
            f"{(contracts['status'].isin(['live', 'in extension'])).sum():,}",
            help="Own contracts and STAR contracts covering your councils, extensions included.",
        )
    ui.chart(
        charts.spend_by_council_month(
            queries.supplier_spend_by_month(scope, supplier_id),
            queries.colours(),
            title=f"Spend with {profile['supplier_name']} by month",
        )
    )
    st.subheader("Spend by council")
    lists.ranked_table(f"supplier-{supplier_id}-by-council", by_council, scope, empty="No spend in the period.")
    st.subheader("Contracts")
    lists.ranked_table(
        f"supplier-{supplier_id}-contracts",
        contracts,
        scope,
        link="contract",
        empty="No council you can see holds a contract with this supplier.",
    )
    st.subheader("Payments")
    payments = queries.supplier_payments(scope, supplier_id)
    if payments is None:
        st.info("Your role shows totals, not individual payments.", icon=":material/lock:")
    else:
        st.caption("The latest 500 payments in the period.")
        lists.ranked_table(f"supplier-{supplier_id}-payments", payments, scope, empty="No payments in the period.")
    return True


def _contract(scope: queries.Scope, contract_id: str, today: dt.date | None) -> bool:
    c = queries.contract_profile(scope, contract_id, today)
    if c is None:
        return False
    lists.close_detail("contract")
    st.header(escape.md(c["contract_title"]))
    owner = f"{c['owner_name']} for {c['covers']}" if c["covers"] else c["owner_name"]
    st.caption(
        escape.md(
            " · ".join(
                x
                for x in [
                    owner,
                    c["contract_ref"],
                    c["category"],
                    c["subcategory"],
                    c["category_manager"] or "no category manager",
                    c["procurement_route"] or "route not given",
                ]
                if x
            )
        )
    )
    if c["supplier_id"]:
        st.markdown(f"Supplier: [{escape.md(c['supplier_name'])}]({lists.detail_link('supplier', c['supplier_id'], '', scope)})")
    ended = c["status"] == "ended"
    row = st.columns(3)
    with row[0]:
        ui.metric("Value", fmt.gbp(c["value_gbp"]), help=f"Annual value {fmt.gbp(c['annual_value_gbp'])}")
    with row[1]:
        ui.metric(
            "Spend against it to date",
            fmt.gbp(c["spend_to_date_gbp"]),
            help="Payments to the supplier, within its term, by the councils it covers that you can see.",
        )
    with row[2]:
        ui.metric(
            "Status",
            c["status"].capitalize(),
            help=f"Start {c['start_date']:%d %b %Y}, end {c['end_date']:%d %b %Y}, "
            f"maximum end with extensions {c['max_end_date']:%d %b %Y}.",
        )
    row = st.columns(3)
    with row[0]:
        ui.metric(
            "Due",
            "–" if ended else f"{c['due_date']:%d %b %Y}",
            help="The end date, or the maximum end date once the contract runs in an extension.",
        )
    with row[1]:
        ui.metric(
            "Start re-procurement by",
            "–" if ended else f"{c['start_by_date']:%d %b %Y}",
            help=f"{c['lead_months']} months' lead time for this route and value band, before the due date.",
        )
    with row[2]:
        ui.metric(
            "Pipeline status",
            "–" if ended else lists.RAG_TEXT[c["rag"]],
            help="Late: the start-by date has passed. Due: it falls within the next few months.",
        )
    spend = queries.contract_spend_by_month(scope, contract_id)
    if len(spend):
        ui.chart(charts.spend_by_council_month(spend, queries.colours(), title="Spend against the contract by month"))
    if c["status"] != "ended":
        st.subheader("Contracts to re-procure with it")
        st.caption("Other councils' (or STAR's) contracts in the same category due within the alignment window.")
        lists.ranked_table(
            f"contract-{c['contract_ref']}-aligned",
            queries.aligned_contracts(scope, contract_id, today=today),
            scope,
            link="contract",
            empty="No other council's contract in this category is due near it.",
        )
    return True


def _category(scope: queries.Scope, category: str, today: dt.date | None) -> bool:
    if category not in queries.category_names():
        return False
    lists.close_detail("category")
    st.header(escape.md(category))
    st.caption(f"Suppliers paid in {scope.filters.label}, largest first.")
    suppliers = queries.category_suppliers(scope, category, today)
    lists.ranked_table(
        f"category-{category}-suppliers", suppliers, scope, link="supplier", empty="No spend in this category in the period."
    )
    return True
