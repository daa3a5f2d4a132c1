import datetime as dt

import streamlit as st

from starviz import charts, config, detail, escape, fmt, lists, nodata, queries, tables, ui

scope = ui.scope()
rules, checks = config.settings().pipeline, config.settings().exceptions
today = dt.date.today()
st.title("Contract pipeline")
st.caption(f"{scope.filters.councils_label} · contracts as at {today:%d %B %Y}, STAR contracts covering them included")
ui.notices()
if detail.show(scope):
    st.stop()

summary = queries.pipeline_summary(scope)
registers = nodata.covered(queries.measure_coverage(scope), "contracts")
for column, row in zip(st.columns(len(summary)), summary.itertuples(), strict=True):
    with column:
        ui.metric(
            f"Due in {row.bucket}",
            fmt.in_unit(row.count_contracts, "count"),
            help=None
            if registers.none
            else f"Worth {fmt.gbp(row.value_gbp)}; {row.count_late} should already have started "
            f"re-procurement and {row.count_due} must start within {rules.due_within_months} months.",
        )
if registers.missing:
    st.caption(escape.md(registers.note("Contracts")))
# with no register loaded an empty list is "no data", not a clean bill ("Every contract has …")
no_register = f"Nothing to show: {nodata.NO_DATA} (no contracts register loaded)." if registers.none else None

tab = ui.view_switch(
    [
        "Timeline",
        "Start-by dates",
        "Work planning",
        "Procurement Act pipeline notice",
        "Procurement Act notices",
        "Exception reports",
    ]
)

if tab == "Timeline":
    top_n = ui.url_value(
        st.slider,
        "Contracts shown (largest by value)",
        "top",
        key="gantt-n",
        default=rules.gantt_top_n,
        kind=int,
        min_value=5,
        max_value=100,
    )
    contracts = queries.pipeline_contracts(scope)
    ui.chart(charts.contract_timeline(contracts, today, queries.bucket_labels(), top_n))  # says how many it shows
    if len(contracts):
        st.caption(
            "Bars run from the start (or a year ago) to the end date; hatched bars are extension options up to "
            "the maximum end date. Colour says how soon the contract is due."
        )

if tab == "Start-by dates":
    st.caption(
        f"Each contract's lead time comes from its procurement route and value band; it must start "
        f"re-procurement that long before it is due. Late: the start-by date has passed; due: it falls within "
        f"{rules.due_within_months} months."
    )
    left, right = st.columns(2)
    rags = ui.url_value(
        left.multiselect,
        "Status",
        "status",
        key="rag-filter",
        default=[],
        many=True,
        options=["late", "due", "on track"],
        placeholder="Any status",
    )
    buckets = ui.url_value(
        right.multiselect,
        "Ends in",
        "ends_in",
        key="bucket-filter",
        default=[],
        many=True,
        options=queries.bucket_labels(),
        placeholder="Any time",
    )
    df = queries.pipeline_contracts(scope, lists.list_filter("pipeline"), buckets=buckets, rags=rags)
    if not registers.none:
        lists.list_metrics(df, "contracts", "value_gbp", "value")
    lists.ranked_table("contract-pipeline", df, scope, link="contract", empty=no_register or "Nothing to show.")

if tab == "Work planning":
    measures = {"count_contracts": "Contracts", "value_gbp": "Value", "effort": "Effort (weighted by route)"}
    measure = ui.url_choice(
        "Measure", list(measures), "load", key="workload-measure", widget="radio", format_func=measures.get, horizontal=True
    )
    ui.chart(
        charts.workload_heatmap(
            queries.workload_by_manager_quarter(scope),
            queries.workload_quarter_labels(),
            measure,
            f"Re-procurements to start by manager and quarter: {measures[measure].lower()}",
        )
    )
    st.caption("A contract counts in the quarter its re-procurement must start (this quarter when that is late).")
    st.subheader("Contracts with no category manager")
    df = queries.pipeline_contracts(scope, lists.list_filter("unassigned"), unassigned_only=True)
    lists.ranked_table(
        "unassigned-contracts", df, scope, link="contract", empty=no_register or "Every contract has a category manager."
    )

if tab == "Procurement Act pipeline notice":
    with st.columns([1, 3])[0]:
        fy = ui.url_choice("Financial year", queries.pipeline_notice_years(), "notice_fy", key="notice-fy", widget="select")
    st.caption(
        f"Councils spending over {fmt.gbp(rules.procurement_act_annual_spend_gbp)} a year publish, within "
        f"56 days of the year's start, the contracts over {fmt.gbp(rules.procurement_act_contract_gbp)} they "
        f"expect to procure: here, those due within {rules.procurement_act_pipeline_months} months of 1 April."
    )
    st.subheader("Councils and their spend")
    lists.ranked_table("annual-spend-by-council", queries.annual_spend_by_council(scope), scope)
    st.subheader(f"Contracts for the {fy} notice")
    df = queries.procurement_act_pipeline(scope, fy)
    lists.ranked_table(
        f"pipeline-notice-{fy}",
        df,
        scope,
        link="contract",
        total="value_gbp",
        empty=no_register or "No council here is over the spend threshold, or none has a contract over the value due.",
    )

