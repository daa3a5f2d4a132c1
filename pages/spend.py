import streamlit as st

from starviz import charts, cube, export, fmt, queries, spend_view, tables, ui

scope = ui.scope()
st.title("Spend")
st.caption(scope.filters.label)
view = spend_view.cube_controls()
ui.notices()
spend_view.addressable_toggle(scope)
spend_view.picks_bar(view, queries.pick_names(scope, view.picks))
colours = queries.colours()
measure = cube.MEASURES[view.measure]

totals = queries.cube_totals(scope, view.criteria())
row = st.columns(4)
with row[0]:
    ui.metric("Addressable spend" if scope.filters.addressable_only else "Spend", fmt.gbp(totals["spend_gbp"]))
with row[1]:
    ui.metric("Lines", f"{int(totals['count_lines']):,}")
with row[2]:
    ui.metric(
        "Suppliers", f"{int(totals['count_suppliers']):,}", help="Distinct identified suppliers; redacted payees are not counted."
    )
with row[3]:
    ui.metric("Average line value", cube.format_value("avg_line_gbp", totals["avg_line_gbp"]))

tab = ui.view_switch(["Explore", "Supplier profile", "Excluded spend"])

if tab == "Explore":
    left, right = st.columns([3, 2])
    with left:
        spend_view.selectable_chart(
            charts.category_supplier_treemap(
                queries.spend_by_category_supplier(scope, view.criteria(without=["supplier"])),
                cube.treemap_id,
                view.treemap_selection(),
            ),
            "treemap",
            cube.picks_from_treemap,
        )
    with right:
        spend_view.selectable_chart(
            charts.cube_trend(
                queries.spend_trend(scope, view.criteria(without=["month", "council"]), view.measure),
                colours,
                view.measure,
                measure.label,
                measure.unit,
                measure.additive,
                view.picked("month"),
                view.picked("council"),
            ),
            "trend",
            cube.picks_from_trend,
        )
    st.caption(
        "Click a category or a supplier, or a month’s bar, to filter the whole page by it; the buttons above remove a selection."
    )

    st.subheader(
        f"{measure.label} by {cube.DIMENSIONS[view.rows].label}"
        + ("" if view.columns == cube.NONE else f" and {cube.DIMENSIONS[view.columns].label}")
    )
    pivot = queries.spend_pivot(scope, view)
    for note in pivot.notes:
        st.caption(note)
    cell = spend_view.pivot_table(pivot)
    ui.export_buttons("spend-pivot", pivot.table, scope, formats=export.unit_formats(pivot.table.columns[1:], measure.unit))

    st.subheader("Lines behind a cell or a selection")
    if cell is None and not view.picks:
        st.info(
            "Click a cell of the table above (or a box or bar of the charts) to see the invoice lines behind it.",
            icon=":material/touch_app:",
        )
    else:
        spend_view.drilldown(scope, cell if cell is not None else view.criteria(), view.criteria(), clicked=cell is not None)

if tab == "Supplier profile":
    supplier = spend_view.supplier_picker(scope, view)
    facts = queries.cube_supplier_profile(scope, supplier) if supplier else None
    if facts is None:
        st.info("No supplier found for the councils you can see.", icon=":material/search_off:")
    else:
        spend_view.supplier_facts(facts)
        ui.chart(
            charts.spend_by_council_month(
                queries.supplier_spend_by_council_month(scope, supplier),
                colours,
                title=f"Spend with {facts['supplier_name']} by council, every month loaded",
            )
        )
        left, right = st.columns(2)
        with left:
            ui.chart(charts.supplier_categories(queries.supplier_categories(scope, supplier)))
        with right:
            st.subheader("Name variants merged into this supplier")
            variants = queries.supplier_name_variants(scope, supplier)
            tables.table(variants, column_config=tables.COLUMNS)
            ui.export_buttons("supplier-name-variants", variants, scope)
        st.subheader("Contracts held, by council")
        contracts = queries.cube_supplier_contracts(scope, supplier)
        if contracts.empty:
            st.caption("No contract with this supplier in the registers of the councils you can see.")
        tables.table(contracts, column_config=tables.COLUMNS)
        ui.export_buttons("supplier-contracts", contracts, scope)

if tab == "Excluded spend":
    st.caption(
        "Spend left out of addressable spend under one rule set for every council, whatever the toggle "
        "above says, for the councils, period and selections in force."
    )
    gone = queries.excluded_spend(scope, view.criteria())
    ui.chart(charts.excluded_by_reason(gone, colours))
    tables.table(gone, column_config=tables.COLUMNS)
    ui.export_buttons("excluded-spend", gone, scope)
