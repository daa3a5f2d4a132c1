"""The overview page: headline measures, comparison windows, expiring contracts, spend by council and month."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from starviz import config, nodata
from starviz.queries import db
from starviz.queries.common import sql_file
from starviz.queries.reference import measure_coverage
from starviz.scope import Scope, add_months, month_end, month_start, months_between

# --- overview ------------------------------------------------------------------------------------

_SPEND_MEASURES = """
    with
    spend as (
        select * from mart_spend_by_council_month where in_scope(council_id, ?) and {month}
    ),
    basis as (
        select council_id, supplier_id, is_on_contract, is_local, is_sme, is_vcse, spend_gbp
        from mart_share_basis_by_supplier_month where in_scope(council_id, ?) and {month} and is_addressable
    ),
    nets as (select * from supplier_net_spend(basis)),
    known as (
        -- per council, whether each flag is known for any of the spend counted (known_share's "has
        -- data"): a council with none is "no data" for that share and left out of it, as the KPIs and
        -- benchmarking leave it out, not counted as spend that is not local, SME, VCSE or on contract
        select council_id,
               bool_or(is_on_contract is not null and spend_gbp > 0) as on_contract_known,
               bool_or(is_local is not null and spend_gbp > 0) as local_known,
               bool_or(is_sme is not null and spend_gbp > 0) as sme_known,
               bool_or(is_vcse is not null and spend_gbp > 0) as vcse_known
        from nets
        group by council_id
    ),
    shares as (
        -- shares of addressable spend netted per supplier over the months (supplier_net_spend.sql):
        -- null ("no data") where the flag is known for none of it
        select
            known_share(is_on_contract, case when on_contract_known then spend_gbp end) as on_contract_share,
            known_share(is_local, case when local_known then spend_gbp end) as local_share,
            flag_known_share(is_local, case when local_known then spend_gbp end) as local_known_share,
            known_share(is_sme, case when sme_known then spend_gbp end) as sme_share,
            known_share(is_vcse, case when vcse_known then spend_gbp end) as vcse_share,
            share_left_out(spend_gbp) as share_left_out_gbp,
            list(distinct councils.short_name order by councils.short_name) filter (where not on_contract_known)
                as on_contract_no_data,
            list(distinct councils.short_name order by councils.short_name) filter (where not local_known)
                as local_no_data,
            list(distinct councils.short_name order by councils.short_name) filter (where not sme_known) as sme_no_data,
            list(distinct councils.short_name order by councils.short_name) filter (where not vcse_known)
                as vcse_no_data
        from nets
        join known using (council_id)
        join dim_councils as councils using (council_id)
    )
    select
        -- null ("no data") when no council in scope has spend loaded in the months asked
        sum(spend_gbp) as total_gbp,
        case when count(*) > 0 then coalesce(sum(spend_gbp) filter (where is_addressable), 0) end as addressable_gbp,
        any_value(shares.on_contract_share) as on_contract_share,
        any_value(shares.local_share) as local_share,
        any_value(shares.local_known_share) as local_known_share,
        any_value(shares.sme_share) as sme_share,
        any_value(shares.vcse_share) as vcse_share,
        any_value(shares.share_left_out_gbp) as share_left_out_gbp,
        any_value(shares.on_contract_no_data) as on_contract_no_data,
        any_value(shares.local_no_data) as local_no_data,
        any_value(shares.sme_no_data) as sme_no_data,
        any_value(shares.vcse_no_data) as vcse_no_data
    from spend
    left join shares on true
"""
_SOCIAL_VALUE = """
    select
        sum(committed_gbp) / nullif(sum(value_gbp), 0) as sv_committed_share,
        sum(delivered_gbp) / nullif(sum(value_gbp), 0) as sv_delivered_share,
        count(*) as count_sv_contracts
    from mart_social_value_by_contract
    where covers_scope(covered_council_ids, ?)
      and {start_month}
"""

_SAVINGS = """
    select sum(value) as savings_gbp, sum(target) as savings_target_gbp
    from mart_kpis_by_month
    where kpi_code = ? and in_scope(council_id, ?) and {month}
"""


@dataclass(frozen=True)
class CouncilLoaded:
    """One council's spend as loaded: the months (a partial one included), the latest month
    complete, and the latest month when it is partial (with its last payment)."""

    council: str
    months: frozenset[dt.date]
    complete_through: dt.date | None
    partial_month: dt.date | None = None
    partial_last_date: dt.date | None = None

    @property
    def complete_months(self) -> frozenset[dt.date]:
        return self.months - {self.partial_month}


@dataclass(frozen=True)
class Comparison:
    """What the overview shows and what its changes compare.

    ``window``: the period cut to the spend loaded in scope (the headline figures). ``months``: the
    months of the period compared, each complete for every council in scope that has sent spend,
    as is the month ``shift`` months before it (in ``previous_months``); empty when none is.
    ``councils``: each council's spend as loaded (``complete_months`` empty for one awaiting its
    first file)."""

    window: tuple[dt.date, dt.date]
    months: tuple[dt.date, ...] = ()
    previous_months: tuple[dt.date, ...] = ()
    councils: tuple[CouncilLoaded, ...] = ()
    shift: int | None = None

    @property
    def awaiting(self) -> tuple[str, ...]:
        """Councils in scope configured for spend that have sent none yet."""
        return tuple(c.council for c in self.councils if not c.months)

    @property
    def not_loaded(self) -> tuple[tuple[str, tuple[dt.date, ...]], ...]:
        """Councils that have sent spend but lack some months of the window: (council, the months),
        in scope order. Their figures hold no spend for those months (a council that had not joined
        yet, a year not published yet, a missing file): the headline is not all councils' there."""
        a, b = self.window
        if a.year <= 1 or b.year >= 9999:
            return ()
        window = [add_months(month_start(a), i) for i in range(months_between(month_start(a), month_start(b)))]
        out = []
        for c in self.councils:
            lacking = tuple(m for m in window if m not in c.months)
            if c.months and lacking:
                out.append((c.council, lacking))
        return tuple(out)

    @property
    def partial(self) -> tuple[CouncilLoaded, ...]:
        """Councils whose partial latest month falls in the window (in the figures, not compared)."""
        a, b = self.window
        return tuple(c for c in self.councils if c.partial_month and a <= c.partial_month <= b)


