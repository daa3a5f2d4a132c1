"""The collaboration page: suppliers and categories councils share, expiry alignment, leakage."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from starviz import config, nodata, rules
from starviz.queries.common import (
    _NARROW_CATEGORY,
    ListFilter,
    _contract_text,
    _councils_in,
    _named,
    _spend_params,
    _today,
    _wide,
)
from starviz.queries.reference import measure_coverage, spend_covered_in_period
from starviz.scope import Scope


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
            where in_scope(council_id, $ids) and month between $date_from and $date_to
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
              and """
        + _NARROW_CATEGORY.format(col="main_category.category")
        + """
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
            where in_scope(council_id, $ids)
            group by all
        )
        select listed.supplier_id, listed.supplier_name, listed.category, listed.count_councils,
               listed.spend_gbp, councils.council_id, by_council.spend_gbp as council_spend_gbp,
               held.contract_end_date, held.only_star
        from listed
        cross join (select council_id, sort_order from dim_councils
                    where in_scope(council_id, $ids)) as councils
        left join by_council using (supplier_id, council_id)
        left join held using (supplier_id, council_id)
        order by listed.spend_gbp desc, listed.supplier_name, councils.sort_order
        """,
        _spend_params(scope, narrow, today=_today(today)),
    )
    long["contract"] = [_contract_text(e, s) for e, s in zip(long["contract_end_date"], long["only_star"], strict=True)]
    held = long[long["contract_end_date"].notna()].groupby("supplier_id")["council_id"].nunique()
    out = _wide(
        long,
        ["supplier_id", "supplier_name", "category", "count_councils", "spend_gbp"],
        councils,
        {"council_spend_gbp": "spend_gbp", "contract": "contract"},
        fill={"spend_gbp": 0.0},
    )
    out.insert(4, "count_councils_with_contract", out["supplier_id"].map(held).fillna(0).astype(int))
    return _no_data_where_not_loaded(out, scope, spend=("spend_gbp",), contracts=("contract",))


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
            where in_scope(spend.council_id, $ids) and spend.month between $date_from and $date_to
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
               and contains(lower(category), $search) and """
        + _NARROW_CATEGORY.format(col="category")
        + """
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
    out = _wide(
        long,
        ["category", "count_councils", "count_suppliers", "count_shared_suppliers", "spend_gbp"],
        councils,
        {"council_spend_gbp": "spend_gbp", "council_suppliers": "suppliers"},
        fill={"spend_gbp": 0.0, "suppliers": 0},
    )
    return _no_data_where_not_loaded(out, scope, spend=("spend_gbp", "suppliers"))


def _no_data_where_not_loaded(
    out: pd.DataFrame, scope: Scope, spend: tuple[str, ...] = (), contracts: tuple[str, ...] = ()
) -> pd.DataFrame:
    """A council's columns are "no data" (null, or the words in a text column), not £0, 0 or "none",
    where it has no spend loaded for the period (``spend``: column suffixes) or no contracts of its own
    (``contracts``: a STAR contract covering it is still shown), by the build's one record of who has
    data (``nodata.covered``); with no contracts loaded for any council in scope, a count of 0
    councils with a contract is null."""
    coverage = measure_coverage(scope)
    out = out.copy()
    for measure, suffixes in (("spend", spend), ("contracts", contracts)):
        if not suffixes:
            continue
        covered = spend_covered_in_period(scope) if measure == "spend" else nodata.covered(coverage, measure)
        for council_id in coverage.loc[coverage["measure"] == measure, "council_id"]:
            if council_id in covered.ids:
                continue
            for suffix in suffixes:
                column = f"{council_id}_{suffix}"
                if column not in out.columns:
                    continue
                if suffix == "contract":  # a STAR contract covering it is known; "none" is not
                    out[column] = out[column].where(~out[column].isin(["none", ""]), nodata.NO_DATA)
                else:
                    out[column] = pd.Series(None, index=out.index, dtype="float64")
        if measure == "contracts" and "count_councils_with_contract" in out.columns and covered.none:
            count = out["count_councils_with_contract"].astype("Int64")
            out["count_councils_with_contract"] = count.where(count > 0, pd.NA)
    return out


