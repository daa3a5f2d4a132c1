import streamlit as st

from starviz import benchmark, charts, config, escape, nodata, queries, spend_view, tables, ui

scope = ui.scope()
st.title("Benchmarking")
st.caption(
    f"{scope.filters.label}. The partners side by side: per resident, as shares, and ranked. "
    + (
        "Addressable spend leaves out levies, HMRC, pensions, redacted personal payments and payments to "
        "other authorities, by one rule set for every council."
        if scope.filters.addressable_only
        else "All spend: levies, HMRC, pensions and the rest are in, so shares are not of addressable spend."
    )
)
ui.notices()
spend_view.addressable_toggle(scope)
settings = config.settings()
colours = queries.colours()

# Coverage warnings stay above every view: whichever part is open, its figures are read with them.
coverage = queries.coverage_by_council(scope)
for warning in benchmark.coverage_warnings(coverage, settings.benchmark_coverage_tolerance):
    st.warning(warning, icon=":material/warning:")
if len(coverage) < 2:
    st.info("Benchmarking compares partners: choose two or more councils in the filters to rank them.", icon=":material/info:")
coverage_note = benchmark.coverage_line(coverage)
figures = queries.benchmark_by_council(scope)

# One part at a time (kept in the link), so opening the page draws only the ranking.
tab = ui.view_switch(["Each measure ranked", "Category mix", "All figures and coverage"])

if tab == "Each measure ranked":
    definitions = queries.benchmark_definitions()
    ranked = benchmark.rank(figures, definitions, settings.benchmark_top_suppliers)
    st.subheader("Each measure ranked")
    st.caption(
        "Best partner at the top of each panel, with every other partner's gap to it in £, percentage points "
        "or a count. Where neither direction is better (spend per resident, number of suppliers) the gap is "
        "to the highest."
    )
    ui.chart(charts.benchmark_ranked(ranked, colours))
    for note in benchmark.no_data_notes(ranked, queries.measure_coverage(scope)):
        st.caption(note)
    if like_lines := benchmark.line_floor_note(figures):
        st.caption(escape.md(like_lines))
    if left_out := nodata.share_left_out_by_council(figures, spend=scope.filters.spend_words):
        st.caption(left_out)
    st.caption(coverage_note)
    table = benchmark.ranking_table(ranked)
    tables.table(table, column_config=tables.COLUMNS | tables.RANKING_COLUMNS)
    ui.export_buttons("benchmark-ranking", nodata.fill(table, benchmark.NUMBER_COLUMNS), scope)

if tab == "Category mix":
    st.subheader("Category mix")
    mix = queries.category_mix_by_council(scope)
    ui.chart(charts.category_mix(mix))
    st.caption(
        coverage_note + " Credits are netted within their category; a category whose payments net to nothing or less "
        "for a council in the period is left out of that council's mix."
    )
    ui.export_buttons("benchmark-category-mix", mix, scope)

if tab == "All figures and coverage":
    st.subheader("Data coverage")
    tables.table(coverage, column_config=tables.COLUMNS | tables.COVERAGE_COLUMNS)
    ui.export_buttons("benchmark-coverage", coverage, scope)
    st.subheader("All figures")
    st.caption(
        "Per-resident figures divide by each council's population (Census 2021) from its configuration. Shares "
        "count unknown flags as not local, not SME, not VCSE; the “known” columns say how much of the spend has "
        "the flag recorded, and a council with the flag recorded for none of its spend has no data."
    )
    if like_lines := benchmark.line_floor_note(figures):
        st.caption(escape.md(like_lines))
    tables.table(figures, column_config=tables.COLUMNS | tables.BENCHMARK_COLUMNS)
    ui.export_buttons("benchmark-figures", nodata.fill(figures, [c for c in figures.columns if c.endswith("_share")]), scope)
    with st.expander("How each measure is defined"):
        defined = benchmark.definitions_table(queries.benchmark_definitions(), settings.benchmark_top_suppliers)
        tables.table(defined)
        ui.export_buttons("benchmark-definitions", defined, scope)
