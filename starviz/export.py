"""Tables to CSV and XLSX that are safe to open: numbers stay numbers, text never becomes a formula."""

from __future__ import annotations

import datetime as dt
import io
import os
import shutil
import threading
from collections.abc import Mapping

import pandas as pd
import plotly.graph_objects as go
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from starviz.escape import neutral_text, neutralise, sheet_name, unplotly

LICENCE = "Contains public sector information licensed under the Open Government Licence v3.0."
BRAND = "STAR Procurement"
BRAND_COLOUR = "#00546B"
CHROMIUM_HINT = "Image export needs Chromium on the server: `apt-get install -y chromium` (Debian/Ubuntu), then restart the app."
GBP_FORMAT = "£#,##0.00;-£#,##0.00"
SHARE_FORMAT = "0.0%"


def safe_frame(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with every text neutralised (``starviz.escape.neutralise``): cells of any column
    (categories and lists included) and the column headers, which may be data (a pivot's columns)."""
    out = df.copy()
    out.columns = [neutral_text(_header(c)) for c in out.columns]
    for i in range(out.shape[1]):
        col = out.iloc[:, i]
        if not (pd.api.types.is_numeric_dtype(col.dtype) or pd.api.types.is_datetime64_any_dtype(col.dtype)):
            out.isetitem(i, col.astype(object).map(lambda v: neutralise(_text(v))))
    return out


def _header(column: object) -> str:
    return " / ".join(str(c) for c in column) if isinstance(column, tuple) else str(column)


def _text(value: object) -> object:
    return "; ".join(str(v) for v in value) if isinstance(value, list | tuple) else value


def to_csv(df: pd.DataFrame) -> bytes:
    return safe_frame(df).to_csv(index=False).encode("utf-8-sig")  # BOM: Excel reads £ correctly


def to_xlsx(df: pd.DataFrame, title: str, notes: Mapping[str, str]) -> bytes:
    """One data sheet (frozen header, autofilter, £ and % formats) and a Notes sheet."""
    return to_xlsx_sheets({"Data": df}, title, notes)


def to_xlsx_sheets(frames: Mapping[str, pd.DataFrame], title: str, notes: Mapping[str, str]) -> bytes:
    """A sheet per table (frozen header, autofilter, £ and % formats) and a Notes sheet."""
    book = Workbook()
    book.remove(book.active)
    for sheet_title, df in frames.items():
        _data_sheet(book, sheet_name(sheet_title, book.sheetnames), df)
    info = book.create_sheet(sheet_name("Notes", book.sheetnames))
    info.append(["starviz export", neutral_text(title)])
    for key, value in {**notes, "Exported": f"{dt.datetime.now():%d %b %Y %H:%M}", "Licence": LICENCE}.items():
        info.append([neutral_text(key), neutral_text(value)])
    info.column_dimensions["A"].width = 18
    info.column_dimensions["B"].width = 100
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _data_sheet(book: Workbook, name: str, df: pd.DataFrame) -> None:
    sheet = book.create_sheet(name)
    safe = safe_frame(df)
    sheet.append(list(safe.columns))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in safe.itertuples(index=False):
        sheet.append([_cell(v) for v in row])
    for i, col in enumerate(safe.columns, start=1):
        letter = get_column_letter(i)
        fmt = GBP_FORMAT if str(col).endswith("_gbp") else SHARE_FORMAT if str(col).endswith("_share") else None
        if fmt:
            for cell in sheet[letter][1:]:
                cell.number_format = fmt
        width = max([len(str(col)), *(len(str(v)) for v in safe[col].head(200))]) + 2
        sheet.column_dimensions[letter].width = min(width, 60)
    sheet.freeze_panes = "A2"
    if len(safe.columns):
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(safe.columns))}{len(safe) + 1}"


def _cell(value: object) -> object:
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if hasattr(value, "item") and not isinstance(value, str):  # numpy scalars -> Python numbers
        return value.item()
    return neutralise(_text(value))


