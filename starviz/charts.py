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


# --- data quality --------------------------------------------------------------------------------

MISSING = "#B3001B"  # a missing month: red cross, distinct from every shade of the blue scale


def coverage_heatmap(df: pd.DataFrame, title: str = "Rows loaded per council per month"):
    """Councils down, months across, shade = rows loaded; a missing month is a red cross on white.

    ``df``: council, month, count_rows, count_files, is_missing (one row per council and month).
    """
    councils = list(dict.fromkeys(df["council"]))
    months = sorted(df["month"].unique()) if len(df) else []
    grid = {(r.council, r.month): r for r in df.itertuples(index=False)}
    z, text = [], []
    for council in councils:
        z.append([float(grid[(council, m)].count_rows) if (council, m) in grid and grid[(council, m)].count_rows
                  else None for m in months])
        text.append([_coverage_hover(council, m, grid.get((council, m))) for m in months])
    fig = go.Figure(go.Heatmap(
        x=months, y=councils, z=z, text=text, hovertemplate="%{text}<extra></extra>", xgap=2, ygap=2,
        colorscale=[[0, "#DCEAF5"], [1, "#0B4F8A"]], colorbar=dict(title=dict(text="rows"), thickness=14),
    ))
    missing = df[df["is_missing"]] if len(df) else df
    if len(missing):
        fig.add_scatter(x=missing["month"], y=missing["council"], mode="markers", name="Missing month",
                        marker=dict(symbol="x-thin", size=16, line=dict(width=3, color=MISSING)),
                        hovertemplate="%{y}: %{x|%b %Y} missing<extra></extra>")
    fig.update_layout(title=title, height=max(260, 90 + 52 * len(councils)), showlegend=bool(len(missing)),
                      plot_bgcolor="white", legend=dict(y=-0.25))
    fig.update_xaxes(tickformat="%b %Y", dtick="M3" if len(months) > 12 else "M1", showgrid=False)
    fig.update_yaxes(autorange="reversed", showgrid=False, zeroline=False)
    return fig


def _coverage_hover(council: str, month, row) -> str:
    label = f"{council}: {pd.Timestamp(month):%b %Y}"
    if row is None or not row.count_rows:
        return f"{label}<br>missing" if row is not None and row.is_missing else f"{label}<br>no rows"
    return f"{label}<br>{row.count_rows:,} rows from {row.count_files:,} file(s)"


def unclassified_by_council(df: pd.DataFrame, title: str = "Spend without a ProClass category"):
    """Per council: share of spend with no category, and share classified only from the supplier."""
    fig = go.Figure()
    fig.add_bar(y=df["council"], x=df["unclassified_share"], orientation="h", name="No category",
                marker_color=PALETTE[1], text=[pct(v) for v in df["unclassified_share"]], textposition="outside",
                customdata=[gbp(v) for v in df["unclassified_gbp"]],
                hovertemplate="%{y}: %{text} (%{customdata}) has no category<extra></extra>")
    fig.add_bar(y=df["council"], x=df["from_supplier_share"], orientation="h",
                name="Category taken from the supplier's other lines", marker_color=PALETTE[5],
                text=[pct(v) for v in df["from_supplier_share"]], textposition="outside",
                customdata=[gbp(v) for v in df["from_supplier_gbp"]],
                hovertemplate="%{y}: %{text} (%{customdata}) classified from the supplier<extra></extra>")
    top = max([0.05, *df["unclassified_share"].fillna(0), *df["from_supplier_share"].fillna(0)])
    fig.update_layout(title=title, barmode="group", height=max(320, 170 + 70 * len(df)), bargap=0.25,
                      legend=dict(y=1.0, yanchor="bottom"), margin=dict(t=100))
    fig.update_xaxes(tickformat=".0%", range=[0, top * 1.25], showgrid=True, gridcolor=GRID)
    fig.update_yaxes(autorange="reversed")
    return fig


def exclusions_by_council(df: pd.DataFrame, title: str = "Spend left out of addressable spend, by reason"):
    """Per council, stacked horizontal bars of excluded spend by reason (levies, HMRC, ...)."""
    fig = go.Figure()
    reasons = list(df.groupby("exclusion_reason")["spend_gbp"].sum().sort_values(ascending=False).index)
    for i, reason in enumerate(reasons):
        part = df[df["exclusion_reason"] == reason]
        fig.add_bar(y=part["council"], x=part["spend_gbp"], orientation="h", name=reason,
                    marker_color=PALETTE[i % len(PALETTE)],
                    customdata=list(zip([gbp(v) for v in part["spend_gbp"]], [pct(v) for v in part["share_of_total"]],
                                        strict=True)),
                    hovertemplate="%{y} · " + reason + ": %{customdata[0]} (%{customdata[1]} of all spend)<extra></extra>")
    fig.update_layout(title=title, barmode="stack", height=max(320, 170 + 70 * df["council"].nunique()),
                      legend=dict(y=1.0, yanchor="bottom", traceorder="normal"), margin=dict(t=100))
    fig.update_yaxes(autorange="reversed")
    totals = df.groupby("council")["spend_gbp"].sum() if len(df) else pd.Series(dtype=float)
    _gbp_axis(fig, totals, axis="xaxis")
    fig.update_xaxes(showgrid=True, gridcolor=GRID)
    return fig
