"""The export layout engine: one set of rules that lays out every chart kind at any canvas size.

Plotly places text where it is told and never wraps it, and its automatic margins move the plot
under anything placed relative to it. So here every margin is computed from the text that will sit
in it, measured with the font Chromium renders the export with (Liberation Sans, metric-compatible
with Arial, the template's fallback): the header band holds the title, the filters and the legend
(one row or several), the footer band the source line, the left band the longest row label, the
bottom band the column labels, the right band a colour bar or the last date label. Automatic
margins are switched off, so nothing moves after the layout is made. Every category of a bar chart
or heat map is labelled (the type shrinks to fit the rows); date axes get as many ticks as fit.
"""

from __future__ import annotations

import html
import math
import re
import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache

import plotly.graph_objects as go

INK, MUTED = "#1F2933", "#52606D"
LINE = 1.28  # line height over type size
DATE_LABEL = "Sep 2026"  # the widest month label the charts write (%b %Y)
MONTH_STEPS = (1, 2, 3, 6, 12, 24, 36, 60, 120)
_TAG = re.compile(r"<[^>]+>")
_BR = re.compile(r"<br\s*/?>", re.I)


@lru_cache(maxsize=4)
def _font_file(bold: bool) -> str | None:
    if shutil.which("fc-match"):
        try:
            out = subprocess.run(
                ["fc-match", "-f", "%{file}", "Arial:bold" if bold else "Arial"], capture_output=True, text=True, timeout=5
            ).stdout.strip()
            if out:
                return out
        except (OSError, subprocess.SubprocessError):
            pass
    return None


@lru_cache(maxsize=256)
def _font(size: int, bold: bool):
    from PIL import ImageFont

    path = _font_file(bold)
    try:
        return ImageFont.truetype(path, size) if path else None
    except OSError:
        return None


def lines_of(text: object) -> list[str]:
    """The lines of a Plotly text as they are shown (tags dropped, entities decoded)."""
    return [html.unescape(_TAG.sub("", part)) for part in _BR.split(str(text))]


def text_width(text: object, size: float, bold: bool = False) -> float:
    """Pixel width of the widest line of a Plotly text at ``size`` px."""
    font = _font(max(1, round(size)), bold)
    widths = [font.getlength(line) if font else len(line) * size * 0.6 for line in lines_of(text)]
    return max(widths, default=0.0) * 1.03  # a little slack for hinting


def wrap(text: str, size: float, max_px: float, bold: bool = False) -> list[str]:
    """Words of ``text`` (already escaped for Plotly) on as few lines as fit ``max_px``; a word too
    long for a line is cut at a character."""
    lines: list[str] = []
    for word in text.split():
        candidate = f"{lines[-1]} {word}" if lines else word
        if lines and text_width(candidate, size, bold) <= max_px:
            lines[-1] = candidate
            continue
        while text_width(word, size, bold) > max_px and len(word) > 1:
            cut = len(word)
            while cut > 1 and text_width(word[:cut], size, bold) > max_px:
                cut -= 1
            lines.append(word[:cut])
            word = word[cut:]
        lines.append(word)
    return lines or [""]


@dataclass(frozen=True)
class Sizes:
    base: int
    title: int
    subtitle: int
    legend: int
    tick: int
    small: int
    pad: int

    @classmethod
    def for_canvas(cls, width: int, height: int) -> Sizes:
        base = max(14, round(min(width, height * 1.6) / 44))
        return cls(
            base=base,
            title=round(base * 1.3),
            subtitle=round(base * 0.8),
            legend=round(base * 0.75),
            tick=round(base * 0.72),
            small=max(11, round(base * 0.56)),
            pad=round(base * 0.8),
        )


def _legend_entries(fig: go.Figure) -> list[str]:
    if fig.layout.showlegend is False:
        return []
    names, groups = [], set()
    traces = [t for t in fig.data if t.type not in ("table", "treemap", "sunburst", "pie", "heatmap")]
    for t in traces:
        shown = t.showlegend if t.showlegend is not None else (len(fig.data) > 1 or fig.layout.showlegend is True)
        if not shown or not t.name:
            continue
        if t.legendgroup and t.legendgroup in groups:
            continue
        groups.add(t.legendgroup)
        names.append(t.name)
    return names


def _legend_rows(names: list[str], size: int, max_px: float) -> int:
    rows, used = 1, 0.0
    for name in names:
        item = 48 + text_width(name, size) + size * 1.2
        if used and used + item > max_px * 0.92:
            rows, used = rows + 1, 0.0
        used += item
    return rows if names else 0


