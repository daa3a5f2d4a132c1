"""DataFrame -> Plotly figure, one function per chart, all on one STAR template (no SQL here)."""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from starviz import escape

# Okabe-Ito: distinguishable with the common colour-vision deficiencies. Council colours come from
# their configuration; this palette serves everything else.
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]
# Filled boxes (a treemap) cycle through the palette without its black: a black box among coloured
# ones reads as a hole, and its label is the first to be hidden.
FILLS = PALETTE[:-1]
INK = "#1F2933"
GRID = "#D9DEE3"
TARGET = "#7A1F3D"
FONT = "Source Sans Pro, Arial, sans-serif"

_STAR = go.layout.Template(
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
# Merged with plotly's own template once, here: a figure on "plotly+star" would merge the two on
# every construction (about 25 ms a figure, most of a page's Python time).
pio.templates["star"] = pio.templates.merge_templates("plotly", _STAR)
pio.templates.default = "star"


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
            x=part["month"],
            y=part["spend_gbp"],
            name=council,
            marker_color=colours.get(council),
            customdata=[gbp(v) for v in part["spend_gbp"]],
            hovertemplate="%{x|%b %Y}<br>" + council + ": %{customdata}<extra></extra>",
        )
    fig.update_layout(barmode="relative", title=title, xaxis_title=None, yaxis_title=None, bargap=0.15, showlegend=True)
    fig.update_xaxes(tickformat="%b %Y", dtick="M3")
    monthly = df.groupby("month")["spend_gbp"].sum() if len(df) else pd.Series(dtype=float)
    _gbp_axis(fig, monthly)
    fig.update_layout(meta={"unit": "gbp", "measure": "spend", "additive": True})
    return fig


def for_screen(fig: go.Figure, size: int = 22) -> go.Figure:
    """A copy for a shared screen: no in-chart title (the slide has one), larger type."""
    out = go.Figure(fig)
    out.update_layout(title=None, font=dict(size=size), legend=dict(font=dict(size=size)), margin=dict(t=20))
    out.update_xaxes(tickfont=dict(size=size - 2))
    out.update_yaxes(tickfont=dict(size=size - 2))
    for trace in out.data:
        if trace.type == "table":  # tables carry their own type sizes
            trace.header.font.size, trace.header.height = size, round(size * 1.9)
            trace.cells.font.size, trace.cells.height = size - 2, round(size * 1.75)
    return out


# --- social value, KPIs and maturity (issue 6) ---------------------------------------------------

RAG_COLOURS = {"green": "#009E73", "amber": "#E69F00", "red": "#D55E00", "none": "#9AA5B1"}
COMMITTED, DELIVERED = PALETTE[0], PALETTE[2]


def _short(text: str, limit: int = 48) -> str:
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def social_value_vs_target(df: pd.DataFrame, target: float | None, title: str, top: int = 15) -> go.Figure:
    """Committed and delivered-to-date social value as a share of contract value, one pair of bars per
    row (council, theme, category, supplier or contract), against the target line."""
    rows = df.head(top).iloc[::-1]  # first row at the top
    names = [_short(n) for n in rows["name"]]
    fig = go.Figure()
    for column, money, label, colour in (  # a horizontal group draws its first bar lowest: delivered first
        ("delivered_share", "delivered_gbp", "Delivered to date", DELIVERED),
        ("committed_share", "committed_gbp", "Committed", COMMITTED),
    ):
        fig.add_bar(
            y=names,
            x=rows[column],
            name=label,
            orientation="h",
            marker_color=colour,
            text=[pct(v) for v in rows[column]],
            textposition="outside",
            cliponaxis=False,
            customdata=[[n, gbp(m), gbp(v)] for n, m, v in zip(rows["name"], rows[money], rows["value_gbp"], strict=True)],
            hovertemplate="%{customdata[0]}<br>" + label + ": %{customdata[1]} (%{x:.1%} of %{customdata[2]})<extra></extra>",
        )
    top_x = max([float(rows[c].max()) for c in ("committed_share", "delivered_share") if len(rows)] + [target or 0, 0.01])
    if target is not None:
        fig.add_vline(
            x=target,
            line=dict(color=TARGET, width=3, dash="dash"),
            annotation=dict(
                text=f"Target {pct(target, 0)}", font=dict(color=TARGET, size=16), yanchor="bottom", y=1.0, yref="paper"
            ),
        )
    fig.update_layout(
        barmode="group",
        title=title,
        bargap=0.25,
        bargroupgap=0.05,
        height=max(340, 150 + 62 * len(rows)),
        margin=dict(l=10, r=60, t=90, b=10),
        legend=dict(orientation="h", y=-40 / max(190, 62 * len(rows)), yanchor="top", x=0, xanchor="left", traceorder="reversed"),
    )
    fig.update_xaxes(tickformat=".0%", range=[0, top_x * 1.18], showgrid=True, gridcolor=GRID)
    fig.update_yaxes(automargin=True)
    fig.update_layout(
        meta={"unit": "share", "measure": "social value as a share of contract value", "additive": False, "target": target}
    )
    return fig


