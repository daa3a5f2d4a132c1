import streamlit as st

from starviz import charts, escape, fmt, nodata, queries, tables, ui

scope = ui.scope()
st.title("Social value")
st.caption(scope.filters.label)
ui.notices()


s = queries.social_value_summary(scope)
target = s["target_share"]
period = scope.filters.period_label
st.caption(
    f"Contracts with social value measures starting in {period}: social value committed at award and "
    f"delivered to date (TOMs proxy value × quantity), as a share of contract value. "
    f"Target {fmt.pct(target, 0)} of contract value, set in configuration for each financial year."
)

against_target = fmt.change_pp(s["committed_share"], target)
row = st.columns(4)
with row[0]:
    ui.metric(
        "Committed",
        fmt.pct(s["committed_share"]),
        against_target and f"{against_target} against target",
        help=f"{fmt.gbp(s['committed_gbp'])} committed on {s['count_contracts']:,.0f} contracts worth "
        f"{fmt.gbp(s['value_gbp'])}; target {fmt.pct(target, 0)}.",
    )
with row[1]:
    ui.metric(
        "Delivered to date",
        fmt.pct(s["delivered_share"]),
        help=f"{fmt.gbp(s['delivered_to_date_gbp'])} delivered so far on those contracts: "
        f"{fmt.pct(s['delivered_of_committed_share'])} of what was committed.",
    )
with row[2]:
    ui.metric(
        "Delivered in the period",
        fmt.gbp(s["delivered_in_period_gbp"]),
        help="Social value delivered in the period on every contract in scope, whenever it started.",
    )
with row[3]:
    ui.metric(
        "Delivered locally",
        fmt.pct(s["delivered_local_share"]),
        help="Share of the social value delivered in the period that Greater Manchester organisations "
        "delivered (not recorded as local counts as not local).",
    )
row = st.columns(4)
with row[0]:
    ui.metric(
        "Coverage",
        fmt.pct(s["coverage_share"]),
        help=f"{s['count_with_measures']:,.0f} of the {s['count_over_threshold']:,.0f} contracts over "
        f"{fmt.gbp(s['coverage_threshold_gbp'])} starting in the period carry social value measures."
        + nodata.coverage_left_out(s["coverage_not_reporting"]),
    )
with row[1]:
    ui.metric(
        "Average weighting",
        fmt.pct(s["avg_weighting_share"]),
        help=f"Average evaluation weighting given to social value on contracts over "
        f"{fmt.gbp(s['coverage_threshold_gbp'])} starting in the period.",
    )
with row[2]:
    ui.metric(
        "Contracts at risk",
        fmt.NO_DATA if s["count_at_risk"] is None else f"{s['count_at_risk']:,.0f} of {s['count_in_delivery']:,.0f}",
        help="Contracts in delivery during the period whose delivery is behind the expected curve (see the list below).",
    )
with row[3]:
    ui.metric(
        "Shortfall on contracts at risk",
        fmt.gbp(s["shortfall_at_risk_gbp"]),
        help=f"Expected by now but not delivered, on contracts committing {fmt.gbp(s['committed_at_risk_gbp'])}.",
    )

if left_out := nodata.coverage_left_out(s["coverage_not_reporting"]):
    st.caption(escape.md(left_out.strip()))
if unmatched := nodata.unmatched_returns(s["unmatched_returns"]):
    st.caption(escape.md(unmatched))

st.subheader("Committed and delivered against the target")
labels = {"council": "Council", "theme": "TOMs theme", "category": "Category", "supplier": "Supplier", "contract": "Contract"}
by = ui.url_choice("Break down by", list(labels), "by", key="sv_by", default="council", format_func=labels.get)
breakdown = queries.social_value_breakdown(scope, by)
if breakdown.empty:
    st.info(f"No contract with social value measures starts in {period} in the councils selected.")
