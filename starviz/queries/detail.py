"""The detail of one supplier, contract or category that a ranked list's link opens."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from starviz.queries.collaboration import _no_data_where_not_loaded
from starviz.queries.common import _COVERS, _contract_text, _councils_in, _named, _spend_params, _today, _wide, sql_file
from starviz.queries.pipeline import _PIPELINE_SQL, _pipeline_params
from starviz.scope import Scope, add_months, fy_bounds

# -- detail of one supplier, contract or category (the lists link here)


def _first_row(frame: pd.DataFrame) -> dict | None:
    """The first row as a dict with missing scalars as ``None`` (lists are kept), or ``None``."""
    if frame.empty:
        return None
    return {k: (None if pd.api.types.is_scalar(v) and pd.isna(v) else v) for k, v in frame.iloc[0].to_dict().items()}


# the contract_status macro (sql/00_functions): the one vocabulary of contract status
_CONTRACT_STATUS = "contract_status(start_date, end_date, max_end_date, $today)"


def supplier_profile(scope: Scope, supplier_id: str) -> dict | None:
    """A supplier's name, identifiers and flags, or ``None`` when no council of the scope has paid
    it or holds a contract with it (so a link cannot reveal suppliers outside the user's councils)."""
    frame = _named(
        sql_file("supplier_profile"),
        {"ids": scope.council_ids, "supplier_id": supplier_id},
    )
    return _first_row(frame)


def supplier_spend_by_council(scope: Scope, supplier_id: str) -> pd.DataFrame:
    """One supplier's spend per council of the scope in the period: on and off contract, lines."""
    return _named(
        sql_file("supplier_spend_by_council"),
        _spend_params(scope, supplier_id=supplier_id),
    )


def supplier_spend_by_month(scope: Scope, supplier_id: str) -> pd.DataFrame:
    """One supplier's spend per council per month in the period (the shape of ``spend_by_council_month``)."""
    return _named(
        sql_file("supplier_spend_by_month"),
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
        where supplier_id = $supplier_id and covers_scope(covered_council_ids, $ids)
        order by max_end_date desc, value_gbp desc
        """,
        {"ids": scope.council_ids, "supplier_id": supplier_id, "today": _today(today)},
    )


def supplier_payments(scope: Scope, supplier_id: str, limit: int = 500) -> pd.DataFrame | None:
    """The latest payment lines to a supplier in the period; ``None`` for a role without line detail."""
    if not (scope.user.can("line_detail") and scope.user.can("redacted_detail")):
        return None
    return _named(
        sql_file("supplier_payments"),
        _spend_params(scope, supplier_id=supplier_id, limit=limit),
    )


def contract_profile(scope: Scope, contract_id: str, today: dt.date | None = None) -> dict | None:
    """One contract as the pipeline sees it (due date, start-by, RAG), whatever its end date, with
    spend against it to date by the councils of the scope; ``None`` when it covers none of them."""
    frame = _named(
        _PIPELINE_SQL.format(contracts="c.contract_id = $contract_id")
        + f"""
        select pipeline.* exclude (covered_council_ids, owner_label), {_COVERS.format(t="pipeline.")} as covers,
               {_CONTRACT_STATUS} as status,
               (select coalesce(sum(spend_gbp), 0) from mart_spend_by_contract_month as spend
                where spend.contract_id = $contract_id
                  and in_scope(spend.council_id, $ids)) as spend_to_date_gbp,
               (select max(last_payment_date) from mart_spend_by_contract_month as spend
                where spend.contract_id = $contract_id
                  and in_scope(spend.council_id, $ids)) as last_payment_date
        from pipeline
        """,
        _pipeline_params(scope, today, contract_id=contract_id),
    )
    return _first_row(frame)


def contract_spend_by_month(scope: Scope, contract_id: str) -> pd.DataFrame:
    """Spend against a contract per council of the scope per month, over its whole term."""
    return _named(
        sql_file("contract_spend_by_month"),
        {"ids": scope.council_ids, "contract_id": contract_id},
    )


def category_suppliers(scope: Scope, category: str, today: dt.date | None = None) -> pd.DataFrame:
    """A category's suppliers in the period, ranked by spend: how many councils of the scope pay each
    and how many of those hold a live contract with it, then per council its spend and contract."""
    councils = _councils_in(scope)
    long = _named(
        sql_file("category_suppliers"),
        _spend_params(scope, category=category, today=_today(today)),
    )
    long["contract"] = [_contract_text(e, s) for e, s in zip(long["contract_end_date"], long["only_star"], strict=True)]
    return _wide(
        long,
        ["supplier_id", "supplier_name", "count_councils", "count_councils_with_contract", "spend_gbp"],
        councils,
        {"council_spend_gbp": "spend_gbp", "contract": "contract"},
        fill={"spend_gbp": 0.0, "contract": ""},
    ).pipe(_no_data_where_not_loaded, scope, spend=("spend_gbp",), contracts=("contract",))


def pipeline_notice_years(today: dt.date | None = None) -> list[str]:
    """Financial years a pipeline notice can be prepared for: the current one and the next."""
    from starviz.scope import financial_year

    current = financial_year(_today(today))
    return [current, financial_year(add_months(fy_bounds(current)[1], 1))]