def social_value_by_quarter(df: pd.DataFrame, title: str = "Social value by quarter") -> go.Figure:
    """Committed (on contracts starting in the quarter) and delivered (in the quarter) per quarter, with
    the target on the contracts awarded (each year's target share of their value)."""
    fig = go.Figure()
    fig.add_bar(
        x=df["label"],
        y=df["committed_gbp"],
        name="Committed on contracts starting in the quarter",
        marker_color=COMMITTED,
        customdata=[gbp(v) for v in df["committed_gbp"]],
        hovertemplate="%{x}<br>Committed: %{customdata}<extra></extra>",
    )
    fig.add_bar(
        x=df["label"],
        y=df["delivered_gbp"],
        name="Delivered in the quarter",
        marker_color=DELIVERED,
        customdata=[gbp(v) for v in df["delivered_gbp"]],
        hovertemplate="%{x}<br>Delivered: %{customdata}<extra></extra>",
    )
    fig.add_scatter(
        x=df["label"],
        y=df["target_gbp"],
        name="Target on contracts starting in the quarter",
        mode="lines+markers",
        line=dict(color=TARGET, width=3, dash="dash"),
        marker=dict(size=9, symbol="diamond"),
        customdata=[[gbp(t), pct(s, 0)] for t, s in zip(df["target_gbp"], df["target_share"], strict=True)],
        hovertemplate="%{x}<br>Target: %{customdata[0]} (%{customdata[1]} of contract value)<extra></extra>",
    )
    fig.update_layout(
        barmode="group", title=title, bargap=0.2, xaxis_title=None, yaxis_title=None, height=500, legend=dict(y=-0.16)
    )
    fig.update_xaxes(tickangle=0, tickvals=list(df["label"]), ticktext=[label.replace(" ", "<br>") for label in df["label"]])
    values = pd.concat([df["committed_gbp"], df["delivered_gbp"], df["target_gbp"]]) if len(df) else pd.Series(dtype=float)
    _gbp_axis(fig, values)
    fig.update_layout(meta={"unit": "gbp", "measure": "social value", "additive": False})
    return fig


def _kpi_axis(fig: go.Figure, unit: str, values: pd.Series, row: int, col: int) -> None:
    axis = fig.get_subplot(row, col).yaxis.plotly_name  # e.g. "yaxis3"
    if unit == "gbp":
        _gbp_axis(fig, values, axis)
    elif unit == "percent":
        fig.update_layout({axis: dict(ticksuffix="%")})
    else:
        fig.update_layout({axis: dict(tickformat=",.0f")})


def kpi_trends(df: pd.DataFrame, title: str, columns: int = 3) -> go.Figure:
    """Small multiples, one per KPI: the monthly value (markers coloured by RAG status) and the target."""
    from plotly.subplots import make_subplots

    keys = list(dict.fromkeys(zip(df["kpi_code"], df["is_shared_service"], strict=True)))
    n = max(len(keys), 1)
    cols = min(columns, n)
    rows = math.ceil(n / cols)
    titles = []
    for code, shared in keys:
        part = df[(df["kpi_code"] == code) & (df["is_shared_service"] == shared)]
        name = part["kpi_name"].iloc[-1] + (f" ({part['reported_by'].iloc[-1]})" if shared else "")
        titles.append(f"<b>{_short(name, 44)}</b>")
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=titles or [""], vertical_spacing=0.5 / rows, horizontal_spacing=0.07)
    for k, (code, shared) in enumerate(keys):
        r, c = k // cols + 1, k % cols + 1
        part = df[(df["kpi_code"] == code) & (df["is_shared_service"] == shared)]
        unit = part["unit"].iloc[-1]
        shown = [_kpi_text(v, unit) for v in part["value"]]
        fig.add_scatter(
            x=part["month"],
            y=part["value"],
            mode="lines+markers",
            name="Actual",
            legendgroup="actual",
            showlegend=k == 0,
            line=dict(color=INK, width=2.5),
            marker=dict(
                size=9, color=[RAG_COLOURS.get(g, RAG_COLOURS["none"]) for g in part["rag"]], line=dict(color="white", width=1)
            ),
            customdata=[[s, g] for s, g in zip(shown, part["rag"], strict=True)],
            hovertemplate="%{x|%b %Y}: %{customdata[0]} (%{customdata[1]})<extra></extra>",
            row=r,
            col=c,
        )
        if part["target"].notna().any():
            fig.add_scatter(
                x=part["month"],
                y=part["target"],
                mode="lines",
                name="Target",
                legendgroup="target",
                showlegend=k == 0,
                line=dict(color=TARGET, width=2, dash="dash"),
                customdata=[_kpi_text(v, unit) for v in part["target"]],
                hovertemplate="%{x|%b %Y} target: %{customdata}<extra></extra>",
                row=r,
                col=c,
            )
        _kpi_axis(fig, unit, pd.concat([part["value"], part["target"]]).dropna(), r, c)
        fig.update_xaxes(tickformat="%b %y", dtick="M6", row=r, col=c)
    for status, colour in RAG_COLOURS.items():
        if status != "none":
            fig.add_scatter(
                x=[None], y=[None], mode="markers", name=status.capitalize(), marker=dict(size=11, color=colour), showlegend=True
            )
    fig.update_annotations(font_size=17)
    height = 150 + 330 * rows
    fig.update_layout(
        title=dict(text=title, y=1, yref="container", yanchor="top", pad=dict(t=12)),
        height=height,
        margin=dict(l=10, r=10, t=140, b=10),
        legend=dict(orientation="h", y=1 + 62 / (height - 150), yanchor="bottom", x=0, xanchor="left"),
    )
    fig.update_layout(meta={"kind": "kpi"})
    return fig


