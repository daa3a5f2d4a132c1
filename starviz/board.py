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

from starviz import charts, config, escape, export, nodata, queries

BOARD_ROWS = 15  # rows a slide can label legibly on a projector; longer lists show their largest


@dataclass(frozen=True)
class Slide:
    key: str
    title: str
    figure: go.Figure
    data: pd.DataFrame
    missing: str = ""  # with no data: what is missing, for whom and when (the slide, its image and sheet say it)
    sheet: pd.DataFrame | None = None  # the data for a spreadsheet when it differs (numbers, not the slide's text)
    formats: dict | None = None  # the sheet's number formats per column (a list: per row)


# The Board pack's sheet for each slide: a whole name (a title cut at Excel's 31 characters read
# "Contract pipeline the largest c"); the Notes give each sheet's slide title.
SHEET_NAMES = {
    "scorecard": "Scorecard",
    "spend": "Spend by month",
    "pipeline": "Contract pipeline",
    "social_value": "Social value",
    "collaboration": "Collaboration",
}


def _spend(scope: queries.Scope) -> Slide:
    df = queries.spend_by_council_month(scope)
    fig = charts.spend_by_council_month(df, queries.colours(), title="Spend by council by month")
    return Slide("spend", "Spend by council by month", fig, df)


def _scorecard(scope: queries.Scope) -> Slide:
    from starviz import narrative

    as_at = queries.kpi_as_at(scope)
    scorecard = queries.kpi_scorecard(scope, as_at) if as_at else None
    table = (
        narrative.scorecard_table(scorecard, "perspective", trend=False)
        if as_at
        else pd.DataFrame(columns=["Group", "KPI", "Value", "Target", "Status"])
    )
    title = f"Balanced scorecard, {as_at:%B %Y}" if as_at else "Balanced scorecard"
    # the sheet: values, targets and changes as numbers in each KPI's own format, as the KPI page's export
    sheet, formats = narrative.scorecard_export(scorecard, "perspective") if as_at and len(table) else (None, None)
    # every KPI: the slide sizes its type to the screen, and the pack's page has room for them
    return Slide("scorecard", title, charts.scorecard_table(table, title, rows=None), table, sheet=sheet, formats=formats)


def _social_value(scope: queries.Scope) -> Slide:
    df = queries.social_value_breakdown(scope, "council")
    target = queries.social_value_target(queries.period_fy(scope))
    title = "Social value committed and delivered against the target"
    fig = go.Figure(charts.social_value_vs_target(df, target, title))  # a copy: the chart is shared
    # a council of the scope with no contract starting in the period has no bars: said, not left out silently
    absent = [name for cid, name in queries.council_names().items() if cid in scope.council_ids and name not in set(df["name"])]
    if absent and len(df):
        fig.update_layout(meta={**(fig.layout.meta or {}), "shown": f"No contract starting in the period: {', '.join(absent)}"})
    return Slide("social_value", title, fig, df)


def _pipeline(scope: queries.Scope) -> Slide:
    import datetime as dt

    top_n = min(config.settings().pipeline.gantt_top_n, BOARD_ROWS)
    df = queries.pipeline_contracts(scope)
    title = "Contract pipeline: the largest contracts by value, by end date"  # how many: the chart's meta.shown
    fig = charts.contract_timeline(df, dt.date.today(), queries.bucket_labels(), top_n, title=title)
    return Slide("pipeline", title, fig, df)


def _collaboration(scope: queries.Scope) -> Slide:
    from starviz.lists import council_columns

    df = queries.common_suppliers(scope)
    title = "Collaborative opportunities: suppliers several councils pay"
    fig = charts.stacked_by_council(df, "supplier_name", council_columns(df), queries.colours(), title)
    return Slide("collaboration", title, fig, df)


# --- a slide with no data says what is missing, for whom and when -----------------------------------
# Never a blank chart, an empty table, or bare axes with a target line that read as 0%: the Board is
# told whether the data is not loaded for a council (the build's measure coverage) or loaded but holds
# nothing for the period.


def _none_loaded(scope: queries.Scope, measure: str, nothing: str) -> str:
    """'No KPI extract loaded for Rochdale.' when no council in scope has the dataset, else ``nothing``
    (what the loaded data holds none of), with any council lacking the dataset named."""
    cover = nodata.covered(queries.measure_coverage(scope), measure)
    need = cover.needs.removeprefix("a ").removeprefix("an ") or "data"
    if cover.missing and not cover.ids:
        return f"No {need} loaded for {nodata.names_text(cover.missing)}."
    lacking = f" No {need} loaded for {nodata.names_text(cover.missing)}." if cover.missing else ""
    return nothing + lacking


def _missing_spend(scope: queries.Scope) -> str:
    f = scope.filters
    return _none_loaded(scope, "spend", f"No {f.spend_words} by {f.councils_label} in {f.period_label}.")


