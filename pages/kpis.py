import streamlit as st

from starviz import charts, escape, narrative, nodata, queries, tables, ui
from starviz.answers import changes_compared, monthly_summary, scorecard_export, scorecard_table

scope = ui.scope()
st.title("KPIs and balanced scorecard")
st.caption(scope.filters.label)
ui.notices()

as_at = queries.kpi_as_at(scope)
if as_at is None:
    st.info(f"No KPI has been reported up to the end of {scope.filters.period_label}.", icon=":material/info:")
    st.stop()
st.caption(
    f"As at **{as_at:%B %Y}**, the latest month with KPIs up to the end of {scope.filters.period_label}. "
    "Council KPIs add up the councils selected (percentages reported in the extracts are averaged; those "
    "computed from the data, shares of addressable spend and of contract value, are recomputed from the "
    "totals); STAR's own KPIs are the shared service's and shown to every partner."
)
# a council that has sent no KPI extract adds nothing to the council KPIs: say so, not an "All councils" total
if no_extract := nodata.covered(queries.measure_coverage(scope), "kpis").note("KPIs from the councils' extracts"):
    st.caption(escape.md(no_extract))

scorecard = queries.kpi_scorecard(scope, as_at)
counts = narrative.rag_counts(scorecard)
statuses = [("green", "On target"), ("amber", "Close to target"), ("red", "Off target"), ("none", "No target")]
if counts["no data"]:
    statuses.append(("no data", "No data"))
row = st.columns(len(statuses))
for column, (status, label) in zip(row, statuses, strict=True):
    with column:
        ui.metric(
            # the colour word only where five cards leave room for it ("Close to target (am…" was cut)
            f"{label} ({narrative.RAG_LABELS[status].lower()})"
            if status in ("green", "amber", "red") and len(row) < 5
            else label,
            f"{counts[status]:,}",
            help="Green: on or better than target. Amber: short of it by no more than the tolerance set in "
            "configuration. Red: further off. No data: the data behind the KPI is not loaded (no contracts, "
            "no supplier flags, no social value returns); counted neither on nor off target.",
        )

st.subheader("Scorecard")
group_by = ui.url_choice(
    "Group the KPIs by",
    list(queries.KPI_GROUPINGS),
    "by",
    key="kpi_group_by",
    default="perspective",
    format_func=queries.KPI_GROUPINGS.get,
)
groups, empty = narrative.groups_with_kpis(queries.kpi_groups(group_by), scorecard, group_by)
tables.table(
    scorecard_table(scorecard, group_by),
    rag="Status",
    height="content",
    column_config={
        "Last 12 months": st.column_config.LineChartColumn("Last 12 months", width=140),
        "KPI": st.column_config.TextColumn("KPI", width=330),
    },
)
if empty:
    st.caption(f"No KPI is mapped yet to: {', '.join(empty)} (mapping in data/reference/kpi_objectives.csv).")
if compared := changes_compared(scorecard):
    # the "Changes compare" column's words, where a change is not over every council reporting the KPI
    st.caption(
        "Changes compare the councils that reported a KPI in both months:  \n"
        + "  \n".join(f"**{escape.md(kpi)}**. {escape.md(note)}" for kpi, note in compared)
    )
exported, formats = scorecard_export(scorecard, group_by)
ui.export_buttons(f"kpi-scorecard-{as_at:%Y-%m}", exported, scope, formats=formats)

st.subheader("Monthly trends against target")
group = ui.url_choice(queries.KPI_GROUPINGS[group_by], list(groups), "group", key=f"kpi_trend_{group_by}")
if group:
    trends = queries.kpi_trends(scope, as_at, group_by, group)
    if trends["value"].notna().any():
        ui.chart(charts.kpi_trends(trends, f"{group}: monthly value against target, to {as_at:%B %Y}"))
    else:  # a chart of targets alone, on an axis around them, would look like data
        st.info(
            f"No data for {group}: the data behind its KPIs is not loaded, so there is no trend to draw.",
            icon=":material/info:",
        )

st.subheader(f"What changed in {as_at:%B %Y}")
st.caption("Generated from the scorecard, ready to paste into the monthly performance report.")
tables.copyable_text(monthly_summary(scorecard, as_at, scope.filters.councils_label), f"kpi-summary-{as_at:%Y-%m}.txt")
