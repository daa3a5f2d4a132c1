""" "No data" is a value: a measure whose underlying data is not loaded (no contracts register, no
supplier flags, no social value returns, no KPI extract) is shown as ``NO_DATA``, the same words on
every page, in exports, alt text and the narrative; it is not 0, is not ranked, gets no RAG and is
not counted on or off target.

Whether a measure has data is decided once, in the SQL: a share of spend by a flag is null where the
flag is known for none of the spend counted (the ``known_share`` macros, ``sql/00_functions``, which
also net credits per supplier and leave out a supplier netting to nothing or less, ``SHARE_RULE``); which datasets
each council has loaded is ``mart_measure_coverage_by_council`` (``queries.measure_coverage``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

NO_DATA = "no data"

# A wide list's per-council columns (and its count of councils with a contract), null only where the
# council has no data behind them: exports write NO_DATA there (``fill``).
COUNCIL_COLUMNS = re.compile(r"_(spend_gbp|suppliers)$|^count_councils_with_contract$")


def missing(value: object) -> bool:
    """True for a value with no data behind it: None, NaN, pandas' NA or NaT."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def fill(df: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    """A copy of ``df`` with each missing value of ``columns`` written as ``NO_DATA`` (for exports and
    tables: an empty cell, "–" or 0 would each say something else)."""
    out = df.copy()
    for column in columns:
        if column in out.columns and out[column].isna().any():
            out[column] = out[column].astype(object).where(out[column].notna(), NO_DATA)
    return out


def councils_without(values: pd.DataFrame, column: str, council: str = "council") -> list[str]:
    """The councils whose ``column`` has no data, in the frame's order."""
    if column not in values.columns:
        return list(values[council])
    return [str(c) for c, v in zip(values[council], values[column], strict=True) if missing(v)]


def note(measure_label: str, councils: list[str]) -> str:
    """One sentence for a chart or table: who has no data for a measure ("" when everyone has)."""
    if not councils:
        return ""
    who = councils[0] if len(councils) == 1 else ", ".join(councils[:-1]) + " and " + councils[-1]
    return f"{measure_label}: {NO_DATA} for {who} (not drawn, not ranked)."


def not_listed(coverage: pd.DataFrame, measure: str, what: str) -> str:
    """One sentence for a list that can only hold councils with data for ``measure`` (from
    ``queries.measure_coverage``): who is left out and why, so that an absent council is not read as
    a clean one ("" when every council has data)."""
    if coverage is None or coverage.empty:
        return ""
    rows = coverage[(coverage["measure"] == measure) & ~coverage["has_data"].astype(bool)]
    if rows.empty:
        return ""
    names = [str(c) for c in rows["council"]]
    who = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    need = str(rows["needs"].iloc[0]).removeprefix("a ").removeprefix("an ")
    return f"Not listed: {who} ({NO_DATA}: no {need} loaded, so {what} is not known)."


def names_text(names: list[str]) -> str:
    """ "Stockport", "Stockport and Trafford", "Rochdale, Stockport and Trafford"."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1] if names else ""


@dataclass(frozen=True)
class Covered:
    """Which councils in scope have data for a measure (``queries.measure_coverage``): a count or
    total covers only ``ids``; with none it is ``NO_DATA``, never 0."""

    ids: list[str]
    names: list[str]
    missing: list[str]
    needs: str
    missing_text: str = ""  # what the others lack, when not "no <needs> loaded"

    @property
    def none(self) -> bool:
        return not self.ids

    def note(self, what: str) -> str:
        """Who a figure covers when not every council in scope ("" when it is everyone): "Contracts
        ending: no data (no contracts register loaded for Rochdale and Tameside)." or "Contracts ending
        cover Stockport only: no contracts register loaded for Rochdale and Tameside." """
        if not self.missing:
            return ""
        lacking = self.missing_text or f"no {self.needs.removeprefix('a ').removeprefix('an ')} loaded"
        if self.none:
            return f"{what}: {NO_DATA} ({lacking} for {names_text(self.missing)})."
        return f"{what}: {names_text(self.names)} only ({NO_DATA} for {names_text(self.missing)}: {lacking})."


def covered(coverage: pd.DataFrame, measure: str) -> Covered:
    """The councils of ``coverage`` (``queries.measure_coverage``, in its order) with and without data
    for ``measure``: the one definition of "has data", recorded by the build."""
    rows = coverage[coverage["measure"] == measure] if len(coverage) else coverage
    if rows.empty:
        return Covered([], [], [], "")
    has = rows["has_data"].astype(bool)
    return Covered(
        ids=[str(c) for c in rows.loc[has, "council_id"]],
        names=[str(c) for c in rows.loc[has, "council"]],
        missing=[str(c) for c in rows.loc[~has, "council"]],
        needs=str(rows["needs"].iloc[0]),
    )


# Shares of spend with credits: the rule of ``known_share`` (sql/00_functions/known_share.sql) in the
# words the pages use, so that no share reads over 100% or below 0% and the director can say why.
SHARE_RULE = (
    "Credits and refunds are netted against payments to the same supplier in the period (on contract or "
    "not, with a category or not); a supplier whose payments net to nothing or less is left out of the "
    "share and of the spend it is a share of."
)