else:
    note = " (the themes add up to the whole)" if by == "theme" else ""
    ui.chart(
        charts.social_value_vs_target(
            breakdown,
            None if by == "theme" else target,
            f"Social value as a share of contract value by {labels[by].lower()}{note}",
        )
    )
tables.table(
    breakdown,
    column_config={
        "name": labels[by],
        "count_contracts": st.column_config.NumberColumn("Contracts", format="%d"),
        "value_gbp": tables.money_column("Contract value"),
        "committed_gbp": tables.money_column("Committed"),
        "committed_share": tables.share_column("Committed %"),
        "delivered_gbp": tables.money_column("Delivered to date"),
        "delivered_share": tables.share_column("Delivered %"),
        "delivered_local_share": tables.share_column("Delivered locally"),
        "target_share": tables.share_column("Target"),
    },
)
ui.export_buttons(f"social-value-by-{by}", breakdown, scope)

st.subheader("Quarterly trend")
ui.chart(
    charts.social_value_by_quarter(
        queries.social_value_by_quarter(scope), "Social value committed and delivered by quarter, with the target"
    )
)

st.subheader("Contracts in delivery: delivered against spend and the expected curve")
rules = queries.social_value_rules()
curve = "" if rules["curve_exponent"] == 1 else f" ^ {rules['curve_exponent']:g}"
st.caption(
    f"Expected by now = committed × (share of the contract term elapsed at the council's latest delivery "
    f"return){curve}. "
    f"A contract is at risk when it has delivered less than {fmt.pct(rules['at_risk_share'], 0)} "
    f"of that, once {rules['grace_months']} months have passed since it started. "
    "Spend to date counts payments of the councils selected."
)
everything = ui.url_value(
    st.toggle, "Show every contract in delivery, not only those at risk", "every", key="sv_all", default=False, kind=bool
)
contracts = queries.social_value_contracts(scope, at_risk_only=not everything)
tables.table(
    contracts,
    column_order=[
        "contract_ref",
        "contract_title",
        "supplier",
        "council",
        "delivered_of_expected_share",
        "shortfall_gbp",
        "committed_gbp",
        "delivered_gbp",
        "expected_gbp",
        "delivered_of_spend_share",
        "spend_to_date_gbp",
        "value_gbp",
        "committed_share",
        "delivered_share",
        "elapsed_share",
        "start_date",
        "end_date",
        "as_at_date",
        "category",
        "is_at_risk",
    ],
    column_config={
        "contract_ref": "Reference",
        "contract_title": "Contract",
        "supplier": "Supplier",
        "council": "Council",
        "delivered_of_expected_share": st.column_config.ProgressColumn(
            "Delivered of expected",
            format="percent",
            min_value=0,
            max_value=1,
            help="Social value delivered to date as a share of what the expected curve says by now.",
        ),
        "shortfall_gbp": tables.money_column("Shortfall"),
        "committed_gbp": tables.money_column("Committed"),
        "delivered_gbp": tables.money_column("Delivered"),
        "expected_gbp": tables.money_column("Expected by now"),
        "delivered_of_spend_share": tables.share_column("Delivered % of spend"),
        "spend_to_date_gbp": tables.money_column("Spend to date"),
        "value_gbp": tables.money_column("Contract value"),
        "committed_share": tables.share_column("Committed %"),
        "delivered_share": tables.share_column("Delivered %"),
        "elapsed_share": tables.share_column("Term elapsed"),
        "start_date": st.column_config.DateColumn("Start", format="DD/MM/YYYY"),
        "end_date": st.column_config.DateColumn("End", format="DD/MM/YYYY"),
        "as_at_date": st.column_config.DateColumn("Latest return", format="DD/MM/YYYY"),
        "category": "Category",
        "is_at_risk": st.column_config.CheckboxColumn("At risk"),
    },
)
ui.export_buttons("social-value-contracts-at-risk" if not everything else "social-value-contracts", contracts, scope)
