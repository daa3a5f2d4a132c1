"""Pure-Python rule logic of the collaboration and pipeline pages (no SQL, no Streamlit).

The rules that are easier to state in Python than in SQL live here, so that tests can pin them on
small frames: the pipeline's bucket labels, the configuration tables that ``starviz.queries``
passes to DuckDB as parameters, and the grouping of contracts that end close together into joint
re-procurement opportunities.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence

import pandas as pd

from starviz.config import Settings
from starviz.scope import add_months, financial_year, fiscal_quarter

DEFAULT_ROUTE = "default"  # the configuration key for routes the tables do not name
RAG = ("late", "due", "on track")


def bucket_labels(edges: Sequence[int]) -> list[str]:
    """Pipeline buckets from their month edges: [3, 6, 12] -> ['0–3 months', '3–6 months', '6–12 months', '12+ months']."""
    bounds = [0, *edges]
    labels = [f"{a}–{b} months" for a, b in itertools.pairwise(bounds)]
    return [*labels, f"{bounds[-1]}+ months"]


def lead_time_table(settings: Settings) -> tuple[list[str], list[int], list[int]]:
    """(route, value band, months) rows of the lead-time configuration, as three parallel lists."""
    routes, bands, months = [], [], []
    for route, values in settings.pipeline.lead_time_months.items():
        for band, value in enumerate(values):
            routes.append(route)
            bands.append(band)
            months.append(int(value))
    return routes, bands, months


def effort_table(settings: Settings) -> tuple[list[str], list[float]]:
    """(route, effort weight) rows of the configuration, as two parallel lists."""
    return list(settings.pipeline.effort_weight_by_route), [float(v) for v in settings.pipeline.effort_weight_by_route.values()]


def quarter_label(d: dt.date) -> str:
    """Financial-year quarter of a date: 15 June 2025 -> '2025-26 Q1'."""
    return f"{financial_year(d)} Q{fiscal_quarter(d)}"


def quarter_start(d: dt.date) -> dt.date:
    """First day of the financial-year quarter holding ``d`` (quarters start in April, July, October, January)."""
    return add_months(d, -((d.month - 4) % 3))


def _add_months_keep_day(d: dt.date, n: int) -> dt.date:
    first = add_months(d, n)
    last_day = (add_months(first, 1) - dt.timedelta(days=1)).day
    return first.replace(day=min(d.day, last_day))


def expiry_windows(contracts: pd.DataFrame, window_months: int, key: str = "category") -> pd.DataFrame:
    """Joint re-procurement opportunities: contracts with the same ``key`` (the category), held by
    at least two different owners (councils, or STAR), due within ``window_months`` of the first.

    ``contracts`` needs ``contract_id``, ``council_id`` (the owner), ``due_date`` and ``key``.
    Within a category, in order of due date: the first contract not yet in an opportunity opens a
    window running ``window_months`` from its due date (inclusive). When the window holds contracts
    of two or more owners, all of them form an opportunity; otherwise that first contract is set
    aside and the next one opens a window. Each contract belongs to at most one opportunity, so
    values and savings add up. Returns the member contracts with their ``opportunity`` number.
    """
    if contracts.empty:
        return contracts.assign(opportunity=pd.Series(dtype="int64"))
    frame = contracts.assign(due_date=pd.to_datetime(contracts["due_date"]).dt.date)
    frame = frame.sort_values([key, "due_date", "contract_id"], kind="stable").reset_index(drop=True)
    keys, dues, owners = frame[key].tolist(), frame["due_date"].tolist(), frame["council_id"].tolist()
    numbers: list[int | None] = [None] * len(frame)
    number, i = 0, 0
    while i < len(frame):
        limit = _add_months_keep_day(dues[i], window_months)
        end = i
        while end + 1 < len(frame) and keys[end + 1] == keys[i] and dues[end + 1] <= limit:
            end += 1
        if len(set(owners[i : end + 1])) < 2:
            i += 1
            continue
        number += 1
        numbers[i : end + 1] = [number] * (end + 1 - i)
        i = end + 1
    frame["opportunity"] = numbers
    return frame[frame["opportunity"].notna()].astype({"opportunity": "int64"}).reset_index(drop=True)
