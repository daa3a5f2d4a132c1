"""The app's only path to DuckDB: one function per question, parameters only.

Every function that returns council data takes a ``Scope`` and restricts rows to the councils
the *user* may see, whatever the filters or the URL ask for: row-level security lives here.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from starviz import config, rules
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
    row = _query("select * from build_info").iloc[0].to_dict()
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
    return _scalar("select max(month) from mart_spend_by_council_month")


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


def overview_measures(scope: Scope, window: tuple[dt.date, dt.date]) -> dict:
    """The overview's headline measures for one window of the scope."""
    ids, (start, end) = scope.council_ids, window
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


# --- collaboration, contract pipeline and exception reports --------------------------------------
# Dates relative to "today" (due dates, start-by dates, RAG, live contracts) take an explicit
# ``today`` so that tests can pin it; pages leave it out and get the date they run on.

_NAMED = re.compile(r"\$([a-z_][a-z0-9_]*)")


def _named(sql: str, params: dict) -> pd.DataFrame:
    """Run SQL with named parameters ($name), passing only the names it uses (DuckDB rejects extras)."""
    used = set(_NAMED.findall(sql))
    return _query(sql, {k: v for k, v in params.items() if k in used})


def _today(today: dt.date | None) -> dt.date:
    return today or dt.date.today()


@dataclass(frozen=True)
class ListFilter:
    """Narrows one ranked list: text in its name, ProClass categories, a minimum value in £."""

    search: str = ""
    categories: tuple[str, ...] = ()
    min_gbp: float = 0.0

    def params(self) -> dict:
        return {"search": self.search.strip().lower(), "categories": list(self.categories), "min_gbp": float(self.min_gbp)}


_NARROW_CATEGORY = "(len($categories::varchar[]) = 0 or list_contains($categories::varchar[], {col}))"


def _spend_params(scope: Scope, narrow: ListFilter | None = None, **extra) -> dict:
    f = scope.filters
    return {"ids": scope.council_ids, "date_from": f.date_from, "date_to": f.date_to,
            "addressable": f.addressable_only, **(narrow or ListFilter()).params(), **extra}


def _councils_in(scope: Scope) -> pd.DataFrame:
    """Councils of the scope, in display order: the columns of the wide tables."""
    return _query(
        "select council_id, short_name from dim_councils where council_id in (select unnest(?::varchar[])) "
        "order by sort_order",
        [scope.council_ids],
    )


def category_names() -> list[str]:
    """ProClass headings that can filter a list (not "Not classified")."""
    return _query("select category from dim_categories where not is_unclassified order by category")["category"].tolist()


def _contract_text(end: object, only_star: object) -> str:
    if end is None or pd.isna(end):
        return "none"
    star = not pd.isna(only_star) and bool(only_star)
    return f"{'STAR, ' if star else ''}to {pd.Timestamp(end):%b %Y}"


def _wide(long: pd.DataFrame, columns: list[str], councils: pd.DataFrame, values: dict[str, str],
          fill: dict[str, object] | None = None) -> pd.DataFrame:
    """One row per value of ``columns[0]`` (the key) with ``columns``, then for each council of the
    scope the columns ``<council_id>_<suffix>`` from the long frame (``values``: column -> suffix),
    missing ones filled from ``fill`` (suffix -> value). Row order kept."""
    key = columns[0]
    base = long[columns].drop_duplicates(subset=key).set_index(key)
    wide = long[long["council_id"].notna()].pivot(index=key, columns="council_id", values=list(values))
    out = base.copy()
    for council_id in councils["council_id"]:
        for column, suffix in values.items():
            series = (wide[(column, council_id)].reindex(base.index) if (column, council_id) in wide.columns
                      else pd.Series(None, index=base.index, dtype=object))
            value = (fill or {}).get(suffix)
            if isinstance(value, str):
                series = series.fillna(value)
            elif value is not None:  # numbers: pivoting mixed columns leaves them as objects
                series = pd.to_numeric(series).fillna(value).astype(type(value))
            out[f"{council_id}_{suffix}"] = series
    return out.reset_index()


def common_suppliers(scope: Scope, narrow: ListFilter | None = None, today: dt.date | None = None) -> pd.DataFrame:
    """Suppliers paid by two or more councils of the scope in the period, ranked by combined spend:
    per council its spend and whether it holds a live contract (own or STAR) and when it ends."""
    councils = _councils_in(scope)
    long = _named(
        """
        with
        base as (
            select council_id, supplier_id, category, sum(spend_gbp) as spend_gbp
            from mart_spend_by_supplier_month
            where council_id in (select unnest($ids::varchar[])) and month between $date_from and $date_to
              and (is_addressable or not $addressable)
            group by all
        ),
        by_council as (
            select council_id, supplier_id, sum(spend_gbp) as spend_gbp
            from base group by all having sum(spend_gbp) > 0
        ),
        common as (
            select supplier_id, count(*) as count_councils, sum(spend_gbp) as spend_gbp
            from by_council group by supplier_id having count(*) >= 2
        ),
        main_category as (
            select supplier_id, arg_max(category, spend_gbp) as category
            from (select supplier_id, category, sum(spend_gbp) as spend_gbp from base
                  where supplier_id in (select supplier_id from common) group by all)
            group by supplier_id
        ),
        listed as (
            select common.*, suppliers.supplier_name, main_category.category
            from common
            join dim_suppliers as suppliers using (supplier_id)
            left join main_category using (supplier_id)
            where contains(lower(suppliers.supplier_name), $search)
              and """ + _NARROW_CATEGORY.format(col="main_category.category") + """
              and common.spend_gbp >= $min_gbp
        ),
        held as (
            select council_id, supplier_id,
                   max(case when end_date >= $today then end_date else max_end_date end) as contract_end_date,
                   bool_and(is_collaborative) as only_star
            from (select unnest(covered_council_ids) as council_id, * exclude (council_id)
                  from mart_pipeline_by_contract
                  where supplier_id in (select supplier_id from listed)
                    and start_date <= $today and max_end_date >= $today)
            where council_id in (select unnest($ids::varchar[]))
            group by all
        )
        select listed.supplier_id, listed.supplier_name, listed.category, listed.count_councils,
               listed.spend_gbp, councils.council_id, by_council.spend_gbp as council_spend_gbp,
               held.contract_end_date, held.only_star
        from listed
        cross join (select council_id, sort_order from dim_councils
                    where council_id in (select unnest($ids::varchar[]))) as councils
        left join by_council using (supplier_id, council_id)
        left join held using (supplier_id, council_id)
        order by listed.spend_gbp desc, listed.supplier_name, councils.sort_order
        """,
        _spend_params(scope, narrow, today=_today(today)),
    )
    long["contract"] = [_contract_text(e, s) for e, s in zip(long["contract_end_date"], long["only_star"], strict=True)]
    held = long[long["contract_end_date"].notna()].groupby("supplier_id")["council_id"].nunique()
    out = _wide(long, ["supplier_id", "supplier_name", "category", "count_councils", "spend_gbp"], councils,
                {"council_spend_gbp": "spend_gbp", "contract": "contract"}, fill={"spend_gbp": 0.0})
    out.insert(4, "count_councils_with_contract", out["supplier_id"].map(held).fillna(0).astype(int))
    return out


