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


# --- collaboration and contract pipeline ---------------------------------------------------------

BUCKET_COLOURS = ["#D55E00", "#E69F00", "#CC79A7", "#56B4E9", "#0072B2"]  # urgent (warm) to distant (cool)


def _clip(text: object, limit: int) -> str:
    text = "" if text is None or text != text else str(text)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def stacked_by_council(df: pd.DataFrame, label: str, council_columns: dict[str, str], colours: dict[str, str],
                       title: str, top: int = 15) -> go.Figure:
    """Horizontal bars of the ``top`` rows (in the frame's order), stacked by council: one column of
    the frame per council (``council_columns``: column -> council name)."""
    rows = df.head(top).iloc[::-1]
    labels = [_clip(v, 42) for v in rows[label]]
    fig = go.Figure()
    for column, council in council_columns.items():
        values = rows[column].fillna(0).astype(float)
        fig.add_bar(y=labels, x=values, name=council, orientation="h", marker_color=colours.get(council),
                    customdata=[gbp(v) for v in values], hovertemplate="%{y}<br>" + council + ": %{customdata}<extra></extra>")
    fig.update_layout(barmode="stack", title=title, height=max(360, 34 * len(rows) + 170), bargap=0.25,
                      legend_traceorder="normal",
                      yaxis=dict(automargin=True, tickfont_size=15), margin=dict(l=10, r=20, t=70, b=10))
    totals = rows[list(council_columns)].fillna(0).sum(axis=1) if len(rows) else pd.Series(dtype=float)
    _gbp_axis(fig, totals, axis="xaxis")
    return fig


def contract_timeline(df: pd.DataFrame, today, buckets: list[str], top_n: int,
                      title: str = "Contracts by end date") -> go.Figure:
    """Gantt of the ``top_n`` largest contracts by value, most urgent at the top: the term coloured by
    how soon the contract is due, the extension options hatched to the maximum end date, and today."""
    rows = df.nlargest(top_n, "value_gbp") if len(df) else df
    rows = rows.sort_values(["due_date", "value_gbp"], ascending=[False, True])
    today_ts = pd.Timestamp(today)
    axis_start = today_ts - pd.DateOffset(months=12)
    labels = [f"{_clip(t, 34)} · {str(c).split(' (')[0]} {r}" for t, c, r in
              zip(rows["contract_title"], rows["council"], rows["contract_ref"], strict=True)]
    fig = go.Figure()
    for i, bucket in enumerate(buckets):
        part = rows["bucket"] == bucket
        if not part.any():
            continue
        start = pd.to_datetime(rows.loc[part, "start_date"]).clip(lower=axis_start)
        end = pd.to_datetime(rows.loc[part, "end_date"])
        end = end.where(end > start, start + pd.Timedelta(days=1))
        hover = [f"<b>{t}</b><br>{c} · {r}<br>Value {gbp(v)}<br>{s:%d %b %Y} to {e:%d %b %Y}"
                 f"{'' if m <= e else f' (may run to {m:%d %b %Y})'}<br>Due {d:%d %b %Y}: {bucket}"
                 for t, c, r, v, s, e, m, d in zip(
                     rows.loc[part, "contract_title"], rows.loc[part, "council"], rows.loc[part, "contract_ref"],
                     rows.loc[part, "value_gbp"], pd.to_datetime(rows.loc[part, "start_date"]),
                     pd.to_datetime(rows.loc[part, "end_date"]), pd.to_datetime(rows.loc[part, "max_end_date"]),
                     pd.to_datetime(rows.loc[part, "due_date"]), strict=True)]
        fig.add_bar(y=[labels[j] for j in range(len(rows)) if part.iloc[j]], base=start.dt.strftime("%Y-%m-%d"),
                    x=(end - start).dt.total_seconds() * 1000, orientation="h", name=f"Due in {bucket}",
                    marker_color=BUCKET_COLOURS[i % len(BUCKET_COLOURS)], hovertext=hover, hoverinfo="text")
    extended = pd.to_datetime(rows["max_end_date"]) > pd.to_datetime(rows["end_date"])
    if extended.any():
        start = pd.to_datetime(rows.loc[extended, "end_date"]).clip(lower=axis_start)
        end = pd.to_datetime(rows.loc[extended, "max_end_date"])
        colour = [BUCKET_COLOURS[buckets.index(b) % len(BUCKET_COLOURS)] if b in buckets else INK
                  for b in rows.loc[extended, "bucket"]]
        fig.add_bar(y=[labels[j] for j in range(len(rows)) if extended.iloc[j]], base=start.dt.strftime("%Y-%m-%d"),
                    x=(end - start).dt.total_seconds() * 1000, orientation="h", name="Extension option (hatched)",
                    marker=dict(color="white", line=dict(color=colour, width=1.5),
                                pattern=dict(shape="/", fgcolor=colour, size=8, solidity=0.4)),
                    hovertemplate="%{y}<br>Extension option to %{customdata}<extra></extra>",
                    customdata=[f"{m:%d %b %Y}" for m in end])
    right = pd.to_datetime(rows["max_end_date"]).max() if len(rows) else today_ts + pd.DateOffset(months=24)
    fig.add_vline(x=today_ts.timestamp() * 1000, line_dash="dash", line_color=TARGET, line_width=2)
    fig.add_annotation(x=today_ts.timestamp() * 1000, y=1, yref="paper", text="Today", showarrow=False,
                       yanchor="bottom", font=dict(color=TARGET, size=15))
    fig.update_layout(barmode="overlay", title=title, height=max(420, 30 * len(rows) + 200), bargap=0.3,
                      yaxis=dict(automargin=True, tickfont_size=14, categoryorder="array", categoryarray=labels),
                      legend=dict(y=-0.04 if len(rows) > 20 else -0.1), margin=dict(l=10, r=20, t=80, b=10))
    fig.update_xaxes(type="date", range=[axis_start, right + pd.DateOffset(months=2)], tickformat="%b %Y",
                     showgrid=True, gridcolor=GRID)
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

    fig = go.Figure(go.Heatmap(
        z=z, x=quarters, y=managers, text=[[text(v) for v in row] for row in z], texttemplate="%{text}",
        textfont=dict(size=16), colorscale="Blues", hoverongaps=False, xgap=3, ygap=3,
        colorbar=dict(title=dict(text={"count_contracts": "Contracts", "value_gbp": "Value", "effort": "Effort"}[measure]),
                      tickfont_size=14),
        hovertemplate="%{y}<br>%{x}: %{text}<extra></extra>",
    ))
    fig.update_layout(title=title, height=max(360, 52 * len(managers) + 190), margin=dict(l=10, r=10, t=110, b=10),
                      yaxis=dict(autorange="reversed", automargin=True, tickfont_size=15, showgrid=False),
                      xaxis=dict(side="top", tickfont_size=15), plot_bgcolor="white")
    return fig