def _missing_scorecard(scope: queries.Scope) -> str:
    f = scope.filters
    return _none_loaded(scope, "kpis", f"No KPI reported by {f.councils_label} for any month of {f.period_label}.")


def _missing_social_value(scope: queries.Scope) -> str:
    f = scope.filters
    nothing = f"No social value for {f.councils_label} in {f.period_label}: no contract starting in the period has commitments."
    return _none_loaded(scope, "social_value", nothing)


def _missing_pipeline(scope: queries.Scope) -> str:
    return _none_loaded(scope, "contracts", f"No contracts for {scope.filters.councils_label} in the pipeline.")


def _missing_collaboration(scope: queries.Scope) -> str:
    f = scope.filters
    if len(scope.council_ids) < 2:
        return f"Collaboration compares two or more councils; this view holds {f.councils_label} only."
    return f"No supplier paid by two or more councils of {f.councils_label} in {f.period_label}."


def _said_when_empty(build: Callable[[queries.Scope], Slide], missing: Callable[[queries.Scope], str]):
    def slide_or_what_is_missing(scope: queries.Scope) -> Slide:
        s = build(scope)
        if len(s.data):
            return s
        text = missing(scope)
        fig = go.Figure()
        fig.update_layout(title=s.title, meta={"kind": "no_data", "shown": "", "missing": text})
        charts.nothing_to_show(fig, _lines(text))
        fig.layout.annotations[-1].font.size = 24
        return Slide(s.key, s.title, fig, s.data, text)

    return slide_or_what_is_missing


def _lines(text: str, width: int = 60) -> str:
    """A message on lines of about ``width`` characters (Plotly never wraps an annotation), each
    escaped for Plotly (names come from configuration and data)."""
    import textwrap

    return "<br>".join(escape.plotly(line) for line in textwrap.wrap(text, width))


SLIDES: dict[str, Callable[[queries.Scope], Slide]] = {
    "scorecard": _said_when_empty(_scorecard, _missing_scorecard),
    "spend": _said_when_empty(_spend, _missing_spend),
    "pipeline": _said_when_empty(_pipeline, _missing_pipeline),
    "social_value": _said_when_empty(_social_value, _missing_social_value),
    "collaboration": _said_when_empty(_collaboration, _missing_collaboration),
}


def sequence() -> list[str]:
    keys = [k for k in config.settings().board_sequence if k in SLIDES]
    return keys or list(SLIDES)


def slide(scope: queries.Scope, index: int) -> Slide:
    keys = sequence()
    return SLIDES[keys[index % len(keys)]](scope)


def coverage_line(scope: queries.Scope) -> str:
    """What data the pack stands on, for every page: each council's spend months loaded."""
    status = queries.data_status(scope)
    parts = []
    for row in status.itertuples(index=False):
        if row.months_loaded and row.last_month is not None:
            partial = f", {row.last_month:%b %Y} partial" if row.complete_through != row.last_month else ""
            span = f"{row.first_month:%b %Y}–{row.last_month:%b %Y}"
            parts.append(f"{row.council} {span} ({int(row.months_loaded)} months{partial})")
        else:
            parts.append(f"{row.council} no spend loaded")
    return "Data coverage (spend): " + "; ".join(parts) + "."


def _contents_page(titles: list[str], scope: queries.Scope, as_at, coverage: str, size: tuple[int, int]):
    """Page 1: the pack's title, its "as at" date, the filters, the slides with their page numbers."""
    from PIL import Image, ImageDraw, ImageFont

    from starviz import layout

    width, height = size
    page = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(page)

    def font(px: int, bold: bool = False):
        path = layout._font_file(bold)
        return ImageFont.truetype(path, px) if path else ImageFont.load_default(px)

    pad = 90
    draw.text((pad, pad), "STAR Procurement Board pack", font=font(64, True), fill=layout.INK)
    when = f"As at {as_at:%d %B %Y}" if as_at else "Latest data"
    draw.text((pad, pad + 95), f"{when} · {scope.filters.label}", font=font(34), fill=layout.MUTED)
    draw.text((pad, pad + 190), "Contents", font=font(44, True), fill=layout.INK)
    y = pad + 260
    for n, title in enumerate(titles, start=2):
        draw.text((pad, y), title, font=font(36), fill=layout.INK)
        number = f"page {n}"
        draw.text((width - pad - draw.textlength(number, font=font(36)), y), number, font=font(36), fill=layout.INK)
        y += 62
    small = font(22)
    lines = layout.wrap(coverage, 22, width - 2 * pad)
    for i, line in enumerate(lines):
        draw.text((pad, height - pad - 34 * (len(lines) - i)), line, font=small, fill=layout.MUTED)
    footer = f"Page 1 of {len(titles) + 1}"
    draw.text((width - pad - draw.textlength(footer, font=small), height - pad + 10), footer, font=small, fill=layout.MUTED)
    return page