def common_categories(scope: Scope, narrow: ListFilter | None = None) -> pd.DataFrame:
    """ProClass categories bought by two or more councils of the scope from two or more suppliers in
    the period, ranked by combined spend: supplier counts, suppliers used by more than one council,
    and per council its spend and number of suppliers."""
    councils = _councils_in(scope)
    long = _named(
        """
        with
        base as (
            select spend.council_id, spend.supplier_id, spend.category, sum(spend.spend_gbp) as spend_gbp
            from mart_spend_by_supplier_month as spend
            join dim_categories as categories using (category)
            where spend.council_id in (select unnest($ids::varchar[])) and spend.month between $date_from and $date_to
              and (spend.is_addressable or not $addressable) and not categories.is_unclassified
            group by all
            having sum(spend.spend_gbp) > 0
        ),
        categories as (
            select category, count(distinct council_id) as count_councils, count(distinct supplier_id) as count_suppliers,
                   sum(spend_gbp) as spend_gbp
            from base
            group by category
            having count(distinct council_id) >= 2 and count(distinct supplier_id) >= 2
               and contains(lower(category), $search) and """ + _NARROW_CATEGORY.format(col="category") + """
               and sum(spend_gbp) >= $min_gbp
        ),
        shared as (
            select category, count(*) as count_shared_suppliers
            from (select category, supplier_id from base group by all having count(distinct council_id) >= 2)
            group by category
        ),
        by_council as (
            select category, council_id, sum(spend_gbp) as council_spend_gbp, count(*) as council_suppliers
            from base group by all
        )
        select categories.*, coalesce(shared.count_shared_suppliers, 0) as count_shared_suppliers,
               by_council.council_id, by_council.council_spend_gbp, by_council.council_suppliers
        from categories
        left join shared using (category)
        left join by_council using (category)
        order by categories.spend_gbp desc, categories.category
        """,
        _spend_params(scope, narrow),
    )
    return _wide(long, ["category", "count_councils", "count_suppliers", "count_shared_suppliers", "spend_gbp"], councils,
                 {"council_spend_gbp": "spend_gbp", "council_suppliers": "suppliers"}, fill={"spend_gbp": 0.0, "suppliers": 0})


# Which councils of the scope a STAR contract covers; a user never learns of councils outside theirs.
_COVERS = """
    case when {t}is_collaborative then (
        select string_agg(councils.short_name, ', ' order by councils.sort_order) from dim_councils as councils
        where list_contains({t}covered_council_ids, councils.council_id)
          and councils.council_id in (select unnest($ids::varchar[]))) end
"""

_LIVE_CONTRACTS = """
    select contract_id, council_id, owner_name, owner_order, contract_ref, contract_title, supplier_id,
           supplier_name, category, subcategory, category_manager, value_gbp, annual_value_gbp, start_date,
           end_date, max_end_date,
           case when end_date >= $today then end_date else max_end_date end as due_date
    from mart_pipeline_by_contract
    where len(list_intersect(covered_council_ids, $ids::varchar[])) > 0 and max_end_date >= $today
"""

_ALIGNMENT_COLUMNS = ["opportunity", "category", "value_gbp", "saving_gbp", "count_owners", "count_contracts",
                      "first_due_date", "last_due_date", "first_contract_title", "owners", "contracts", "annual_value_gbp",
                      "contract_id"]


def _listed(labels: pd.Series, shown: int = 4) -> str:
    items = list(labels)
    more = f" and {len(items) - shown} more" if len(items) > shown else ""
    return "; ".join(items[:shown]) + more