_LIVE_CONTRACTS = """
    select contract_id, council_id, owner_name, owner_order, contract_ref, contract_title, supplier_id,
           supplier_name, category, subcategory, category_manager, value_gbp, annual_value_gbp, start_date,
           end_date, max_end_date,
           case when end_date >= $today then end_date else max_end_date end as due_date
    from mart_pipeline_by_contract
    where covers_scope(covered_council_ids, $ids) and max_end_date >= $today
"""

_ALIGNMENT_COLUMNS = [
    "opportunity",
    "category",
    "value_gbp",
    "saving_gbp",
    "count_owners",
    "count_contracts",
    "first_due_date",
    "last_due_date",
    "first_contract_title",
    "owners",
    "contracts",
    "annual_value_gbp",
    "contract_id",
]


def _listed(labels: pd.Series, shown: int = 4) -> str:
    items = list(labels)
    more = f" and {len(items) - shown} more" if len(items) > shown else ""
    return "; ".join(items[:shown]) + more


def expiry_alignment(
    scope: Scope,
    narrow: ListFilter | None = None,
    window_months: int | None = None,
    today: dt.date | None = None,
    by_subcategory: bool = False,
) -> pd.DataFrame:
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
        from ("""
        + _LIVE_CONTRACTS
        + """)
        where category in (select category from dim_categories where not is_unclassified)
          and """
        + _NARROW_CATEGORY.format(col="category"),
        {"ids": scope.council_ids, "today": _today(today), "by_subcategory": by_subcategory, **narrow.params()},
    )
    members = rules.expiry_windows(contracts, window_months or s.collaboration.expiry_alignment_months, key="grouping")
    if members.empty:
        return pd.DataFrame(columns=_ALIGNMENT_COLUMNS)
    due = pd.to_datetime(members["due_date"])
    members["label"] = members["owner_name"] + " " + members["contract_ref"] + " (" + due.dt.strftime("%b %Y") + ")"
    members["text"] = (
        members["contract_title"].fillna("") + " " + members["supplier_name"].fillna("") + " " + members["grouping"]
    ).str.lower()
    out = (
        members.groupby("opportunity", sort=False)
        .agg(
            category=("grouping", "first"),
            first_due_date=("due_date", "min"),
            last_due_date=("due_date", "max"),
            count_owners=("council_id", "nunique"),
            count_contracts=("contract_id", "size"),
            value_gbp=("value_gbp", "sum"),
            annual_value_gbp=("annual_value_gbp", "sum"),
            contracts=("label", _listed),
            contract_id=("contract_id", "first"),
            first_contract_title=("contract_title", "first"),
            text=("text", " ".join),
        )
        .reset_index()
    )
    out["saving_gbp"] = out["value_gbp"] * s.collaboration.aggregation_saving_share
    owners = members.sort_values("owner_order").groupby("opportunity")["owner_name"].agg(lambda x: ", ".join(dict.fromkeys(x)))
    out["owners"] = out["opportunity"].map(owners)
    keep = out["text"].str.contains(narrow.params()["search"], regex=False) & (out["value_gbp"] >= narrow.min_gbp)
    out = out[keep].sort_values(["value_gbp", "first_due_date"], ascending=[False, True])
    return out[_ALIGNMENT_COLUMNS].reset_index(drop=True)


def aligned_contracts(
    scope: Scope, contract_id: str, window_months: int | None = None, today: dt.date | None = None
) -> pd.DataFrame:
    """Other owners' contracts in the same category as ``contract_id`` due within ``window_months``
    either side of it: the partners a joint re-procurement of this contract could bring in."""
    return _named(
        """
        with live as ("""
        + _LIVE_CONTRACTS
        + """),
        this as (select * from live where contract_id = $contract_id)
        select live.contract_title, live.owner_name as council, live.value_gbp, live.due_date,
               datediff('month', this.due_date, live.due_date) as months_apart, live.supplier_name, live.contract_ref,
               live.contract_id
        from live
        join this on live.category = this.category and live.council_id <> this.council_id
        where live.due_date between (this.due_date - to_months($window))::date and (this.due_date + to_months($window))::date
        order by live.value_gbp desc nulls last
        """,
        {
            "ids": scope.council_ids,
            "today": _today(today),
            "contract_id": contract_id,
            "window": window_months or config.settings().collaboration.expiry_alignment_months,
        },
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
            where in_scope(council_id, $ids) and month between $date_from and $date_to
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
            where covers_scope(covered_council_ids, $ids)
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