def like_for_like(period: Sequence[dt.date], shift: int, councils: Sequence[CouncilLoaded]) -> list[dt.date]:
    """The months of ``period`` to compare with the months ``shift`` before them: both complete
    (loaded, not partial) for every council with spend in either period. A council with none in
    either (awaiting its first file, or its spend all from other years) adds nothing to either side
    and holds nothing back; a council without one of the two months holds that month back for all,
    so the same councils are compared in the same months, and a month landing for one council
    before the others moves nothing."""
    both = set(period) | {add_months(m, -shift) for m in period}
    sending = [c.complete_months for c in councils if c.months & both]
    if not sending:
        return []
    return [m for m in period if all(m in done and add_months(m, -shift) in done for done in sending)]


def spend_months_loaded(scope: Scope) -> tuple[CouncilLoaded, ...]:
    """Each council in scope configured for spend: months loaded, complete through, partial month."""
    frame = db.query(sql_file("spend_months_loaded"), [*config.settings().plausibility.window(), scope.council_ids])
    out = []
    for council, rows in frame.groupby("council", sort=False):
        first = rows.iloc[0]
        out.append(
            CouncilLoaded(
                council=council,
                months=frozenset(_date(m) for m in rows["month"] if not pd.isna(m)),
                complete_through=_date(first["complete_through"]),
                partial_month=_date(first["partial_month"]),
                partial_last_date=_date(first["partial_last_date"]),
            )
        )
    return tuple(out)


def _date(value) -> dt.date | None:
    if value is None or pd.isna(value):
        return None
    return value.date() if hasattr(value, "date") else value


