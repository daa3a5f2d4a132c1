"""Every chart the app draws, built from the database the way its page builds it: for the export
layout test (each at every preset) and for ``board-pack --charts-dir`` (the Board's)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import plotly.graph_objects as go

from starviz import board, charts, cube, narrative, queries


@dataclass(frozen=True)
class Chart:
    name: str
    title: str
    figure: go.Figure


def _title(fig: go.Figure, fallback: str) -> str:
    text = fig.layout.title.text if fig.layout.title and fig.layout.title.text else fallback
    return text.split("<br>")[0]


def board_charts(scope: queries.Scope) -> Iterator[Chart]:
    for i, key in enumerate(board.sequence()):
        s = board.slide(scope, i)
        yield Chart(f"board-{key}", s.title, s.figure)


def _page_charts(scope: queries.Scope) -> Iterator[tuple[str, Callable[[], go.Figure | None]]]:
    from starviz import benchmark, config, lists

    colours = queries.colours()
    yield "overview-spend", lambda: charts.spend_by_council_month(queries.spend_by_council_month(scope), colours)

    def ranked():
        figures = queries.benchmark_by_council(scope)
        ranked = benchmark.rank(figures, queries.benchmark_definitions(), config.settings().benchmark_top_suppliers)
        return charts.benchmark_ranked(ranked, colours)

    yield "benchmark-ranked", ranked
    yield "benchmark-category-mix", lambda: charts.category_mix(queries.category_mix_by_council(scope))

    def common(kind: str):
        df = queries.common_categories(scope) if kind == "category" else queries.common_suppliers(scope)
        label = "category" if kind == "category" else "supplier_name"
        title = "Common categories: spend by council" if kind == "category" else "Largest common suppliers: spend by council"
        return charts.stacked_by_council(df, label, lists.council_columns(df), colours, title)

    yield "collaboration-suppliers", lambda: common("supplier")
    yield "collaboration-categories", lambda: common("category")
    yield "data-quality-coverage", lambda: charts.coverage_heatmap(queries.coverage(scope, "spend"), "Spend: rows loaded")
    yield "data-quality-unclassified", lambda: charts.unclassified_by_council(queries.unclassified_by_council(scope))
    yield "data-quality-exclusions", lambda: charts.exclusions_by_council(queries.exclusions_by_reason(scope))

    def kpi():
        as_at = queries.kpi_as_at(scope)
        scorecard = queries.kpi_scorecard(scope, as_at)
        groups, _ = narrative.groups_with_kpis(queries.kpi_groups("perspective"), scorecard, "perspective")
        if not groups:  # no KPI loaded: the page draws no trend either
            return None
        group = groups[0]
        return charts.kpi_trends(
            queries.kpi_trends(scope, as_at, "perspective", group), f"{group}: monthly value against target, to {as_at:%B %Y}"
        )

    yield "kpi-trends", kpi

    def maturity(kind: str):
        councils = queries.maturity_councils(scope)
        levels = queries.maturity_levels()
        if kind == "heatmap":
            return charts.maturity_heatmap(queries.maturity_assessments(scope), levels, "Current maturity by council")
        if councils.empty:  # no maturity assessment loaded: no council to draw
            return None
        council = councils["council_id"].iloc[0]
        one = queries.maturity_assessments(scope, council)
        return charts.maturity_radar(one, levels, councils["colour"].iloc[0], f"{councils['short_name'].iloc[0]}: maturity")

    yield "maturity-radar", lambda: maturity("radar")
    yield "maturity-heatmap", lambda: maturity("heatmap")

    def timeline():
        contracts = queries.pipeline_contracts(scope)
        top_n = config.settings().pipeline.gantt_top_n
        return charts.contract_timeline(contracts, dt.date.today(), queries.bucket_labels(), top_n)

    yield "pipeline-timeline", timeline
    yield (
        "pipeline-workload",
        lambda: charts.workload_heatmap(
            queries.workload_by_manager_quarter(scope),
            queries.workload_quarter_labels(),
            "value_gbp",
            "Re-procurements to start by manager and quarter: value",
        ),
    )
    yield (
        "social-value-quarters",
        lambda: charts.social_value_by_quarter(
            queries.social_value_by_quarter(scope), "Social value by quarter, with the target"
        ),
    )
    view = cube.View()
    measure = cube.MEASURES[view.measure]
    yield "spend-treemap", lambda: charts.category_supplier_treemap(queries.spend_by_category_supplier(scope), cube.treemap_id)
    yield (
        "spend-trend",
        lambda: charts.cube_trend(
            queries.spend_trend(scope, (), view.measure), colours, view.measure, measure.label, measure.unit, measure.additive
        ),
    )
    yield "spend-excluded", lambda: charts.excluded_by_reason(queries.excluded_spend(scope), colours)


def every_chart(scope: queries.Scope) -> Iterator[Chart]:
    """The Board's charts, then every page's (those with data to draw: a build of real files may have
    no maturity assessment or KPI at all, and the page then draws no such chart either)."""
    yield from board_charts(scope)
    for name, build in _page_charts(scope):
        fig = build()
        if fig is not None:
            yield Chart(name, _title(fig, name), fig)
