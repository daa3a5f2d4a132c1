"""Alt text written from a figure's own data: what is measured, in its unit (£, %, a count), the
largest values, and never a sum of unlike values.

Each chart says what it measures in ``layout.meta``: ``unit`` ("gbp", "share" 0-1, "percent"
0-100, "count", "level"), ``measure`` (the words for it), ``additive`` (whether series add up, as
spend by council does and shares do not), and, for charts that are not plain bars or lines, ``kind``
("timeline", "kpi", "radar", "ranked", "table"). Without meta the unit is read from the axis."""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from starviz.escape import unplotly

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ][\d:.]+)?$")


def fmt(value: float | None, unit: str) -> str:
    """A value in its unit, written as everywhere else (``fmt.in_unit``)."""
    from starviz.fmt import in_unit

    return in_unit(value, unit)


def _label(value: object) -> str:
    if isinstance(value, np.datetime64):
        value = pd.Timestamp(value)
    if isinstance(value, dt.date | pd.Timestamp):
        return f"{value:%b %Y}"
    if isinstance(value, str) and _ISO_DATE.match(value):
        try:
            return f"{pd.Timestamp(value):%b %Y}"
        except ValueError:
            pass
    return str(unplotly(value)).replace("<br>", " ")


def _number(v: object) -> float | None:
    if isinstance(v, bool | np.bool_) or not isinstance(v, int | float | np.number):
        return None
    return float(v) if v == v else None


def _unit(fig: go.Figure, meta: dict) -> str:
    if meta.get("unit"):
        return meta["unit"]
    for axis in (fig.layout.yaxis, fig.layout.xaxis):
        if axis.ticktext is not None and any(str(t).startswith(("£", "-£")) for t in axis.ticktext):
            return "gbp"
        if "%" in (axis.tickformat or ""):
            return "share"
        if (axis.ticksuffix or "") == "%":
            return "percent"
    return "count"


def _series(fig: go.Figure) -> list[tuple[str, list[str], list[float | None]]]:
    """(name, category labels, values) of each bar or line, the category along its category axis."""
    out = []
    for t in fig.data:
        if t.type not in ("bar", "scatter") or t.name == "Target":
            continue
        horizontal = t.type == "bar" and t.orientation == "h"
        values, labels = (t.x, t.y) if horizontal else (t.y, t.x)
        if values is None or labels is None:
            continue
        numbers = [_number(v) for v in values]
        if not any(n is not None for n in numbers):
            continue  # marker-only series (a legend key) say nothing
        out.append((str(unplotly(t.name or "")), [_label(v) for v in labels], numbers))
    return out


def _top(pairs: dict[str, float], unit: str, n: int = 3) -> str:
    ranked = sorted(pairs.items(), key=lambda kv: -kv[1])[:n]
    return "; ".join(f"{k} {fmt(v, unit)}" for k, v in ranked)


def _n(count: int, noun: str) -> str:
    """ "1 month", "12 months", "3 boxes" (``fmt.count``)."""
    from starviz.fmt import count as counted

    return counted(count, noun, noun + "es" if noun.endswith(("x", "s")) else None)


def describe(fig: go.Figure, title: str, subtitle: str = "") -> str:
    meta = fig.layout.meta if isinstance(fig.layout.meta, dict) else {}
    kind = meta.get("kind")
    unit = _unit(fig, meta)
    measure = meta.get("measure") or {"gbp": "value", "share": "share", "percent": "value", "count": "count"}.get(unit, "value")
    head = f"{title}" + (f" ({subtitle})" if subtitle else "") + "."
    body: list[str] = []
    if meta.get("missing"):  # drawn with no data: the chart knows what is missing, for whom and when
        missing = str(meta["missing"]).strip()
        return f"{head} No data: {missing}" + ("" if missing.endswith((".", "?", "!")) else ".")
    if kind == "table":
        body.append(_table(fig))
    elif kind == "timeline":
        body.append(_timeline(fig))
    elif kind == "kpi":
        body.append(_kpi(fig))
    elif kind == "radar":
        body.append(_radar(fig))
    elif kind == "ranked":
        body.append(_ranked(fig, meta.get("no_data") or {}))
    elif any(t.type == "treemap" for t in fig.data):
        t = next(t for t in fig.data if t.type == "treemap")
        values = {_label(n): float(v) for n, v, p in zip(t.customdata, t.values, t.parents, strict=False) if p == ""}
        total = sum(values.values())
        boxes = _n(len(values), "box")
        body.append(f"Treemap of {measure} in {boxes}, {fmt(total, unit)} in all. Largest: {_top(values, unit)}.")
    elif any(t.type == "heatmap" for t in fig.data):
        body.append(_heatmap(fig, unit, measure))
    else:
        body.append(_bars_and_lines(fig, unit, measure, bool(meta.get("additive", unit in ("gbp", "count")))))
    target = meta.get("target")
    if target is not None:
        body.append(f"Target: {fmt(float(target), unit)}.")
    body += [str(note) for note in meta.get("notes") or ()]  # what marks on the chart flag (partial months)
    return " ".join([head, *[b for b in body if b]])


