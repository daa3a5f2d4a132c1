"""DataFrame -> Plotly figure, one function per chart, all on one STAR template (no SQL here)."""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

# Okabe-Ito: distinguishable with the common colour-vision deficiencies. Council colours come from
# their configuration; this palette serves everything else.
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]
INK = "#1F2933"
GRID = "#D9DEE3"
TARGET = "#7A1F3D"
FONT = "Source Sans Pro, Arial, sans-serif"

pio.templates["star"] = go.layout.Template(
    layout=go.Layout(
        font=dict(family=FONT, size=16, color=INK),
        title=dict(font=dict(size=22), x=0, xanchor="left"),
        colorway=PALETTE,
        paper_bgcolor="white",
        plot_bgcolor="white",
        xaxis=dict(showgrid=False, linecolor=GRID, ticks="outside", tickcolor=GRID, title_font_size=16),
        yaxis=dict(gridcolor=GRID, zeroline=True, zerolinecolor="#9AA5B1", title_font_size=16),
        legend=dict(orientation="h", yanchor="top", y=-0.08, xanchor="left", x=0, title_text=""),
        hoverlabel=dict(font_size=15),
        margin=dict(l=10, r=10, t=70, b=10),
        separators=".,",
    )
)
pio.templates.default = "plotly+star"


def gbp(value: float | None, pence: bool = False) -> str:
    """UK money: £1.2bn, £1.2m, £350k, £1,234 (or £1,234.56 with pence); negatives as -£..."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    sign = "-" if value < 0 else ""
    v = abs(float(value))
    if pence:
        return f"{sign}£{v:,.2f}"
    if v >= 1e9:
        return f"{sign}£{v / 1e9:.1f}bn".replace(".0bn", "bn")
    if v >= 1e6:
        return f"{sign}£{v / 1e6:.1f}m".replace(".0m", "m")
    if v >= 1e4:
        return f"{sign}£{v / 1e3:.0f}k"
    return f"{sign}£{v:,.0f}"


def pct(share: float | None, digits: int = 1) -> str:
    if share is None or (isinstance(share, float) and math.isnan(share)):
        return "–"
    return f"{share * 100:.{digits}f}%"


def _gbp_axis(fig: go.Figure, values: pd.Series, axis: str = "yaxis") -> None:
    """Tick labels like £1.2m: Plotly's SI suffixes say 'M'/'G', so place our own."""
    top = float(values.max()) if len(values) else 0.0
    bottom = min(0.0, float(values.min())) if len(values) else 0.0
    if top <= bottom:
        return
    raw = (top - bottom) / 5
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    ticks = [bottom - bottom % step + i * step for i in range(int((top - bottom) / step) + 2)]
    fig.update_layout({axis: dict(tickvals=ticks, ticktext=[gbp(t) for t in ticks])})


def spend_by_council_month(df: pd.DataFrame, colours: dict[str, str], title: str = "Spend by council by month"):
    """Stacked monthly bars, one colour per council."""
    fig = go.Figure()
    for council, part in df.groupby("council", sort=False):
        fig.add_bar(
            x=part["month"], y=part["spend_gbp"], name=council, marker_color=colours.get(council),
            customdata=[gbp(v) for v in part["spend_gbp"]],
            hovertemplate="%{x|%b %Y}<br>" + council + ": %{customdata}<extra></extra>",
        )
    fig.update_layout(barmode="relative", title=title, xaxis_title=None, yaxis_title=None, bargap=0.15,
                      showlegend=True)
    fig.update_xaxes(tickformat="%b %Y", dtick="M3")
    monthly = df.groupby("month")["spend_gbp"].sum() if len(df) else pd.Series(dtype=float)
    _gbp_axis(fig, monthly)
    return fig


def for_screen(fig: go.Figure, size: int = 22) -> go.Figure:
    """A copy for a shared screen: no in-chart title (the slide has one), larger type."""
    out = go.Figure(fig)
    out.update_layout(title=None, font=dict(size=size), legend=dict(font=dict(size=size)),
                      margin=dict(t=20))
    out.update_xaxes(tickfont=dict(size=size - 2))
    out.update_yaxes(tickfont=dict(size=size - 2))
    return out
