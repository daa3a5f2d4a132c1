"""The spend page's supplier profile: search, profile, name variants, spend, categories, contracts."""

from __future__ import annotations

import pandas as pd

from starviz import cube
from starviz.queries import db
from starviz.queries.spend import _where
from starviz.scope import Scope

# --- supplier profile ------------------------------------------------------------------------------


def supplier_search(scope: Scope, text: str = "", limit: int = 50) -> pd.DataFrame:
    """Suppliers paid by the user's councils whose name, as any of those councils spells it, contains
    ``text`` (case-insensitive, literally: no wildcards), largest spend first."""
    return db.query(
        """
        with
        names as (
            select supplier_id, supplier_name, spend_gbp
            from mart_spend_by_supplier_name
            where in_scope(council_id, ?)
        ),
        found as (
            select supplier_id, sum(spend_gbp) as spend_gbp,
                   bool_or(contains(lower(supplier_name), lower(?))) as is_match
            from names
            group by supplier_id
        )
        select found.supplier_id, d.supplier_name, found.spend_gbp
        from found
        join dim_suppliers d using (supplier_id)
        where found.is_match or contains(lower(d.supplier_name), lower(?))
        order by found.spend_gbp desc, d.supplier_name
        limit ?
        """,
        [scope.council_ids, text.strip(), text.strip(), limit],
    )


def top_supplier(scope: Scope, criteria: tuple[cube.Criterion, ...] = ()) -> str | None:
    """The identified supplier with the most spend in the selection (the profile's starting point)."""
    where, params = _where(scope, criteria)
    return db.scalar(
        f"""
        select max_by(supplier_id, spend_gbp) from (
            select supplier_id, sum(spend_gbp) as spend_gbp from mart_spend_cube
            where {where} and supplier_id is not null
            group by supplier_id
        )
        """,
        params,
    )


def cube_supplier_profile(scope: Scope, supplier_id: str) -> dict | None:
    """One supplier as the user's councils know it: name, identifiers, local/SME/VCSE flags (None is
    unknown), spend and lines to date, councils paying it, any exclusion from addressable spend.
    None when no council in scope has paid it or holds a contract with it."""
    row = db.query(
        """
        with
        paid as (
            select
                sum(spend_gbp) as spend_gbp, sum(count_lines) as count_lines,
                count(distinct council_id) filter (where count_lines > 0) as count_councils,
                min(first_month) as first_month, max(last_month) as last_month,
                count(distinct supplier_name) as count_name_variants
            from mart_spend_by_supplier_name
            where supplier_id = ? and in_scope(council_id, ?)
        ),
        contracts as (
            select count(distinct contract_id) as count_contracts,
                   count(distinct contract_id) filter (where status in ('live', 'in extension window'))
                       as count_live_contracts
            from mart_contracts_by_supplier_council
            where supplier_id = ? and in_scope(council_id, ?)
        )
        select d.supplier_id, d.supplier_name, d.company_number, d.charity_number, d.vat_number,
               d.postcode_district, d.is_local, d.is_sme, d.is_vcse,
               paid.*, contracts.count_contracts, contracts.count_live_contracts
        from dim_suppliers d, paid, contracts
        where d.supplier_id = ? and (paid.count_lines > 0 or contracts.count_contracts > 0)
        """,
        [supplier_id, scope.council_ids, supplier_id, scope.council_ids, supplier_id],
    )
    if row.empty:
        return None
    out = {k: (None if not isinstance(v, list) and pd.isna(v) else v) for k, v in row.iloc[0].to_dict().items()}
    out["exclusion_reasons"] = db.query(
        """
        select distinct exclusion_reason from mart_spend_by_supplier_month
        where supplier_id = ? and in_scope(council_id, ?) and exclusion_reason is not null
        order by 1
        """,
        [supplier_id, scope.council_ids],
    )["exclusion_reason"].tolist()
    return out


def supplier_name_variants(scope: Scope, supplier_id: str) -> pd.DataFrame:
    """Each spelling of the supplier's name that was merged into it, by the council that uses it."""
    return db.query(
        """
        select c.short_name as council, n.supplier_name as name_as_published, n.count_lines, n.spend_gbp
        from mart_spend_by_supplier_name n
        join dim_councils c using (council_id)
        where n.supplier_id = ? and in_scope(n.council_id, ?)
        order by c.sort_order, n.spend_gbp desc, n.supplier_name
        """,
        [supplier_id, scope.council_ids],
    )


def supplier_spend_by_council_month(scope: Scope, supplier_id: str) -> pd.DataFrame:
    """The supplier's spend per council per month, every month loaded (the period filter aside)."""
    return db.query(
        """
        select c.short_name as council, m.month, sum(m.spend_gbp) as spend_gbp
        from mart_spend_by_supplier_month m
        join dim_councils c using (council_id)
        where m.supplier_id = ? and in_scope(m.council_id, ?)
        group by c.short_name, c.sort_order, m.month
        order by m.month, c.sort_order
        """,
        [supplier_id, scope.council_ids],
    )


def supplier_categories(scope: Scope, supplier_id: str) -> pd.DataFrame:
    """What the supplier is paid for: spend and lines per category (level 1), every month loaded."""
    return db.query(
        """
        select category, sum(spend_gbp) as spend_gbp, sum(count_lines) as count_lines,
               count(distinct council_id) as count_councils
        from mart_spend_by_supplier_month
        where supplier_id = ? and in_scope(council_id, ?)
        group by category
        order by spend_gbp desc
        """,
        [supplier_id, scope.council_ids],
    )


def cube_supplier_contracts(scope: Scope, supplier_id: str) -> pd.DataFrame:
    """Contracts the supplier holds with each council in scope (STAR collaborative contracts under
    every council they cover), with what that council has paid under each to date."""
    return db.query(
        """
        select c.short_name as council, m.contract_ref, m.contract_title, m.category,
               case when m.is_collaborative then 'STAR collaborative' else 'Council' end as let_by,
               m.status, m.start_date, m.end_date, m.max_end_date, m.value_gbp, m.spend_gbp
        from mart_contracts_by_supplier_council m
        join dim_councils c using (council_id)
        where m.supplier_id = ? and in_scope(m.council_id, ?)
        order by c.sort_order, m.end_date desc, m.contract_ref
        """,
        [supplier_id, scope.council_ids],
    )