def comparison_windows(scope: Scope) -> Comparison:
    """The period cut to the spend loaded in scope, and the like-for-like months its changes
    compare (``like_for_like``) with the same months of the previous period (the previous
    financial year, quarter, or as many months before)."""
    start, end = scope.filters.date_from, scope.filters.date_to
    councils = spend_months_loaded(scope)
    loaded = sorted({m for c in councils for m in c.months if start <= m <= end})
    if loaded:
        start, end = max(start, loaded[0]), min(end, month_end(loaded[-1]))
    previous = scope.filters.previous()
    if previous is None or not loaded:
        return Comparison((start, end), councils=councils)
    shift = months_between(previous.date_from, scope.filters.date_from) - 1
    period = [add_months(month_start(start), i) for i in range(months_between(month_start(start), month_start(end)))]
    months = like_for_like(period, shift, councils)
    return Comparison(
        (start, end),
        tuple(months),
        tuple(add_months(m, -shift) for m in months),
        councils,
        shift,
    )


def overview_measures(
    scope: Scope, window: tuple[dt.date, dt.date] | None = None, months: Sequence[dt.date] | None = None
) -> dict:
    """The overview's headline measures for some months of the scope: ``months`` as given, else
    every month of ``window`` (default: its period cut to the data, ``comparison_windows``)."""
    if months is None:
        start, end = window or comparison_windows(scope).window
        where, span = "{col} between ? and ?", [start, end]
    else:
        where, span = "list_contains(?::date[], {col})", [list(months)]
    month = where.format(col="month")
    start_month = where.format(col="date_trunc('month', start_date)::date")
    ids = scope.council_ids
    out = db.query(_SPEND_MEASURES.format(month=month), [ids, *span, ids, *span]).iloc[0].to_dict()
    out |= db.query(_SOCIAL_VALUE.format(start_month=start_month), [ids, *span]).iloc[0].to_dict()
    out |= db.query(_SAVINGS.format(month=month), [config.settings().savings_kpi_code, ids, *span]).iloc[0].to_dict()
    return {
        k: (list(v) if isinstance(v, list | tuple) or hasattr(v, "tolist") else None if pd.isna(v) else v) for k, v in out.items()
    }


def compared_measures(scope: Scope, comparison: Comparison) -> tuple[dict, dict]:
    """The headline measures over the compared months and over the same months before: what the
    changes are worked out from ({}, {} when no month compares)."""
    if not comparison.months:
        return {}, {}
    return overview_measures(scope, months=comparison.months), overview_measures(scope, months=comparison.previous_months)


def expiring_contracts(scope: Scope, months: int = 6, today: dt.date | None = None) -> dict:
    """Contracts (own or STAR ones covering a council in scope) falling due in the next N months (the
    pipeline's due date: the maximum end date for one in its extension, which a count by end date
    left out), over the councils in scope with contracts of their own loaded (``nodata.covered``): a
    count of None ("no data") when none has; ``note`` says whom it leaves out ("" when nobody)."""
    today = today or dt.date.today()
    covered = nodata.covered(measure_coverage(scope), "contracts")
    note = covered.note(f"Contracts ending in {months} months")
    if covered.none:
        return {"count_contracts": None, "value_gbp": None, "note": note}
    row = db.query(
        sql_file("expiring_contracts"),
        {"ids": covered.ids, "today": today, "months": months},
    ).iloc[0]
    return {"count_contracts": int(row["count_contracts"]), "value_gbp": float(row["value_gbp"]), "note": note}


def spend_by_council_month(scope: Scope) -> pd.DataFrame:
    """Spend per council per month in the period (addressable only when the filter says so)."""
    return db.query(
        sql_file("spend_by_council_month"),
        [scope.council_ids, scope.filters.date_from, scope.filters.date_to, scope.filters.addressable_only],
    )


def social_value_target(financial_year_label: str) -> float:
    return config.settings().social_value_target(financial_year_label)


def period_fy(scope: Scope) -> str:
    from starviz.scope import financial_year

    return financial_year(scope.filters.date_to)
