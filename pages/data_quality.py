import streamlit as st

from starviz import charts, config, escape, fmt, import_store, matching, nodata, queries, tables, ui
from starviz.models import DATASETS

scope = ui.scope()
st.title("Data quality")
st.caption(scope.filters.label + " · what is loaded, what is missing, what was rejected and why")
ui.notices()
tab = ui.view_switch(["Coverage and freshness", "Rejected rows", "Classification and exclusions", "Supplier matching"])

if tab == "Coverage and freshness":
    datasets = queries.coverage_datasets()
    dataset = ui.url_choice(
        "Dataset", list(datasets), "dataset", key="dq_dataset", default="spend", format_func=lambda d: DATASETS[d].title
    )
    grid = queries.coverage(scope, dataset)
    ui.chart(charts.coverage_heatmap(grid, title=f"{DATASETS[dataset].title}: rows loaded per council per month"))
    if grid["is_partial"].any():
        # the overview's definition and words (mart_coverage_by_council_month, the Data loaded table)
        st.caption(
            ":material/warning: Partial: "
            + " · ".join(f"{escape.md(r.council)}, {r.note}" for r in grid[grid["is_partial"]].itertuples())
            + f". A council's latest month of spend is partial when its last payment falls more than "
            f"{config.settings().quality_partial_month_days} days before the month ends (a file cut mid-month); "
            "the overview shows it but leaves it out of its changes."
        )
    if dataset == "spend" and len(published := queries.spend_publication(scope)):
        # councils publish different lines: a count of lines or suppliers is not like with like across them
        st.caption("Published: " + " · ".join(f"{escape.md(r.council)} {r.publishes}" for r in published.itertuples()) + ".")
    ui.export_buttons(f"coverage-{dataset}", grid, scope)
    if not datasets.get(dataset, False):
        st.caption("This dataset is not published monthly (data/reference/dataset_cadence.csv), so gaps are not flagged.")
    st.subheader("Missing months")
    missing = queries.missing_months(scope)
    if missing.empty:
        st.success(
            "No missing months: every council shown has sent every monthly dataset for the period.", icon=":material/check:"
        )
    else:
        tables.table(
            missing,
            column_config=tables.QUALITY_COLUMNS
            | {"count_missing": st.column_config.NumberColumn("Months missing", format="%,d"), "months": "Months"},
        )
        ui.export_buttons("missing-months", missing, scope)
    st.subheader("Freshness: latest file per council and dataset")
    fresh = queries.freshness(scope)
    tables.table(
        fresh,
        column_order=[
            "council",
            "dataset",
            "data_up_to",
            "age",
            "is_stale",
            "latest_file",
            "received_at",
            "count_files",
            "rows_loaded",
            "count_failed",
        ],
        column_config=tables.QUALITY_COLUMNS
        | {
            "latest_file": st.column_config.TextColumn("Latest file", width=280),
            "data_up_to": st.column_config.TextColumn("Data up to", help="A council publishing months gives a month"),
            "age": st.column_config.TextColumn(
                "Age", help=f"From the end of the last month sent, for monthly data; in months past {fmt.AGE_IN_DAYS_UNDER} days"
            ),
            "is_stale": st.column_config.CheckboxColumn("Stale", help="Older than the number of days in data/settings.toml"),
            "received_at": st.column_config.DatetimeColumn("File arrived", format="D MMM YYYY HH:mm"),
        },
    )
    ui.export_buttons("freshness", fresh, scope)
    st.subheader("Contracts: register and Find a Tender notices")
    sources = queries.contract_sources(scope)
    if sources.empty:
        st.info(
            "No contracts loaded for the councils shown: no contracts register and no Find a Tender notices yet.",
            icon=":material/info:",
        )
    else:
        tables.table(
            sources,
            column_order=["council", "count_register_only", "count_notices_only", "count_both", "register_in_notices_share"],
            column_config=tables.QUALITY_COLUMNS
            | {
                "count_register_only": st.column_config.NumberColumn("Only in the register", format="%d"),
                "count_notices_only": st.column_config.NumberColumn("Only in notices", format="%d"),
                "count_both": st.column_config.NumberColumn("In both", format="%d"),
                "register_in_notices_share": st.column_config.ProgressColumn("Register contracts in notices", format="percent"),
            },
        )
        st.caption(
            "A contract in both is matched by its OCID, else its reference, else the same supplier (Companies House "
            "number or name) with its value and dates close. Contracts only in notices count as the council's contracts."
        )
        ui.export_buttons("contract-sources", sources, scope)

if tab == "Rejected rows":
    failed = queries.failed_files(scope)
    if not failed.empty:
        st.error(f"{fmt.count(len(failed), 'file')} could not be read at all; nothing from them is in the data.")
        tables.table(failed, column_config=tables.QUALITY_COLUMNS)
        ui.export_buttons("unreadable-files", failed, scope)
    duplicates = queries.duplicate_lines(scope)
    if not duplicates.empty and scope.user.can("line_detail"):
        st.warning(
            f"{fmt.count(len(duplicates), 'spend line')} {'appears' if len(duplicates) == 1 else 'appear'} in more than one file "
            "(same council, transaction number, "
            "date and amount): likely counted twice. Replace the older file on the Import page."
        )
        tables.table(duplicates, column_config=tables.QUALITY_COLUMNS)
        ui.export_buttons("duplicate-lines", duplicates, scope)
    st.subheader("Problems by reason")
    st.caption(
        "**rejected**: the row is not in the data · **warning**: loaded with that field left empty · "
        "**skipped**: a blank or total row, correctly left out"
    )
    reasons = queries.rejects_by_reason(scope)
    if reasons.empty:
        st.success("No problems: every row of the files loaded for the councils shown was read.", icon=":material/check:")
    else:
        tables.table(reasons, column_config=tables.QUALITY_COLUMNS)
        ui.export_buttons("problems-by-reason", reasons, scope)
    st.subheader("Problem rows")
    if scope.user.can("line_detail"):
        shown = ui.url_value(
            st.multiselect,
            "Severity",
            "severity",
            key="dq_sev",
            default=["rejected", "warning"],
            many=True,
            options=["rejected", "warning", "skipped"],
        )
        rows = queries.rejected_rows(scope, shown)
        total = queries.count_rejected_rows(scope, shown)
        st.caption(
            f"{fmt.count(total, 'problem')}; file, row (as numbered in a spreadsheet), column, value and reason."
            + (f" The first {len(rows):,} are listed and downloadable." if total > len(rows) else "")
        )
        tables.table(rows, column_config=tables.QUALITY_COLUMNS)
        ui.export_buttons("problem-rows", rows, scope)
    else:
        st.info("Your role sees problems counted by reason, not the rows themselves.", icon=":material/lock:")