def _kpi_text(value: float | None, unit: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if unit == "gbp":
        return gbp(value)
    if unit == "percent":
        return f"{value:.1f}%"
    return f"{value:,.0f}"


def maturity_radar(df: pd.DataFrame, levels: pd.DataFrame, colour: str, title: str) -> go.Figure:
    """One council's current maturity against its target in every key area and enabler (levels 1-5),
    with the level recorded at the assessment before."""
    areas = [_wrap(a, 24) for a in df["area"]]
    closed = areas + areas[:1]

    def ring(values) -> list:
        values = list(values)
        return values + values[:1]

    fig = go.Figure()
    if df["previous_level"].notna().any():
        fig.add_scatterpolar(
            r=ring(df["previous_level"]),
            theta=closed,
            name="Previous assessment",
            mode="lines",
            line=dict(color="#9AA5B1", width=2, dash="dot"),
            hoverinfo="skip",
        )
    fig.add_scatterpolar(
        r=ring(df["current_level"]),
        theta=closed,
        name="Current",
        mode="lines+markers",
        fill="toself",
        fillcolor=_rgba(colour, 0.25),
        line=dict(color=colour, width=3),
        marker=dict(size=8),
        customdata=ring(df["current_level_name"]),
        hovertemplate="%{theta}: %{customdata}<extra>Current</extra>",
    )
    fig.add_scatterpolar(
        r=ring(df["target_level"]),
        theta=closed,
        name="Target",
        mode="lines+markers",
        line=dict(color=TARGET, width=3, dash="dash"),
        marker=dict(size=8, symbol="diamond"),
        customdata=ring(df["target_level_name"]),
        hovertemplate="%{theta}: %{customdata}<extra>Target</extra>",
    )
    between = 90 - 180 / max(len(areas), 1)  # the level labels sit between the first two areas
    fig.update_layout(
        title=title,
        height=760,
        margin=dict(l=40, r=40, t=90, b=40),
        polar=dict(
            bgcolor="white",
            radialaxis=dict(
                range=[0, int(levels["level"].max())],
                tickvals=list(levels["level"]),
                ticktext=list(levels["level_name"]),
                tickfont=dict(size=13, color="#52606D"),
                angle=between,
                tickangle=between,
                gridcolor=GRID,
                linecolor=GRID,
            ),
            angularaxis=dict(tickfont=dict(size=16), direction="clockwise", rotation=90, gridcolor=GRID, linecolor=GRID),
        ),
        legend=dict(orientation="h", y=-0.04, yanchor="top", x=0.5, xanchor="center"),
    )
    fig.update_layout(margin=dict(b=70))
    fig.update_layout(meta={"kind": "radar"})
    return fig


def _wrap(text: str, width: int) -> str:
    """Text broken onto lines of at most ``width`` characters (Plotly's <br>), at spaces."""
    lines: list[str] = []
    for word in str(text).split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return "<br>".join(lines)


def maturity_heatmap(df: pd.DataFrame, levels: pd.DataFrame, title: str) -> go.Figure:
    """Current maturity of every council in every key area, with the gap to its target in the cell."""
    councils = list(dict.fromkeys(df["council"]))
    areas = list(dict.fromkeys(df["area"]))
    cell = {(r.council, r.area): r for r in df.itertuples()}
    z, text = [], []
    for area in areas:
        z_row, text_row = [], []
        for council in councils:
            r = cell.get((council, area))
            z_row.append(None if r is None else r.current_level)
            if r is None:
                text_row.append("")
            else:
                gap = "" if pd.isna(r.gap_levels) else f" ↑{int(r.gap_levels)}" if r.gap_levels > 0 else " ✓"
                text_row.append(f"{r.current_level_name}{gap}")
        z.append(z_row)
        text.append(text_row)
    top = int(levels["level"].max())
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=councils,
            y=[_short(a, 42) for a in areas],
            text=text,
            texttemplate="%{text}",
            textfont=dict(size=15),
            zmin=1,
            zmax=top,
            colorscale="Blues",
            xgap=3,
            ygap=3,
            colorbar=dict(tickvals=list(levels["level"]), ticktext=list(levels["level_name"]), thickness=18),
            hovertemplate="%{y} · %{x}: %{text}<extra></extra>",
        )
    )
    fig.update_layout(title=title, height=140 + 46 * len(areas), margin=dict(l=10, r=10, t=80, b=10))
    fig.update_yaxes(autorange="reversed", automargin=True)
    fig.update_xaxes(side="top")
    fig.update_layout(meta={"unit": "level", "measure": "current maturity level"})
    return fig


def _rgba(hex_colour: str, alpha: float) -> str:
    h = hex_colour.lstrip("#")
    return f"rgba({int(h[0:2], 16)}, {int(h[2:4], 16)}, {int(h[4:6], 16)}, {alpha})"


_RAG_FILL = {"green": "#D7F0E6", "amber": "#FBEBCB", "red": "#F8DCCB"}