def expiry_alignment(scope: Scope, narrow: ListFilter | None = None, window_months: int | None = None,
                     today: dt.date | None = None, by_subcategory: bool = False) -> pd.DataFrame:
    """Joint re-procurement opportunities: contracts in one category at different councils (or STAR)
    due to end within ``window_months`` of each other (see ``rules.expiry_windows``), ranked by
    combined value, with an estimated saving at the configured aggregation rate. A contract is due
    at its end date, or at its maximum end date once it runs in an extension. ``by_subcategory``
    groups by the registers' second-level category where they publish one. One row per
    opportunity; ``contract_id`` is its first contract to end."""
    s = config.settings()
    narrow = narrow or ListFilter()
    contracts = _named(
        """
        select *, case when $by_subcategory and subcategory is not null then category || ' › ' || subcategory
                       else category end as grouping
        from (""" + _LIVE_CONTRACTS + """)
        where category in (select category from dim_categories where not is_unclassified)
          and """ + _NARROW_CATEGORY.format(col="category"),
        {"ids": scope.council_ids, "today": _today(today), "by_subcategory": by_subcategory, **narrow.params()},
    )
    members = rules.expiry_windows(contracts, window_months or s.collaboration.expiry_alignment_months, key="grouping")
    if members.empty:
        return pd.DataFrame(columns=_ALIGNMENT_COLUMNS)
    due = pd.to_datetime(members["due_date"])
    members["label"] = members["owner_name"] + " " + members["contract_ref"] + " (" + due.dt.strftime("%b %Y") + ")"
    members["text"] = (members["contract_title"].fillna("") + " " + members["supplier_name"].fillna("") + " "
                       + members["grouping"]).str.lower()
    out = members.groupby("opportunity", sort=False).agg(
        category=("grouping", "first"), first_due_date=("due_date", "min"), last_due_date=("due_date", "max"),
        count_owners=("council_id", "nunique"),
        count_contracts=("contract_id", "size"), value_gbp=("value_gbp", "sum"),
        annual_value_gbp=("annual_value_gbp", "sum"), contracts=("label", _listed),
        contract_id=("contract_id", "first"), first_contract_title=("contract_title", "first"), text=("text", " ".join),
    ).reset_index()
    out["saving_gbp"] = out["value_gbp"] * s.collaboration.aggregation_saving_share
    owners = members.sort_values("owner_order").groupby("opportunity")["owner_name"].agg(lambda x: ", ".join(dict.fromkeys(x)))
    out["owners"] = out["opportunity"].map(owners)
    keep = out["text"].str.contains(narrow.params()["search"], regex=False) & (out["value_gbp"] >= narrow.min_gbp)
    out = out[keep].sort_values(["value_gbp", "first_due_date"], ascending=[False, True])
    return out[_ALIGNMENT_COLUMNS].reset_index(drop=True)


def aligned_contracts(scope: Scope, contract_id: str, window_months: int | None = None,
                      today: dt.date | None = None) -> pd.DataFrame:
    """Other owners' contracts in the same category as ``contract_id`` due within ``window_months``
    either side of it: the partners a joint re-procurement of this contract could bring in."""
    return _named(
        """
        with live as (""" + _LIVE_CONTRACTS + """),
        this as (select * from live where contract_id = $contract_id)
        select live.contract_title, live.owner_name as council, live.value_gbp, live.due_date,
               datediff('month', this.due_date, live.due_date) as months_apart, live.supplier_name, live.contract_ref,
               live.contract_id
        from live
        join this on live.category = this.category and live.council_id <> this.council_id
        where live.due_date between (this.due_date - to_months($window))::date and (this.due_date + to_months($window))::date
        order by live.value_gbp desc nulls last
        """,
        {"ids": scope.council_ids, "today": _today(today), "contract_id": contract_id,
         "window": window_months or config.settings().collaboration.expiry_alignment_months},
    )


def partner_contract_leakage(scope: Scope, narrow: ListFilter | None = None, match: str = "supplier") -> pd.DataFrame:
    """Off-contract spend of a council with a supplier (``match="supplier"``) or in a category
    (``match="category"``) in the months when another council of the scope, or STAR, held a live
    contract with it that did not cover the paying council; ranked by that spend. The partner
    contracts listed are those live during the months of that spend."""
    if match not in ("supplier", "category"):
        raise ValueError(f"match must be 'supplier' or 'category', got {match!r}")
    key = "supplier_id" if match == "supplier" else "category"
    search_col = "suppliers.supplier_name" if match == "supplier" else "leaked.category"
    return _named(
        f"""
        with
        by_category as (
            select council_id, {key}, month, category, sum(spend_gbp) as spend_gbp
            from mart_spend_by_supplier_month
            where council_id in (select unnest($ids::varchar[])) and month between $date_from and $date_to
              and (is_addressable or not $addressable) and not is_on_contract
              {"and category not in (select category from dim_categories where is_unclassified)" if match == "category" else ""}
            group by all
        ),
        spend as (
            select council_id, {key}, month, sum(spend_gbp) as spend_gbp
            from by_category group by all
        ),
        partners as (
            select contract_id, owner_name, covered_council_ids, contract_ref, {key}, start_date, max_end_date, value_gbp
            from mart_pipeline_by_contract
            where len(list_intersect(covered_council_ids, $ids::varchar[])) > 0
              and {key} in (select distinct {key} from spend)
        ),
        live as (
            -- each partner contract in each month of the spend it was live in
            select partners.contract_id, partners.{key}, partners.covered_council_ids, months.month
            from partners
            join (select distinct month from spend) as months
                on partners.start_date <= last_day(months.month) and partners.max_end_date >= months.month
        ),
        live_total as (
            select {key}, month, count(*) as count_live from live group by all
        ),
        live_covering as (
            select {key}, month, council_id, count(*) as count_covering
            from (select {key}, month, unnest(covered_council_ids) as council_id from live)
            group by all
        ),
        leaked_months as (
            -- a month leaks when some live contract does not cover the paying council
            select spend.*
            from spend
            join live_total using ({key}, month)
            left join live_covering using ({key}, month, council_id)
            where live_total.count_live > coalesce(live_covering.count_covering, 0)
        ),
        leaked as (
            select council_id, {key}, sum(spend_gbp) as off_contract_gbp, count(*) as count_months,
                   min(month) as first_month, max(month) as last_month
            from leaked_months group by all
        ),
        main_category as (
            select council_id, {key}, arg_max(category, spend_gbp) as main_category
            from (select by_category.council_id, by_category.{key}, by_category.category, sum(by_category.spend_gbp) as spend_gbp
                  from by_category join leaked_months using (council_id, {key}, month) group by all)
            group by all
        ),
        contracts as (
            -- the three largest partner contracts by name, then how many more
            select leaked.council_id, leaked.{key}, count(*) as count_partner_contracts,
                   array_to_string(list(partners.owner_name || ' ' || partners.contract_ref
                                        order by partners.value_gbp desc nulls last, partners.contract_ref)[1:3], '; ')
                       || case when count(*) > 3 then ' and ' || (count(*) - 3) || ' more' else '' end
                       as partner_contracts,
                   arg_max(partners.contract_id, partners.value_gbp) as contract_id
            from leaked
            join partners
                on partners.{key} = leaked.{key}
                and not list_contains(partners.covered_council_ids, leaked.council_id)
                and partners.start_date <= last_day(leaked.last_month) and partners.max_end_date >= leaked.first_month
            group by all
        )
        select {"suppliers.supplier_name" if match == "supplier" else "leaked.category"},
               councils.short_name as council, leaked.off_contract_gbp,
               {"leaked.main_category as category, " if match == "supplier" else ""}leaked.count_months,
               contracts.count_partner_contracts, contracts.partner_contracts, leaked.council_id,
               {"leaked.supplier_id, " if match == "supplier" else ""}contracts.contract_id
        from (select * from leaked join main_category using (council_id, {key})) as leaked
        join contracts using (council_id, {key})
        join dim_councils as councils using (council_id)
        {"left join dim_suppliers as suppliers using (supplier_id)" if match == "supplier" else ""}
        where leaked.off_contract_gbp > 0 and contains(lower({search_col}), $search)
          and {_NARROW_CATEGORY.format(col="leaked.main_category" if match == "supplier" else "leaked.category")}
          and leaked.off_contract_gbp >= $min_gbp
        order by leaked.off_contract_gbp desc, councils.sort_order
        """,
        _spend_params(scope, narrow),
    )


