import streamlit as st

from starviz import charts, escape, nodata, queries, tables, ui

scope = ui.scope()
st.title("Procurement maturity")
st.caption(scope.filters.label)
ui.notices()
st.caption(
    "Each council's self-assessment against the LGA National Procurement Strategy 2018: current and "
    "target maturity in each key area and enabler, from Minimum to Innovator. Shown: the latest "
    f"assessment up to the end of {scope.filters.period_label}."
)

councils = queries.maturity_councils(scope)
levels = queries.maturity_levels()
# a council with no assessment loaded is not in the picker: say so, rather than let it look left out
if not_assessed := nodata.covered(queries.measure_coverage(scope), "maturity").note("Maturity"):
    st.caption(escape.md(not_assessed))
if councils.empty:
    st.info(
        f"No maturity assessment recorded up to the end of {scope.filters.period_label} for the councils selected.",
        icon=":material/info:",
    )
else:
    names = dict(zip(councils["council_id"], councils["short_name"], strict=True))
    council = ui.url_choice("Council", list(names), "council", key="maturity_council", format_func=names.get)
    one = queries.maturity_assessments(scope, council)
    colour = dict(zip(councils["council_id"], councils["colour"], strict=True))[council]
    ui.chart(
        charts.maturity_radar(
            one,
            levels,
            colour,
            f"{names[council]}: current maturity against target (assessed {one['assessed_date'].iloc[0]:%d %B %Y})",
        )
    )
    st.subheader(f"{names[council]}: gaps to target")
    gaps = queries.maturity_assessments(scope, council, gaps_only=True)
    tables.table(
        gaps,
        column_order=["area", "theme", "current_level_name", "target_level_name", "gap_levels", "target_date", "notes"],
        column_config={
            "area": "Key area or enabler",
            "theme": "Theme",
            "current_level_name": "Current",
            "target_level_name": "Target",
            "gap_levels": st.column_config.NumberColumn("Gap (levels)", format="%d"),
            "target_date": st.column_config.DateColumn("Target by", format="MMM YYYY"),
            "notes": "Evidence or comment",
        },
    )
    ui.export_buttons(f"maturity-gaps-{council}", gaps, scope)
    if len(names) > 1:
        all_councils = queries.maturity_assessments(scope)
        ui.chart(
            charts.maturity_heatmap(
                all_councils, levels, "Current maturity by council (↑ levels still to reach the target, ✓ target reached)"
            )
        )
        ui.export_buttons("maturity-assessments", all_councils, scope)

with st.expander("The five levels of maturity"):
    tables.table(levels, column_config={"level": "Level", "level_name": "Name", "description": "What it looks like"})
problems = queries.maturity_problems(scope)
if not problems.empty:
    with st.expander(f"{len(problems):,} assessment rows could not be read", icon=":material/warning:"):
        tables.table(problems)
        ui.export_buttons("maturity-problems", problems, scope)
