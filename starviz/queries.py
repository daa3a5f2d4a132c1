"""The app's only path to DuckDB: one function per question, parameters only.

Every function that returns council data takes a ``Scope`` and restricts rows to the councils
the *user* may see, whatever the filters or the URL ask for: row-level security lives here.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from starviz import config
from starviz.scope import Filters, User, add_months, fy_bounds, month_end, month_start, months_between


@dataclass(frozen=True)
class Scope:
    filters: Filters
    user: User

    @property
    def council_ids(self) -> list[str]:
        """The councils this query may touch: the selection, cut to the user's own scope."""
        return list(self.user.allowed(self.filters.councils))

    def previous(self) -> Scope | None:
        prev = self.filters.previous()
        return None if prev is None else Scope(prev, self.user)


class DatabaseUnavailable(RuntimeError):
    """The database file is missing or cannot be opened."""


_lock = threading.Lock()
_current: dict[str, tuple[tuple[int, int], duckdb.DuckDBPyConnection]] = {}


def _connection() -> duckdb.DuckDBPyConnection:
    """One read-only connection per process, reopened when a rebuild swaps a new file in.

    DuckDB shares one instance per path inside a process, so the old connection must be closed
    before the new file can be seen: a cache keyed on the file's identity would keep the old one.
    """
    path = str(config.settings().db_path)
    try:
        stat = os.stat(path)
    except FileNotFoundError as exc:
        raise DatabaseUnavailable(f"No database at {path}. An admin can build it from the raw extracts.") from exc
    stamp = (stat.st_ino, stat.st_mtime_ns)
    with _lock:
        held = _current.get(path)
        if held and held[0] == stamp:
            return held[1]
        if held:
            held[1].close()
        try:
            con = duckdb.connect(path, read_only=True)
        except duckdb.Error as exc:
            _current.pop(path, None)
            raise DatabaseUnavailable(f"The database {path} cannot be opened: {exc}") from exc
        _current[path] = (stamp, con)
        return con


def _query(sql: str, params: list | None = None) -> pd.DataFrame:
    with _connection().cursor() as cursor:  # connections are not thread-safe; cursors are cheap
        return cursor.execute(sql, params or []).df()


def _scalar(sql: str, params: list | None = None):
    with _connection().cursor() as cursor:
        return cursor.execute(sql, params or []).fetchone()[0]


def db_path() -> Path:
    return config.settings().db_path


# --- reference -----------------------------------------------------------------------------------


def councils() -> pd.DataFrame:
    """Partner councils (not STAR itself), in configuration order."""
    return _query(
        "select council_id, name, short_name, colour, population, gss_code, joined_date "
        "from dim_councils where is_council order by sort_order"
    )


def colours() -> dict[str, str]:
    return dict(_query("select short_name, colour from dim_councils").itertuples(index=False))


def months_loaded() -> list[dt.date]:
    frame = _query("select distinct month from mart_spend_by_council_month order by month")
    return [m.date() if hasattr(m, "date") else m for m in frame["month"]]


def build_info() -> dict:
    try:
        row = _query("select * from build_info").iloc[0].to_dict()
    except duckdb.CatalogException as exc:
        raise DatabaseUnavailable(f"{config.settings().db_path} is not a complete starviz database: {exc}") from exc
    row["demo"] = json.loads(row["demo_info"]) if row.get("demo_info") else None
    return row


def data_status(scope: Scope) -> pd.DataFrame:
    """Per council in scope: months of spend loaded, first and last month, the as-at date."""
    return _query(
        """
        select c.short_name as council, count(distinct m.month) as months_loaded,
               min(m.month) as first_month, max(m.month) as last_month
        from dim_councils c
        left join mart_spend_by_council_month m using (council_id)
        where c.council_id in (select unnest(?::varchar[]))
        group by c.short_name, c.sort_order
        order by c.sort_order
        """,
        [scope.council_ids],
    )


def as_at_date() -> dt.date | None:
    last = _scalar("select max(month) from mart_spend_by_council_month")
    return None if last is None else month_end(last)


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
    where council_id in (select unnest(?::varchar[])) and month between ? and ?
"""

_SOCIAL_VALUE = """
    select
        sum(committed_gbp) / nullif(sum(value_gbp), 0) as sv_committed_share,
        sum(delivered_gbp) / nullif(sum(value_gbp), 0) as sv_delivered_share,
        count(*) as count_sv_contracts
    from mart_social_value_by_contract
    where len(list_intersect(covered_council_ids, ?::varchar[])) > 0
      and start_date between ? and ?
"""

_SAVINGS = """
    select sum(value) as savings_gbp, sum(target) as savings_target_gbp
    from mart_kpis_by_month
    where kpi_code = ? and council_id in (select unnest(?::varchar[])) and month between ? and ?
"""


def comparison_windows(scope: Scope) -> tuple[tuple[dt.date, dt.date], tuple[dt.date, dt.date] | None]:
    """The period cut to the data loaded, and the like-for-like previous window: a year that is
    only seven months in is compared with the same seven months of the year before."""
    start, end = scope.filters.date_from, scope.filters.date_to
    first, last = _query("select min(month) as a, max(month) as b from mart_spend_by_council_month").iloc[0]
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
    out = _query(_SPEND_MEASURES, [ids, start, end]).iloc[0].to_dict()
    out |= _query(_SOCIAL_VALUE, [ids, start, end]).iloc[0].to_dict()
    out |= _query(_SAVINGS, [config.settings().savings_kpi_code, ids, start, end]).iloc[0].to_dict()
    return {k: (None if pd.isna(v) else v) for k, v in out.items()}


def expiring_contracts(scope: Scope, months: int = 6, today: dt.date | None = None) -> dict:
    """Contracts (own or STAR ones covering a council in scope) whose end date falls in the next N months."""
    today = today or dt.date.today()
    row = _query(
        """
        select count(*) as count_contracts, coalesce(sum(value_gbp), 0) as value_gbp
        from mart_contracts
        where len(list_intersect(covered_council_ids, ?::varchar[])) > 0
          and end_date between ? and ?
        """,
        [scope.council_ids, today, add_months(today, months)],
    ).iloc[0]
    return {"count_contracts": int(row["count_contracts"]), "value_gbp": float(row["value_gbp"])}


def spend_by_council_month(scope: Scope) -> pd.DataFrame:
    """Spend per council per month in the period (addressable only when the filter says so)."""
    return _query(
        """
        select c.short_name as council, m.month, sum(m.spend_gbp) as spend_gbp
        from mart_spend_by_council_month m
        join dim_councils c using (council_id)
        where m.council_id in (select unnest(?::varchar[]))
          and m.month between ? and ?
          and (m.is_addressable or not ?)
        group by c.short_name, c.sort_order, m.month
        order by m.month, c.sort_order
        """,
        [scope.council_ids, scope.filters.date_from, scope.filters.date_to, scope.filters.addressable_only],
    )


def social_value_target(financial_year_label: str) -> float:
    return config.settings().social_value_target(financial_year_label)


def period_fy(scope: Scope) -> str:
    from starviz.scope import financial_year

    return financial_year(scope.filters.date_to)


__all__ = ["DatabaseUnavailable", "Scope", "fy_bounds"]
