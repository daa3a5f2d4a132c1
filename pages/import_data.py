import streamlit as st

from starviz import config, escape, fmt, import_store, imports, tables, ui

scope = ui.require("import")
st.title("Import")
st.caption(
    "Load a partner's new extracts: check them here exactly as the build will read them, then store "
    "and rebuild. " + imports.limits_text()
)
ui.notices()
N, D = st.column_config.NumberColumn, st.column_config.DateColumn
COLUMNS = {
    "council": "Council",
    "dataset": "Dataset",
    "month": D("Month", format="MMM YYYY"),
    "file": "File",
    "rows_before": N("Rows before", format="%,d"),
    "rows_after": N("Rows after", format="%,d"),
    "rows_added": N("Rows added", format="%+,d"),
    "rows_read": N("Rows read", format="%,d"),
    "rows_loaded": N("Rows loaded", format="%,d"),
    "rows_rejected": N("Left out", format="%,d"),
    "source_file": "File",
    "status": "Status",
    "message": "Message",
    "first_date": D("From", format="D MMM YYYY"),
    "months": "Months in common",
    "amount_gbp": N("Amount", format="£%,.2f"),
    "count_other_lines": N("Lines in other months", format="%,d"),
    "count_other_months": N("Other months", format="%,d"),
    "last_date": D("To", format="D MMM YYYY"),
    "supplier_name": "Supplier",
    "councils": "Councils",
    "contract_id": "Contract",
    "contract_title": "Title",
    "value_gbp": N("Value", format="£%,.0f"),
    "start_date": D("Starts", format="D MMM YYYY"),
    "end_date": D("Ends", format="D MMM YYYY"),
    "row": N("Row", format="%d"),
    "column": "Column",
    "value": "Value",
    "reason": "Reason",
    "severity": "Severity",
    "field": "Field",
    "required": "Required",
    "column in the file": "Column in the file",
    "meaning": "Meaning",
}

if (status := import_store.build_status()) is not None:
    st.info(import_store.status_text(status), icon=":material/hourglass_top:")
    st.button("Check again", icon=":material/refresh:")
    st.stop()

if (outcome := st.session_state.pop("import_outcome", None)) is not None:
    {"done": st.success, "busy": st.info, "failed": st.error}.get(outcome.status, st.warning)(escape.md(outcome.message))
    for warning in outcome.warnings:
        st.warning(escape.md(warning))
    if (changes := outcome.changes) is not None:
        st.subheader("What changed")
        st.markdown(f"**Rows per council, dataset and month** ({changes.rows_added:+,} in all)")
        tables.table(changes.rows, column_config=COLUMNS)
        ui.export_buttons("import-rows-by-month", changes.rows, scope)
        st.markdown(f"**New suppliers** ({len(changes.new_suppliers):,}; {len(changes.merged_suppliers):,} merged into others)")
        tables.table(changes.new_suppliers, column_config=COLUMNS, column_order=["supplier_name", "councils"])
        ui.export_buttons("import-new-suppliers", changes.new_suppliers, scope)
        st.markdown(f"**New contracts** ({len(changes.new_contracts):,})")
        tables.table(changes.new_contracts, column_config=COLUMNS)
        ui.export_buttons("import-new-contracts", changes.new_contracts, scope)
        st.markdown("**How each stored file loaded**")
        tables.table(changes.files, column_config=COLUMNS)

