"""The spend page's view kept in the link: what it shows (rows, columns, measure, clicked
selections, the drilled cell, the supplier in the profile) in a ``cube.View``, in session state and
in the link beside the shared filters' own keys; its pickers, the charts that filter it, the pivot,
the drill-down and the supplier profile."""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from starviz import config, cube, escape, queries, tables, ui
from starviz.fmt import gbp

_VIEW = "starviz_spend_view"


def cube_view() -> cube.View:
    """The spend page's view: from the link on the first visit (bad values ignored with a notice),
    then from the session."""
    if _VIEW not in st.session_state:
        view, problems = cube.parse_view({k: st.query_params.get(k) for k in st.query_params if k in cube.PARAM_KEYS})
        st.session_state[_VIEW] = view
        st.session_state.setdefault("starviz_notices", []).extend(problems)
    return st.session_state[_VIEW]


def _keep_view(view: cube.View) -> None:
    st.session_state[_VIEW] = view
    params = view.to_params()
    for key in cube.PARAM_KEYS:
        if key in st.query_params and key not in params:
            del st.query_params[key]
    changed = {k: v for k, v in params.items() if st.query_params.get(k) != v}
    if changed:
        st.query_params.update(changed)


def cube_controls() -> cube.View:
    """Row, column and measure pickers; returns the view with the choices applied (and in the link)."""
    view = cube_view()
    dims = list(cube.DIMENSIONS)
    columns = [cube.NONE, *dims]
    st.session_state.setdefault("cube_rows", view.rows)
    st.session_state.setdefault("cube_measure", view.measure)
    st.session_state.setdefault("cube_cols", view.columns)
    left, middle, right = st.columns(3)
    rows = left.selectbox("Rows", dims, key="cube_rows", format_func=lambda d: cube.DIMENSIONS[d].label)
    if st.session_state["cube_cols"] == rows:
        st.session_state["cube_cols"] = cube.NONE
    cols = middle.selectbox(
        "Columns",
        [c for c in columns if c != rows],
        key="cube_cols",
        format_func=lambda d: "(none)" if d == cube.NONE else cube.DIMENSIONS[d].label,
    )
    measure = right.selectbox("Measure", list(cube.MEASURES), key="cube_measure", format_func=lambda m: cube.MEASURES[m].label)
    view = view.laid_out(rows, cols, measure)
    _keep_view(view)
    return view


def _apply_picks(picks: dict[str, str | None]) -> None:
    view = st.session_state[_VIEW]
    for dimension, key in picks.items():
        view = view.unpick(dimension) if key is None else view.pick(dimension, key)
    if picks.get("supplier"):  # a supplier clicked anywhere opens in the profile too
        view = replace(view, supplier=picks["supplier"])
        st.session_state["supplier_pick"] = picks["supplier"]
    st.session_state[_VIEW] = view


def picks_bar(view: cube.View, names: dict[tuple[str, str], str]) -> None:
    """The selections made by clicking charts, each a button that removes it, and one to clear all."""
    if not view.picks:
        st.caption("Click a bar or a box in the charts to filter everything on this page by it.")
        return
    row = st.container(horizontal=True, gap="small", vertical_alignment="center")
    row.markdown("**Selected:**")
    for dimension, key in view.picks:
        label = cube.DIMENSIONS[dimension].label_of(key, names.get((dimension, key)))
        row.button(
            f"{cube.DIMENSIONS[dimension].label}: {escape.md(label)}",
            icon=":material/close:",
            key=f"unpick-{dimension}",
            on_click=_apply_picks,
            args=({dimension: None},),
            help="Remove this selection",
        )
    row.button("Clear all", key="unpick-all", type="tertiary", on_click=_apply_picks, args=({d: None for d, _ in view.picks},))


def selectable_chart(fig, key: str, to_picks) -> None:
    """A Plotly chart (STAR template) whose clicks filter the page: ``to_picks(points)`` turns the
    clicked points into selections (dimension -> key, None to clear) applied before the next run."""

    def on_select() -> None:
        _apply_picks(to_picks(st.session_state[key]["selection"]["points"]))

    st.plotly_chart(
        fig, theme=None, width="stretch", config={"displaylogo": False}, key=key, on_select=on_select, selection_mode="points"
    )
    ui.export_controls(fig, f"spend-{key}", ui.current_scope())  # a chart that filters the page exports too


def pivot_key(pivot: cube.Pivot) -> str:
    """The pivot table's widget key: a new table (other rows, columns, measure, selections or size)
    starts with no cell selected rather than with a cell of the old one."""
    import hashlib

    view = pivot.view
    text = repr((view.rows, view.columns, view.measure, view.picks, len(pivot.table), list(pivot.table.columns)))
    return "pivot-" + hashlib.sha1(text.encode()).hexdigest()[:12]


DRILLED = "outline: 3px solid #0072B2; outline-offset: -3px; background-color: #DCEAF5"  # the cell a link reopened


