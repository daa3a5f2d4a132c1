"""The STAR look every chart shares: palette, Plotly template, label helpers, and the wrapper that
shows text from data as text in every chart function."""

from __future__ import annotations

import math
import re

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from starviz import answers, escape
from starviz.fmt import gbp

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


def gbp_axis(fig: go.Figure, values: pd.Series, axis: str = "yaxis") -> None:
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


MONTH_STEPS = (1, 2, 3, 6, 12, 24, 36, 60, 120)


def month_axis(fig: go.Figure, months, most: int = 12, tickformat: str = "%b %Y", axis: str = "x", **where) -> None:
    """A month axis that names each month once: ticks on the 1st of every month, or of every 2nd,
    3rd, 6th... when more than ``most`` months would be named (Plotly left to itself puts two
    ticks in one month, "Mar 2026, Apr 2026, Apr 2026, May 2026", or one tick for a few months).
    ``months``: the dates the axis holds (or its two ends); ``where``: a subplot's row and col.
    Exports then fit the step to each preset's width (``layout``), on the same 1sts."""
    dates = pd.to_datetime(pd.Series(list(months)), errors="coerce").dropna()
    n = 1 if dates.empty else (dates.max().year - dates.min().year) * 12 + dates.max().month - dates.min().month + 1
    step = next((s for s in MONTH_STEPS if n / s <= most), MONTH_STEPS[-1])
    update = fig.update_xaxes if axis == "x" else fig.update_yaxes
    update(type="date", tickmode="linear", dtick=f"M{step}", tick0="2000-01-01", tickformat=tickformat, **where)


_BR = re.compile(r"<br\s*/?>", re.I)


def nothing_to_show(fig: go.Figure, text: str = "Nothing to show for these filters") -> go.Figure:
    """An empty chart says so in the middle and draws no axes: Plotly's default empty axes (-1 to 1)
    read as data, and in an export their ticks ran into the source line."""
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    fig.add_annotation(text=text, xref="paper", yref="paper", x=0.5, y=0.5, showarrow=False, font=dict(size=16))
    meta = fig.layout.meta if isinstance(fig.layout.meta, dict) else {}
    if not meta.get("missing"):  # the alt text says what the chart says (one that knows why has said it)
        fig.update_layout(meta={**meta, "missing": escape.unplotly(_BR.sub(" ", text))})
    return fig


def short(text: object, limit: int = 48) -> str:
    """A label cut to ``limit`` characters with an ellipsis (a missing value as blank)."""
    text = "" if text is None or text != text else str(text)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def wrap(text: str, width: int = 13, most: int | None = None) -> str:
    """Text broken onto lines of about ``width`` characters (Plotly's <br>) at spaces: Plotly never
    wraps, and hides a label that does not fit its box. With ``most``, at most that many lines, the
    last cut with an ellipsis."""
    lines: list[str] = []
    for word in str(text).split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    if most is not None and len(lines) > most:
        lines = lines[:most]
        lines[-1] = lines[-1].rstrip(" ,&-") + "…"
    return "<br>".join(lines)


def _rgb(colour: str) -> tuple[int, int, int]:
    h = colour.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def rgba(colour: str, alpha: float) -> str:
    return "rgba({}, {}, {}, {})".format(*_rgb(colour), alpha)


def tint(colour: str, amount: float = 0.55) -> str:
    """A lighter shade of a #RRGGBB colour (mixed with white)."""
    return "#{:02X}{:02X}{:02X}".format(*(round(c + (255 - c) * amount) for c in _rgb(colour)))


def money_bar(
    fig: go.Figure, name: str, colour: str | None, labels, values, horizontal: bool = False, label_format: str = "", **more
) -> None:
    """One bar trace of £ values (a council's segment of a stack, a measure of a group): hover names
    the label, the trace and the amount as £1.2m. ``label_format`` formats the label (e.g. "|%b %Y")."""
    along, across = ("y", "x") if horizontal else ("x", "y")
    fig.add_bar(
        **{along: labels, across: values},
        **({"orientation": "h"} if horizontal else {}),
        name=name,
        marker_color=colour,
        customdata=[gbp(v) for v in values],
        hovertemplate="%{" + along + label_format + "}<br>" + name + ": %{customdata}<extra></extra>",
        **more,
    )


def for_screen(fig: go.Figure, size: int = 22) -> go.Figure:
    """A copy for a shared screen: no in-chart title (the slide has one), larger type."""
    out = go.Figure(fig)
    # the legend at the foot of the figure, where the plot makes room for it: placed a share of the
    # plot's height under the axis, the larger type's month labels ran under it on a 4:3 screen
    legend = dict(font=dict(size=size), orientation="h", y=0, yref="container", yanchor="bottom", x=0, xanchor="left")
    out.update_layout(title=None, font=dict(size=size), legend=legend, margin=dict(t=32))
    for note in out.layout.annotations:  # "Today", "Target 20%": set at 15 px for a page, too small across a room
        if note.font is None or note.font.size is None or note.font.size < size - 4:
            note.font = dict(size=size - 4, color=note.font.color if note.font else None)
    out.update_xaxes(tickfont=dict(size=size - 2))
    out.update_yaxes(tickfont=dict(size=size - 2))
    # A month axis names each month on two lines ("Apr" over "2025"), never turned: at 1024x768 a
    # year's "Apr 2025" labels turned 30 degrees ran into the legend and lost the last month.
    for axis in [*out.select_xaxes(), *out.select_yaxes()]:
        if axis.type == "date" and axis.tickformat and " %Y" in axis.tickformat:
            axis.update(tickformat=axis.tickformat.replace(" %Y", "<br>%Y"), tickangle=0)
    # Every row of a chart of named rows is named: Plotly skips every other label when rows are
    # tight, and the Board saw 15 contracts' bars with 8 names.
    for trace in out.data:
        if trace.type == "bar" and trace.orientation == "h":
            out.layout["yaxis" + (trace.yaxis or "y")[1:]].update(tickmode="linear", dtick=1, tick0=0)
    for trace in out.data:
        if trace.type == "table":  # tables carry their own type sizes
            trace.header.font.size, trace.header.height = size, round(size * 1.9)
            trace.cells.font.size, trace.cells.height = size - 2, round(size * 1.75)
    return out


def escape_public(names: dict) -> None:
    """Text from data is shown as text: every chart function of a module (its public functions,
    ``names`` being its globals) takes its arguments through ``escape.plotly`` (Plotly renders <a>,
    <b>, <br> in any label) before adding markup of its own. Called at the end of each chart module."""
    module = names["__name__"]
    for name, value in list(names.items()):
        if callable(value) and getattr(value, "__module__", None) == module and not name.startswith("_"):
            inner = getattr(value, "__shared_builder__", None)  # shared: look the answer up before escaping it
            names[name] = shared_per_answer(escape.plotly_args(inner)) if inner else escape.plotly_args(value)


def shared_per_answer(fn):
    """``fn``'s figure built once per answer (the content of its arguments) and shared by reruns and
    sessions (``answers.per_answer`` without copies): building a figure costs Plotly's validation of
    every trace on every rerun, and nothing that receives one changes it (st.plotly_chart serialises
    it; the exporter and a slide that marks it work on a copy)."""
    wrapper = answers.per_answer(fn, copies=False, maxsize=64)
    wrapper.__shared_builder__ = fn
    return wrapper