# -- pipeline

_PIPELINE_SQL = """
with
lead_times as (
    select unnest($lead_routes::varchar[]) as route, unnest($lead_bands::integer[]) as band,
           unnest($lead_months::integer[]) as lead_months
),
efforts as (
    select unnest($effort_routes::varchar[]) as route, unnest($effort_weights::double[]) as effort
),
contracts as (
    select
        c.*,
        case when c.end_date >= $today then c.end_date else c.max_end_date end as due_date,
        c.end_date < $today as is_in_extension,
        len(list_filter($bands::double[], lambda e: coalesce(c.value_gbp, 0) >= e)) as band
    from mart_pipeline_by_contract as c
    where len(list_intersect(c.covered_council_ids, $ids::varchar[])) > 0 and {contracts}
),
timed as (
    select
        contracts.*,
        coalesce(own.lead_months, fallback.lead_months) as lead_months,
        coalesce(own_effort.effort, fallback_effort.effort) as effort
    from contracts
    left join lead_times as own on own.route = contracts.route and own.band = contracts.band
    left join lead_times as fallback on fallback.route = $default_route and fallback.band = contracts.band
    left join efforts as own_effort on own_effort.route = contracts.route
    left join efforts as fallback_effort on fallback_effort.route = $default_route
),
dated as (
    select
        timed.*,
        (due_date - to_months(lead_months))::date as start_by_date,
        datediff('month', $today, due_date) as months_to_due,
        len(list_filter($bucket_edges::integer[], lambda e: due_date >= ($today + to_months(e))::date)) as bucket_index
    from timed
),
pipeline as (
    select
        dated.*,
        ($bucket_labels::varchar[])[bucket_index + 1] as bucket,
        case when start_by_date < $today then 'late'
             when start_by_date < ($today + to_months($due_within))::date then 'due'
             else 'on track' end as rag,
        greatest(start_by_date, $today) as work_start_date
    from dated
)
"""
# contracts not yet past their maximum end date; a contract's detail uses any one contract
_PIPELINE = _PIPELINE_SQL.format(contracts="c.max_end_date >= $today")


def _pipeline_params(scope: Scope, today: dt.date | None, narrow: ListFilter | None = None, **extra) -> dict:
    s = config.settings()
    lead_routes, lead_bands, lead_months = rules.lead_time_table(s)
    effort_routes, effort_weights = rules.effort_table(s)
    return {
        "ids": scope.council_ids, "today": _today(today), "bands": s.pipeline.lead_time_value_bands_gbp,
        "lead_routes": lead_routes, "lead_bands": lead_bands, "lead_months": lead_months,
        "effort_routes": effort_routes, "effort_weights": effort_weights, "default_route": rules.DEFAULT_ROUTE,
        "bucket_edges": s.pipeline.bucket_months, "bucket_labels": rules.bucket_labels(s.pipeline.bucket_months),
        "due_within": s.pipeline.due_within_months, **(narrow or ListFilter()).params(), **extra,
    }


_PIPELINE_COLUMNS = """
    contract_id, council_id, contract_title, owner_name as council, """ + _COVERS.format(t="") + """ as covers,
    value_gbp, due_date, start_by_date, rag, bucket,
    lead_months, coalesce(route, procurement_route) as route, coalesce(category_manager, 'Unassigned') as category_manager,
    effort, supplier_id, supplier_name, category, contract_ref, start_date, end_date, max_end_date, months_to_due,
    route is null as is_route_unrecognised, is_in_extension, has_extension_option, bucket_index
"""


def bucket_labels() -> list[str]:
    return rules.bucket_labels(config.settings().pipeline.bucket_months)


def pipeline_contracts(scope: Scope, narrow: ListFilter | None = None, today: dt.date | None = None,
                       buckets: list[str] | None = None, rags: list[str] | None = None,
                       unassigned_only: bool = False) -> pd.DataFrame:
    """Contracts of the scope (own, or STAR ones covering a council of it) not yet past their maximum
    end date, with due date, bucket, lead time, start-by date and RAG as at ``today``; ranked by value."""
    return _named(
        _PIPELINE + f"""
        select {_PIPELINE_COLUMNS}
        from pipeline
        where (contains(lower(contract_title), $search) or contains(lower(coalesce(supplier_name, '')), $search)
               or contains(lower(contract_ref), $search))
          and {_NARROW_CATEGORY.format(col="category")} and coalesce(value_gbp, 0) >= $min_gbp
          and (len($buckets::varchar[]) = 0 or list_contains($buckets::varchar[], bucket))
          and (len($rags::varchar[]) = 0 or list_contains($rags::varchar[], rag))
          and (not $unassigned_only or category_manager is null)
        order by value_gbp desc nulls last, due_date, contract_id
        """,
        _pipeline_params(scope, today, narrow, buckets=list(buckets or []), rags=list(rags or []),
                         unassigned_only=unassigned_only),
    )