def scorecard_table(df: pd.DataFrame, title: str, rows: int = 12) -> go.Figure:
    """The balanced scorecard as a figure (for slides and images): KPI, value, target and status,
    the status cell tinted by RAG."""
    part = df.head(rows)
    status = part.get("Status", pd.Series(dtype=str)).astype(str)
    fills = [_RAG_FILL.get(v.lower().split()[0] if v else "", "white") for v in status]
    columns = [c for c in ("Group", "KPI", "Value", "Target", "Status", "On last month") if c in part.columns]
    fig = go.Figure(
        go.Table(
            columnwidth=[1.2, 3.2, 1, 1, 0.9, 1.1][: len(columns)],
            header=dict(
                values=[f"<b>{c}</b>" for c in columns],
                fill_color="#E4E7EB",
                align="left",
                font=dict(size=16, color=INK),
                height=34,
            ),
            cells=dict(
                values=[part[c].astype(str).tolist() for c in columns],
                align="left",
                height=32,
                font=dict(size=15, color=INK),
                fill_color=[["white"] * len(part) if c != "Status" else fills for c in columns],
            ),
        )
    )
    fig.update_layout(title=title, margin=dict(l=10, r=10, t=60, b=10))
    fig.update_layout(meta={"kind": "table"})
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
        z.append(
            [
                float(grid[(council, m)].count_rows) if (council, m) in grid and grid[(council, m)].count_rows else None
                for m in months
            ]
        )
        text.append([_coverage_hover(council, m, grid.get((council, m))) for m in months])
    fig = go.Figure(
        go.Heatmap(
            x=months,
            y=councils,
            z=z,
            text=text,
            hovertemplate="%{text}<extra></extra>",
            xgap=2,
            ygap=2,
            colorscale=[[0, "#DCEAF5"], [1, "#0B4F8A"]],
            colorbar=dict(title=dict(text="rows"), thickness=14),
        )
    )
    missing = df[df["is_missing"]] if len(df) else df
    if len(missing):
        fig.add_scatter(
            x=missing["month"],
            y=missing["council"],
            mode="markers",
            name="Missing month",
            marker=dict(symbol="x-thin", size=16, line=dict(width=3, color=MISSING)),
            hovertemplate="%{y}: %{x|%b %Y} missing<extra></extra>",
        )
    fig.update_layout(
        title=title,
        height=max(260, 90 + 52 * len(councils)),
        showlegend=bool(len(missing)),
        plot_bgcolor="white",
        legend=dict(y=-0.25),
    )
    fig.update_xaxes(tickformat="%b %Y", dtick="M3" if len(months) > 12 else "M1", showgrid=False)
    fig.update_yaxes(autorange="reversed", showgrid=False, zeroline=False)
    fig.update_layout(meta={"unit": "count", "measure": "rows loaded"})
    return fig


def _coverage_hover(council: str, month, row) -> str:
    label = f"{council}: {pd.Timestamp(month):%b %Y}"
    if row is None or not row.count_rows:
        return f"{label}<br>missing" if row is not None and row.is_missing else f"{label}<br>no rows"
    return f"{label}<br>{row.count_rows:,} rows from {row.count_files:,} file(s)"


def unclassified_by_council(df: pd.DataFrame, title: str = "Spend without a ProClass category"):
    """Per council: share of spend with no category, and shares classified only from the supplier or
    from the council's expense type (the lower tiers; the rest carries the council's own code)."""
    fig = go.Figure()
    fig.add_bar(
        y=df["council"],
        x=df["unclassified_share"],
        orientation="h",
        name="No category",
        marker_color=PALETTE[1],
        text=[pct(v) for v in df["unclassified_share"]],
        textposition="outside",
        customdata=[gbp(v) for v in df["unclassified_gbp"]],
        hovertemplate="%{y}: %{text} (%{customdata}) has no category<extra></extra>",
    )
    fig.add_bar(
        y=df["council"],
        x=df["from_supplier_share"],
        orientation="h",
        name="Category taken from the supplier's other lines",
        marker_color=PALETTE[5],
        text=[pct(v) for v in df["from_supplier_share"]],
        textposition="outside",
        customdata=[gbp(v) for v in df["from_supplier_gbp"]],
        hovertemplate="%{y}: %{text} (%{customdata}) classified from the supplier<extra></extra>",
    )
    if "from_expense_type_share" in df:
        fig.add_bar(
            y=df["council"],
            x=df["from_expense_type_share"],
            orientation="h",
            name="Category from the council's expense type",
            marker_color=PALETTE[2],
            text=[pct(v) for v in df["from_expense_type_share"]],
            textposition="outside",
            customdata=[gbp(v) for v in df["from_expense_type_gbp"]],
            hovertemplate="%{y}: %{text} (%{customdata}) classified from the expense type<extra></extra>",
        )
    shares = [df[c].fillna(0) for c in ("unclassified_share", "from_supplier_share", "from_expense_type_share") if c in df]
    top = max([0.05, *(v for s in shares for v in s)])
    fig.update_layout(
        title=title,
        barmode="group",
        height=max(320, 170 + 70 * len(df)),
        bargap=0.25,
        legend=dict(y=1.0, yanchor="bottom"),
        margin=dict(t=100),
    )
    fig.update_xaxes(tickformat=".0%", range=[0, top * 1.25], showgrid=True, gridcolor=GRID)
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(meta={"unit": "share", "measure": "share of spend", "additive": False})
    return fig


def exclusions_by_council(df: pd.DataFrame, title: str = "Spend left out of addressable spend, by reason"):
    """Per council, stacked horizontal bars of excluded spend by reason (levies, HMRC, ...)."""
    fig = go.Figure()
    reasons = list(df.groupby("exclusion_reason")["spend_gbp"].sum().sort_values(ascending=False).index)
    for i, reason in enumerate(reasons):
        part = df[df["exclusion_reason"] == reason]
        fig.add_bar(
            y=part["council"],
            x=part["spend_gbp"],
            orientation="h",
            name=reason,
            marker_color=PALETTE[i % len(PALETTE)],
            customdata=list(zip([gbp(v) for v in part["spend_gbp"]], [pct(v) for v in part["share_of_total"]], strict=True)),
            hovertemplate="%{y} · " + reason + ": %{customdata[0]} (%{customdata[1]} of all spend)<extra></extra>",
        )
    fig.update_layout(
        title=title,
        barmode="stack",
        height=max(320, 170 + 70 * df["council"].nunique()),
        legend=dict(y=1.0, yanchor="bottom", traceorder="normal"),
        margin=dict(t=100),
    )
    fig.update_yaxes(autorange="reversed")
    totals = df.groupby("council")["spend_gbp"].sum() if len(df) else pd.Series(dtype=float)
    _gbp_axis(fig, totals, axis="xaxis")
    fig.update_xaxes(showgrid=True, gridcolor=GRID)
    fig.update_layout(meta={"unit": "gbp", "measure": "excluded spend", "additive": True})
    return fig