def _bars_and_lines(fig: go.Figure, unit: str, measure: str, additive: bool) -> str:
    series = _series(fig)
    if not series:
        return "No data."
    lines = all(t.type == "scatter" for t in fig.data if t.name != "Target")
    what = "Line chart" if lines else "Bar chart"
    categories = list(dict.fromkeys(c for _, labels, _ in series for c in labels))
    months = fig.layout.xaxis.type == "date" and "%b" in (fig.layout.xaxis.tickformat or "")  # bars are months
    if lines:  # a line's points are moments: say where each series ended, never a sum over time
        last = categories[-1] if categories else ""
        ends = {name: next((v for v in reversed(values) if v is not None), None) for name, _, values in series}
        shown = "; ".join(f"{name} {fmt(v, unit)}" for name, v in ends.items() if v is not None)
        return f"{what} of {measure} over {_n(len(categories), 'point')}, one line per series. Latest ({last}): {shown}."
    if len(series) == 1:
        name, labels, values = series[0]
        pairs = {c: v for c, v in zip(labels, values, strict=False) if v is not None}
        total = f", {fmt(sum(pairs.values()), unit)} in all" if additive and pairs else ""
        items = "month" if months else "item"
        return f"{what} of {measure} for {_n(len(pairs), items)}{total}. Largest: {_top(pairs, unit)}."
    if additive and fig.layout.barmode in ("stack", "relative"):
        per_category: dict[str, float] = {}
        per_series: dict[str, float] = {}
        for name, labels, values in series:
            for c, v in zip(labels, values, strict=False):
                if v is not None:
                    per_category[c] = per_category.get(c, 0.0) + v
                    per_series[name] = per_series.get(name, 0.0) + v
        total = sum(per_series.values())
        bar = "month" if months else "bar"
        return (
            f"Stacked {what.lower()} of {measure}, {_n(len(categories), bar)}, {fmt(total, unit)} in all. "
            f"Largest {bar}s: {_top(per_category, unit)}. By series: {_top(per_series, unit, len(per_series))}."
        )
    # series side by side that do not add up (shares): each category's values, the largest first
    series = sorted(series, key=lambda s: -max((v for v in s[2] if v is not None), default=0.0))
    first = {c: v for c, v in zip(series[0][1], series[0][2], strict=False) if v is not None}
    order = sorted(first, key=lambda c: -first[c])[:3]
    parts = []
    for c in order:
        values = [
            f"{name} {fmt(dict(zip(labels, vals, strict=False)).get(c), unit)}"
            for name, labels, vals in sorted(series, key=lambda s: s[0])
        ]
        parts.append(f"{c}: " + ", ".join(values))
    lead = f"{what} of {measure}, {len(series)} series for {_n(len(categories), 'item')}. Highest {series[0][0]}: "
    return lead + "; ".join(parts) + "."


def _heatmap(fig: go.Figure, unit: str, measure: str) -> str:
    t = next(t for t in fig.data if t.type == "heatmap")
    rows, cols = list(t.y if t.y is not None else []), list(t.x if t.x is not None else [])
    if not rows:  # drawn as "Nothing to show", never as an empty grid
        return "Nothing to show."
    best = None
    for i, row in enumerate(t.z if t.z is not None else []):
        for j, v in enumerate(row):
            n = _number(v)
            if n is not None and (best is None or n > best[0]):
                best = (n, i, j)
    text = f"Heat map of {measure}: {_n(len(rows), 'row')} by {_n(len(cols), 'column')}."
    if best:
        n, i, j = best
        shown = t.text[i][j] if t.texttemplate and t.text is not None and t.text[i][j] else fmt(n, unit)
        text += f" Highest: {_label(rows[i])}, {_label(cols[j])}: {_label(shown)}."
    return text


def _table(fig: go.Figure) -> str:
    t = next(t for t in fig.data if t.type == "table")
    headers = [_label(h).replace("<b>", "").replace("</b>", "") for h in t.header.values]
    columns = [list(c) for c in t.cells.values]
    n = len(columns[0]) if columns else 0
    text = f"Table of {_n(n, 'row')}: {', '.join(headers)}."
    if "Status" in headers:
        statuses = pd.Series(columns[headers.index("Status")]).value_counts()
        text += " Status: " + ", ".join(f"{count} {status}" for status, count in statuses.items()) + "."
        text += _off_target(headers, columns)
    return text