round_ = st.session_state.setdefault("import_round", 0)  # a new round empties the uploader after a commit
uploads = st.file_uploader(
    "Extracts",
    type=imports.allowed_types(),
    accept_multiple_files=True,
    max_upload_size=config.settings().import_max_upload_mb,
    key=f"import_files_{round_}",
    help="One or more files; each is checked on its own before anything is stored.",
)
names, choices = imports.council_names(), imports.choices(user=scope.user)
previews = []
for n, staged in enumerate(imports.stage_all([(u.name, u.getvalue()) for u in uploads or []])):
    with st.container(border=True):
        st.subheader(staged.name or "Refused upload")
        if staged.refusal:
            st.error(escape.md(staged.refusal), icon=":material/block:")
            continue
        detection = imports.detect(staged)
        (st.success if detection.best else st.warning)(detection.text)
        best = detection.best
        left, right = st.columns(2)
        council = left.selectbox(
            "Council",
            list(choices),
            format_func=names.get,
            key=f"council_{round_}_{n}",
            index=list(choices).index(best.council_id) if best else None,
            placeholder="Choose",
        )
        datasets = choices.get(council, [])
        dataset = right.selectbox(
            "Dataset",
            datasets,
            key=f"dataset_{round_}_{n}_{council}",
            placeholder="Choose",
            index=datasets.index(best.dataset) if best and best.dataset in datasets else None,
        )
        if council is None or dataset is None:
            continue
        preview = imports.preview(staged, council, dataset, scope)
        previews.append(preview)
        if preview.refusal:
            st.error(escape.md(preview.refusal), icon=":material/block:")
        if (summary := preview.summary) is None or summary.status == "failed":
            continue
        cells = st.columns(4)
        cells[0].metric("Rows read", f"{summary.rows_read:,}")
        cells[1].metric("Will load", f"{summary.rows_loaded:,}")
        cells[2].metric("Left out", f"{summary.rows_rejected:,}", help="Rejected rows, and blank or total rows skipped")
        cells[3].metric(
            "Amount total",
            fmt.gbp(summary.amount_total and float(summary.amount_total)),
            help=fmt.gbp(summary.amount_total and float(summary.amount_total), pence=True),
        )
        st.caption(escape.md(" ".join([imports.dates_text(summary), *(f"{note}." for note in summary.notes)])))
        problems, columns, rows = st.tabs(
            [f"Row problems ({preview.count_problems:,})", "Columns found", "First rows as the build will load them"]
        )
        with problems:
            tables.table(preview.problems, column_config=COLUMNS)
            st.caption("File, row as numbered in a spreadsheet, column, value and reason.")
            ui.export_buttons(f"problems-{staged.name}", preview.problems, scope)
        with columns:
            tables.table(preview.mapping, column_config=COLUMNS)
            st.caption("Not read (no canonical field uses them): " + (escape.md(", ".join(preview.unused_headers)) or "none"))
        with rows:
            tables.table(preview.rows)
        if not preview.overlaps.empty:
            st.warning("Files already loaded hold lines in the same months (these would be counted twice if added):")
            tables.table(preview.overlaps, column_config=COLUMNS)

overlapping = any(not p.overlaps.empty for p in previews)
replace = None
if overlapping:
    st.info(imports.overlap_text(previews))
    replace = st.radio(
        "Months already loaded",
        ["replace", "add"],
        index=0,
        key=f"replace_{round_}",
        format_func={
            "add": "Add these rows to what is loaded (a supplementary file)",
            "replace": "Replace the files listed (they are moved aside, not deleted)",
        }.get,
    )
ready = bool(previews) and all(p.can_commit for p in previews) and (replace is not None or not overlapping)
if uploads:
    if st.button("Store and rebuild", type="primary", icon=":material/upload:", disabled=not ready):
        bar = st.progress(0.0, text="Starting")
        result = import_store.commit(
            previews, scope, progress=lambda f, m: bar.progress(min(max(f, 0.0), 1.0), text=m), replace=replace == "replace"
        )
        st.session_state["import_outcome"] = result
        st.session_state["import_round"] = round_ + (result.status == "done")
        st.rerun()
    if not ready:
        st.caption(
            "Store and rebuild is available when every file above has a council and dataset, can be loaded, "
            "and (where dates are already loaded) you have chosen to add or replace."
        )

with st.expander("Import history"):
    history = import_store.import_log(user=scope.user)
    tables.table(history, column_config=COLUMNS)
    ui.export_buttons("import-history", history, scope)