# --- collaboration and contract pipeline ---------------------------------------------------------

BUCKET_COLOURS = ["#D55E00", "#E69F00", "#CC79A7", "#56B4E9", "#0072B2"]  # urgent (warm) to distant (cool)


def _clip(text: object, limit: int) -> str:
    text = "" if text is None or text != text else str(text)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def stacked_by_council(
    df: pd.DataFrame, label: str, council_columns: dict[str, str], colours: dict[str, str], title: str, top: int = 15
) -> go.Figure:
    """Horizontal bars of the ``top`` rows (in the frame's order), stacked by council: one column of
    the frame per council (``council_columns``: column -> council name)."""
    rows = df.head(top).iloc[::-1]
    labels = [_clip(v, 42) for v in rows[label]]
    fig = go.Figure()
    for column, council in council_columns.items():
        values = rows[column].fillna(0).astype(float)
        fig.add_bar(
            y=labels,
            x=values,
            name=council,
            orientation="h",
            marker_color=colours.get(council),
            customdata=[gbp(v) for v in values],
            hovertemplate="%{y}<br>" + council + ": %{customdata}<extra></extra>",
        )
    fig.update_layout(
        barmode="stack",
        title=title,
        height=max(360, 34 * len(rows) + 170),
        bargap=0.25,
        legend_traceorder="normal",
        yaxis=dict(automargin=True, tickfont_size=15),
        margin=dict(l=10, r=20, t=70, b=10),
    )
    totals = rows[list(council_columns)].fillna(0).sum(axis=1) if len(rows) else pd.Series(dtype=float)
    _gbp_axis(fig, totals, axis="xaxis")
    fig.update_layout(meta={"unit": "gbp", "measure": "spend", "additive": True})
    return fig


def contract_timeline(df: pd.DataFrame, today, buckets: list[str], top_n: int, title: str = "Contracts by end date") -> go.Figure:
    """Gantt of the ``top_n`` largest contracts by value, most urgent at the top: the term coloured by
    how soon the contract is due, the extension options hatched to the maximum end date, and today."""
    rows = df.nlargest(top_n, "value_gbp") if len(df) else df
    rows = rows.sort_values(["due_date", "value_gbp"], ascending=[False, True])
    today_ts = pd.Timestamp(today)
    axis_start = today_ts - pd.DateOffset(months=12)
    labels = [
        f"{_clip(t, 34)} · {str(c).split(' (')[0]} {r}"
        for t, c, r in zip(rows["contract_title"], rows["council"], rows["contract_ref"], strict=True)
    ]
    fig = go.Figure()
    for i, bucket in enumerate(buckets):
        part = rows["bucket"] == bucket
        if not part.any():
            continue
        start = pd.to_datetime(rows.loc[part, "start_date"]).clip(lower=axis_start)
        end = pd.to_datetime(rows.loc[part, "end_date"])
        end = end.where(end > start, start + pd.Timedelta(days=1))
        hover = [
            f"<b>{t}</b><br>{c} · {r}<br>Value {gbp(v)}<br>{s:%d %b %Y} to {e:%d %b %Y}"
            f"{'' if m <= e else f' (may run to {m:%d %b %Y})'}<br>Due {d:%d %b %Y}: {bucket}"
            for t, c, r, v, s, e, m, d in zip(
                rows.loc[part, "contract_title"],
                rows.loc[part, "council"],
                rows.loc[part, "contract_ref"],
                rows.loc[part, "value_gbp"],
                pd.to_datetime(rows.loc[part, "start_date"]),
                pd.to_datetime(rows.loc[part, "end_date"]),
                pd.to_datetime(rows.loc[part, "max_end_date"]),
                pd.to_datetime(rows.loc[part, "due_date"]),
                strict=True,
            )
        ]
        fig.add_bar(
            y=[labels[j] for j in range(len(rows)) if part.iloc[j]],
            base=start.dt.strftime("%Y-%m-%d"),
            x=(end - start).dt.total_seconds() * 1000,
            orientation="h",
            name=f"Due in {bucket}",
            marker_color=BUCKET_COLOURS[i % len(BUCKET_COLOURS)],
            hovertext=hover,
            hoverinfo="text",
        )
    extended = pd.to_datetime(rows["max_end_date"]) > pd.to_datetime(rows["end_date"])
    if extended.any():
        start = pd.to_datetime(rows.loc[extended, "end_date"]).clip(lower=axis_start)
        end = pd.to_datetime(rows.loc[extended, "max_end_date"])
        colour = [
            BUCKET_COLOURS[buckets.index(b) % len(BUCKET_COLOURS)] if b in buckets else INK for b in rows.loc[extended, "bucket"]
        ]
        fig.add_bar(
            y=[labels[j] for j in range(len(rows)) if extended.iloc[j]],
            base=start.dt.strftime("%Y-%m-%d"),
            x=(end - start).dt.total_seconds() * 1000,
            orientation="h",
            name="Extension option (hatched)",
            marker=dict(
                color="white", line=dict(color=colour, width=1.5), pattern=dict(shape="/", fgcolor=colour, size=8, solidity=0.4)
            ),
            hovertemplate="%{y}<br>Extension option to %{customdata}<extra></extra>",
            customdata=[f"{m:%d %b %Y}" for m in end],
        )
    right = pd.to_datetime(rows["max_end_date"]).max() if len(rows) else today_ts + pd.DateOffset(months=24)
    fig.add_vline(x=today_ts.timestamp() * 1000, line_dash="dash", line_color=TARGET, line_width=2)
    fig.add_annotation(
        x=today_ts.timestamp() * 1000,
        y=1,
        yref="paper",
        text="Today",
        showarrow=False,
        yanchor="bottom",
        font=dict(color=TARGET, size=15),
    )
    fig.update_layout(
        barmode="overlay",
        title=title,
        height=max(420, 30 * len(rows) + 200),
        bargap=0.3,
        yaxis=dict(automargin=True, tickfont_size=14, categoryorder="array", categoryarray=labels),
        legend=dict(y=-0.04 if len(rows) > 20 else -0.1),
        margin=dict(l=10, r=20, t=80, b=10),
    )
    fig.update_xaxes(
        type="date", range=[axis_start, right + pd.DateOffset(months=2)], tickformat="%b %Y", showgrid=True, gridcolor=GRID
    )
    fig.update_layout(meta={"kind": "timeline"})
    return fig


