"""Charts of the collaboration and contract pipeline pages."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from starviz.charts.style import (
    GRID,
    INK,
    TARGET,
    escape_public,
    gbp_axis,
    money_bar,
    month_axis,
    nothing_to_show,
    shared_per_answer,
    short,
)
from starviz.fmt import gbp

# --- collaboration and contract pipeline ---------------------------------------------------------

BUCKET_COLOURS = ["#D55E00", "#E69F00", "#CC79A7", "#56B4E9", "#0072B2"]  # urgent (warm) to distant (cool)


def stacked_by_council(
    df: pd.DataFrame, label: str, council_columns: dict[str, str], colours: dict[str, str], title: str, top: int = 15
) -> go.Figure:
    """Horizontal bars of the ``top`` rows (in the frame's order), stacked by council: one column of
    the frame per council (``council_columns``: column -> council name). A council with nothing in
    the rows shown (one awaiting its first file) draws no series and has no place in the legend.
    When the frame has more rows, ``meta.shown`` says how many of how many are drawn."""
    rows = df.head(top).iloc[::-1]
    labels = [short(v, 42) for v in rows[label]]
    fig = go.Figure()
    for column, council in council_columns.items():
        values = rows[column].fillna(0).astype(float)
        if not values.ne(0).any():
            continue
        money_bar(fig, council, colours.get(council), labels, values, horizontal=True)
    fig.update_layout(
        barmode="stack",
        title=title,
        height=max(360, 34 * len(rows) + 170),
        bargap=0.25,
        legend_traceorder="normal",
        yaxis=dict(automargin=True, tickfont_size=15),
        margin=dict(l=10, r=20, t=70, b=10),
    )
    noun = {"supplier_name": "suppliers", "category": "categories"}.get(label, "rows")
    shown = f"The {len(rows)} largest of {len(df):,} {noun} by combined spend" if len(df) > len(rows) else ""
    fig.update_layout(meta={"unit": "gbp", "measure": "spend", "additive": True, "shown": shown})
    if not fig.data:
        return nothing_to_show(fig)
    gbp_axis(fig, rows[list(council_columns)].fillna(0).sum(axis=1), axis="xaxis")
    return fig


TIMELINE_TITLE = "The largest contracts by value, by end date"


@shared_per_answer
def contract_timeline(df: pd.DataFrame, today, buckets: list[str], top_n: int, title: str = TIMELINE_TITLE) -> go.Figure:
    """Gantt of the ``top_n`` largest contracts by value, most urgent at the top: the term coloured by
    how soon the contract is due, the extension options hatched to the maximum end date, and today.
    How many it shows is said once, in ``meta.shown`` (the page's caption and every export's
    subtitle read it), never in the title: an export too small to label them all shows fewer and
    says so in its subtitle, which a count in the title would contradict."""
    if not len(df):  # no empty axes: an empty chart says so
        fig = nothing_to_show(go.Figure(), "Nothing to show: no contracts in scope")
        fig.update_layout(title=title, meta={"kind": "timeline", "rank": [], "ranked_by": "value", "shown": ""})
        return fig
    rows = df.nlargest(top_n, "value_gbp")
    rows = rows.sort_values(["due_date", "value_gbp"], ascending=[False, True])
    today_ts = pd.Timestamp(today)
    axis_start = today_ts - pd.DateOffset(months=12)
    labels = [
        f"{short(t, 34)} · {str(c).split(' (')[0]} {r}"
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
    # At most 6 dates: the bars' labels take half the width, and on a 1280-wide slide 10 dates turned
    # and ran into each other.
    month_axis(fig, [axis_start, right + pd.DateOffset(months=2)], most=6)
    fig.update_xaxes(range=[axis_start, right + pd.DateOffset(months=2)], showgrid=True, gridcolor=GRID)
    ranked = rows.sort_values("value_gbp", ascending=False).index
    by_value = [labels[rows.index.get_loc(i)] for i in ranked]
    shown = (
        f"The {len(rows)} largest of {len(df):,} contracts by value"
        if len(rows) < len(df)
        else f"All {len(df):,} contracts"
        if len(df) != 1
        else "The one contract"
    )
    fig.update_layout(meta={"kind": "timeline", "rank": by_value, "ranked_by": "value", "shown": shown})
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
    if not managers:  # no empty grid of quarters: an empty chart says so
        nothing_to_show(fig, "Nothing to show: no re-procurement to start")
        fig.update_layout(xaxis=dict(visible=False), yaxis=dict(visible=False))
    return fig


escape_public(globals())
