import streamlit as st

from starviz import charts, config, detail, escape, fmt, lists, nodata, queries, ui

scope = ui.scope()
st.title("Collaborative opportunities")
st.caption(f"{scope.filters.label} · contracts as at today")
ui.notices()
if detail.show(scope):
    st.stop()
if len(scope.council_ids) < 2:
    st.info(
        "Collaboration compares councils: choose two or more councils in the sidebar (your account may see only one).",
        icon=":material/info:",
    )
    st.stop()

rules = config.settings().collaboration
coverage = queries.measure_coverage(scope)


spend_loaded = queries.spend_covered_in_period(scope)


def not_loaded(*measures: tuple[str, str]) -> None:
    """A caption per measure (data set, what it fills) that some council in scope has no data for."""
    for measure, what in measures:
        covered = spend_loaded if measure == "spend" else nodata.covered(coverage, measure)
        if note := covered.note(what):
            st.caption(escape.md(note))


# fewer than two councils with spend in the period: nothing can be common, and that is no data
too_few = f"Nothing to compare: {nodata.NO_DATA} (spend for the period is loaded for " + (
    f"{nodata.names_text(spend_loaded.names)} only)." if spend_loaded.names else "none of these councils)."
)


tab = ui.view_switch(["Common suppliers", "Common categories", "Expiry alignment", "Partner-contract leakage"])

if tab == "Common suppliers":
    st.caption(
        "Suppliers paid by two or more councils in the period, largest combined spend first, and whether "
        "each council holds a live contract with them (its own or a STAR one) and when it ends."
    )
    df = queries.common_suppliers(scope, lists.list_filter("common-suppliers"))
    not_loaded(("spend", "Spend by council"), ("contracts", "Contracts held"))
    lists.list_metrics(df, "suppliers", "spend_gbp", "combined spend")
    if len(df):
        ui.chart(
            charts.stacked_by_council(
                df, "supplier_name", lists.council_columns(df), queries.colours(), "Largest common suppliers: spend by council"
            )
        )
    lists.ranked_table(
        "common-suppliers",
        df,
        scope,
        link="supplier",
        empty="No supplier is paid by two of these councils." if len(spend_loaded.ids) > 1 else too_few,
    )

if tab == "Common categories":
    st.caption("ProClass categories bought by two or more councils from different suppliers in the period.")
    df = queries.common_categories(scope, lists.list_filter("common-categories"))
    not_loaded(("spend", "Spend by council"))
    lists.list_metrics(df, "categories", "spend_gbp", "combined spend")
    if len(df):
        ui.chart(
            charts.stacked_by_council(
                df, "category", lists.council_columns(df), queries.colours(), "Common categories: spend by council"
            )
        )
    lists.ranked_table(
        "common-categories",
        df,
        scope,
        link="category",
        empty="No category is shared in the period." if len(spend_loaded.ids) > 1 else too_few,
    )

if tab == "Expiry alignment":
    left, right = st.columns([3, 2])
    window = ui.url_value(
        left.slider,
        "Contracts ending within (months)",
        "within",
        key="align-window",
        default=rules.expiry_alignment_months,
        kind=int,
        min_value=1,
        max_value=36,
    )
    by_sub = ui.url_value(
        right.toggle, "Group by sub-category where the registers give one", "by_sub", key="align-sub", default=False, kind=bool
    )
    st.caption(
        f"Contracts in one category at different councils (or STAR) due to end within {window} months of "
        f"each other: a joint re-procurement could save an estimated "
        f"{fmt.pct(rules.aggregation_saving_share, 0)} of their combined value. A contract is due at its "
        "end date, or at its maximum end date once it runs in an extension. The link opens the first to end."
    )
    df = queries.expiry_alignment(scope, lists.list_filter("alignment"), window_months=window, by_subcategory=by_sub)
    not_loaded(("contracts", "Contracts compared"))
    if not nodata.covered(coverage, "contracts").none:  # not "0 opportunities, £0" with no register loaded
        lists.list_metrics(df, "opportunities", "saving_gbp", "estimated saving")
    lists.ranked_table(
        "expiry-alignment",
        df,
        scope,
        link="contract",
        label="first_contract_title",
        empty="No contracts at different councils end within the window."
        if not nodata.covered(coverage, "contracts").none
        else f"Nothing to compare: {nodata.NO_DATA} (no contracts register loaded).",
    )

if tab == "Partner-contract leakage":
    match = ui.url_choice(
        "Match on",
        ["supplier", "category"],
        "match",
        key="leak-match",
        widget="radio",
        horizontal=True,
        format_func={"supplier": "Same supplier", "category": "Same category"}.get,
    )
    st.caption(
        "A council's off-contract spend in the period with a supplier (or in a category) where another "
        "council, or STAR, held a contract live in the month of payment that did not cover it: the contract "
        "it could have used or joined. A partner contract link opens the largest of them."
    )
    df = queries.partner_contract_leakage(scope, lists.list_filter(f"leak-{match}"), match=match)
    if absent := nodata.not_listed(queries.measure_coverage(scope), "on_contract", "whether their spend is on contract"):
        st.caption(absent)
    judged = not nodata.covered(coverage, "on_contract").none  # whether any council's spend is known on or off contract
    if judged:
        lists.list_metrics(
            df, "councils and " + ("suppliers" if match == "supplier" else "categories"), "off_contract_gbp", "off-contract spend"
        )
    lists.ranked_table(
        f"partner-contract-leakage-by-{match}",
        df,
        scope,
        link="supplier" if match == "supplier" else "contract",
        label="supplier_name" if match == "supplier" else "partner_contracts",
        empty="No off-contract spend matches another council's contract."
        if judged
        else f"Nothing to show: {nodata.NO_DATA} (no contracts register loaded).",
    )