def workload_heatmap(df: pd.DataFrame, quarters: list[str], measure: str, title: str) -> go.Figure:
    """Category managers (rows, "Unassigned" last) by financial-year quarter (columns), coloured and
    labelled by ``measure``: ``count_contracts``, ``value_gbp`` or ``effort``."""
    managers = list(dict.fromkeys(df.sort_values(["is_unassigned", "category_manager"])["category_manager"])) if len(df) else []
    table = df.pivot_table(index="category_manager", columns="quarter", values=measure, aggfunc="sum") if len(df) else None
    z = [[(None if table is None else table.get(q, pd.Series(dtype=float)).get(m)) for q in quarters] for m in managers]
    z = [[None if v is None or v != v else float(v) for v in row] for row in z]

    def text(v: float | None) -> str:
        if v is None:
            return ""
        return gbp(v) if measure == "value_gbp" else f"{v:,.0f}" if measure == "count_contracts" else f"{v:,.1f}"

    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=quarters,
            y=managers,
            text=[[text(v) for v in row] for row in z],
            texttemplate="%{text}",
            textfont=dict(size=16),
            colorscale="Blues",
            hoverongaps=False,
            xgap=3,
            ygap=3,
            colorbar=dict(
                title=dict(text={"count_contracts": "Contracts", "value_gbp": "Value", "effort": "Effort"}[measure]),
                tickfont_size=14,
            ),
            hovertemplate="%{y}<br>%{x}: %{text}<extra></extra>",
        )
    )
    fig.update_layout(
        title=title,
        height=max(360, 52 * len(managers) + 190),
        margin=dict(l=10, r=10, t=110, b=10),
        yaxis=dict(autorange="reversed", automargin=True, tickfont_size=15, showgrid=False),
        xaxis=dict(side="top", tickfont_size=15),
        plot_bgcolor="white",
    )
    fig.update_layout(
        meta={
            "unit": "gbp" if measure == "value_gbp" else "count",
            "measure": {
                "count_contracts": "re-procurements to start",
                "value_gbp": "value of re-procurements to start",
                "effort": "weighted effort",
            }[measure],
        }
    )
    return fig


# --- spend cube and benchmarking -------------------------------------------------------------------
# Charts of the spend and benchmarking pages. Those that filter the page when clicked carry each
# point's key in customdata (bars) or in the box id (treemap); starviz.cube reads them back.

FADED = 0.3


