"""Charts of the overview, spend and benchmarking pages."""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go

from starviz.charts.style import (
    FILLS,
    INK,
    PALETTE,
    TARGET,
    escape_public,
    gbp_axis,
    money_bar,
    month_axis,
    shared_per_answer,
    tint,
    wrap,
)
from starviz.fmt import gbp, in_unit, pct
from starviz.nodata import NO_DATA


def spend_by_council_month(df: pd.DataFrame, colours: dict[str, str], title: str = "Spend by council by month"):
    """Stacked monthly bars, one colour per council."""
    fig = go.Figure()
    for council, part in df.groupby("council", sort=False):
        money_bar(fig, council, colours.get(council), part["month"], part["spend_gbp"], label_format="|%b %Y")
    fig.update_layout(barmode="relative", title=title, xaxis_title=None, yaxis_title=None, bargap=0.15, showlegend=True)
    month_axis(fig, df["month"] if len(df) else [])
    monthly = df.groupby("month")["spend_gbp"].sum() if len(df) else pd.Series(dtype=float)
    gbp_axis(fig, monthly)
    fig.update_layout(meta={"unit": "gbp", "measure": "spend", "additive": True})
    return fig


# --- spend cube and benchmarking -------------------------------------------------------------------
# Charts of the spend and benchmarking pages. Those that filter the page when clicked carry each
# point's key in customdata (bars) or in the box id (treemap); starviz.cube reads them back.

FADED = 0.3


def category_supplier_treemap(df: pd.DataFrame, ids, selected: str | None = None) -> go.Figure:
    """Spend by category, or, when ``df`` holds one category, by supplier within it. Boxes are sized by
    spend and named by ``ids(category, supplier_key, other)`` so that a click can be read back: a click
    on a category narrows the page (and this chart) to its suppliers. Boxes other than the ``selected``
    id fade. Net credits cannot be drawn as areas, so a box paid less than nothing counts as zero."""
    named = df[df["category"].notna()]
    one_category = named["category"].nunique() == 1 and len(named) == len(df)
    labels, names, parents, values, box_ids, text, colours = [], [], [], [], [], [], []

    def box(label: str, parent: str, value: float, box_id: str, colour: str) -> None:
        labels.append(wrap(label, 13, most=4))
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
                box("Other categories", "", value, "other-categories", tint(INK, 0.6))
        title = "Spend by category: click one to see its suppliers"
    if selected is not None:  # the selected box keeps its colour, the others fade
        colours = [c if i == selected else tint(c, 0.7) for c, i in zip(colours, box_ids, strict=True)]
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
        hover = [f"{m:%b %Y}<br>{council}: {in_unit(v, unit)}" for m, v in zip(months, part[measure], strict=True)]
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
    month_axis(fig, df["month"] if len(df) else [])
    if len(df):
        totals = df.groupby("month")[measure].sum() if additive else df[measure]
        if unit == "gbp":
            gbp_axis(fig, totals)
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
        money_bar(fig, council, colours.get(council), part["exclusion_reason"], part["spend_gbp"], horizontal=True)
    fig.update_layout(
        barmode="relative",
        title=title,
        yaxis=dict(categoryorder="array", categoryarray=reasons),
        height=max(300, 90 + 70 * len(reasons)),
        showlegend=True,
    )
    if len(df):
        gbp_axis(fig, df.groupby("exclusion_reason")["spend_gbp"].sum(), axis="xaxis")
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
        gbp_axis(fig, part["spend_gbp"], axis="xaxis")
    fig.update_layout(meta={"unit": "gbp", "measure": "spend"})
    return fig


@shared_per_answer
def benchmark_ranked(ranked: pd.DataFrame, colours: dict[str, str], columns: int = 2) -> go.Figure:
    """Small multiples, one per measure: councils as horizontal bars, best at the top, each labelled
    with its value and its gap to the best partner. Built once per answer (make_subplots and the
    validation of each bar took ~0.1-0.3 s of server CPU on every rerun)."""
    from plotly.subplots import make_subplots

    measures = list(dict.fromkeys(ranked["measure"])) if len(ranked) else []
    rows = max(1, math.ceil(len(measures) / columns))
    titles = [ranked.loc[ranked["measure"] == m, "label"].iloc[0] for m in measures]
    fig = make_subplots(
        rows=rows, cols=columns, subplot_titles=titles or [""], horizontal_spacing=0.16, vertical_spacing=0.35 / rows
    )
    for i, measure in enumerate(measures):
        every = ranked[ranked["measure"] == measure]
        # a council with no data for the measure is not drawn (not a zero bar): the panel says who
        part = every[every["value"].notna()].sort_values(["rank", "council"], ascending=[False, False])
        r, c = i // columns + 1, i % columns + 1
        absent = list(every.loc[every["value"].isna(), "council"])
        if absent and part.empty:  # an empty panel: its note in the middle
            ref = "" if i == 0 else str(i + 1)
            fig.add_annotation(
                text=f"{NO_DATA}: {', '.join(absent)}",
                xref=f"x{ref} domain",
                yref=f"y{ref} domain",
                x=0.5,
                y=0.5,
                showarrow=False,
                font=dict(size=15, color=INK),
            )
        # beside councils with data, one without is a row of its own at the bottom, with no bar and
        # "no data: not ranked" where its value would be (a note under the panel ran into the labels)
        rows_shown = (
            pd.concat([every[every["value"].isna()].sort_values("council", ascending=False), part]) if len(part) else part
        )
        fig.add_bar(
            y=rows_shown["council"],
            x=rows_shown["value"].fillna(0).clip(lower=0),
            orientation="h",
            row=r,
            col=c,
            width=0.7,
            marker_color=[colours.get(x) for x in rows_shown["council"]],
            showlegend=False,
            text=[f"{v} · {g}" for v, g in zip(rows_shown["value_text"], rows_shown["gap_short"], strict=True)],
            textposition="outside",
            cliponaxis=False,
            textfont=dict(size=15),
            customdata=rows_shown[["rank", "gap_text"]],
            hovertemplate="%{y}: rank %{customdata[0]}<br>%{text}<br>%{customdata[1]}<extra></extra>",
        )
        top = float(part["value"].max()) if len(part) else 1.0
        fig.update_xaxes(row=r, col=c, showticklabels=False, showgrid=False, ticks="", range=[0, top * 1.9 if top > 0 else 1])
        fig.update_yaxes(row=r, col=c, tickfont=dict(size=15))
        if part.empty:  # nothing drawn: no axis or grid, only the panel's "no data" note
            fig.update_xaxes(row=r, col=c, visible=False)
            fig.update_yaxes(row=r, col=c, visible=False)
    for annotation in fig.layout.annotations[: len(titles)]:  # the panel titles
        annotation.font = dict(size=17, color=INK)
        annotation.x = annotation.x - 0.2 / columns
        annotation.xanchor = "left"
    fig.update_layout(
        height=120 + 200 * rows, margin=dict(l=10, r=10, t=60, b=10), bargap=0.25, title="Each measure ranked, best partner first"
    )
    absent = ranked[ranked["value"].isna()] if len(ranked) else ranked
    no_data = {str(label): list(part["council"]) for label, part in absent.groupby("label", sort=False)}
    fig.update_layout(meta={"kind": "ranked", "no_data": no_data})
    return fig


@shared_per_answer
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


escape_public(globals())