def pipeline_summary(scope: Scope, today: dt.date | None = None) -> pd.DataFrame:
    """Per bucket (every bucket, in order): contracts, value, and how many are late or due to start."""
    return _named(
        _PIPELINE + """
        , buckets as (select unnest($bucket_labels::varchar[]) as bucket, generate_subscripts($bucket_labels::varchar[], 1) as n)
        select buckets.bucket, count(pipeline.contract_id) as count_contracts, coalesce(sum(pipeline.value_gbp), 0) as value_gbp,
               count(*) filter (where pipeline.rag = 'late') as count_late,
               count(*) filter (where pipeline.rag = 'due') as count_due
        from buckets
        left join pipeline using (bucket)
        group by buckets.bucket, buckets.n
        order by buckets.n
        """,
        _pipeline_params(scope, today),
    )


def workload_by_manager_quarter(scope: Scope, today: dt.date | None = None, quarters: int | None = None) -> pd.DataFrame:
    """Re-procurements per category manager per financial-year quarter in which the work must start
    (the start-by date, or today when that has passed), for the configured number of quarters from
    the current one: contracts, value and effort weighted by route. Unassigned contracts included."""
    today = _today(today)
    first = rules.quarter_start(today)
    n = quarters or config.settings().pipeline.workload_quarters
    frame = _named(
        _PIPELINE + """
        select coalesce(category_manager, 'Unassigned') as category_manager, category_manager is null as is_unassigned,
               date_trunc('quarter', work_start_date)::date as quarter_start,  -- financial quarters start with calendar ones
               count(*) as count_contracts, sum(value_gbp) as value_gbp, sum(effort) as effort
        from pipeline
        where work_start_date < $horizon
        group by all
        order by is_unassigned, category_manager, quarter_start
        """,
        _pipeline_params(scope, today, horizon=add_months(first, 3 * n)),
    )
    frame["quarter_start"] = pd.to_datetime(frame["quarter_start"]).dt.date
    frame["quarter"] = frame["quarter_start"].map(rules.quarter_label)
    return frame


def workload_quarter_labels(today: dt.date | None = None, quarters: int | None = None) -> list[str]:
    """The quarters the workload heat map shows, in order, even those with no work."""
    first = rules.quarter_start(_today(today))
    n = quarters or config.settings().pipeline.workload_quarters
    return [rules.quarter_label(add_months(first, 3 * i)) for i in range(n)]


def annual_spend_by_council(scope: Scope) -> pd.DataFrame:
    """Addressable spend per council of the scope in the 12 months to the latest month loaded, and
    whether it is over the Procurement Act 2023 pipeline-notice threshold."""
    s = config.settings()
    return _named(
        """
        with latest as (select max(month) as last_month from mart_spend_by_council_month)
        select councils.short_name as council, councils.council_id,
               coalesce(sum(spend.spend_gbp), 0) as annual_spend_gbp,
               coalesce(sum(spend.spend_gbp), 0) > $threshold as is_over_threshold,
               any_value(latest.last_month) as last_month
        from dim_councils as councils
        cross join latest
        left join mart_spend_by_council_month as spend
            on spend.council_id = councils.council_id and spend.is_addressable
            and spend.month > latest.last_month - interval 12 month and spend.month <= latest.last_month
        where councils.council_id in (select unnest($ids::varchar[]))
        group by councils.council_id, councils.short_name, councils.sort_order
        order by councils.sort_order
        """,
        {"ids": scope.council_ids, "threshold": s.pipeline.procurement_act_annual_spend_gbp},
    )


def procurement_act_pipeline(scope: Scope, fy: str, today: dt.date | None = None, contract_gbp: float | None = None,
                             annual_spend_gbp: float | None = None, months: int | None = None) -> pd.DataFrame:
    """Procurement Act 2023 pipeline-notice list: contracts over the value threshold (default £2m)
    due to end, and so to be procured, within the configured months from the start of financial year
    ``fy``, for councils of the scope whose addressable spend over the last 12 months loaded exceeds the
    annual threshold (default £100m). A STAR contract is listed for the qualifying councils it covers."""
    s = config.settings()
    start, _ = fy_bounds(fy)
    end = add_months(start, months or s.pipeline.procurement_act_pipeline_months)
    spend = annual_spend_by_council(scope)
    threshold = s.pipeline.procurement_act_annual_spend_gbp if annual_spend_gbp is None else annual_spend_gbp
    qualifying = spend.loc[spend["annual_spend_gbp"] > threshold, "council_id"].tolist()
    return _named(
        _PIPELINE + f"""
        select {_PIPELINE_COLUMNS}
        from pipeline
        where len(list_intersect(covered_council_ids, $qualifying::varchar[])) > 0
          and value_gbp > $contract_gbp and due_date >= $window_start and due_date < $window_end
        order by value_gbp desc, due_date
        """,
        _pipeline_params(scope, today, qualifying=qualifying,
                         contract_gbp=s.pipeline.procurement_act_contract_gbp if contract_gbp is None else contract_gbp,
                         window_start=start, window_end=end),
    )


# -- exception reports (one month each)


def _month_params(scope: Scope, month: dt.date, narrow: ListFilter | None = None, **extra) -> dict:
    first = month_start(month)
    return {"ids": scope.council_ids, "month": first, "month_end": month_end(first),
            "addressable": scope.filters.addressable_only, **(narrow or ListFilter()).params(), **extra}


def expired_contract_spend(scope: Scope, month: dt.date, narrow: ListFilter | None = None) -> pd.DataFrame:
    """Spend in the month with suppliers whose contract with the council (or a STAR contract covering
    it) had ended, extensions included, with no live one: per council, supplier and expired contract."""
    return _named(
        """
        select suppliers.supplier_name, councils.short_name as council, sum(expired.spend_gbp) as spend_gbp,
               sum(expired.count_lines)::bigint as count_lines, contracts.contract_title, contracts.contract_ref,
               contracts.max_end_date as ended_date, datediff('month', contracts.max_end_date, $month_end) as months_since_end,
               max(expired.last_payment_date) as last_payment_date, expired.council_id, expired.supplier_id,
               expired.contract_id
        from mart_expired_contract_spend_by_month as expired
        join mart_pipeline_by_contract as contracts using (contract_id)
        join dim_councils as councils on councils.council_id = expired.council_id
        left join dim_suppliers as suppliers on suppliers.supplier_id = expired.supplier_id
        where expired.council_id in (select unnest($ids::varchar[])) and expired.month = $month
          and (expired.is_addressable or not $addressable)
          and contains(lower(coalesce(suppliers.supplier_name, '') || ' ' || contracts.contract_title), $search)
          and """ + _NARROW_CATEGORY.format(col="contracts.category") + """
        group by all
        having sum(expired.spend_gbp) >= $min_gbp
        order by spend_gbp desc, council
        """,
        _month_params(scope, month, narrow),
    )