def _measure_text(unit: str, value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return gbp(value) if unit == "gbp" else f"{value:,.0f}"


def _tint(colour: str, amount: float = 0.55) -> str:
    """A lighter shade of a #RRGGBB colour (mixed with white)."""
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return "#{:02X}{:02X}{:02X}".format(*(round(c + (255 - c) * amount) for c in (r, g, b)))


def _wrap_label(text: str, width: int = 13, most: int = 4) -> str:
    """Break a long label into at most ``most`` lines of about ``width`` characters, the last cut
    with an ellipsis if need be (Plotly never wraps text, and hides a label that does not fit its box:
    narrow lines let a small box keep its name)."""
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    if len(lines) > most:
        lines = lines[:most]
        lines[-1] = lines[-1].rstrip(" ,&-") + "…"
    return "<br>".join(lines)


def category_supplier_treemap(df: pd.DataFrame, ids, selected: str | None = None) -> go.Figure:
    """Spend by category, or, when ``df`` holds one category, by supplier within it. Boxes are sized by
    spend and named by ``ids(category, supplier_key, other)`` so that a click can be read back: a click
    on a category narrows the page (and this chart) to its suppliers. Boxes other than the ``selected``
    id fade. Net credits cannot be drawn as areas, so a box paid less than nothing counts as zero."""
    named = df[df["category"].notna()]
    one_category = named["category"].nunique() == 1 and len(named) == len(df)
    labels, names, parents, values, box_ids, text, colours = [], [], [], [], [], [], []

    def box(label: str, parent: str, value: float, box_id: str, colour: str) -> None:
        labels.append(_wrap_label(label))
        names.append(label)  # whole, for the hover
        parents.append(parent)
        values.append(max(float(value), 0.0))
        box_ids.append(box_id)
        text.append(gbp(value))
        colours.append(colour)

    if one_category:
        category = named["category"].iloc[0]
        total = float(df["spend_gbp"].sum())
        shown = df[df["supplier_key"].notna()]
        for n, row in enumerate(shown.itertuples()):
            name = row.supplier_name if isinstance(row.supplier_name, str) else "Redacted or unnamed payee"
            box(name, "", row.spend_gbp, ids(category, row.supplier_key, False), FILLS[n % len(FILLS)])
        rest = df[df["supplier_key"].isna()]
        title = f"Largest suppliers in {category}"
        if len(rest):
            title += (
                f"<br><sup>{gbp(shown['spend_gbp'].sum())} of {gbp(total)}; the other "
                f"{int(rest['count_suppliers'].sum()):,} suppliers, {gbp(rest['spend_gbp'].sum())}, are not drawn</sup>"
            )
    else:
        totals = df.groupby("category", sort=False, dropna=False)["spend_gbp"].sum()
        for n, (category, value) in enumerate(totals.items()):
            if isinstance(category, str):
                box(category, "", value, ids(category, None, False), FILLS[n % len(FILLS)])
            else:
                box("Other categories", "", value, "other-categories", _tint(INK, 0.6))
        title = "Spend by category: click one to see its suppliers"
    if selected is not None:  # the selected box keeps its colour, the others fade
        colours = [c if i == selected else _tint(c, 0.7) for c, i in zip(colours, box_ids, strict=True)]
    fig = go.Figure(
        go.Treemap(
            ids=box_ids,
            labels=labels,
            parents=parents,
            values=values,
            branchvalues="total",
            text=text,
            marker=dict(colors=colours, line=dict(color="white", width=2)),
            texttemplate="<b>%{label}</b><br>%{text}",
            textfont=dict(size=17),
            customdata=names,
            hovertemplate="%{customdata}<br>%{text}<extra></extra>",
            tiling=dict(pad=3),
            pathbar=dict(visible=False),
            root=dict(color="white"),
        )
    )
    # a label too small to read on a projector is hidden rather than shrunk; hovering still names the box
    fig.update_layout(
        title=title,
        margin=dict(l=4, r=4, t=90 if "<br>" in title else 60, b=4),
        height=560,
        uniformtext=dict(minsize=13, mode="hide"),
    )
    fig.update_layout(meta={"unit": "gbp", "measure": "spend"})
    return fig


def cube_trend(
    df: pd.DataFrame,
    colours: dict[str, str],
    measure: str,
    label: str,
    unit: str,
    additive: bool,
    selected_month: str | None = None,
    selected_council: str | None = None,
) -> go.Figure:
    """The measure month by month: stacked bars per council when it adds up (spend, lines), a line per
    council when it does not (suppliers, average line value). Each bar carries its council id and
    month for the click; bars outside the selection fade."""
    fig = go.Figure()
    for council, part in df.groupby("council", sort=False):
        months = pd.to_datetime(part["month"])
        keys = months.dt.strftime("%Y-%m-%d")
        custom = [[cid, k] for cid, k in zip(part["council_id"], keys, strict=True)]
        hover = [f"{m:%b %Y}<br>{council}: {_measure_text(unit, v)}" for m, v in zip(months, part[measure], strict=True)]
        if additive:
            chosen = [
                (selected_month is None or k == selected_month) and (selected_council is None or cid == selected_council)
                for cid, k in zip(part["council_id"], keys, strict=True)
            ]
            fig.add_bar(
                x=months,
                y=part[measure],
                name=council,
                marker_color=colours.get(council),
                marker_opacity=[1.0 if c else FADED for c in chosen],
                customdata=custom,
                hovertext=hover,
                hovertemplate="%{hovertext}<extra></extra>",
            )
        else:
            fig.add_scatter(
                x=months,
                y=part[measure],
                name=council,
                mode="lines+markers",
                line=dict(color=colours.get(council), width=3),
                marker=dict(size=9),
                customdata=custom,
                hovertext=hover,
                hovertemplate="%{hovertext}<extra></extra>",
            )
    fig.update_layout(
        barmode="relative",
        title=f"{label} by month",
        xaxis_title=None,
        yaxis_title=None,
        bargap=0.15,
        showlegend=True,
        height=560,
        clickmode="event+select",
    )
    if selected_month and not additive:
        fig.add_vline(x=selected_month, line_color=TARGET, line_dash="dot")
    fig.update_xaxes(tickformat="%b %Y")
    if len(df):
        totals = df.groupby("month")[measure].sum() if additive else df[measure]
        if unit == "gbp":
            _gbp_axis(fig, totals)
        else:
            fig.update_yaxes(tickformat=",d", rangemode="tozero")
    fig.update_layout(meta={"unit": unit, "measure": label.lower(), "additive": additive})
    return fig


def excluded_by_reason(
    df: pd.DataFrame, colours: dict[str, str], title: str = "Spend outside addressable spend, by reason"
) -> go.Figure:
    """Horizontal bars per exclusion reason, one segment per council."""
    fig = go.Figure()
    reasons = list(dict.fromkeys(df["exclusion_reason"]))[::-1]
    for council, part in df.groupby("council", sort=False):
        fig.add_bar(
            y=part["exclusion_reason"],
            x=part["spend_gbp"],
            name=council,
            orientation="h",
            marker_color=colours.get(council),
            customdata=[gbp(v) for v in part["spend_gbp"]],
            hovertemplate="%{y}<br>" + council + ": %{customdata}<extra></extra>",
        )
    fig.update_layout(
        barmode="relative",
        title=title,
        yaxis=dict(categoryorder="array", categoryarray=reasons),
        height=max(300, 90 + 70 * len(reasons)),
        showlegend=True,
    )
    if len(df):
        _gbp_axis(fig, df.groupby("exclusion_reason")["spend_gbp"].sum(), axis="xaxis")
    fig.update_layout(meta={"unit": "gbp", "measure": "spend outside addressable spend", "additive": True})
    return fig


def supplier_categories(df: pd.DataFrame, title: str = "What the supplier is paid for") -> go.Figure:
    """Horizontal bars of spend by category, largest at the top."""
    part = df.head(12).iloc[::-1]
    fig = go.Figure(
        go.Bar(
            y=part["category"],
            x=part["spend_gbp"],
            orientation="h",
            marker_color=PALETTE[0],
            text=[gbp(v) for v in part["spend_gbp"]],
            textposition="auto",
            hovertemplate="%{y}<br>%{text}<extra></extra>",
        )
    )
    fig.update_layout(title=title, height=max(260, 90 + 44 * len(part)), showlegend=False)
    if len(part):
        _gbp_axis(fig, part["spend_gbp"], axis="xaxis")
    fig.update_layout(meta={"unit": "gbp", "measure": "spend"})
    return fig


def benchmark_ranked(ranked: pd.DataFrame, colours: dict[str, str], columns: int = 2) -> go.Figure:
    """Small multiples, one per measure: councils as horizontal bars, best at the top, each labelled
    with its value and its gap to the best partner."""
    from plotly.subplots import make_subplots

    measures = list(dict.fromkeys(ranked["measure"])) if len(ranked) else []
    rows = max(1, math.ceil(len(measures) / columns))
    titles = [ranked.loc[ranked["measure"] == m, "label"].iloc[0] for m in measures]
    fig = make_subplots(
        rows=rows, cols=columns, subplot_titles=titles or [""], horizontal_spacing=0.16, vertical_spacing=0.35 / rows
    )
    for i, measure in enumerate(measures):
        part = ranked[ranked["measure"] == measure].sort_values(["rank", "council"], ascending=[False, False])
        r, c = i // columns + 1, i % columns + 1
        fig.add_bar(
            y=part["council"],
            x=part["value"].clip(lower=0),
            orientation="h",
            row=r,
            col=c,
            width=0.7,
            marker_color=[colours.get(x) for x in part["council"]],
            showlegend=False,
            text=[f"{v} · {g}" for v, g in zip(part["value_text"], part["gap_short"], strict=True)],
            textposition="outside",
            cliponaxis=False,
            textfont=dict(size=15),
            customdata=part[["rank", "gap_text"]],
            hovertemplate="%{y}: rank %{customdata[0]}<br>%{text}<br>%{customdata[1]}<extra></extra>",
        )
        top = float(part["value"].max()) if len(part) else 1.0
        fig.update_xaxes(row=r, col=c, showticklabels=False, showgrid=False, ticks="", range=[0, top * 1.9 if top > 0 else 1])
        fig.update_yaxes(row=r, col=c, tickfont=dict(size=15))
    for annotation in fig.layout.annotations:
        annotation.font = dict(size=17, color=INK)
        annotation.x = annotation.x - 0.2 / columns
        annotation.xanchor = "left"
    fig.update_layout(
        height=120 + 200 * rows, margin=dict(l=10, r=10, t=60, b=10), bargap=0.25, title="Each measure ranked, best partner first"
    )
    fig.update_layout(meta={"kind": "ranked"})
    return fig


def category_mix(df: pd.DataFrame, title: str = "Category mix: each council's spend by category") -> go.Figure:
    """A heatmap of each council's share of its spend per category (the same categories for all)."""
    categories = list(dict.fromkeys(df["category"]))
    councils = list(dict.fromkeys(df["council"]))
    grid = df.pivot_table(index="category", columns="council", values="spend_share", aggfunc="sum")
    grid = grid.reindex(index=categories, columns=councils)
    text = [[pct(v) if not pd.isna(v) else "–" for v in row] for row in grid.to_numpy()]
    fig = go.Figure(
        go.Heatmap(
            z=grid.to_numpy(),
            x=councils,
            y=categories,
            text=text,
            texttemplate="%{text}",
            textfont=dict(size=15),
            colorscale=[[0, "#F4F7FA"], [1, PALETTE[0]]],
            showscale=False,
            xgap=2,
            ygap=2,
            hovertemplate="%{y}<br>%{x}: %{text} of its spend<extra></extra>",
        )
    )
    fig.update_layout(
        title=title,
        height=140 + 40 * len(categories),
        yaxis=dict(autorange="reversed"),
        xaxis=dict(side="top", showline=False),
        margin=dict(l=10, r=10, t=100, b=10),
    )
    fig.update_layout(meta={"unit": "share", "measure": "share of each council's spend"})
    return fig


def _escape_data_in_every_chart() -> None:
    """Text from data is shown as text: every chart function takes its arguments through
    ``escape.plotly`` (Plotly renders <a>, <b>, <br> in any label) before adding markup of its own."""
    plain = {"gbp", "pct", "for_screen"}
    for name, value in list(globals().items()):
        if callable(value) and getattr(value, "__module__", None) == __name__ and not name.startswith("_") and name not in plain:
            globals()[name] = escape.plotly_args(value)


_escape_data_in_every_chart()
