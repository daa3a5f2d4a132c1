"""Mechanical checks of a rendered chart export: where every piece of text landed (read from the SVG
laid out by Chromium) and whether any ink touches the canvas edge (read from the PNG)."""

from __future__ import annotations

import html
import io
import re

from PIL import Image

# Every <text> element's box on the page, with its text (lines joined by a space).
_TEXT_BOXES = """() => [...document.querySelectorAll('svg text')].filter(t => {
    const s = getComputedStyle(t); return t.textContent.trim() && s.display !== 'none' && s.visibility !== 'hidden'
      && parseFloat(s.opacity || '1') > 0 && parseFloat(t.getAttribute('opacity') ?? '1') > 0;
  }).map(t => { const r = t.getBoundingClientRect();
    const lines = t.querySelectorAll('tspan.line').length ? [...t.querySelectorAll('tspan.line')].map(l => l.textContent)
                                                         : [t.textContent];
    const plot = t.closest('g.subplot');
    return {text: lines.join(' '), size: parseFloat(getComputedStyle(t).fontSize),
            x0: r.left, y0: r.top, x1: r.right, y1: r.bottom,
            cls: (t.getAttribute('class') || '') + ' ' + (t.parentNode.getAttribute('class') || ''),
            subplot: plot ? plot.getAttribute('class') : ''}; })"""


def text_boxes(page, svg: str, width: int, height: int) -> list[dict]:
    page.set_viewport_size({"width": width, "height": height})
    page.set_content(f"<html><body style='margin:0'>{svg}</body></html>")
    return page.evaluate(_TEXT_BOXES)


def ink_at_edge(png: bytes, band: int = 2, tolerance: int = 12) -> list[str]:
    """The canvas edges (``band`` pixels) where a pixel is not the white background."""
    image = Image.open(io.BytesIO(png)).convert("L")
    w, h = image.size
    edges = {
        "top": (0, 0, w, band),
        "bottom": (0, h - band, w, h),
        "left": (0, 0, band, h),
        "right": (w - band, 0, w, h),
    }
    return [name for name, box in edges.items() if image.crop(box).getextrema()[0] < 255 - tolerance]


def outside(boxes: list[dict], width: int, height: int, slack: float = 1.0) -> list[str]:
    return [
        f"{b['text'][:40]!r} at ({b['x0']:.0f},{b['y0']:.0f})-({b['x1']:.0f},{b['y1']:.0f})"
        for b in boxes
        if b["x0"] < -slack or b["y0"] < -slack or b["x1"] > width + slack or b["y1"] > height + slack
    ]


def overlapping(boxes: list[dict], slack: float = 2.0) -> list[str]:
    """Pairs of text boxes that overlap by more than ``slack`` pixels both ways."""
    found = []
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            dx = min(a["x1"], b["x1"]) - max(a["x0"], b["x0"])
            dy = min(a["y1"], b["y1"]) - max(a["y0"], b["y0"])
            if dx > slack and dy > slack:
                found.append(f"{a['text'][:30]!r} over {b['text'][:30]!r}")
    return found


def _plain(text: str) -> str:
    return re.sub(r"\s+", "", html.unescape(re.sub(r"<[^>]+>", " ", str(text))))


def missing_labels(boxes: list[dict], labels: list[str]) -> list[str]:
    """The category labels (as the figure holds them, once per axis) that the rendered text does not
    show as often."""
    from collections import Counter

    shown = Counter(_plain(b["text"]) for b in boxes)
    wanted = Counter(_plain(label) for label in labels)
    return [label for label, n in wanted.items() if shown[label] < n]


def tiny_ticks(boxes: list[dict], smallest: float) -> list[str]:
    """Axis tick labels set in type smaller than ``smallest`` px."""
    return [
        f"{b['text']} ({b['size']:g} px)"
        for b in boxes
        if ("xtick" in b["cls"] or "ytick" in b["cls"]) and b["size"] < smallest - 0.5
    ]


def category_labels(fig) -> list[str]:
    """Each category a chart names on an axis (a bar's or a heat map's rows and columns), once per
    axis it appears on; axes with their own tick labels, and dates and numbers, are left out."""
    from collections import Counter

    counts: Counter = Counter()
    for trace in fig.data:
        pairs = []
        if trace.type == "bar":
            horizontal = trace.orientation == "h"
            pairs.append(
                (
                    "y" + (trace.yaxis or "y")[1:] if horizontal else "x" + (trace.xaxis or "x")[1:],
                    trace.y if horizontal else trace.x,
                )
            )
        elif trace.type == "heatmap":
            pairs += [("x" + (trace.xaxis or "x")[1:], trace.x), ("y" + (trace.yaxis or "y")[1:], trace.y)]
        for axis_id, values in pairs:
            if values is None:
                continue
            axis = fig.layout[axis_id.replace("x", "xaxis", 1) if axis_id.startswith("x") else axis_id.replace("y", "yaxis", 1)]
            if axis.ticktext is not None or axis.type == "date":
                continue
            for v in dict.fromkeys(v for v in values if isinstance(v, str)):
                counts[(axis_id, v)] = 1
    out: Counter = Counter()
    for (_, label), n in counts.items():
        out[label] += n
    return list(out.elements())


def repeated_ticks(boxes: list[dict]) -> list[str]:
    """Tick labels an axis shows more than once ("Mar 2026, Apr 2026, Apr 2026, May 2026": two ticks
    in one month), per subplot and axis."""
    from collections import Counter

    axes: dict[tuple[str, str], list[str]] = {}
    for b in boxes:
        kind = next((k for k in ("xtick", "ytick") if k in b["cls"].split()), None)
        if kind:
            axes.setdefault((b.get("subplot", ""), kind), []).append(b["text"])
    return [
        f"{kind[0]} axis{' of ' + plot.split()[-1] if plot else ''}: {', '.join(labels)}"
        for (plot, kind), labels in axes.items()
        if any(n > 1 for n in Counter(labels).values())
    ]
