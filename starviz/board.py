"""The Board sequence: the slides shown in presentation mode and put in the Board pack.

Each slide is a function of the scope returning its title, figure and the data behind it; the
order of the sequence is configuration (`board_sequence` in data/settings.toml).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
import plotly.graph_objects as go

from starviz import charts, config, export, queries

BOARD_ROWS = 15  # rows a slide can label legibly on a projector; longer lists show their largest


@dataclass(frozen=True)
class Slide:
    key: str
    title: str
    figure: go.Figure
    data: pd.DataFrame


def _spend(scope: queries.Scope) -> Slide:
    df = queries.spend_by_council_month(scope)
    fig = charts.spend_by_council_month(df, queries.colours(), title="Spend by council by month")
    return Slide("spend", "Spend by council by month", fig, df)


def _scorecard(scope: queries.Scope) -> Slide:
    from starviz import narrative

    as_at = queries.kpi_as_at(scope)
    table = (
        narrative.scorecard_table(queries.kpi_scorecard(scope, as_at), "perspective", trend=False)
        if as_at
        else pd.DataFrame(columns=["Group", "KPI", "Value", "Target", "Status"])
    )
    title = f"Balanced scorecard, {as_at:%B %Y}" if as_at else "Balanced scorecard"
    return Slide("scorecard", title, charts.scorecard_table(table, title), table)


def _social_value(scope: queries.Scope) -> Slide:
    df = queries.social_value_breakdown(scope, "council")
    target = queries.social_value_target(queries.period_fy(scope))
    title = "Social value committed and delivered against the target"
    return Slide("social_value", title, charts.social_value_vs_target(df, target, title), df)


def _pipeline(scope: queries.Scope) -> Slide:
    import datetime as dt

    top_n = min(config.settings().pipeline.gantt_top_n, BOARD_ROWS)
    df = queries.pipeline_contracts(scope)
    title = f"Contract pipeline: the {min(top_n, len(df))} largest contracts by end date"
    fig = charts.contract_timeline(df, dt.date.today(), queries.bucket_labels(), top_n, title=title)
    return Slide("pipeline", title, fig, df)


def _collaboration(scope: queries.Scope) -> Slide:
    from starviz.lists import council_columns

    df = queries.common_suppliers(scope)
    title = "Collaborative opportunities: suppliers several councils pay"
    fig = charts.stacked_by_council(df, "supplier_name", council_columns(df), queries.colours(), title)
    return Slide("collaboration", title, fig, df)


SLIDES: dict[str, Callable[[queries.Scope], Slide]] = {
    "scorecard": _scorecard,
    "spend": _spend,
    "pipeline": _pipeline,
    "social_value": _social_value,
    "collaboration": _collaboration,
}


def sequence() -> list[str]:
    keys = [k for k in config.settings().board_sequence if k in SLIDES]
    return keys or list(SLIDES)


def slide(scope: queries.Scope, index: int) -> Slide:
    keys = sequence()
    return SLIDES[keys[index % len(keys)]](scope)


def pack_pdf(scope: queries.Scope) -> bytes:
    """Every slide of the sequence as one PDF page each, at Board-slide size."""
    from PIL import Image

    preset = config.settings().export_presets["board"]
    source = export.source_line(queries.as_at_date())
    pages = []
    for i in range(len(sequence())):
        s = slide(scope, i)
        art = export.branded(
            s.figure, title=s.title, subtitle=scope.filters.label, source=source, width=preset.width, height=preset.height
        )
        png = export.image(art, "png", preset.width, preset.height)
        pages.append(Image.open(io.BytesIO(png)).convert("RGB"))
    buffer = io.BytesIO()
    pages[0].save(buffer, format="PDF", save_all=True, append_images=pages[1:], resolution=144)
    return buffer.getvalue()


def pack_xlsx(scope: queries.Scope) -> bytes:
    """The data behind every slide, one sheet each, with the notes sheet."""
    frames = {}
    for i in range(len(sequence())):
        s = slide(scope, i)
        frames[s.title] = s.data
    return export.to_xlsx_sheets(frames, "Board pack", {"Filters": scope.filters.label})