def off_contract_suppliers(scope: Scope, month: dt.date, narrow: ListFilter | None = None) -> pd.DataFrame:
    """Off-contract spend per council and supplier over the configured window (12 months) to the end
    of the month, at or above the lowest configured threshold: the highest threshold reached."""
    s = config.settings()
    first = month_start(month)
    return _named(
        """
        with spend as (
            select council_id, supplier_id, sum(spend_gbp) as spend_gbp, sum(count_lines) as count_lines,
                   count(distinct month) as count_months, arg_max(category, spend_gbp) as category
            from mart_spend_by_supplier_month
            where council_id in (select unnest($ids::varchar[])) and month between $window_start and $month
              and not is_on_contract and (is_addressable or not $addressable)
            group by all
        )
        select suppliers.supplier_name, councils.short_name as council, spend.spend_gbp,
               list_max(list_filter($thresholds::double[], lambda t: spend.spend_gbp >= t)) as threshold_gbp,
               spend.count_lines::bigint as count_lines, spend.count_months, spend.category, spend.council_id, spend.supplier_id
        from spend
        join dim_councils as councils using (council_id)
        join dim_suppliers as suppliers using (supplier_id)
        where spend.spend_gbp >= list_min($thresholds::double[]) and spend.spend_gbp >= $min_gbp
          and contains(lower(suppliers.supplier_name), $search) and """ + _NARROW_CATEGORY.format(col="spend.category") + """
        order by spend.spend_gbp desc, council
        """,
        _month_params(scope, first, narrow, thresholds=s.exceptions.off_contract_thresholds_gbp,
                      window_start=add_months(first, 1 - s.exceptions.off_contract_window_months)),
    )


_SPLIT_MEMBERS = """
with
thresholds as (select unnest($thresholds::double[]) as threshold_gbp),
lines as (
    select lines.*, thresholds.threshold_gbp
    from mart_supplier_payments_by_line as lines
    join thresholds
        on lines.amount_gbp >= thresholds.threshold_gbp * (1 - $below_share) and lines.amount_gbp < thresholds.threshold_gbp
    where lines.council_id in (select unnest($ids::varchar[])) and not lines.is_on_contract
      and lines.payment_date between $window_start and $month_end and (lines.is_addressable or not $addressable)
      and not lines.is_redacted
),
anchors as (
    -- a line of the month closing a window holding enough lines just under one threshold
    select a.council_id, a.supplier_id, a.threshold_gbp, a.payment_date as anchor_date
    from lines as a
    join lines as b
        on b.council_id = a.council_id and b.supplier_id = a.supplier_id and b.threshold_gbp = a.threshold_gbp
        and b.payment_date between a.payment_date - $window_days::integer and a.payment_date
    where a.payment_date >= $month
    group by a.line_id, a.council_id, a.supplier_id, a.threshold_gbp, a.payment_date
    having count(*) >= $min_lines
),
members as (
    select distinct b.*
    from anchors as a
    join lines as b
        on b.council_id = a.council_id and b.supplier_id = a.supplier_id and b.threshold_gbp = a.threshold_gbp
        and b.payment_date between a.anchor_date - $window_days::integer and a.anchor_date
)
"""


def _split_params(scope: Scope, month: dt.date, narrow: ListFilter | None = None) -> dict:
    e = config.settings().exceptions
    first = month_start(month)
    return _month_params(scope, first, narrow, thresholds=e.split_order_thresholds_gbp, below_share=e.split_order_below_share,
                         window_days=e.split_order_window_days, min_lines=e.split_order_min_lines,
                         window_start=first - dt.timedelta(days=e.split_order_window_days))


def split_orders(scope: Scope, month: dt.date, narrow: ListFilter | None = None) -> pd.DataFrame:
    """Possible split orders closing in the month: several off-contract lines of one council to one
    supplier, each just under a threshold, within the configured number of days. One row per
    council, supplier and threshold (aggregates only, so every role may see it)."""
    return _named(
        _SPLIT_MEMBERS + """
        select suppliers.supplier_name, councils.short_name as council, sum(members.amount_gbp) as spend_gbp,
               count(*) as count_lines, members.threshold_gbp as under_threshold_gbp,
               min(members.payment_date) as first_payment_date, max(members.payment_date) as last_payment_date,
               members.council_id, members.supplier_id
        from members
        join dim_councils as councils using (council_id)
        join dim_suppliers as suppliers using (supplier_id)
        where contains(lower(suppliers.supplier_name), $search) and """ + _NARROW_CATEGORY.format(col="members.category") + """
        group by all
        having sum(members.amount_gbp) >= $min_gbp
        order by spend_gbp desc, council
        """,
        _split_params(scope, month, narrow),
    )


def split_order_lines(scope: Scope, month: dt.date) -> pd.DataFrame | None:
    """The payment lines behind ``split_orders``; ``None`` for a role without line-level detail."""
    if not (scope.user.can("line_detail") and scope.user.can("redacted_detail")):
        return None
    return _named(
        _SPLIT_MEMBERS + """
        select councils.short_name as council, members.supplier_name, members.threshold_gbp, members.payment_date,
               members.amount_gbp, members.transaction_number, members.department, members.purpose,
               members.source_file, members.source_row
        from members
        join dim_councils as councils using (council_id)
        order by councils.sort_order, members.supplier_name, members.threshold_gbp, members.payment_date
        """,
        _split_params(scope, month),
    )


