"""The app's only path to DuckDB: one function per question, parameters only, cut along the
pages (one module per page area) over ``db`` (the file, the cached execution path, the trace hook).

Every function that returns council data takes a ``Scope`` and restricts rows to the councils the
*user* may see, whatever the filters or the URL ask for: row-level security lives here. Pages call
``queries.<question>(...)``; every public question of the modules is re-exported here
(tests/test_council_scope.py checks that none is missing).
"""

from starviz.queries.benchmarking import benchmark_by_council, benchmark_definitions, category_mix_by_council, coverage_by_council
from starviz.queries.collaboration import (
    aligned_contracts,
    common_categories,
    common_suppliers,
    expiry_alignment,
    partner_contract_leakage,
)
from starviz.queries.common import ListFilter
from starviz.queries.db import DatabaseUnavailable, cache_answers, db_path
from starviz.queries.detail import (
    category_suppliers,
    contract_profile,
    contract_spend_by_month,
    pipeline_notice_years,
    supplier_contracts,
    supplier_payments,
    supplier_profile,
    supplier_spend_by_council,
    supplier_spend_by_month,
)
from starviz.queries.kpis import KPI_GROUPINGS, kpi_as_at, kpi_groups, kpi_scorecard, kpi_trends
from starviz.queries.maturity import maturity_assessments, maturity_councils, maturity_levels, maturity_problems
from starviz.queries.overview import (
    Comparison,
    CouncilLoaded,
    compared_measures,
    comparison_windows,
    expiring_contracts,
    like_for_like,
    overview_measures,
    period_fy,
    social_value_target,
    spend_by_council_month,
    spend_months_loaded,
)
from starviz.queries.pipeline import (
    act_compliance,
    act_notice_duties,
    annual_spend_by_council,
    bucket_labels,
    contracts_missing_fields,
    contracts_without_spend,
    expired_contract_spend,
    off_contract_suppliers,
    pipeline_contracts,
    pipeline_summary,
    procurement_act_pipeline,
    split_order_lines,
    split_orders,
    workload_by_manager_quarter,
    workload_quarter_labels,
)
from starviz.queries.quality import (
    contract_sources,
    count_rejected_rows,
    coverage,
    coverage_datasets,
    duplicate_lines,
    exclusions_by_reason,
    failed_files,
    freshness,
    import_snapshot,
    ledger_file_with_hash,
    loaded_files,
    missing_months,
    overlapping_files,
    rejected_rows,
    rejects_by_reason,
    supplier_match_candidates,
    unclassified_by_council,
)
from starviz.queries.reference import (
    as_at_date,
    build_info,
    category_names,
    colours,
    council_names,
    councils,
    data_status,
    measure_coverage,
    months_loaded,
    spend_covered_in_period,
    spend_publication,
)
from starviz.queries.social_value import (
    SV_BREAKDOWNS,
    social_value_breakdown,
    social_value_by_quarter,
    social_value_contracts,
    social_value_rules,
    social_value_summary,
)
from starviz.queries.spend import (
    LINE_SORTS,
    cube_totals,
    drill_by_supplier,
    drill_lines,
    drill_lines_batches,
    drill_summary,
    excluded_spend,
    pick_names,
    spend_by_category_supplier,
    spend_pivot,
    spend_trend,
    whole_years,
)
from starviz.queries.suppliers import (
    cube_supplier_contracts,
    cube_supplier_profile,
    supplier_categories,
    supplier_name_variants,
    supplier_search,
    supplier_spend_by_council_month,
    top_supplier,
)
from starviz.scope import Scope, fy_bounds