def pack_pdf(scope: queries.Scope, as_at=None) -> bytes:
    """The Board pack: a contents page, then every slide of the sequence a page each at Board-slide
    size; every page carries its number, the "as at" date and the data coverage."""
    from PIL import Image

    export.warm()
    preset = config.settings().export_presets["board"]
    as_at = as_at or queries.as_at_date()
    coverage = coverage_line(scope)
    slides = [slide(scope, i) for i in range(len(sequence()))]
    total = len(slides) + 1
    pages = [_contents_page([s.title for s in slides], scope, as_at, coverage, (preset.width, preset.height))]
    for n, s in enumerate(slides, start=2):
        source = f"{export.source_line(as_at)} {coverage} Page {n} of {total}."
        art = export.branded(
            s.figure,
            title=s.title,
            subtitle=export.subtitle(s.figure, scope.filters.label),
            source=source,
            width=preset.width,
            height=preset.height,
        )
        png = export.image(art, "png", preset.width, preset.height)
        pages.append(Image.open(io.BytesIO(png)).convert("RGB"))
    buffer = io.BytesIO()
    pages[0].save(buffer, format="PDF", save_all=True, append_images=pages[1:], resolution=144)
    return buffer.getvalue()


def pack_xlsx(scope: queries.Scope) -> bytes:
    """The data behind every slide, one sheet each, with the notes sheet."""
    frames, formats = {}, {}
    notes = {"Filters": scope.filters.label, "Source": export.source_note(queries.as_at_date()), "Coverage": coverage_line(scope)}
    for i in range(len(sequence())):
        s = slide(scope, i)
        name = SHEET_NAMES.get(s.key, s.key)
        notes[name] = s.title
        if s.missing:  # a slide with no data: what is missing, not an empty sheet
            frames[name] = pd.DataFrame({"Note": [s.missing]})
        elif s.sheet is not None:
            frames[name], formats[name] = s.sheet, s.formats or {}
        else:  # a council with nothing loaded: "no data", not blank
            frames[name] = nodata.fill_council_columns(s.data)
    return export.to_xlsx_sheets(frames, "Board pack", notes, formats)


# --- on a schedule: no browser, no signed-in user ---------------------------------------------------

SCHEDULED = "scheduled"


def scheduled_scope(as_at_month: str | None = None) -> tuple[queries.Scope, object]:
    """Every council, the financial year to the ``as_at_month`` (YYYY-MM; default the latest month
    loaded) with its months from April, as the Board pack's own (admin) reader; and the as-at date."""
    import datetime as dt

    from starviz.scope import Filters, User, financial_year, fy_bounds

    latest = queries.as_at_date()
    if as_at_month:
        try:
            first = dt.datetime.strptime(as_at_month, "%Y-%m").date()
        except ValueError as exc:
            raise ValueError(f"--as-at {as_at_month!r}: expected a month as YYYY-MM, e.g. 2026-03") from exc
        following = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        as_at = following - dt.timedelta(days=1)
        if latest is not None and as_at > latest:
            as_at = latest
    elif latest is not None:
        as_at, first = latest, latest.replace(day=1)
    else:
        raise ValueError("the database holds no spend yet: build it first (python -m starviz build)")
    start, _ = fy_bounds(financial_year(first))
    user = User(SCHEDULED, "Board pack (scheduled)", "admin")
    ids = tuple(queries.councils()["council_id"])
    filters = Filters(councils=ids, all_councils=True, period="months", month_from=start, month_to=first)
    return queries.Scope(filters, user), as_at


def write_charts(scope: queries.Scope, folder, as_at=None) -> list:
    """Every Board chart at every export preset as PNG and SVG, each with its alt text in a .txt
    beside it; returns the files written."""
    from pathlib import Path

    from starviz import gallery

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    source = export.source_line(as_at or queries.as_at_date())
    written = []
    for chart in gallery.board_charts(scope):
        alt = export.alt_text(chart.figure, chart.title, export.subtitle(chart.figure, scope.filters.label))
        for key, preset in config.settings().export_presets.items():
            art = export.branded(
                chart.figure,
                title=chart.title,
                subtitle=export.subtitle(chart.figure, scope.filters.label),
                source=source,
                width=preset.width,
                height=preset.height,
            )
            for fmt in ("png", "svg"):
                path = folder / f"{chart.name}-{key}.{fmt}"
                path.write_bytes(export.image(art, fmt, preset.width, preset.height))
                path.with_suffix(f".{fmt}.txt").write_text(alt + "\n", encoding="utf-8")
                written += [path, path.with_suffix(f".{fmt}.txt")]
    return written
