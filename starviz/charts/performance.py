"""Charts of the social value, KPI and maturity pages, and the Board's scorecard."""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go

from starviz.charts.style import (
    GRID,
    INK,
    PALETTE,
    TARGET,
    escape_public,
    gbp_axis,
    money_bar,
    month_axis,
    rgba,
    shared_per_answer,
    short,
    wrap,
)
from starviz.fmt import gbp, in_unit, pct

# --- social value, KPIs and maturity (issue 6) ---------------------------------------------------

RAG_COLOURS = {"green": "#009E73", "amber": "#E69F00", "red": "#D55E00", "none": "#9AA5B1"}
COMMITTED, DELIVERED = PALETTE[0], PALETTE[2]


@shared_per_answer
def social_value_vs_target(df: pd.DataFrame, target: float | None, title: str, top: int = 15) -> go.Figure:
    """Committed and delivered-to-date social value as a share of contract value, one pair of bars per
    row (council, theme, category, supplier or contract), against the target line."""
    rows = df.head(top).iloc[::-1]  # first row at the top
    names = [short(n) for n in rows["name"]]
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


@shared_per_answer
def social_value_by_quarter(df: pd.DataFrame, title: str = "Social value by quarter") -> go.Figure:
    """Committed (on contracts starting in the quarter) and delivered (in the quarter) per quarter, with
    the target on the contracts awarded (each year's target share of their value)."""
    fig = go.Figure()
    money_bar(fig, "Committed on contracts starting in the quarter", COMMITTED, df["label"], df["committed_gbp"])
    money_bar(fig, "Delivered in the quarter", DELIVERED, df["label"], df["delivered_gbp"])
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
    gbp_axis(fig, values)
    fig.update_layout(meta={"unit": "gbp", "measure": "social value", "additive": False})
    return fig


def _kpi_axis(fig: go.Figure, unit: str, values: pd.Series, row: int, col: int) -> None:
    axis = fig.get_subplot(row, col).yaxis.plotly_name  # e.g. "yaxis3"
    if unit == "gbp":
        gbp_axis(fig, values, axis)
    elif unit == "percent":
        fig.update_layout({axis: dict(ticksuffix="%")})
    else:
        fig.update_layout({axis: dict(tickformat=",.0f")})


@shared_per_answer
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
        titles.append(f"<b>{short(name, 44)}</b>")
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=titles or [""], vertical_spacing=0.5 / rows, horizontal_spacing=0.07)
    for k, (code, shared) in enumerate(keys):
        r, c = k // cols + 1, k % cols + 1
        part = df[(df["kpi_code"] == code) & (df["is_shared_service"] == shared)]
        unit = part["unit"].iloc[-1]
        shown = [in_unit(v, unit) for v in part["value"]]
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
                customdata=[in_unit(v, unit) for v in part["target"]],
                hovertemplate="%{x|%b %Y} target: %{customdata}<extra></extra>",
                row=r,
                col=c,
            )
        _kpi_axis(fig, unit, pd.concat([part["value"], part["target"]]).dropna(), r, c)
        month_axis(fig, part["month"], most=4, tickformat="%b %y", row=r, col=c)
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


def maturity_radar(df: pd.DataFrame, levels: pd.DataFrame, colour: str, title: str) -> go.Figure:
    """One council's current maturity against its target in every key area and enabler (levels 1-5),
    with the level recorded at the assessment before."""
    areas = [wrap(a, 24) for a in df["area"]]
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
        fillcolor=rgba(colour, 0.25),
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
            y=[short(a, 42) for a in areas],
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


_RAG_FILL = {"green": "#D7F0E6", "amber": "#FBEBCB", "red": "#F8DCCB"}


_MARKS = "¹²³⁴⁵⁶⁷⁸⁹"


def _changes_marked(changes: list[str]) -> tuple[list[str], list[str]]:
    """Changes over only some councils ("+4.0 pp over Rochdale, Stockport, Tameside and Trafford")
    as the change and a mark ("+4.0 pp ¹"), with one footnote per set of councils ("¹ Over Rochdale,
    …: the councils that reported it in both months."): a Plotly table does not wrap to its column,
    and four councils' names in the cell ran over a Board slide's row."""
    marks: dict[str, str] = {}
    cells = []
    for text in changes:
        change, over, who = text.partition(" over ")
        if not over:
            cells.append(text)
            continue
        mark = marks.setdefault(who, _MARKS[min(len(marks), len(_MARKS) - 1)])
        cells.append(f"{change} {mark}")
    notes = [f"{mark} Over {who}: the councils that reported it in both months." for who, mark in marks.items()]
    return cells, notes


def scorecard_table(df: pd.DataFrame, title: str, rows: int | None = 12) -> go.Figure:
    """The balanced scorecard as a figure (for slides and images): KPI, value, target and status,
    the status cell tinted by RAG; a change over only some councils marked, the councils in a
    footnote under the table. At most ``rows`` KPIs (None: all), and then says how many of how many."""
    part = (df if rows is None else df.head(rows)).copy()
    status = part.get("Status", pd.Series(dtype=str)).astype(str)
    fills = [_RAG_FILL.get(v.lower().split()[0] if v else "", "white") for v in status]
    columns = [c for c in ("Group", "KPI", "Value", "Target", "Status", "On last month") if c in part.columns]
    notes: list[str] = []
    if "On last month" in part.columns:
        cells, notes = _changes_marked(part["On last month"].astype(str).tolist())
        part["On last month"] = cells
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
    shown = f"The first {len(part)} of {len(df)} KPIs" if len(part) < len(df) else ""
    fig.update_layout(meta={"kind": "table", "shown": shown})
    if notes:  # under the table, in the figure, so the slide, the Board pack and every image keep them
        fig.update_traces(domain=dict(y=[min(0.3, 0.07 * len(notes) + 0.02), 1]))
        fig.add_annotation(
            text="<br>".join(notes),
            x=0,
            y=0,
            xref="paper",
            yref="paper",
            xanchor="left",
            yanchor="bottom",
            showarrow=False,
            align="left",
        )
    return fig


escape_public(globals())