def _clicked_cells(key: str) -> list:
    """The cells selected in the table widget ``key`` (from the session, before it is drawn again)."""
    try:
        return list(st.session_state[key]["selection"]["cells"])
    except (KeyError, TypeError, AttributeError):
        return []


def pivot_table(pivot: cube.Pivot) -> tuple[cube.Criterion, ...] | None:
    """The pivot as a table whose cells can be clicked; returns the criteria of the cell drilled into:
    the one clicked, or, until a cell is clicked, the one the link names (``cell_row``/``cell_col``),
    outlined since the table cannot be given a selection. Clicking a cell puts it in the link;
    unselecting it takes it out."""
    key = pivot_key(pivot)
    view = st.session_state[_VIEW]
    clicked = f"{key}-clicked"  # a cell of this table was clicked in this session
    from_link = pivot.find_cell(view.cell) if view.cell and not st.session_state.get(clicked) else None
    if view.cell and from_link is None and not st.session_state.get(clicked):
        _keep_view(replace(view, cell=None))  # the link named a cell this table does not have
        st.caption("The table cell the link named is not in this table (other filters or data), so no lines are shown.")
        view = st.session_state[_VIEW]
    unit = cube.MEASURES[pivot.view.measure].unit
    number = st.column_config.NumberColumn(format="£%,.0f" if unit == "gbp" else "%,d")
    formats = {c: number for c in pivot.table.columns[1:]}
    last = len(pivot.table) - 1

    def style(row) -> list[str]:
        total = "font-weight: bold; background-color: #EEF2F5" if row.name == last else ""
        return [
            DRILLED if from_link and not _clicked_cells(key) and (row.name, column) == from_link else total
            for column in row.index
        ]

    event = tables.table(
        pivot.table.style.apply(style, axis=1),
        formats,
        key=key,
        on_select="rerun",
        selection_mode="single-cell",
        height="content",
    )
    cells = event.selection.cells if event else []
    if cells:
        row, column = cells[0]
        st.session_state[clicked] = True
        criteria = pivot.cell_criteria(row, column)
        cell = pivot.cell_params(row, column) if criteria else None
        if cell != view.cell:
            _keep_view(replace(view, cell=cell))
        return criteria
    if st.session_state.get(clicked):  # the clicked cell was unselected
        st.session_state[clicked] = False
        if view.cell:
            _keep_view(replace(view, cell=None))
        return None
    return pivot.cell_criteria(*from_link) if from_link else None


def addressable_toggle(scope: queries.Scope) -> None:
    """The shared "addressable spend only" filter, on the page: flipping it here flips the sidebar's."""

    def flip() -> None:
        value = st.session_state["page_addressable"]
        st.session_state[ui.FILTERS] = replace(st.session_state[ui.FILTERS], addressable_only=value)
        st.session_state["f_addr"] = value  # the sidebar's toggle (set before it is drawn again)

    st.session_state["page_addressable"] = scope.filters.addressable_only
    st.toggle(
        "Addressable spend only",
        key="page_addressable",
        on_change=flip,
        help="Leaves out levies, HMRC, pensions, redacted personal payments and payments to other "
        "authorities (see “Excluded spend”). The same switch as in the sidebar.",
    )


def drilldown(
    scope: queries.Scope,
    criteria: tuple[cube.Criterion, ...],
    selection: tuple[cube.Criterion, ...] = (),
    clicked: bool = True,
) -> None:
    """The lines behind a cell or a selection: how many and how much, then a page of lines (sortable,
    each with its source file and row), or, for a role without line-level access, totals per supplier
    with redacted payments as one total."""
    import hashlib

    from starviz import export

    picked = tuple((c.dimension, c.value) for c in (*criteria, *selection) if c.value is not None)
    names = {k: v for (_, k), v in queries.pick_names(scope, picked).items()}
    st.caption(escape.md(" · ".join(c.describe(names) for c in criteria)) or "Everything in the filters")
    lines = queries.drill_summary(scope, criteria)
    redacted = (
        f", of which {lines['count_redacted']:,} redacted payments ({gbp(lines['redacted_gbp'])})"
        if lines["count_redacted"]
        else ""
    )
    st.markdown(f"**{lines['count_lines']:,} lines, {gbp(lines['spend_gbp'])}**{redacted}")
    if scope.user.can("line_detail"):
        if lines["count_shown"] < lines["count_lines"]:
            st.caption("Redacted payments are counted in the totals above but not listed for your role.")
        key = "drill-" + hashlib.sha1(repr(criteria).encode()).hexdigest()[:10]  # a new cell starts at page 1
        sort, descending, page = line_pager(lines["count_shown"], key)
        shown = queries.drill_lines(scope, criteria, sort, descending, page)
        tables.table(shown, tables.COLUMNS)
        notes = export.drill_notes(
            scope.filters.label,
            [c.describe(names) for c in selection],
            [c.describe(names) for c in criteria] if clicked else None,
            f"{queries.LINE_SORTS[sort]}, {'descending' if descending else 'ascending'}",
            lines["count_shown"],
        )
        # Every line behind the cell, not the page shown: streamed from DuckDB batch by batch.
        ui.stream_buttons("spend-lines", lambda: queries.drill_lines_batches(scope, criteria, sort, descending), notes)
        if overflow := export.sheets_note(lines["count_shown"]):
            st.caption(f"Excel download: {overflow}")
    else:
        st.caption("Your role sees the lines behind a cell as totals per supplier, redacted payments as one total.")
        shown = queries.drill_by_supplier(scope, criteria)
        tables.table(shown, tables.COLUMNS)
        ui.export_buttons("spend-cell-by-supplier", shown, scope)


