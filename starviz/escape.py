"""Text from data, made safe for where it goes: a file, a Markdown element, a Plotly label.

Three outlets, one function each; nothing else in starviz escapes text by hand.

* :func:`neutralise`: every text that leaves in a file (CSV and XLSX cells and headers, sheet names,
  the Notes sheet, alt text). A text a spreadsheet would run as a formula gets a leading apostrophe
  (OWASP "CSV injection": ``= + - @``, tab, carriage return, line feed and the full-width
  ``＝ ＋ － ＠``, also after leading spaces). Numbers are untouched, so negative amounts stay numbers.
  Control characters a cell cannot hold become spaces; a text over Excel's 32,767 characters is cut,
  saying how much was cut.
* :func:`md`: a text put into Markdown (``st.markdown``, captions, titles, notices, button and
  metric labels). Every Markdown/HTML punctuation mark is backslash-escaped and line breaks become
  spaces, so ``![x](http://host/x.png)`` is shown as those characters and fetches nothing.
* :func:`plotly`: a text put into a Plotly figure (axis categories, legend, hover, labels). Plotly
  renders ``<a href>``, ``<b>``, ``<br>``, ``<span style>`` in every label; ``<`` and ``>`` become
  entities, which Plotly shows as the characters (it splits tags before decoding entities).
  Idempotent, so a text escaped twice reads the same.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# OWASP CSV injection: the characters a spreadsheet reads as the start of a formula (or of DDE).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_LEADING_SPACE = " \u00a0\u3000"


# What a spreadsheet cell cannot hold: control characters other than tab and line breaks (openpyxl
# refuses them, so one such name in a ledger would break every export) and more than Excel's
# 32,767 characters (Excel "repairs" the file and drops the text).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
CELL_LIMIT = 32_767
# Every text ``neutralise`` changes matches this (Python's re and RE2 alike) or is over CELL_LIMIT:
# a column of a million texts is checked in one vectorised pass and only those are neutralised.
MAY_NEED_NEUTRALISING = (
    f"^[{_LEADING_SPACE}]*[{''.join(re.escape(c) if c in '-]^' else c for c in FORMULA_STARTS)}]|{_CONTROL.pattern}"
)


def neutralise(value: object) -> object:
    """``value`` as a spreadsheet cell that can only be text: a str that a spreadsheet would read as
    a formula (after any leading spaces) gets a leading apostrophe, control characters a cell
    cannot hold become spaces, and a text longer than a cell holds is cut with a note saying how
    much was cut; anything else is returned as is."""
    if not isinstance(value, str):
        return value
    value = _CONTROL.sub(" ", value)
    if value.lstrip(_LEADING_SPACE).startswith(FORMULA_STARTS):
        value = "'" + value
    if len(value) > CELL_LIMIT:
        shown = CELL_LIMIT - 60  # room for the note, whose length depends on the count
        value = value[:shown] + f" [… {len(value) - shown:,} more characters not shown]"
    return value


def neutral_text(value: object) -> str:
    """``str(value)`` neutralised: for headers, sheet names and notes, which are always text."""
    return str(neutralise(str(value)))


def sheet_name(title: str, taken: list[str] | tuple[str, ...] = ()) -> str:
    """An Excel sheet name: neutralised, without ``[]:*?/\\``, at most 31 characters, unique among
    ``taken``. Excel refuses a name starting with an apostrophe, so a formula-like title starts "_"."""
    name = "".join(c for c in str(title) if c not in "[]:*?/\\").strip()
    name = neutral_text(name)
    if name.startswith("'"):
        name = "_" + name[1:]
    name = name[:31] or "Data"
    base, n = name, 2
    while name in taken:
        name = f"{base[:28]} {n}"
        n += 1
    return name


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&=\"'])")
_LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029]+")


# GitHub-flavoured Markdown turns URL-like text into links after parsing, escapes or not: a word
# joiner (invisible) inside "://", "www." and "@" keeps them text.
_AUTOLINK = re.compile(r"(:)(//)|(www)(\.)|(@)", re.IGNORECASE)


def md(value: object) -> str:
    """``value`` as literal text inside Markdown: punctuation backslash-escaped, line breaks as spaces,
    URL-like text kept from becoming a link."""
    if value is None:
        return ""
    text = _AUTOLINK.sub(lambda m: "\u2060".join(g for g in m.groups() if g) + ("\u2060" if m.group(5) else ""), str(value))
    return _MD_SPECIAL.sub(r"\\\1", _LINE_BREAKS.sub(" ", text))


def plotly(value: Any) -> Any:
    """Text for a Plotly figure: ``<`` and ``>`` as entities. Strings, and the strings inside lists,
    tuples, dicts (keys and values), pandas Series and DataFrames (values, column and index labels),
    are escaped; anything else is returned as is. DataFrames and Series are copied, never changed."""
    import pandas as pd

    if isinstance(value, str):
        return value.replace("<", "&lt;").replace(">", "&gt;") if ("<" in value or ">" in value) else value
    if isinstance(value, pd.DataFrame):
        out = value.copy()
        for i in range(out.shape[1]):
            out.isetitem(i, _plotly_series(out.iloc[:, i]))
        out.columns = _plotly_index(out.columns)
        out.index = _plotly_index(out.index)
        return out
    if isinstance(value, pd.Series):
        return _plotly_series(value.copy())
    if isinstance(value, Mapping):
        return type(value)({plotly(k): plotly(v) for k, v in value.items()}) if isinstance(value, dict) else value
    if isinstance(value, list):
        return [plotly(v) for v in value]
    if isinstance(value, tuple):
        return tuple(plotly(v) for v in value)
    return value


def _plotly_series(series):
    import pandas as pd

    if isinstance(series.dtype, pd.CategoricalDtype):
        return series.cat.rename_categories([plotly(c) for c in series.cat.categories])
    if series.dtype == object or pd.api.types.is_string_dtype(series):
        return series.map(lambda v: plotly(v) if isinstance(v, str) else v)
    return series


def _plotly_index(index):
    import pandas as pd

    if isinstance(index, pd.MultiIndex):
        return index.set_levels([_plotly_index(level) for level in index.levels])
    if index.dtype == object or pd.api.types.is_string_dtype(index):
        return index.map(lambda v: plotly(v) if isinstance(v, str) else v)
    return index


def unplotly(value: object) -> object:
    """The text behind :func:`plotly` (for a value read back from a chart click, or alt text)."""
    if isinstance(value, str):
        return value.replace("&lt;", "<").replace("&gt;", ">")
    return value


def plotly_args(fn):
    """``fn`` with every argument passed through :func:`plotly`: data reaches a chart as text."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return fn(*(plotly(a) for a in args), **{k: plotly(v) for k, v in kwargs.items()})

    wrapper.__plotly_escaped__ = True
    return wrapper


__all__ = ["FORMULA_STARTS", "md", "neutral_text", "neutralise", "plotly", "plotly_args", "sheet_name", "unplotly"]
