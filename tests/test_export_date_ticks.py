"""A chart exported at a preset names its dates without running them together: the date axis's
step is worked out on the width the plot keeps once its row labels have taken theirs (the contract
pipeline's square image wrote "Jan 2026Jan 2027Jan 2028..." in one run: the step had been fitted to
the whole canvas)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import pytest

from starviz import charts, layout  # charts: the "star" template the layout names


@pytest.mark.parametrize(("width", "height"), [(1080, 1080), (1200, 675), (1600, 900)])
def test_date_labels_fit_the_width_the_row_labels_leave(width, height):
    assert charts.PALETTE
    rows = [f"Recruitment Advertising Framework {i} · Stockport SMBC-C-4{i:04d}" for i in range(15)]
    fig = go.Figure(go.Bar(y=rows, x=[2.0e11] * 15, base=["2026-01-01"] * 15, orientation="h"))
    fig.update_xaxes(type="date", range=["2026-01-01", "2032-09-01"])
    out = layout.lay_out(fig, title="Contract pipeline", subtitle="Stockport", footer="Source", width=width, height=height)
    plot_w = width - out.layout.margin.l - out.layout.margin.r
    step = int(str(out.layout.xaxis.dtick).removeprefix("M"))
    ticks = len(pd.date_range("2026-01-01", "2032-09-01", freq=f"{step}MS"))
    size = out.layout.xaxis.tickfont.size or out.layout.font.size
    label = layout.text_width(layout.DATE_LABEL, size)
    assert ticks * label * 1.2 <= plot_w, f"{ticks} labels of {label:.0f} px in a plot {plot_w} px wide"
