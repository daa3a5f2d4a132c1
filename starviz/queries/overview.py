"""The overview page: headline measures, comparison windows, expiring contracts, spend by council and month."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from starviz import config
from starviz.queries import db
from starviz.queries.common import sql_file
from starviz.scope import Scope, add_months, month_end, month_start, months_between

# --- overview ------------------------------------------------------------------------------------

_SPEND_MEASURES = """
    select
        coalesce(sum(spend_gbp), 0) as total_gbp,
        coalesce(sum(spend_gbp) filter (where is_addressable), 0) as addressable_gbp,
        sum(spend_gbp) filter (where is_addressable and is_on_contract)
            / nullif(sum(spend_gbp) filter (where is_addressable), 0) as on_contract_share,
        sum(spend_gbp) filter (where is_addressable and is_local)
            / nullif(sum(spend_gbp) filter (where is_addressable), 0) as local_share,
        sum(spend_gbp) filter (where is_addressable and is_local is not null)
            / nullif(sum(spend_gbp) filter (where is_addressable), 0) as local_known_share,
        sum(spend_gbp) filter (where is_addressable and is_sme)
            / nullif(sum(spend_gbp) filter (where is_addressable), 0) as sme_share,
        sum(spend_gbp) filter (where is_addressable and is_vcse)
            / nullif(sum(spend_gbp) filter (where is_addressable), 0) as vcse_share
    from mart_spend_by_council_month
    where in_scope(council_id, ?) and month between ? and ?
"""

_SOCIAL_VALUE = """
    select
        sum(committed_gbp) / nullif(sum(value_gbp), 0) as sv_committed_share,
        sum(delivered_gbp) / nullif(sum(value_gbp), 0) as sv_delivered_share,
        count(*) as count_sv_contracts
    from mart_social_value_by_contract
    where covers_scope(covered_council_ids, ?)
      and start_date between ? and ?
"""

_SAVINGS = """
    select sum(value) as savings_gbp, sum(target) as savings_target_gbp
    from mart_kpis_by_month
    where kpi_code = ? and in_scope(council_id, ?) and month between ? and ?
"""


def comparison_windows(scope: Scope) -> tuple[tuple[dt.date, dt.date], tuple[dt.date, dt.date] | None]:
    """The period cut to the data loaded, and the like-for-like previous window: a year that is
    only seven months in is compared with the same seven months of the year before."""
    start, end = scope.filters.date_from, scope.filters.date_to
    first, last = db.query(
        "select min(month) as a, max(month) as b from mart_spend_by_council_month where month between ? and ?",
        list(config.settings().plausibility.window()),
    ).iloc[0]
    if not pd.isna(first):
        start = max(start, first.date() if hasattr(first, "date") else first)
        end = max(start, min(end, month_end(last.date() if hasattr(last, "date") else last)))
    previous = scope.filters.previous()
    if previous is None:
        return (start, end), None
    months = months_between(month_start(start), month_start(end))
    prev_start = previous.date_from
    return (start, end), (prev_start, month_end(add_months(prev_start, months - 1)))


def overview_measures(scope: Scope, window: tuple[dt.date, dt.date] | None = None) -> dict:
    """The overview's headline measures for one window of the scope (default: its period, cut to the data)."""
    ids, (start, end) = scope.council_ids, window or comparison_windows(scope)[0]
    out = db.query(_SPEND_MEASURES, [ids, start, end]).iloc[0].to_dict()
    out |= db.query(_SOCIAL_VALUE, [ids, start, end]).iloc[0].to_dict()
    out |= db.query(_SAVINGS, [config.settings().savings_kpi_code, ids, start, end]).iloc[0].to_dict()
    return {k: (None if pd.isna(v) else v) for k, v in out.items()}


def expiring_contracts(scope: Scope, months: int = 6, today: dt.date | None = None) -> dict:
    """Contracts (own or STAR ones covering a council in scope) whose end date falls in the next N months."""
    today = today or dt.date.today()
    row = db.query(
        sql_file("expiring_contracts"),
        [scope.council_ids, today, add_months(today, months)],
    ).iloc[0]
    return {"count_contracts": int(row["count_contracts"]), "value_gbp": float(row["value_gbp"])}


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