def share_left_out(gbp: float | None, who: str = "", *, spend: str = "spend") -> str:
    """One sentence for a page showing shares of spend: how much net refund the shares leave out
    ("" when none). ``who``: the councils or scope it is about, already escaped for Markdown;
    ``spend``: which spend the shares are of ("addressable spend", "all spend"), so that two pages
    showing shares of different spend say so. The amount is one definition everywhere
    (``supplier_net_spend``): the suppliers whose payments in the period net to nothing or less."""
    from starviz import fmt  # fmt imports this module

    if missing(gbp) or not gbp or float(gbp) <= 0:
        return ""
    where = f" for {who}" if who else ""
    return (
        f"Shares of {spend} leave out {fmt.gbp(float(gbp))} of net refunds{where}: suppliers whose payments in the "
        "period net to nothing or less (credits netted against the same supplier)."
    )


def share_left_out_by_council(figures: pd.DataFrame, council: str = "council", *, spend: str = "spend") -> str:
    """``share_left_out`` for a frame of councils (``share_left_out_gbp`` per council), naming each
    council that has some, with its amount ("" when none has)."""
    from starviz import escape, fmt

    if "share_left_out_gbp" not in figures.columns:
        return ""
    rows = figures[figures["share_left_out_gbp"].fillna(0) > 0]
    if rows.empty:
        return ""
    pairs = list(zip(rows[council], rows["share_left_out_gbp"], strict=True))
    if len(pairs) == 1:
        who = escape.md(str(pairs[0][0]))
    else:
        who = ", ".join(f"{escape.md(str(c))} {fmt.gbp(float(v))}" for c, v in pairs)
    return share_left_out(float(rows["share_left_out_gbp"].sum()), who, spend=spend)


SHARE_LABELS = {"on_contract": "On contract", "local": "Local (GM)", "sme": "SME", "vcse": "VCSE"}


def shares_without(measures: dict) -> str:
    """One sentence for the overview's shares of spend: the councils each share leaves out because its
    flag is known for none of their spend (``<share>_no_data`` lists), so a council with no data does
    not read as spend that is not local, SME, VCSE or on contract ("" when none):
    "Local (GM), SME and VCSE: no data for Trafford (known for none of its spend); those shares are of
    the other councils' spend." A share with no data for anyone is left to its card."""
    by_councils: dict[tuple[str, ...], list[str]] = {}
    for key, label in SHARE_LABELS.items():
        if missing(measures.get(f"{key}_share")):  # no data for anyone: its card says so itself
            continue
        if councils := tuple(measures.get(f"{key}_no_data") or ()):
            by_councils.setdefault(councils, []).append(label)
    parts = []
    for councils, labels in by_councils.items():
        whose = "its" if len(councils) == 1 else "their"
        parts.append(
            f"{names_text(labels)}: {NO_DATA} for {names_text(list(councils))} (known for none of {whose} spend); "
            f"{'that share is' if len(labels) == 1 else 'those shares are'} of the other councils' spend."
        )
    return " ".join(parts)


def unmatched_returns(unmatched: pd.DataFrame) -> str:
    """One sentence for the social value page: whose returns name contracts in no register loaded, so
    are in none of its figures ("" when none): "Not counted: Rochdale's social value returns name 120
    contracts in no contracts register loaded (£1.2m committed): no data for them until the register
    is loaded." """
    from starviz import fmt

    if unmatched is None or unmatched.empty:
        return ""
    parts = [
        f"{c}'s social value returns name {fmt.count(int(n), 'contract')} in no contracts register loaded "
        f"({fmt.gbp(float(g))} committed)"
        for c, n, g in zip(unmatched["council"], unmatched["count_contracts"], unmatched["committed_gbp"], strict=True)
    ]
    return "Not counted: " + "; ".join(parts) + f": {NO_DATA} for them until the register is loaded."


def coverage_left_out(owners: list[str]) -> str:
    """One sentence for social value coverage: whose contracts it leaves out because they have sent no
    social value returns of their own ("" when none): no data, not contracts without measures."""
    if not owners:
        return ""
    return (
        f" Coverage leaves out the contracts of {names_text(list(owners))}: no social value returns of "
        f"{'its' if len(owners) == 1 else 'their'} own loaded ({NO_DATA}, not contracts without measures)."
    )


def supplier_on_contract_share(by_council: pd.DataFrame) -> float | None:
    """The on-contract share of one supplier's spend over the councils of ``supplier_spend_by_council``
    whose contracts are loaded, under the one share rule (``supplier_net_spend``): each council's net
    with the supplier spread over its on and off contract parts that are positive, a council netting
    to nothing or less left out. ``None`` ("no data") when no council paying it has contracts loaded,
    or nothing nets above nothing: never 0% for a council whose register is missing."""
    known = by_council[by_council["on_contract_gbp"].notna() & by_council["off_contract_gbp"].notna()]
    on_part = counted = 0.0
    for on, off in zip(known["on_contract_gbp"].astype(float), known["off_contract_gbp"].astype(float), strict=True):
        net, positive = on + off, max(on, 0.0) + max(off, 0.0)
        if net > 0:
            on_part += net * max(on, 0.0) / positive
            counted += net
    return on_part / counted if counted > 0 else None


def fill_council_columns(df: pd.DataFrame) -> pd.DataFrame:
    """``fill`` on a wide list's per-council columns (``COUNCIL_COLUMNS``), for its exports."""
    return fill(df, [c for c in df.columns if COUNCIL_COLUMNS.search(str(c))])