# --- charts: branded static images --------------------------------------------------------------


class ExportUnavailable(RuntimeError):
    """No browser to render static images with; the message says how to install one."""


_server_lock = threading.Lock()
_server_started = False


def chromium_path() -> str | None:
    return os.environ.get("BROWSER_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")


def _ensure_server() -> None:
    """One Kaleido (headless Chromium) server for the process: ~0.2 s an image instead of 2-3 s."""
    global _server_started
    with _server_lock:
        if _server_started:
            return
        browser = chromium_path()
        if not browser:
            raise ExportUnavailable(CHROMIUM_HINT)
        os.environ["BROWSER_PATH"] = browser  # never let Kaleido fetch a browser of its own
        import kaleido

        kaleido.start_sync_server(n=1, timeout=60, mathjax=False, silence_warnings=True)
        _server_started = True


def branded(fig: go.Figure, *, title: str, subtitle: str, source: str, width: int, height: int) -> go.Figure:
    """A copy of `fig` sized for a preset, with title, filters, source, licence and the STAR name;
    type scales with the image so it stays readable on a phone. The header (title, filters, legend)
    and the footer (STAR, source, licence) sit in bands of the margins sized to their text, so
    nothing overlaps the plot or each other."""
    out = go.Figure(fig)
    base = max(16, round(min(width, height * 1.6) / 40))
    title_size, sub_size, small = round(base * 1.35), round(base * 0.85), round(base * 0.62)
    title_lines = _wrap(_html(title), int(width * 0.95 / (title_size * 0.56)))
    footer = _wrap(f"<b>{BRAND}</b> · {_html(source)}", int(width * 0.97 / (small * 0.5)))
    n_title, n_footer = title_lines.count("<br>") + 1, footer.count("<br>") + 1
    has_legend = (
        any(getattr(t, "showlegend", None) is not False and t.type not in ("table",) for t in out.data) and len(out.data) > 1
    )
    top = round(base * 0.6 + title_size * 1.25 * n_title + sub_size * 1.5 + (base * 1.7 if has_legend else base * 0.6))
    bottom = round(base * 2.2 + small * 1.35 * n_footer)
    plot_h = max(height - top - bottom, 1)
    out.update_layout(
        width=width,
        height=height,
        template="star",
        title=None,
        font=dict(size=base),
        margin=dict(l=round(base * 1.2), r=round(base * 1.2), t=top, b=bottom),
        legend=dict(font=dict(size=sub_size), orientation="h", yanchor="bottom", y=1 + base * 0.35 / plot_h, x=0, xanchor="left"),
    )
    out.update_xaxes(tickfont=dict(size=round(base * 0.8)), title_font=dict(size=sub_size))
    out.update_yaxes(tickfont=dict(size=round(base * 0.8)), title_font=dict(size=sub_size))
    above = top - base * 0.6  # pixels from the top of the plot to the top of the title
    out.add_annotation(
        text=f"<b>{title_lines}</b>",
        xref="paper",
        yref="paper",
        x=0,
        y=1,
        xanchor="left",
        yanchor="top",
        yshift=round(above),
        showarrow=False,
        align="left",
        font=dict(size=title_size, color="#1F2933"),
    )
    out.add_annotation(
        text=_html(subtitle),
        xref="paper",
        yref="paper",
        x=0,
        y=1,
        xanchor="left",
        yanchor="top",
        yshift=round(above - title_size * 1.25 * n_title - base * 0.2),
        showarrow=False,
        font=dict(size=sub_size, color="#52606D"),
    )
    out.add_annotation(
        text=footer,
        xref="paper",
        yref="paper",
        x=0,
        y=0,
        xanchor="left",
        yanchor="bottom",
        yshift=-(bottom - base * 0.5),
        showarrow=False,
        align="left",
        font=dict(size=small, color="#52606D"),
    )
    for trace in out.data:
        if trace.type == "table":  # tables carry their own type sizes
            trace.header.font.size, trace.header.height = round(base * 0.62), round(base * 1.3)
            trace.cells.font.size, trace.cells.height = round(base * 0.58), round(base * 1.2)
    return out