if tab == "Procurement Act notices":
    act_rules = config.settings().notices
    st.caption(
        f"Notices the Procurement Act 2023 expects, against those on Find a Tender, for contracts entered into from "
        f"{act_rules.act_from:%d %B %Y}: a pipeline notice (UK1) within {act_rules.pipeline_notice_days} days of 1 April "
        f"for a council spending over {fmt.gbp(rules.procurement_act_annual_spend_gbp)}; a contract details notice "
        f"(UK7) within {act_rules.contract_details_days} days of each contract of "
        f"{fmt.gbp(act_rules.contract_details_min_gbp)} or more; a contract performance notice (UK9) every "
        f"{act_rules.performance_interval_months} months for contracts over "
        f"{fmt.gbp(act_rules.performance_contract_gbp)}; a contract termination notice (UK11) within "
        f"{act_rules.termination_notice_days} days of a contract ending. Sources: docs/PROCUREMENT-ACT.md."
    )
    compliance = queries.act_compliance(scope, today)
    if compliance.empty:
        st.info(no_register or "No notices or contracts under the Act yet for these councils.", icon=":material/info:")
    else:
        tables.table(
            compliance,
            column_order=[
                "council",
                "financial_year",
                "notice_name",
                "count_expected",
                "count_published",
                "count_on_time",
                "count_late",
                "count_missing",
                "count_not_yet_due",
                "published_share",
            ],
            column_config=tables.NOTICE_COLUMNS,
        )
        ui.export_buttons("procurement-act-notices", compliance, scope)
    st.subheader("Notices missing or late")
    lists.ranked_table(
        "procurement-act-missing-notices",
        queries.act_notice_duties(scope, today, statuses=("missing", "late")),
        scope,
        link="contract",
        empty=no_register or "Every notice due so far was published on time.",
    )

if tab == "Exception reports":
    left, right = st.columns([1, 3])
    with left:
        month = lists.month_picker("exceptions-month", param="month")
    if month is None:
        st.info("No spend is loaded yet.", icon=":material/info:")
        st.stop()
    reports = {
        "expired": "Spend on expired contracts",
        "off": "Off-contract spend by supplier",
        "split": "Possible split orders",
        "unused": "Contracts with no spend",
        "fields": "Missing register fields",
    }
    report = ui.url_choice(
        "Report", list(reports), "report", key="exceptions-report", widget="radio", format_func=reports.get, horizontal=True
    )
    st.subheader(f"{reports[report]}, {month:%B %Y}")
    st.caption(f"{scope.filters.councils_label} · {'addressable' if scope.filters.addressable_only else 'all'} spend")
    narrow = lists.list_filter(f"exceptions-{report}", categories=report != "fields")
    if report in ("expired", "off", "split") and (
        absent := nodata.not_listed(queries.measure_coverage(scope), "on_contract", "whether their spend is on contract")
    ):
        st.caption(absent)
    name = f"{report}-{month:%Y-%m}"
    if report == "expired":
        st.caption(
            "Payments in the month to suppliers whose contract with the council (or a STAR contract covering "
            "it) had ended, extensions included, with no live one. A payment on the last day is on contract."
        )
        lists.ranked_table(
            f"spend-on-expired-contracts-{name}",
            queries.expired_contract_spend(scope, month, narrow),
            scope,
            link="supplier",
            empty="No spend on expired contracts in the month.",
            total="spend_gbp",
        )
    elif report == "off":
        st.caption(
            f"Off-contract spend with one supplier over the {checks.off_contract_window_months} months to the "
            f"end of the month, at or above {', '.join(fmt.gbp(t) for t in checks.off_contract_thresholds_gbp)}."
        )
        lists.ranked_table(
            f"off-contract-{name}",
            queries.off_contract_suppliers(scope, month, narrow),
            scope,
            link="supplier",
            empty="No supplier reaches the lowest threshold off contract.",
            total="spend_gbp",
        )
    elif report == "split":
        st.caption(
            f"Two or more off-contract payments of one council to one supplier within "
            f"{checks.split_order_window_days} days, each within {fmt.pct(checks.split_order_below_share, 0)} "
            f"under {', '.join(fmt.gbp(t) for t in checks.split_order_thresholds_gbp)}, the last in the month."
        )
        lists.ranked_table(
            f"split-orders-{name}",
            queries.split_orders(scope, month, narrow),
            scope,
            link="supplier",
            empty="No possible split orders in the month.",
            total="spend_gbp",
        )
        lines = queries.split_order_lines(scope, month)
        if lines is not None and len(lines):
            with st.expander("The payments behind them"):
                lists.ranked_table(f"split-order-lines-{name}", lines, scope)
    elif report == "unused":
        st.caption(
            f"Register contracts live in the month, running {checks.no_spend_grace_months} months or more, "
            "with no payment to their supplier within their term yet."
        )
        lists.ranked_table(
            f"contracts-without-spend-{name}",
            queries.contracts_without_spend(scope, month, narrow),
            scope,
            link="contract",
            empty=no_register or "Every live contract has spend.",
            total="value_gbp",
        )
    else:
        st.caption(
            f"Register records over {fmt.gbp(checks.transparency_contract_min_gbp)} live in the month that "
            "leave a field the Local Government Transparency Code makes mandatory blank."
        )
        lists.ranked_table(
            f"missing-register-fields-{name}",
            queries.contracts_missing_fields(scope, month, narrow),
            scope,
            link="contract",
            empty=no_register or "Every record has its mandatory fields.",
            total="value_gbp",
        )
