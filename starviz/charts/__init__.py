"""DataFrame -> Plotly figure, one function per chart, all on one STAR template (no SQL here).

Cut along the pages: ``style`` (palette, template, label helpers), ``spend`` (overview, spend cube,
benchmarking), ``performance`` (social value, KPIs, maturity, the scorecard), ``pipeline``
(collaboration, contract pipeline), ``quality`` (data quality). Pages call ``charts.<chart>(...)``:
every chart is re-exported here, as the page reads.
"""

from starviz.charts.performance import (
    kpi_trends,
    maturity_heatmap,
    maturity_radar,
    scorecard_table,
    social_value_by_quarter,
    social_value_vs_target,
)
from starviz.charts.pipeline import contract_timeline, stacked_by_council, workload_heatmap
from starviz.charts.quality import coverage_heatmap, exclusions_by_council, unclassified_by_council
from starviz.charts.spend import (
    benchmark_ranked,
    category_mix,
    category_supplier_treemap,
    cube_trend,
    excluded_by_reason,
    spend_by_council_month,
    supplier_categories,
)
from starviz.charts.style import FILLS, PALETTE, for_screen, nothing_to_show

__all__ = [
    "FILLS",
    "PALETTE",
    "benchmark_ranked",
    "category_mix",
    "category_supplier_treemap",
    "contract_timeline",
    "coverage_heatmap",
    "cube_trend",
    "excluded_by_reason",
    "exclusions_by_council",
    "for_screen",
    "kpi_trends",
    "maturity_heatmap",
    "maturity_radar",
    "nothing_to_show",
    "scorecard_table",
    "social_value_by_quarter",
    "social_value_vs_target",
    "spend_by_council_month",
    "stacked_by_council",
    "supplier_categories",
    "unclassified_by_council",
    "workload_heatmap",
]
