"""Benchmarking the partners, in pure Python: each measure ranked with the gap to the best partner,
and warnings when the councils' data coverage differs enough to make a comparison unfair.

The measures (label, unit, which direction is better, thresholds) are configuration
(``data/reference/benchmark_measures.csv`` through ``dim_benchmark_measures``); the figures come from
``queries.benchmark_by_council`` and ``queries.coverage_by_council``.
"""

from __future__ import annotations

import hashlib
import math
import threading

import cachetools
import pandas as pd

from starviz import nodata
from starviz.fmt import gbp, in_unit, pct
from starviz.nodata import NO_DATA


def measure_label(row: pd.Series | dict, top_suppliers: int) -> str:
    """A measure's label with its threshold and top-N filled in ("Share of lines under £5,000")."""
    threshold = row.get("threshold_gbp")
    text = str(row["label"])
    if threshold is not None and not (isinstance(threshold, float) and math.isnan(threshold)):
        text = text.replace("{threshold}", gbp(float(threshold)))
    return text.replace("{top}", str(top_suppliers))


def format_value(unit: str, value: float | None) -> str:
    """A measure's value in its unit (``fmt.in_unit``)."""
    return in_unit(value, unit)


def format_gap(unit: str, gap: float) -> str:
    """A distance between two values of a measure: £, percentage points or a count."""
    if unit == "gbp":
        return gbp(abs(gap), pence=abs(gap) < 100)
    if unit == "share":
        return f"{abs(gap) * 100:.1f} pp"
    return f"{abs(gap):,.0f}"


_RANKED: cachetools.LRUCache = cachetools.LRUCache(maxsize=64)
_RANKED_LOCK = threading.Lock()


def _content(frame: pd.DataFrame) -> tuple:
    """A frame's content as a key: its values, index, columns and types."""
    digest = hashlib.sha256(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes()).hexdigest()
    return digest, tuple(frame.columns), tuple(str(t) for t in frame.dtypes)


def rank(figures: pd.DataFrame, definitions: pd.DataFrame, top_suppliers: int) -> pd.DataFrame:
    """:func:`ranking` worked out once per answer (the content of the figures and the definitions)
    and shared by reruns and sessions, as a copy of its own for each caller: a rerun of the page
    asks the same answer again, and ranking it row by row took ~17 ms of server CPU every time."""
    try:
        key = (_content(figures), _content(definitions), top_suppliers)
    except TypeError:  # a value pandas cannot hash: worked out every time
        return ranking(figures, definitions, top_suppliers)
    with _RANKED_LOCK:
        held = _RANKED.get(key)
    if held is None:
        held = ranking(figures, definitions, top_suppliers)
        with _RANKED_LOCK:
            _RANKED[key] = held
    return held.copy()


def ranking(figures: pd.DataFrame, definitions: pd.DataFrame, top_suppliers: int) -> pd.DataFrame:
    """One row per measure and council: value, rank (1 = best; ties share a rank), the best partner
    and the gap to it in the measure's unit (£, percentage points or a count). A measure where neither
    direction is better (``better`` = none) is ranked from the highest, with the gap to the highest.
    A council with no data for a measure (its value is null) keeps a row saying so, with no value,
    rank or gap: it is not ranked, and the others are ranked among themselves."""
    rows = []
    for _, d in definitions.iterrows():
        measure, unit, better = d["measure"], d["unit"], d["better"]
        if measure not in figures:
            continue
        every = figures[["council", measure]].rename(columns={measure: "value"})
        values = every[every["value"].notna()]
        label = measure_label(d, top_suppliers)
        for council in every.loc[every["value"].isna(), "council"]:
            rows.append(
                {
                    "measure": measure,
                    "label": label,
                    "unit": unit,
                    "better": better,
                    "council": council,
                    "value": None,
                    "value_text": NO_DATA,
                    "rank": None,
                    "count_ranked": len(values),
                    "best_council": None,
                    "best_value": None,
                    "gap": None,
                    "gap_unit": {"gbp": "£", "share": "pp"}.get(unit, unit),
                    "gap_text": f"{NO_DATA}: not ranked",
                    "gap_short": "not ranked",
                }
            )
        if values.empty:
            continue
        ascending = better == "lower"
        ranks = values["value"].rank(method="min", ascending=ascending).astype(int)
        best = values.loc[ranks.idxmin()]
        reference = "best" if better in ("higher", "lower") else "highest"
        for (_, v), r in zip(values.iterrows(), ranks, strict=True):
            gap = float(v["value"]) - float(best["value"])
            if len(values) == 1:
                gap_text, gap_short = "the only council compared", "not ranked"
            elif gap == 0:
                gap_text = gap_short = reference if (ranks == 1).sum() == 1 else f"joint {reference}"
            else:
                direction = "above" if gap > 0 else "below"
                gap_text = f"{format_gap(unit, gap)} {direction} the {reference} ({best['council']})"
                gap_short = ("+" if gap > 0 else "−") + format_gap(unit, gap)
            rows.append(
                {
                    "measure": measure,
                    "label": label,
                    "unit": unit,
                    "better": better,
                    "council": v["council"],
                    "value": float(v["value"]),
                    "value_text": format_value(unit, float(v["value"])),
                    "rank": int(r),
                    "count_ranked": len(values),
                    "best_council": best["council"],
                    "best_value": float(best["value"]),
                    "gap": gap if unit != "share" else gap * 100,
                    "gap_unit": {"gbp": "£", "share": "pp"}.get(unit, unit),
                    "gap_text": gap_text,
                    "gap_short": gap_short,
                }
            )
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    frame["rank"] = frame["rank"].astype("Int64")
    order = {m: i for i, m in enumerate(definitions["measure"])}
    # each measure's councils in the figures' order, those with no data after those ranked
    frame = frame.assign(_m=frame["measure"].map(order), _n=frame["rank"].isna())
    return frame.sort_values(["_m", "_n"], kind="stable").drop(columns=["_m", "_n"]).reset_index(drop=True)


