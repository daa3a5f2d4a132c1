"""The spend page's supplier profile: search, profile, name variants, spend, categories, contracts."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from starviz import cube
from starviz.queries import db
from starviz.queries.common import _today, sql_file
from starviz.queries.spend import _where
from starviz.scope import Scope

# --- supplier profile ------------------------------------------------------------------------------


def supplier_search(scope: Scope, text: str = "", limit: int = 50) -> pd.DataFrame:
    """Suppliers paid by the user's councils whose name, as any of those councils spells it, contains
    ``text`` (case-insensitive, literally: no wildcards), largest spend first."""
    return db.query(
        sql_file("supplier_search"),
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


def cube_supplier_profile(scope: Scope, supplier_id: str, today: dt.date | None = None) -> dict | None:
    """One supplier as the user's councils know it: name, identifiers, local/SME/VCSE flags (None is
    unknown), spend and lines to date, councils paying it, live contracts on ``today``, any exclusion
    from addressable spend. None when no council in scope has paid it or holds a contract with it."""
    row = db.query(
        sql_file("cube_supplier_profile"),
        [supplier_id, scope.council_ids, _today(today), supplier_id, scope.council_ids, supplier_id],
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
        sql_file("supplier_name_variants"),
        [supplier_id, scope.council_ids],
    )


def supplier_spend_by_council_month(scope: Scope, supplier_id: str) -> pd.DataFrame:
    """The supplier's spend per council per month, every month loaded (the period filter aside)."""
    return db.query(
        sql_file("supplier_spend_by_council_month"),
        [supplier_id, scope.council_ids],
    )


def supplier_categories(scope: Scope, supplier_id: str) -> pd.DataFrame:
    """What the supplier is paid for: spend and lines per category (level 1), every month loaded."""
    return db.query(
        sql_file("supplier_categories"),
        [supplier_id, scope.council_ids],
    )


def cube_supplier_contracts(scope: Scope, supplier_id: str, today: dt.date | None = None) -> pd.DataFrame:
    """Contracts the supplier holds with each council in scope (STAR collaborative contracts under
    every council they cover), their status on ``today``, and what that council has paid under each
    to date."""
    return db.query(
        sql_file("cube_supplier_contracts"),
        [_today(today), supplier_id, scope.council_ids],
    )