def _axis_name(kind: str, ref: str | None) -> str:
    """'x', 'x2' (a trace's reference) -> 'xaxis', 'xaxis2' (the layout's key)."""
    ref = ref or kind
    return f"{kind}axis{ref[1:]}"


def _axes_of(fig: go.Figure) -> dict[str, dict]:
    """Every Cartesian axis the traces use: its categories (for a category axis), its values, its
    side and its length as a share of the plot."""
    axes: dict[str, dict] = {}
    for t in fig.data:
        if t.type not in ("bar", "scatter", "heatmap"):
            continue
        for kind in ("x", "y"):
            name = _axis_name(kind, getattr(t, f"{kind}axis", None))
            entry = axes.setdefault(name, {"kind": kind, "categories": [], "values": []})
            values = getattr(t, kind, None)
            if values is None:
                continue
            values = list(values)
            if t.type == "bar" and t.base is not None and kind == ("x" if t.orientation == "h" else "y"):
                entry["date_bars"] = True
            entry.setdefault("raw", []).extend(values)
            strings = [v for v in values if isinstance(v, str)]
            if strings and len(strings) == len([v for v in values if v is not None]):
                entry["categories"] += [v for v in strings if v not in entry["categories"]]
            else:
                entry["values"] += [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    return axes


def _number_label(axis, values: list[float]) -> str:
    """The widest tick label a numeric axis will probably show."""
    if axis.ticktext is not None:
        return max((str(t) for t in axis.ticktext), key=len, default="")
    top = max((abs(v) for v in values if v == v), default=0.0)
    fmt = axis.tickformat or ""
    if "%" in fmt:
        return f"{top * 100:,.0f}%"
    suffix = axis.ticksuffix or ""
    return f"-{top:,.0f}{suffix}" if any(v < 0 for v in values) else f"{top:,.0f}{suffix}"


def _date_span_months(axis, info) -> float | None:
    import pandas as pd

    try:
        if axis.range is not None:
            low, high = (pd.Timestamp(v) for v in axis.range)
        else:
            values = pd.to_datetime(pd.Series(info["raw"]), errors="coerce").dropna()
            if values.empty:
                return None
            low, high = values.min(), values.max()
    except (TypeError, ValueError):
        return None
    return max((high - low).days / 30.44, 1.0)


def _axis_bands(out: go.Figure, axes: dict[str, dict], s: Sizes, plot_h: float, plot_w: float) -> dict:
    """The room the tick labels of every axis need around the plot, and their type sizes; sets each
    axis's ticks so that every category is labelled and date labels never collide."""
    bands = {"left": 0.0, "right": 0.0, "top": 0.0, "bottom": 0.0, "fonts": {}}
    for name, info in axes.items():
        axis = out.layout[name]
        if axis.visible is False or axis.showticklabels is False:
            continue
        domain = axis.domain if axis.domain is not None else (0, 1)
        span = (domain[1] - domain[0]) * (plot_h if info["kind"] == "y" else plot_w)
        size = s.tick
        if info["categories"] and axis.type != "date":
            labels = info["categories"] if axis.ticktext is None else [str(t) for t in axis.ticktext]
            n = max(len(labels), 1)
            n_lines = max(len(lines_of(v)) for v in labels) if labels else 1
            if axis.ticktext is None:
                axis.update(tickmode="linear", dtick=1, tick0=0)
            if info["kind"] == "y":  # every row labelled: the type shrinks until the rows fit
                size = max(8, min(s.tick, math.floor(span / n / (1.15 * n_lines))))
                extent = max((text_width(v, size) for v in labels), default=0.0) + 12
            else:
                widest = max((text_width(v, size) for v in labels), default=0.0)
                if widest * n <= span * 0.92:
                    axis.tickangle = 0
                    extent = s.tick * LINE * n_lines + 12
                else:
                    axis.tickangle = -45
                    extent = widest * 0.72 + s.tick + 12
        elif axis.type == "date" or info.get("date_bars") or (axis.tickformat or "").startswith("%"):
            label_w = text_width(DATE_LABEL, s.tick)
            months = _date_span_months(axis, info)
            if months:
                fits = max(1, int(span // (label_w * 1.5)))
                step = next((m for m in MONTH_STEPS if months / m <= fits), MONTH_STEPS[-1])
                axis.update(dtick=f"M{step}", tick0="2000-01-01", tickangle=0, tickformat=axis.tickformat or "%b %Y")
            if info["kind"] == "x":
                extent = s.tick * LINE + 12
                bands["right"] = max(bands["right"], label_w / 2)
            else:
                extent = label_w + 12
        else:
            if info["kind"] == "x":
                axis.tickangle = 0
                extent = s.tick * LINE + 12
            else:
                extent = text_width(_number_label(axis, info["values"]), s.tick) + 12
        bands["fonts"][name] = size
        if axis.title and axis.title.text:
            extent += s.subtitle * LINE
        if info["kind"] == "x":
            side = "top" if axis.side == "top" else "bottom"
            bands[side] = max(bands[side], extent)
        elif domain[0] <= 0.01:  # the left-most column of plots; inner columns label in their spacing
            bands["left"] = max(bands["left"], extent)
    for t in out.data:  # heat map colour bars sit in the right margin
        if t.type == "heatmap" and t.showscale is not False:
            bar = t.colorbar
            labels = [str(v) for v in bar.ticktext] if bar.ticktext is not None else ["10,000"]
            title = bar.title.text if bar.title and bar.title.text else None
            room = 22 + 12 + max(text_width(v, s.tick) for v in labels) + s.base * 0.6 + (s.tick * LINE if title else 0)
            bands["right"] = max(bands["right"], room)
            t.colorbar.update(
                thickness=22, x=1, xanchor="left", xpad=12, len=0.85, y=0, yanchor="bottom", tickfont=dict(size=s.tick)
            )
            if title:
                t.colorbar.title = dict(text=title, side="right", font=dict(size=s.tick))
    return bands


READABLE = 11  # px: the smallest type a row label may shrink to; below it a chart shows its top rows


def _rows_that_fit(fig: go.Figure, s: Sizes, height: int) -> int | None:
    """How many rows a chart of horizontal bars can label at ``READABLE`` type on this canvas, when
    that is fewer than it has (None when they all fit, or the chart has no such rows)."""
    bars = [t for t in fig.data if t.type == "bar" and t.orientation == "h" and t.y is not None]
    if any(t.yaxis not in (None, "y") for t in bars):  # small multiples: each panel lays out its own rows
        return None
    labels = list(dict.fromkeys(str(v) for t in bars for v in t.y))
    if len(labels) < 2:
        return None
    n_lines = max(len(lines_of(v)) for v in labels)
    header = s.pad + s.title * LINE * 2 + s.subtitle * LINE * 2 + s.base * 0.9 + s.legend * 1.55 * 2
    room = height - header - (s.small * LINE * 2 + s.pad) - 4 * s.tick
    fit = max(int(room // (min(s.tick, READABLE) * 1.15 * n_lines)), 1)
    return fit if fit < len(labels) else None


def _keep_rows(fig: go.Figure, keep: int) -> tuple[go.Figure, int]:
    """``fig`` with only its first ``keep`` rows by the chart's own ranking (``meta.rank``, the row
    labels most important first) or else by the length of their bars; and how many rows it had."""
    bars = [t for t in fig.data if t.type == "bar" and t.orientation == "h" and t.y is not None]
    labels = list(dict.fromkeys(str(v) for t in bars for v in t.y))
    meta = fig.layout.meta if isinstance(fig.layout.meta, dict) else {}
    if meta.get("rank"):
        order = [str(v) for v in meta["rank"] if str(v) in labels]
    else:
        total = dict.fromkeys(labels, 0.0)
        for t in bars:
            for label, value in zip(t.y, t.x if t.x is not None else [], strict=False):
                total[str(label)] += abs(float(value)) if isinstance(value, int | float) else 0.0
        order = sorted(labels, key=lambda v: -total[v])
    kept = set(order[:keep])
    out = go.Figure(fig)
    for t in out.data:
        if t.type != "bar" or t.orientation != "h" or t.y is None:
            continue
        mask = [str(v) in kept for v in t.y]
        n = len(mask)

        def cut(values, mask=mask, n=n):
            return (
                [v for v, m in zip(values, mask, strict=True) if m]
                if isinstance(values, list | tuple) and len(values) == n
                else values
            )

        for name in ("x", "y", "base", "customdata", "text", "hovertext", "width"):
            value = getattr(t, name, None)
            if value is not None and not isinstance(value, str):
                t[name] = cut(list(value))
        for path in ("marker.color", "marker.opacity", "marker.line.color", "marker.pattern.fgcolor"):
            try:
                value = t[path]
            except (KeyError, ValueError):
                continue
            if isinstance(value, list | tuple):
                t[path] = cut(list(value))
    axis = out.layout.yaxis
    if axis.categoryarray is not None:
        axis.categoryarray = [v for v in axis.categoryarray if str(v) in kept]
    return out, len(labels)


def lay_out(fig: go.Figure, *, title: str, subtitle: str, footer: str, width: int, height: int) -> go.Figure:
    """A copy of ``fig`` laid out on a ``width`` x ``height`` canvas with a wrapped bold ``title``,
    ``subtitle`` and ``footer`` (all escaped for Plotly by the caller), nothing outside the canvas
    and no text over other text."""
    s = Sizes.for_canvas(width, height)
    fit = _rows_that_fit(fig, s, height)
    if fit is not None:  # too many rows to label readably: the top ones, said in the subtitle
        fig, total = _keep_rows(fig, fit)
        meta = fig.layout.meta if isinstance(fig.layout.meta, dict) else {}
        by = f" by {meta['ranked_by']}" if meta.get("ranked_by") else ""
        note = f"The {fit} largest{by} of {total} shown at this size; the app and its Excel export list all {total}."
        subtitle = f"{subtitle} · {note}" if subtitle else note
    out = go.Figure(fig)
    inner = width - 2 * s.pad
    title_lines = wrap(title, s.title, inner, bold=True)
    sub_lines = wrap(subtitle, s.subtitle, inner) if subtitle else []
    foot_lines = wrap(footer, s.small, inner)
    entries = _legend_entries(out)
    line = LINE

    # header: title, filters, legend; then what a chart puts just above its plot
    y = s.pad
    title_top = y
    y += s.title * line * len(title_lines)
    sub_top = y + s.base * 0.15
    y = sub_top + s.subtitle * line * len(sub_lines)
    legend_top = y + s.base * 0.35
    footer_h = s.small * line * len(foot_lines) + s.pad

    axes = _axes_of(out)
    # the top tick label of a value axis stands half a line above the plot
    above = s.tick * 0.7 if any(info["kind"] == "y" and not info["categories"] for info in axes.values()) else 0.0
    for a in out.layout.annotations:
        if (a.yref in (None, "paper")) and a.y is not None and a.y >= 0.99:
            above = s.tick * 1.05 * 1.7  # they are set in that size below
    for shape in out.layout.shapes:
        if shape.label and shape.label.text:
            above = s.tick * 1.05 * 1.7

    def header_height(rows: int) -> tuple[float, float]:
        y = legend_top + (rows * s.legend * 1.55 + s.base * 0.2 if rows else 0.0)
        return y + s.base * 0.4, y

    # Twice: the legend wraps at the plot's width, which the row labels decide, whose type size
    # depends on the plot's height, which the legend's rows take from.
    # The date axis's step is fitted on the second pass to the width the row labels of the first leave
    # (fitted to the whole canvas, the pipeline's square image ran seven years' labels together).
    legend_rows = _legend_rows(entries, s.legend, inner)
    sides = 0.0
    for _ in range(2):
        header, _ = header_height(legend_rows)
        plot_h_guess = height - header - footer_h - above - 3 * s.tick
        bands = _axis_bands(out, axes, s, plot_h_guess, width - 2 * s.pad - sides)
        sides = bands["left"] + bands["right"]
        # Plotly wraps a legend left of and above the plot at the plot's right edge
        legend_rows = _legend_rows(entries, s.legend, width - 2 * s.pad - bands["right"])
    header, _ = header_height(legend_rows)
    left, right, top_band, bottom_band = bands["left"], bands["right"], bands["top"], bands["bottom"]
    tick_font = bands["fonts"]
    polar = any(t.type == "scatterpolar" for t in out.data)
    if polar:
        labels = [str(th) for t in out.data if t.type == "scatterpolar" and t.theta is not None for th in t.theta]
        n_areas = max(len(set(labels)), 1)
        radius = min(width - 2 * s.pad, height - header - footer_h) / 2 * 0.6
        spacing = 2 * math.pi * radius / n_areas
        n_lines = max((len(lines_of(v)) for v in labels), default=1)
        widest_1 = max((text_width(v, 1) for v in labels), default=1.0) or 1.0
        size = max(9, math.floor(min(s.tick, spacing / (1.35 * n_lines), 1.4 * spacing / widest_1)))
        widest = widest_1 * size
        left = right = max(left, right, widest + 10)
        top_band = bottom_band = size * line * n_lines + 10
        out.update_polars(angularaxis_tickfont_size=size, radialaxis_tickfont_size=max(READABLE, round(size * 0.75)))

    top = round(header + above + top_band)
    bottom = round(footer_h + bottom_band + s.base * 0.3)
    margin_l = round(s.pad + left)
    margin_r = round(s.pad + right)
    plot_w = max(width - margin_l - margin_r, 1)
    plot_h = max(height - top - bottom, 1)

    out.update_layout(
        width=width,
        height=height,
        template="star",
        title=None,
        font=dict(size=s.base),
        margin=dict(l=margin_l, r=margin_r, t=top, b=bottom, pad=0, autoexpand=False),
        showlegend=bool(entries),
        legend=dict(
            font=dict(size=s.legend),
            orientation="h",
            xref="paper",
            yref="paper",
            x=(s.pad - margin_l) / plot_w,
            xanchor="left",
            y=(height - bottom - legend_top) / plot_h,
            yanchor="top",
            itemwidth=30,
            bgcolor="rgba(0,0,0,0)",
        ),
        uniformtext=dict(minsize=max(8, round(s.tick * 0.6)), mode="hide") if out.layout.uniformtext.mode else None,
    )
    for name, size in tick_font.items():
        out.layout[name].update(tickfont=dict(size=size), automargin=False, title_font=dict(size=s.subtitle))
    out.update_xaxes(automargin=False)
    out.update_yaxes(automargin=False)

    for a in out.layout.annotations:  # a chart's own notes (targets, "Today", panel titles) scale too
        a.font = dict(size=round(s.tick * 1.05), color=a.font.color if a.font and a.font.color else INK)
    for t in out.data:
        if t.type == "bar" and t.text is not None:
            t.textfont = dict(size=s.tick)
        elif t.type == "heatmap" and t.text is not None:
            rows = len(t.y) if t.y is not None else 1
            cols = len(t.x) if t.x is not None else 1
            widest = max((text_width(v, 1) for row in t.text for v in row), default=1.0) or 1.0
            fit = min(s.tick, (plot_h / max(rows, 1)) * 0.55, 0.85 * (plot_w / max(cols, 1)) / widest)
            t.textfont = dict(size=max(7, math.floor(fit)))
        elif t.type == "treemap":
            t.textfont = dict(size=round(s.tick * 0.95))
        elif t.type == "table":
            rows = len(t.cells.values[0]) if t.cells.values else 1
            header_h = round(s.base * 1.25)
            cell_h = max(12, min(round(s.base * 1.1), math.floor((plot_h - header_h) / max(rows, 1)) - 1))
            t.header.update(font=dict(size=round(min(s.tick, header_h * 0.6))), height=header_h)
            t.cells.update(font=dict(size=round(min(s.tick * 0.95, cell_h * 0.62))), height=cell_h)

    if polar:  # level labels run along the radial axis: each must fit between two rings
        radial = out.layout.polar.radialaxis
        names = [str(v) for v in radial.ticktext] if radial.ticktext is not None else ["5"]
        spacing = min(plot_w, plot_h) / 2 / max(len(names), 1)
        widest_1 = max(text_width(v, 1) for v in names) or 1.0
        size = math.floor(min(s.tick * 0.75, 0.8 * spacing / widest_1))
        if size < READABLE and radial.ticktext is not None:  # every k-th level named (the top one always), rings kept
            k = math.ceil(READABLE / max(size, 1))
            radial.ticktext = [v if (len(names) - 1 - i) % k == 0 else "" for i, v in enumerate(names)]
        out.update_polars(radialaxis_tickfont_size=max(READABLE, size))

    def paper_y(px_from_top: float) -> float:
        return (height - bottom - px_from_top) / plot_h

    x0 = (s.pad - margin_l) / plot_w
    out.add_annotation(
        text="<b>" + "<br>".join(title_lines) + "</b>",
        xref="paper",
        yref="paper",
        x=x0,
        y=paper_y(title_top),
        xanchor="left",
        yanchor="top",
        showarrow=False,
        align="left",
        font=dict(size=s.title, color=INK),
    )
    if sub_lines:
        out.add_annotation(
            text="<br>".join(sub_lines),
            xref="paper",
            yref="paper",
            x=x0,
            y=paper_y(sub_top),
            xanchor="left",
            yanchor="top",
            showarrow=False,
            align="left",
            font=dict(size=s.subtitle, color=MUTED),
        )
    out.add_annotation(
        text="<br>".join(foot_lines),
        xref="paper",
        yref="paper",
        x=x0,
        y=paper_y(height - s.pad * 0.6),
        xanchor="left",
        yanchor="bottom",
        showarrow=False,
        align="left",
        font=dict(size=s.small, color=MUTED),
    )
    return out
