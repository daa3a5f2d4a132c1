import streamlit as st

from starviz import charts, escape, fmt, nodata, queries, tables, ui

scope = ui.scope()
st.title("Overview")
st.caption(scope.filters.label)
ui.notices()

comparison = queries.comparison_windows(scope)
now = queries.overview_measures(scope, comparison.window)
# changes: the same months in both periods, each loaded in full by every council shown
like, before = queries.compared_measures(scope, comparison)
for note in ui.comparison_notes(comparison, scope.filters):
    st.caption(note)
expiring = queries.expiring_contracts(scope, months=6)
target = queries.social_value_target(queries.period_fy(scope))

# the spend figure (£1,234.5m) is the widest: room for it at a Board screen's metric size
row = st.columns([1.6, 1, 1, 1, 1])
with row[0]:
    spend = "addressable_gbp" if scope.filters.addressable_only else "total_gbp"
    ui.metric(
        "Addressable spend" if scope.filters.addressable_only else "Total spend",
        fmt.gbp(now[spend]),
        fmt.change_gbp(like.get(spend), before.get(spend)),
        help=f"Addressable {fmt.gbp(now['addressable_gbp'])} of a total {fmt.gbp(now['total_gbp'])}; "
        "the rest is levies, HMRC, pensions, redacted personal payments and other authorities.",
    )
with row[1]:
    ui.metric(
        "On contract",
        fmt.pct(now["on_contract_share"]),
        fmt.change_pp(like.get("on_contract_share"), before.get("on_contract_share")),
        help="Share of addressable spend paid to a supplier with a live contract (own or STAR). " + nodata.SHARE_RULE,
    )
with row[2]:
    ui.metric(
        "Local (GM)",
        fmt.pct(now["local_share"]),
        fmt.change_pp(like.get("local_share"), before.get("local_share")),
        help="Share of addressable spend with suppliers based in Greater Manchester. "
        f"Supplier postcode known for {fmt.pct(now['local_known_share'])} of addressable spend; "
        "unknown is not counted as local. " + nodata.SHARE_RULE,
    )
with row[3]:
    ui.metric(
        "SME",
        fmt.pct(now["sme_share"]),
        fmt.change_pp(like.get("sme_share"), before.get("sme_share")),
        help="Share of addressable spend with SMEs, as recorded in the contracts registers. " + nodata.SHARE_RULE,
    )
with row[4]:
    ui.metric(
        "VCSE",
        fmt.pct(now["vcse_share"]),
        fmt.change_pp(like.get("vcse_share"), before.get("vcse_share")),
        help="Share of addressable spend with voluntary, community and social enterprises. " + nodata.SHARE_RULE,
    )

if left_out := nodata.share_left_out(now["share_left_out_gbp"], spend="addressable spend"):
    st.caption(left_out)
if without := nodata.shares_without(now):  # a council with no data is left out of a share, not counted as 0
    st.caption(escape.md(without))

row = st.columns(4)
with row[0]:
    ui.metric(
        "Social value committed",
        fmt.pct(now["sv_committed_share"]),
        fmt.change_pp(like.get("sv_committed_share"), before.get("sv_committed_share")),
        help=f"Of the value of contracts starting in the period; target {fmt.pct(target, 0)}.",
    )
with row[1]:
    ui.metric(
        "Social value delivered",
        fmt.pct(now["sv_delivered_share"]),
        fmt.change_pp(like.get("sv_delivered_share"), before.get("sv_delivered_share")),
        help=f"Delivered to date on those contracts; target {fmt.pct(target, 0)} committed.",
    )
with row[2]:
    ui.metric(
        "Savings",
        fmt.gbp(now["savings_gbp"]),
        fmt.change_gbp(like.get("savings_gbp"), before.get("savings_gbp")),
        help=f"Against a target of {fmt.gbp(now['savings_target_gbp'])} for the period.",
    )
with row[3]:
    ui.metric(
        "Contracts ending in 6 months",
        fmt.in_unit(expiring["count_contracts"], "count"),
        help=(f"Worth {fmt.gbp(expiring['value_gbp'])}; " if expiring["value_gbp"] is not None else "")
        + "counted from today, STAR contracts included. A council's own contracts count only once its contracts "
        "register is loaded.",
    )
if expiring["note"]:
    st.caption(escape.md(expiring["note"]))

ui.chart(
    charts.spend_by_council_month(queries.spend_by_council_month(scope), queries.colours()),
    name="spend-by-council-by-month",
    scope=scope,
)

st.subheader("Data loaded")
st.caption(f"Spend data as at the end of {queries.as_at_date():%B %Y}; built {queries.build_info()['built_at']:%d %b %Y %H:%M}.")
loaded = queries.data_status(scope)
tables.table(
    loaded,
    column_config={
        "council": "Council",
        "months_loaded": "Months of spend",
        "first_month": st.column_config.DateColumn("First month", format="MMM YYYY"),
        "last_month": st.column_config.DateColumn("Last month", format="MMM YYYY"),
        "complete_through": st.column_config.DateColumn(
            "Complete through", format="MMM YYYY", help="The latest month loaded in full (a partial latest month is not)"
        ),
        "note": "Note",
    },
)
ui.export_buttons("data-loaded", loaded, scope)