if tab == "Classification and exclusions":
    unclassified = queries.unclassified_by_council(scope)
    ui.chart(charts.unclassified_by_council(unclassified))
    st.caption(
        ("Of addressable spend" if scope.filters.addressable_only else "Of all spend") + " in the period. "
        "A line without a ProClass category of its own takes the one most of its supplier's categorised lines "
        "carry (any council), else the one its council's department and expense type map to "
        "(data/reference/expense_type_categories.csv); the rest has no category. The rest of the spend "
        "carries the council's own ProClass code. Amounts are net spend. " + nodata.SHARE_RULE
    )
    if left_out := nodata.share_left_out_by_council(unclassified, spend=scope.filters.spend_words):
        st.caption(left_out)
    ui.export_buttons("unclassified-spend", unclassified, scope)
    exclusions = queries.exclusions_by_reason(scope)
    ui.chart(charts.exclusions_by_council(exclusions))
    st.caption(
        "The same exclusion rules for every council (data/reference/exclusions.csv), whatever the filter says. "
        "Amounts are net spend; a share of all spend follows the same rule as the shares above."
    )
    if left_out := nodata.share_left_out_by_council(exclusions.drop_duplicates("council"), spend="all spend"):
        st.caption(left_out)
    ui.export_buttons("excluded-spend", exclusions, scope)

if tab == "Supplier matching":
    st.caption(
        "Names that look alike, or share a VAT number but not a name, are not merged: they are suggestions, "
        "never applied silently (one VAT group registration can cover different companies). "
        "An accepted pair is added to data/reference/supplier_aliases.csv and applied at the next build; a "
        "rejected pair is remembered and not proposed again."
    )
    candidates = matching.candidates(scope)
    text, gbp = st.column_config.TextColumn, {"format": "£%,.0f", "width": 90}
    tables.table(
        candidates,
        column_order=[
            "pair",
            "score",
            "evidence",
            "supplier_name_a",
            "councils_a",
            "spend_gbp_a",
            "supplier_name_b",
            "councils_b",
            "spend_gbp_b",
        ],
        column_config={
            "pair": text("Pair", width=50),
            "score": st.column_config.ProgressColumn("Score", min_value=0, max_value=1, format="%.2f", width=100),
            "evidence": text("Evidence", width=150),
            "supplier_name_a": text("Supplier (kept)", width=240),
            "councils_a": text("Councils", width=130),
            "spend_gbp_a": st.column_config.NumberColumn("Spend", **gbp),
            "councils_b": text("Councils ", width=130),
            "supplier_name_b": text("Looks like", width=240),
            "spend_gbp_b": st.column_config.NumberColumn("Spend ", **gbp),
        },
    )
    ui.export_buttons("supplier-match-candidates", candidates, scope)
    if scope.user.can("supplier_review"):
        picked = st.multiselect(
            "Pairs to decide", candidates["pair"], key="dq_pairs", format_func=lambda p: matching.pair_label(candidates, p)
        )
        same, different, rebuild = st.columns([1, 1, 1])
        if same.button("Same supplier: merge", icon=":material/merge:", disabled=not picked, width="stretch"):
            merged = matching.decide(candidates, picked, matching.SAME, scope.user)
            st.toast(f"{fmt.count(merged, 'pair')} will merge at the next build.")
            st.rerun()
        if different.button("Different suppliers", icon=":material/call_split:", disabled=not picked, width="stretch"):
            parted = matching.decide(candidates, picked, matching.DIFFERENT, scope.user)
            st.toast(f"{fmt.count(parted, 'pair')} will not be proposed again.")
            st.rerun()
        if waiting := matching.waiting_for_build(scope):
            st.info(
                f"{fmt.count(waiting, 'decision')} {'waits' if waiting == 1 else 'wait'} for the next build.",
                icon=":material/pending:",
            )
        if rebuild.button(
            "Rebuild now",
            icon=":material/autorenew:",
            disabled=import_store.build_status() is not None,
            width="stretch",
            help="Applies the decisions; one build at a time.",
        ):
            bar = st.progress(0.0, text="Starting")
            st.session_state["dq_rebuilt"] = import_store.rebuild(
                scope, progress=lambda f, m: bar.progress(min(max(f, 0.0), 1.0), text=m)
            )
            st.rerun()
        if (outcome := st.session_state.pop("dq_rebuilt", None)) is not None:
            (st.success if outcome.status == "done" else st.warning)(outcome.message)
    else:
        st.info("Shown read-only: an admin accepts or rejects each pair.", icon=":material/visibility:")