def _wrap(text: str, width: int) -> str:
    """Break a long title over lines at word boundaries (Plotly does not wrap text)."""
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > max(width, 10):
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return "<br>".join([*lines, line])


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def source_line(as_at: dt.date | None) -> str:
    when = f"data as at {as_at:%d %B %Y}" if as_at else "latest data"
    return f"Source: partner councils' published spend, contracts and social value data, {when}. {LICENCE}"


def image(fig: go.Figure, fmt: str, width: int, height: int) -> bytes:
    """PNG or SVG bytes of an already branded figure at exactly width x height pixels."""
    if fmt not in ("png", "svg", "pdf"):
        raise ValueError(f"unknown image format {fmt!r}")
    _ensure_server()
    import plotly.io as pio

    return pio.to_image(fig, format=fmt, width=width, height=height, scale=1)


# --- alt text -------------------------------------------------------------------------------------


def _money(value: float) -> str:
    from starviz.charts import gbp

    return gbp(value)


def alt_text(fig: go.Figure, title: str, subtitle: str = "", top: int = 3) -> str:
    """A description of the chart from its data: type, what is measured, the top values, any target."""
    traces = [t for t in fig.data if getattr(t, "name", "") != "Target"]
    kinds = {t.type for t in traces}
    kind = {
        "bar": "Bar chart",
        "scatter": "Line chart",
        "pie": "Pie chart",
        "treemap": "Treemap",
        "sunburst": "Sunburst chart",
        "heatmap": "Heat map",
        "scatterpolar": "Radar chart",
    }.get(next(iter(kinds)) if len(kinds) == 1 else "", "Chart")
    meta = fig.layout.meta if isinstance(fig.layout.meta, dict) else {}
    unit = meta.get("unit", "gbp")
    fmt = _money if unit == "gbp" else (lambda v: f"{v * 100:.1f}%") if unit == "share" else (lambda v: f"{v:,.0f}")
    sentences = [f"{kind}: {title}" + (f" ({subtitle})" if subtitle else "") + "."]
    totals: dict[str, float] = {}
    for t in traces:
        horizontal = t.type == "bar" and getattr(t, "orientation", None) == "h"
        if t.type in ("bar", "scatter"):
            values, labels = (t.x, t.y) if horizontal else (t.y, t.x)
        else:
            values, labels = getattr(t, "values", None), getattr(t, "labels", None)
        if values is None:
            continue
        numbers = [v if isinstance(v, int | float) and not isinstance(v, bool) else None for v in values]
        if len(traces) > 1 and t.name:
            total = float(sum(v for v in numbers if v is not None))
            if total:  # marker-only series (e.g. RAG dots) add nothing to say
                totals[unplotly(t.name)] = totals.get(unplotly(t.name), 0.0) + total
        else:
            for label, v in zip(labels if labels is not None else range(len(numbers)), numbers, strict=False):
                if v is not None:
                    key = label.strftime("%b %Y") if hasattr(label, "strftime") else str(unplotly(label))
                    totals[key] = totals.get(key, 0.0) + float(v)
    if totals:
        ranked = sorted(totals.items(), key=lambda kv: -kv[1])[:top]
        what = "series" if len(traces) > 1 else "values"
        sentences.append(f"Largest {what}: " + "; ".join(f"{k} {fmt(v)}" for k, v in ranked) + ".")
    targets = [t for t in fig.data if getattr(t, "name", "") == "Target"]
    target_value = meta.get("target")
    if target_value is None and targets and getattr(targets[0], "y", None) is not None and len(targets[0].y):
        target_value = targets[0].y[0]
    if target_value is not None:
        sentences.append(f"Target: {fmt(float(target_value))}.")
    return neutral_text(unplotly(" ".join(sentences)))  # plain text: it leaves in a .txt file
