"""Charts of the data quality page."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from starviz import fmt
from starviz.charts.style import (
    GRID,
    INK,
    PALETTE,
    escape_public,
    gbp_axis,
    month_axis,
    shared_per_answer,
)
from starviz.fmt import gbp, pct
from starviz.nodata import NO_DATA
from starviz.scope import month_ranges

# --- data quality --------------------------------------------------------------------------------

MISSING = "#B3001B"  # a missing month: red cross, distinct from every shade of the blue scale
PARTIAL = "#B25E00"  # a partial latest month: an amber ring, distinct from the red cross and the blue scale


@shared_per_answer
def coverage_heatmap(df: pd.DataFrame, title: str = "Rows loaded per council per month"):
    """Councils down, months across, shade = rows loaded; a missing month is a red cross on white, a
    partial latest month an amber ring, its hover and the alt text giving the last payment.

    ``df``: council, month, count_rows, count_files, is_missing, and where known is_partial and note
    (one row per council and month; ``queries.coverage``, whose note is the overview's words).
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
    partial = df[df["is_partial"].fillna(False).astype(bool)] if len(df) and "is_partial" in df else df.iloc[0:0]
    if len(partial):
        fig.add_scatter(
            x=partial["month"],
            y=partial["council"],
            mode="markers",
            name="Partial month",
            marker=dict(symbol="circle-open", size=22, color=PARTIAL, line=dict(width=3, color=PARTIAL)),
            text=[_coverage_hover(r.council, r.month, r) for r in partial.itertuples(index=False)],
            hovertemplate="%{text}<extra></extra>",
        )
    # what the marks flag, for the alt text (the shading alone says only the most rows)
    notes = (
        [f"Partial months: {'; '.join(f'{r.council}, {r.note}' for r in partial.itertuples(index=False))}."]
        if len(partial)
        else []
    )
    if len(missing):
        # as runs per council ("Stockport Oct 2014 – Mar 2026"), not one by one: all years can miss 138
        runs = [
            f"{council} {month_ranges(pd.Timestamp(m).date() for m in part['month'])}"
            for council, part in missing.groupby("council", sort=False)
        ]
        notes.append(f"Missing months: {'; '.join(runs)}.")
    fig.update_layout(
        title=title,
        height=max(260, 90 + 52 * len(councils)),
        showlegend=bool(len(missing) or len(partial)),
        plot_bgcolor="white",
        # above the grid: under it, the legend ran into month labels turned on a narrow page
        legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="right", x=1),
        margin=dict(t=90),
    )
    month_axis(fig, months)
    fig.update_xaxes(showgrid=False)
    fig.update_yaxes(autorange="reversed", showgrid=False, zeroline=False)
    fig.update_layout(meta={"unit": "count", "measure": "rows loaded", "notes": notes})
    return fig


def _coverage_hover(council: str, month, row) -> str:
    label = f"{council}: {pd.Timestamp(month):%b %Y}"
    if row is None or not row.count_rows:
        return f"{label}<br>missing" if row is not None and row.is_missing else f"{label}<br>no rows"
    text = f"{label}<br>{fmt.count(row.count_rows, 'row')} from {fmt.count(row.count_files, 'file')}"
    return text + f"<br>{row.note}" if bool(getattr(row, "is_partial", False)) else text


def unclassified_by_council(df: pd.DataFrame, title: str = "Spend without its own ProClass category, by how it was classified"):
    """Per council: share of spend with no category, and shares classified only from the supplier or
    from the council's expense type (the lower tiers; the rest carries the council's own code)."""
    fig = go.Figure()
    for tier, name, colour, says in (
        ("unclassified", "No category", PALETTE[1], "has no category"),
        ("from_supplier", "Category taken from the supplier's other lines", PALETTE[5], "classified from the supplier"),
        ("from_expense_type", "Category from the council's expense type", PALETTE[2], "classified from the expense type"),
    ):
        if f"{tier}_share" not in df:
            continue
        fig.add_bar(
            y=df["council"],
            x=df[f"{tier}_share"],
            orientation="h",
            name=name,
            marker_color=colour,
            text=["" if pd.isna(v) else pct(v) for v in df[f"{tier}_share"]],  # "no data" said once, below
            textposition="outside",
            customdata=[gbp(v) for v in df[f"{tier}_gbp"]],
            hovertemplate="%{y}: %{text} (%{customdata} net) " + says + "<extra></extra>",
        )
    # a council with no spend counted in the period has no bars, and says so where they would be (not 0%)
    columns = [c for c in ("unclassified_share", "from_supplier_share", "from_expense_type_share") if c in df]
    for council in df.loc[df[columns].isna().all(axis=1), "council"] if columns else []:
        fig.add_annotation(x=0, y=council, text=NO_DATA, showarrow=False, xanchor="left", xshift=6, font=dict(color=INK))
    top = max([0.05, *(v for c in columns for v in df[c].dropna())])
    fig.update_layout(
        title=title,
        barmode="group",
        height=max(320, 170 + 70 * len(df)),
        bargap=0.25,
        legend=dict(y=1.0, yanchor="bottom"),
        margin=dict(t=130),  # the legend wraps to two rows: room for it under the title
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
    gbp_axis(fig, totals, axis="xaxis")
    fig.update_xaxes(showgrid=True, gridcolor=GRID)
    fig.update_layout(meta={"unit": "gbp", "measure": "excluded spend", "additive": True})
    return fig


escape_public(globals())