def contracts_without_spend(scope: Scope, month: dt.date, narrow: ListFilter | None = None) -> pd.DataFrame:
    """Register contracts live in the month, running for at least the configured grace period, with
    no payment to their supplier by a council of the scope within their term up to the month's end."""
    s = config.settings()
    first = month_start(month)
    return _named(
        """
        with
        contracts as (
            select * from mart_pipeline_by_contract
            where len(list_intersect(covered_council_ids, $ids::varchar[])) > 0
              and start_date <= $started_by and max_end_date >= $month
        ),
        spend as (
            select distinct contract_id from mart_spend_by_contract_month
            where council_id in (select unnest($ids::varchar[])) and month <= $month
        )
        select contracts.contract_title, contracts.owner_name as council, contracts.value_gbp, contracts.supplier_name,
               contracts.category, contracts.start_date, contracts.end_date, contracts.max_end_date,
               datediff('month', contracts.start_date, $month_end) as months_running, contracts.contract_ref,
               contracts.contract_id, contracts.supplier_id
        from contracts
        where contract_id not in (select contract_id from spend)
          and contains(lower(contracts.contract_title || ' ' || coalesce(contracts.supplier_name, '')), $search)
          and """ + _NARROW_CATEGORY.format(col="contracts.category") + """
          and coalesce(contracts.value_gbp, 0) >= $min_gbp
        order by contracts.value_gbp desc nulls last, contracts.contract_id
        """,
        _month_params(scope, first, narrow, started_by=add_months(month_end(first) + dt.timedelta(days=1),
                                                                  -s.exceptions.no_spend_grace_months) - dt.timedelta(days=1)),
    )


def contracts_missing_fields(scope: Scope, month: dt.date, narrow: ListFilter | None = None) -> pd.DataFrame:
    """Register records over the Transparency Code value (£5,000) live in the month that leave a
    mandatory field blank, with the fields missing, ranked by value."""
    s = config.settings()
    return _named(
        """
        select missing.contract_title, missing.owner_name as council, missing.value_gbp, count(*) as count_missing,
               string_agg(missing.field_label, '; ' order by missing.field_order) as missing_fields,
               missing.supplier_name, missing.contract_ref, missing.contract_id, missing.supplier_id
        from mart_missing_fields_by_contract as missing
        where len(list_intersect(missing.covered_council_ids, $ids::varchar[])) > 0
          and missing.value_gbp > $min_value and missing.start_date <= $month_end and missing.max_end_date >= $month
          and contains(lower(missing.contract_title || ' ' || coalesce(missing.supplier_name, '')), $search)
          and missing.value_gbp >= $min_gbp
        group by all
        order by missing.value_gbp desc, missing.contract_id
        """,
        _month_params(scope, month, narrow, min_value=s.exceptions.transparency_contract_min_gbp),
    )


# -- detail of one supplier, contract or category (the lists link here)


def _first_row(frame: pd.DataFrame) -> dict | None:
    """The first row as a dict with missing scalars as ``None`` (lists are kept), or ``None``."""
    if frame.empty:
        return None
    return {k: (None if pd.api.types.is_scalar(v) and pd.isna(v) else v) for k, v in frame.iloc[0].to_dict().items()}

_CONTRACT_STATUS = """
    case when start_date > $today then 'not started'
         when end_date >= $today then 'live'
         when max_end_date >= $today then 'in extension'
         else 'ended' end
"""


def supplier_profile(scope: Scope, supplier_id: str) -> dict | None:
    """A supplier's name, identifiers and flags, or ``None`` when no council of the scope has paid
    it or holds a contract with it (so a link cannot reveal suppliers outside the user's councils)."""
    frame = _named(
        """
        select suppliers.*,
               (select coalesce(sum(spend_gbp), 0) from mart_spend_by_supplier_month
                where supplier_id = $supplier_id and council_id in (select unnest($ids::varchar[]))) as spend_all_time_gbp
        from dim_suppliers as suppliers
        where supplier_id = $supplier_id
          and (exists (select 1 from mart_spend_by_supplier_month
                       where supplier_id = $supplier_id and council_id in (select unnest($ids::varchar[])))
               or exists (select 1 from mart_pipeline_by_contract
                          where supplier_id = $supplier_id and len(list_intersect(covered_council_ids, $ids::varchar[])) > 0))
        """,
        {"ids": scope.council_ids, "supplier_id": supplier_id},
    )
    return _first_row(frame)


def supplier_spend_by_council(scope: Scope, supplier_id: str) -> pd.DataFrame:
    """One supplier's spend per council of the scope in the period: on and off contract, lines."""
    return _named(
        """
        select councils.short_name as council, sum(spend.spend_gbp) as spend_gbp,
               coalesce(sum(spend.spend_gbp) filter (where spend.is_on_contract), 0) as on_contract_gbp,
               coalesce(sum(spend.spend_gbp) filter (where not spend.is_on_contract), 0) as off_contract_gbp,
               sum(spend.count_lines)::bigint as count_lines, max(spend.month) as last_month
        from mart_spend_by_supplier_month as spend
        join dim_councils as councils using (council_id)
        where spend.supplier_id = $supplier_id and spend.council_id in (select unnest($ids::varchar[]))
          and spend.month between $date_from and $date_to and (spend.is_addressable or not $addressable)
        group by councils.short_name, councils.sort_order
        order by councils.sort_order
        """,
        _spend_params(scope, supplier_id=supplier_id),
    )


def supplier_spend_by_month(scope: Scope, supplier_id: str) -> pd.DataFrame:
    """One supplier's spend per council per month in the period (the shape of ``spend_by_council_month``)."""
    return _named(
        """
        select councils.short_name as council, spend.month, sum(spend.spend_gbp) as spend_gbp
        from mart_spend_by_supplier_month as spend
        join dim_councils as councils using (council_id)
        where spend.supplier_id = $supplier_id and spend.council_id in (select unnest($ids::varchar[]))
          and spend.month between $date_from and $date_to and (spend.is_addressable or not $addressable)
        group by councils.short_name, councils.sort_order, spend.month
        order by spend.month, councils.sort_order
        """,
        _spend_params(scope, supplier_id=supplier_id),
    )