def _off_target(headers: list[str], columns: list[list]) -> str:
    """The KPIs a scorecard's reader looks for: those off target, red first, each with its value and
    target, then those with no data."""
    from starviz.nodata import NO_DATA

    def cell(name: str, i: int) -> str:
        return _label(columns[headers.index(name)][i]) if name in headers else ""

    status = [str(v).strip().lower() for v in columns[headers.index("Status")]]
    parts = []
    for rag in ("red", "amber"):
        rows = [i for i, v in enumerate(status) if v.split()[:1] == [rag]]
        if rows:
            said = "; ".join(
                f"{cell('KPI', i)} {cell('Value', i)} against a target of {cell('Target', i)}".replace("  ", " ") for i in rows
            )
            parts.append(f"{rag.capitalize()}: {said}.")
    missing = [cell("KPI", i) for i, v in enumerate(status) if v == NO_DATA]
    if missing:
        parts.append(f"No data: {'; '.join(missing)}.")
    return "".join(f" {p}" for p in parts)


def _timeline(fig: go.Figure) -> str:
    ends = []
    for t in fig.data:
        if t.type != "bar" or t.base is None or "Extension" in (t.name or ""):
            continue
        for label, base, length in zip(t.y, t.base, t.x, strict=False):
            ends.append((pd.Timestamp(base) + pd.Timedelta(milliseconds=float(length)), _label(label), t.name))
    if not ends:
        return "Nothing to show."  # as the chart says: with no register loaded, not "no contracts"
    ends.sort()
    first = ends[0]
    buckets = pd.Series([e[2] for e in ends]).value_counts()
    by_bucket = ", ".join(f"{count} {_label(name).lower()}" for name, count in buckets.items())
    return f"Timeline of {_n(len(ends), 'contract')} by end date ({by_bucket}). First to end: {first[1]}, on {first[0]:%d %B %Y}."


def _kpi(fig: go.Figure) -> str:
    titles = [_label(a.text).replace("<b>", "").replace("</b>", "") for a in fig.layout.annotations]
    parts = []
    actual = [t for t in fig.data if t.name == "Actual"]
    targets = {t.xaxis: t for t in fig.data if t.name == "Target" and t.customdata is not None}
    for k, t in enumerate(actual):
        if t.customdata is None or not len(t.customdata):
            continue
        when = _label(t.x[-1])
        shown, rag = t.customdata[-1][0], t.customdata[-1][1]
        target = targets.get(t.xaxis)
        against = f" against a target of {target.customdata[-1]}" if target is not None else ""
        parts.append(f"{titles[k] if k < len(titles) else 'KPI'}: {shown} in {when}{against} ({rag})")
    return f"Small multiples, one per KPI ({len(actual)}). " + "; ".join(parts) + "."


def _radar(fig: go.Figure) -> str:
    current = next((t for t in fig.data if t.name == "Current"), None)
    target = next((t for t in fig.data if t.name == "Target"), None)
    if current is None:
        return "No assessment."
    areas = [_label(a) for a in current.theta][:-1]
    now = list(current.r)[:-1]
    want = list(target.r)[:-1] if target is not None else [None] * len(now)
    gaps = [(w - c, a, c, w) for a, c, w in zip(areas, now, want, strict=False) if c is not None and w is not None]
    below = [g for g in gaps if g[0] > 0]
    text = f"Radar chart of maturity levels (1 to 5) in {len(areas)} areas, current against target. "
    text += f"{len(below)} of {len(gaps)} areas are below their target"
    if below:
        _, area, c, w = max(below)
        text += f"; the largest gap is {area} (level {c:g}, target {w:g})"
    return text + "."


def _ranked(fig: go.Figure, no_data: dict[str, list[str]]) -> str:
    """Best partner per measure; then, per measure, the councils with no data (not drawn, not ranked)."""
    from starviz.nodata import NO_DATA

    titles = [_label(a.text) for a in fig.layout.annotations]
    parts = []
    for k, t in enumerate(fig.data):
        if t.type != "bar" or t.text is None or not len(t.text):
            continue
        best = _label(t.y[-1])  # the best partner is drawn at the top (last)
        parts.append(f"{titles[k] if k < len(titles) else 'Measure'}: {best} {str(t.text[-1]).split(' · ')[0]}")
    text = f"Each measure ranked across the partners ({len(parts)} measures). Best: " + ("; ".join(parts) or "none") + "."
    if no_data:
        missing = "; ".join(f"{_label(m)} for {', '.join(_label(c) for c in who)}" for m, who in no_data.items())
        text += f" Not ranked, {NO_DATA}: {missing}."
    return text
