"""Every chart the app draws, exported at every preset and checked mechanically: no ink touching
the canvas edge, every text inside the canvas and over no other text, every category labelled."""

from __future__ import annotations

from pathlib import Path

import pytest

from starviz import config, export, gallery, layout, queries
from starviz.scope import Filters, User
from tests import layout_check
from tests.browser import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.skipif(export.chromium_path() is None or not Path(CHROMIUM).exists(), reason="chromium is not installed")
DIRECTOR = User("director", "Director", "admin")


@pytest.fixture(scope="module")
def text_page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser.new_page()
        browser.close()


def test_every_chart_at_every_preset_is_laid_out_inside_its_canvas(app_env, text_page):
    ids = tuple(queries.councils()["council_id"])
    scope = queries.Scope(Filters(councils=ids, all_councils=True, fy="2025-26"), DIRECTOR)
    source = export.source_line(queries.as_at_date())
    presets = config.settings().export_presets
    charts = list(gallery.every_chart(scope))
    assert len(charts) >= 20 and {c.name for c in charts} >= {"board-scorecard", "spend-treemap", "spend-trend", "overview-spend"}
    problems = []
    for chart in charts:
        # as drawn on the page (Plotly's own ticks: only repeated labels are checked there)
        boxes = layout_check.text_boxes(text_page, export.image(chart.figure, "svg", 1100, 520).decode(), 1100, 520)
        problems += [f"{chart.name} on screen: repeated tick labels: {t}" for t in layout_check.repeated_ticks(boxes)]
        for key, preset in presets.items():
            w, h = preset.width, preset.height
            art = export.branded(chart.figure, title=chart.title, subtitle=scope.filters.label, source=source, width=w, height=h)
            boxes = layout_check.text_boxes(text_page, export.image(art, "svg", w, h).decode(), w, h)
            found = {
                "repeated tick labels": layout_check.repeated_ticks(boxes),
                "ink at the edge": layout_check.ink_at_edge(export.image(art, "png", w, h)),
                "text outside the canvas": layout_check.outside(boxes, w, h),
                "text over text": layout_check.overlapping(boxes),
                # every category the export keeps; a chart with too many rows to label readably keeps its
                # top ones and says so in the subtitle
                "categories not labelled": layout_check.missing_labels(boxes, layout_check.category_labels(art)),
                "tick labels too small to read": layout_check.tiny_ticks(boxes, layout.READABLE),
            }
            kept, had = set(layout_check.category_labels(art)), set(layout_check.category_labels(chart.figure))
            if kept != had:
                assert kept < had and any("shown at this size" in b["text"] for b in boxes), (
                    f"{chart.name} at {key}: rows cut unsaid"
                )
            assert any(chart.title[:30] in b["text"] for b in boxes), f"{chart.name} at {key}: no title"
            problems += [f"{chart.name} at {key}: {what}: {items[:3]}" for what, items in found.items() if items]
    assert not problems, "\n".join(problems)


def test_the_checks_catch_what_they_name(text_page):
    """The checker itself: a title pushed off the canvas, two labels on top of each other, ink at the
    edge and a category left unlabelled are each reported."""
    import plotly.graph_objects as go

    fig = go.Figure(go.Bar(y=["Alpha", "Beta"], x=[1, 2], orientation="h"))
    fig.update_layout(width=400, height=300, margin=dict(l=0, r=0, t=0, b=0), template="star")
    fig.update_yaxes(tickvals=["Alpha"], ticktext=["Alpha"])
    fig.add_annotation(text="A title much too long", x=0.8, xanchor="left", y=0.5, xref="paper", yref="paper", showarrow=False)
    fig.add_annotation(text="Beta", x=0.1, y=0.5, xref="paper", yref="paper", showarrow=False)
    fig.add_annotation(text="Beta", x=0.1, y=0.5, xref="paper", yref="paper", showarrow=False)
    boxes = layout_check.text_boxes(text_page, export.image(fig, "svg", 400, 300).decode(), 400, 300)
    assert layout_check.outside(boxes, 400, 300)
    assert layout_check.overlapping(boxes)
    assert layout_check.ink_at_edge(export.image(fig, "png", 400, 300))
    # Plotly left to itself on three months puts ticks mid-month too: "Mar 2026, Apr 2026, Apr 2026, ..."
    months = go.Figure(go.Bar(x=["2026-03-01", "2026-04-01", "2026-05-01"], y=[1, 2, 3]))
    months.update_xaxes(tickformat="%b %Y")
    boxes = layout_check.text_boxes(text_page, export.image(months, "svg", 1100, 500).decode(), 1100, 500)
    assert layout_check.repeated_ticks(boxes)
    unlabelled = go.Figure(go.Bar(y=["Alpha", "Gamma"], x=[1, 2], orientation="h"))
    boxes = layout_check.text_boxes(text_page, export.image(fig, "svg", 400, 300).decode(), 400, 300)
    assert layout_check.missing_labels(boxes, layout_check.category_labels(unlabelled)) == ["Gamma"]