def supplier_contracts(scope: Scope, supplier_id: str, today: dt.date | None = None) -> pd.DataFrame:
    """Contracts with a supplier held by councils of the scope (own, or STAR ones covering them)."""
    return _named(
        f"""
        select contract_title, owner_name as council, {_COVERS.format(t="")} as covers, {_CONTRACT_STATUS} as status,
               value_gbp, end_date, max_end_date,
               start_date, category, contract_ref, contract_id
        from mart_pipeline_by_contract
        where supplier_id = $supplier_id and len(list_intersect(covered_council_ids, $ids::varchar[])) > 0
        order by max_end_date desc, value_gbp desc
        """,
        {"ids": scope.council_ids, "supplier_id": supplier_id, "today": _today(today)},
    )


def supplier_payments(scope: Scope, supplier_id: str, limit: int = 500) -> pd.DataFrame | None:
    """The latest payment lines to a supplier in the period; ``None`` for a role without line detail."""
    if not (scope.user.can("line_detail") and scope.user.can("redacted_detail")):
        return None
    return _named(
        """
        select councils.short_name as council, lines.payment_date, lines.amount_gbp, lines.is_on_contract,
               lines.contract_id, lines.department, lines.purpose, lines.transaction_number,
               lines.source_file, lines.source_row
        from mart_supplier_payments_by_line as lines
        join dim_councils as councils using (council_id)
        where lines.supplier_id = $supplier_id and lines.council_id in (select unnest($ids::varchar[]))
          and lines.payment_date between $date_from and $date_to and (lines.is_addressable or not $addressable)
          and not lines.is_redacted
        order by lines.payment_date desc, lines.amount_gbp desc
        limit $limit
        """,
        _spend_params(scope, supplier_id=supplier_id, limit=limit),
    )


def contract_profile(scope: Scope, contract_id: str, today: dt.date | None = None) -> dict | None:
    """One contract as the pipeline sees it (due date, start-by, RAG), whatever its end date, with
    spend against it to date by the councils of the scope; ``None`` when it covers none of them."""
    frame = _named(
        _PIPELINE_SQL.format(contracts="c.contract_id = $contract_id") + f"""
        select pipeline.* exclude (covered_council_ids, owner_label), {_COVERS.format(t="pipeline.")} as covers,
               {_CONTRACT_STATUS} as status,
               (select coalesce(sum(spend_gbp), 0) from mart_spend_by_contract_month as spend
                where spend.contract_id = $contract_id
                  and spend.council_id in (select unnest($ids::varchar[]))) as spend_to_date_gbp,
               (select max(last_payment_date) from mart_spend_by_contract_month as spend
                where spend.contract_id = $contract_id
                  and spend.council_id in (select unnest($ids::varchar[]))) as last_payment_date
        from pipeline
        """,
        _pipeline_params(scope, today, contract_id=contract_id),
    )
    return _first_row(frame)


def contract_spend_by_month(scope: Scope, contract_id: str) -> pd.DataFrame:
    """Spend against a contract per council of the scope per month, over its whole term."""
    return _named(
        """
        select councils.short_name as council, spend.month, spend.spend_gbp
        from mart_spend_by_contract_month as spend
        join dim_councils as councils using (council_id)
        where spend.contract_id = $contract_id and spend.council_id in (select unnest($ids::varchar[]))
        order by spend.month, councils.sort_order
        """,
        {"ids": scope.council_ids, "contract_id": contract_id},
    )


def category_suppliers(scope: Scope, category: str, today: dt.date | None = None) -> pd.DataFrame:
    """A category's suppliers in the period, ranked by spend: how many councils of the scope pay each
    and how many of those hold a live contract with it, then per council its spend and contract."""
    councils = _councils_in(scope)
    long = _named(
        """
        with
        spend as (
            select council_id, supplier_id, sum(spend_gbp) as spend_gbp
            from mart_spend_by_supplier_month
            where category = $category and council_id in (select unnest($ids::varchar[]))
              and month between $date_from and $date_to and (is_addressable or not $addressable)
            group by all
            having sum(spend_gbp) > 0
        ),
        held as (
            select supplier_id, council_id,
                   max(case when end_date >= $today then end_date else max_end_date end) as contract_end_date,
                   bool_and(is_collaborative) as only_star
            from (select supplier_id, unnest(covered_council_ids) as council_id, is_collaborative, end_date, max_end_date
                  from mart_pipeline_by_contract
                  where start_date <= $today and max_end_date >= $today)
            group by all
        ),
        suppliers as (
            select spend.supplier_id, any_value(names.supplier_name) as supplier_name, count(*) as count_councils,
                   sum(spend.spend_gbp) as spend_gbp, count(held.council_id) as count_councils_with_contract
            from spend
            join dim_suppliers as names using (supplier_id)
            left join held using (supplier_id, council_id)
            group by spend.supplier_id
        )
        select suppliers.*, spend.council_id, spend.spend_gbp as council_spend_gbp, held.contract_end_date, held.only_star
        from suppliers
        join spend using (supplier_id)
        left join held using (supplier_id, council_id)
        order by suppliers.spend_gbp desc, suppliers.supplier_name
        """,
        _spend_params(scope, category=category, today=_today(today)),
    )
    long["contract"] = [_contract_text(e, s) for e, s in zip(long["contract_end_date"], long["only_star"], strict=True)]
    return _wide(long, ["supplier_id", "supplier_name", "count_councils", "count_councils_with_contract", "spend_gbp"],
                 councils, {"council_spend_gbp": "spend_gbp", "contract": "contract"}, fill={"spend_gbp": 0.0, "contract": ""})


def pipeline_notice_years(today: dt.date | None = None) -> list[str]:
    """Financial years a pipeline notice can be prepared for: the current one and the next."""
    from starviz.scope import financial_year

    current = financial_year(_today(today))
    return [current, financial_year(add_months(fy_bounds(current)[1], 1))]