def line_pager(count: int, key: str) -> tuple[str, bool, int]:
    """Sort order, direction and page (0-based) for a paged table of ``count`` lines."""
    left, middle, right = st.columns([2, 2, 3], vertical_alignment="bottom")
    sort = left.selectbox("Sort lines by", list(queries.LINE_SORTS), format_func=queries.LINE_SORTS.get, key=f"{key}-sort")
    descending = middle.toggle("Descending (largest, latest or Z first)", value=True, key=f"{key}-desc")
    pages = max(1, -(-count // config.settings().drilldown_page_size))
    with right:
        page = st.pagination(pages, key=f"{key}-page", max_visible_pages=7) if pages > 1 else 1
    return sort, descending, page - 1


def supplier_picker(scope: queries.Scope, view: cube.View) -> str | None:
    """Search by any published spelling, then pick; the choice goes into the view (and the link)."""
    left, right = st.columns([1, 2])
    text = left.text_input("Find a supplier", key="supplier_search", placeholder="Part of any name it is published under")
    found = queries.supplier_search(scope, text, config.settings().supplier_search_results)
    options = found["supplier_id"].tolist()
    names = dict(zip(found["supplier_id"], found["supplier_name"], strict=True))
    if text != st.session_state.get("supplier_search_done"):  # a new search shows its best match
        st.session_state["supplier_search_done"] = text
        if text and options:
            st.session_state["supplier_pick"] = options[0]
    current = st.session_state.get("supplier_pick") or view.supplier or queries.top_supplier(scope, view.criteria())
    if current and current not in options and not text:
        options.insert(0, current)
        names |= {k: v for (_, k), v in queries.pick_names(scope, (("supplier", current),)).items()}
    if not options:
        right.selectbox("Supplier", ["No supplier matches"], disabled=True, key="supplier_none")
        return None
    if st.session_state.get("supplier_pick") not in options:
        st.session_state["supplier_pick"] = current if current in options else options[0]
    chosen = right.selectbox("Supplier", options, key="supplier_pick", format_func=lambda s: names.get(s, s))
    if chosen != view.supplier:
        _keep_view(replace(view, supplier=chosen))
    return chosen


def _flag(value: bool | None) -> str:
    return "Unknown" if value is None else ("Yes" if value else "No")


def supplier_facts(facts: dict) -> None:
    """The supplier's headline figures and flags (unknown shown as unknown)."""
    st.subheader(escape.md(facts["supplier_name"]))
    ids = [
        f"{label} {facts[key]}"
        for key, label in (
            ("company_number", "Company"),
            ("charity_number", "Charity"),
            ("vat_number", "VAT"),
            ("postcode_district", "Postcode district"),
        )
        if facts.get(key)
    ]
    st.caption(escape.md(" · ".join(ids)) or "No company, charity or VAT number on record.")
    if facts.get("exclusion_reasons"):
        st.warning(
            "Payments to this supplier are outside addressable spend: " + escape.md(", ".join(facts["exclusion_reasons"])) + ".",
            icon=":material/block:",
        )
    first, last = facts.get("first_month"), facts.get("last_month")
    row = st.columns(4)
    with row[0]:
        ui.metric(
            "Spend to date",
            gbp(facts["spend_gbp"]),
            help=f"All months loaded, {first:%b %Y} to {last:%b %Y}." if first is not None else None,
        )
    with row[1]:
        ui.metric("Lines", f"{int(facts['count_lines'] or 0):,}")
    with row[2]:
        ui.metric("Councils paying", f"{int(facts['count_councils'] or 0):,}")
    with row[3]:
        ui.metric(
            "Contracts held",
            f"{int(facts['count_contracts'] or 0):,}",
            help=f"{int(facts['count_live_contracts'] or 0):,} of them live today (extensions included). "
            "Contracts in the registers of the councils you can see, STAR collaborative ones included.",
        )
    row = st.columns(4)
    with row[0]:
        ui.metric("Local (GM)", _flag(facts["is_local"]), help="From the supplier's postcode in the contracts registers.")
    with row[1]:
        ui.metric("SME", _flag(facts["is_sme"]), help="As recorded in the contracts registers.")
    with row[2]:
        ui.metric("VCSE", _flag(facts["is_vcse"]), help="As recorded in the contracts registers.")
    with row[3]:
        ui.metric(
            "Name variants merged",
            f"{int(facts['count_name_variants'] or 0):,}",
            help="Spellings of the name, across the councils you can see, that resolve to this supplier.",
        )