# what each share needs, by the measure names of mart_measure_coverage_by_council
_NEEDS = {"on_contract_share": "on_contract", "local_share": "local", "sme_share": "sme", "vcse_share": "vcse"}


def no_data_notes(ranked: pd.DataFrame, measure_coverage: pd.DataFrame | None = None) -> list[str]:
    """A sentence per measure that some council has no data for (who, that it is not drawn or ranked,
    and what the measure needs), in the measures' order."""
    if ranked.empty:
        return []
    needs = {}
    if measure_coverage is not None and len(measure_coverage):
        needs = dict(zip(measure_coverage["measure"], measure_coverage["needs"], strict=True))
    out = []
    for (measure, label), part in ranked[ranked["value"].isna()].groupby(["measure", "label"], sort=False):
        sentence = nodata.note(label, list(part["council"]))
        need = needs.get(_NEEDS.get(measure, ""))
        out.append(sentence[:-2] + f"; it needs {need})." if need else sentence)
    return out


def line_floor_note(figures: pd.DataFrame) -> str:
    """Which lines the line measures (average line, share of small lines, number of suppliers) and
    supplier concentration (top-N share, HHI) count when a council compared publishes only lines over
    a threshold ("" when every council compared publishes every line): "Line measures and supplier
    concentration count lines of £500 and over for every council: Stockport publishes only those." """
    if figures.empty or "line_floor_gbp" not in figures:
        return ""
    floor = figures["line_floor_gbp"].iloc[0]
    if nodata.missing(floor) or float(floor) <= 0:
        return ""
    only = [
        str(c)
        for c, p in zip(figures["council"], figures["publishes_from_gbp"], strict=True)
        if not nodata.missing(p) and float(p) >= float(floor)
    ]
    publish = "publishes" if len(only) == 1 else "publish"
    return (
        f"Line measures and supplier concentration count lines of {gbp(float(floor))} and over for every council: "
        f"{nodata.names_text(only)} {publish} only those."
    )


NUMBER_COLUMNS = ("value", "rank", "gap")


def ranking_table(ranked: pd.DataFrame) -> pd.DataFrame:
    """The ranking as a table for export: measure, council, value, rank and gap to the best."""
    if ranked.empty:
        return ranked
    return ranked[
        ["label", "council", "value_text", "value", "rank", "count_ranked", "best_council", "gap", "gap_unit", "gap_text"]
    ].rename(columns={"label": "measure", "count_ranked": "of"})


def coverage_warnings(coverage: pd.DataFrame, tolerance: float) -> list[str]:
    """A sentence for each way the councils' coverage differs: months loaded, or the shares of spend
    categorised or matched to a supplier apart by more than ``tolerance``."""
    if len(coverage) < 2:
        return []
    out = []
    months = coverage.set_index("council")["months_loaded"]
    none = [str(c) for c, n in months.items() if n == 0]
    if none:  # a partner with nothing in the period is not "short of months": it has no figures at all
        out.append(
            f"No spend loaded for this period: {', '.join(none)}. "
            f"{'It has' if len(none) == 1 else 'They have'} no figures here and {'is' if len(none) == 1 else 'are'} not ranked."
        )
    months = months[months > 0]
    if months.nunique() > 1:
        most = int(months.max())
        short = ", ".join(f"{c} {int(n)}" for c, n in months.items() if n < most)
        out.append(
            f"Months of spend loaded differ: {short} of the {most} the others have in this period. "
            "Totals and per-head figures cover different lengths of time."
        )
    for column, what in (("categorised_share", "categorised"), ("matched_share", "matched to an identified supplier")):
        shares = coverage.set_index("council")[column].dropna()
        if len(shares) > 1 and shares.max() - shares.min() > tolerance:
            detail = ", ".join(f"{c} {pct(v)}" for c, v in shares.items())
            out.append(
                f"The share of spend {what} differs by {(shares.max() - shares.min()) * 100:.1f} pp "
                f"({detail}): measures that depend on it are less comparable."
            )
    return out


def coverage_line(coverage: pd.DataFrame) -> str:
    """Each council's coverage in one line, to sit under every comparison."""
    parts = [
        f"{r.council}: {int(r.months_loaded)} of {int(r.months_in_period)} months, {pct(r.categorised_share)} "
        f"categorised, {pct(r.matched_share)} to identified suppliers"
        if r.months_loaded
        else f"{r.council}: {NO_DATA} (no spend loaded for the period)"  # not "no data categorised"
        for r in coverage.itertuples()
    ]
    return "Coverage: " + "; ".join(parts) + "." if parts else ""


def definitions_table(definitions: pd.DataFrame, top_suppliers: int) -> pd.DataFrame:
    """The measures as configured, for the page's notes: label, which direction is better, definition."""
    better = {"higher": "Higher", "lower": "Lower", "none": "Neither (gap to the highest)"}
    return pd.DataFrame(
        {
            "Measure": [measure_label(r, top_suppliers) for _, r in definitions.iterrows()],
            "Better": [better.get(b, b) for b in definitions["better"]],
            "Definition": definitions["description"],
        }
    )
