"""The data quality page and the import report: coverage, rejects, freshness, files, supplier matches."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from starviz import config
from starviz.queries import db
from starviz.queries.common import sql_file
from starviz.scope import Scope

# --- data quality and import ---------------------------------------------------------------------
# STAR's own files (shared services: collaborative contracts, team KPIs) are data too: they show on
# the data quality page to a user who sees every council and has not narrowed the selection.


def _in_scope(column: str = "council_id") -> str:
    """Rows of the councils given (parameter 1), or of shared services too (parameter 2 true)."""
    return f"(in_scope({column}, ?) or (? and {column} in (select council_id from dim_councils where not is_council)))"


def _quality_params(scope: Scope) -> list:
    return [scope.council_ids, scope.user.all_councils and scope.filters.all_councils]


def _user_params(scope: Scope) -> list:
    """Every council the user may see, whatever the filters (an import reports on all of them)."""
    ids = db.query("select council_id from dim_councils order by sort_order")["council_id"].tolist()
    return [list(scope.user.allowed(ids)), scope.user.all_councils]


def coverage(scope: Scope, dataset: str) -> pd.DataFrame:
    """Rows loaded per council per month of one dataset in the period, missing months flagged."""
    return db.query(
        f"""
        select c.short_name as council, m.month, m.count_rows, m.count_files, m.is_expected, m.is_missing
        from mart_coverage_by_council_month m
        join dim_councils c using (council_id)
        where {_in_scope("m.council_id")}
          and m.dataset = ? and m.month between ? and ?
        order by c.sort_order, m.month
        """,
        [*_quality_params(scope), dataset, scope.filters.date_from, scope.filters.date_to],
    )


def coverage_datasets() -> dict[str, bool]:
    """Datasets with data (monthly ones first), each with whether its gaps are flagged."""
    from starviz.models import DATASETS

    frame = db.query("select dataset, bool_or(is_expected) as is_monthly from mart_coverage_by_council_month group by dataset")
    order = {name: i for i, name in enumerate(DATASETS)}
    rows = sorted(
        zip(frame["dataset"], frame["is_monthly"].astype(bool), strict=True),
        key=lambda r: (not r[1], order.get(r[0], len(order))),
    )
    return dict(rows)


def missing_months(scope: Scope) -> pd.DataFrame:
    """Per council and dataset: the expected months in the period with no rows at all."""
    return db.query(
        f"""
        select c.short_name as council, m.dataset, count(*) as count_missing,
               string_agg(strftime(m.month, '%b %Y'), ', ' order by m.month) as months
        from mart_coverage_by_council_month m
        join dim_councils c using (council_id)
        where m.is_missing and {_in_scope("m.council_id")}
          and m.month between ? and ?
        group by c.short_name, c.sort_order, m.dataset
        order by c.sort_order, m.dataset
        """,
        [*_quality_params(scope), scope.filters.date_from, scope.filters.date_to],
    )


def rejects_by_reason(scope: Scope) -> pd.DataFrame:
    """Problems found in rows, counted per council, dataset, severity and reason."""
    return db.query(
        f"""
        select council, dataset, severity, reason,
               count(distinct (source_file, source_row)) as count_rows, count(distinct source_file) as count_files
        from mart_rejects_by_row
        where {_in_scope()}
        group by council, dataset, severity, reason
        order by min(case severity when 'rejected' then 0 when 'warning' then 1 else 2 end), count_rows desc, council
        """,
        _quality_params(scope),
    )


def rejected_rows(scope: Scope, severities: list[str], limit: int | None = None) -> pd.DataFrame:
    """Line-level problems (file, row, column, value, reason), at most ``limit`` (default from the
    settings); none for a role without line detail."""
    limit = limit or config.settings().quality_max_problem_rows
    if not scope.user.can("line_detail"):
        return pd.DataFrame(
            columns=["council", "dataset", "source_file", "source_row", "column_name", "value", "reason", "severity"]
        )
    return db.query(
        f"""
        select council, dataset, source_file, source_row, column_name, value, reason, severity
        from mart_rejects_by_row
        where {_in_scope()} and severity in (select unnest(?::varchar[]))
        order by council, dataset, source_file, source_row, column_name
        limit ?
        """,
        [*_quality_params(scope), severities, limit],
    )


def count_rejected_rows(scope: Scope, severities: list[str]) -> int:
    return int(
        db.scalar(
            f"select count(*) from mart_rejects_by_row where {_in_scope()} and severity in (select unnest(?::varchar[]))",
            [*_quality_params(scope), severities],
        )
    )


def unclassified_by_council(scope: Scope) -> pd.DataFrame:
    """Per council: spend with no ProClass heading, and spend classified only from the supplier's
    other lines, as shares of the spend in the period (addressable only when the filter says so)."""
    return db.query(
        sql_file("unclassified_by_council"),
        [scope.council_ids, scope.filters.date_from, scope.filters.date_to, scope.filters.addressable_only],
    )


def exclusions_by_reason(scope: Scope) -> pd.DataFrame:
    """Per council and reason: the spend left out of addressable spend in the period."""
    return db.query(
        sql_file("exclusions_by_reason"),
        [scope.council_ids, scope.filters.date_from, scope.filters.date_to] * 2,
    )


def freshness(scope: Scope, today: dt.date | None = None) -> pd.DataFrame:
    """Per council and dataset: the latest file loaded, the last date it covers, when it arrived,
    and how old the data is. A monthly dataset ages from the end of its last month (a council that
    dates a month's lines on the 1st has still sent the whole month); a register or other snapshot
    from the day its latest file arrived. Stale beyond the configured number of days."""
    today = today or dt.date.today()
    return db.query(
        f"""
        with monthly as (
            select dataset, bool_or(is_expected) as is_monthly from mart_coverage_by_council_month group by dataset
        ),
        latest as (
            select c.short_name as council, c.sort_order, f.dataset,
                   arg_max(f.file_name, (f.is_latest, f.last_date, f.received_at)) as latest_file,
                   max(f.last_date) filter (where f.status = 'loaded') as last_date,
                   arg_max(f.received_at, (f.is_latest, f.last_date, f.received_at)) as received_at,
                   count(*) filter (where f.status = 'loaded') as count_files,
                   count(*) filter (where f.status = 'failed') as count_failed,
                   sum(f.rows_loaded) as rows_loaded
            from mart_rows_by_file f
            join dim_councils c using (council_id)
            where {_in_scope("f.council_id")}
            group by c.short_name, c.sort_order, f.dataset
        )
        select latest.* exclude (sort_order),
               greatest(0, date_diff('day', case when coalesce(monthly.is_monthly, false) then last_day(latest.last_date)
                                     else latest.received_at::date end, ?::date)) as days_old,
               coalesce(date_diff('day', case when coalesce(monthly.is_monthly, false) then last_day(latest.last_date)
                                              else latest.received_at::date end, ?::date) > ?, true) as is_stale
        from latest
        left join monthly using (dataset)
        order by latest.sort_order, latest.dataset
        """,
        [*_quality_params(scope), today, today, config.settings().quality_stale_after_days],
    )


def failed_files(scope: Scope) -> pd.DataFrame:
    """Files the build could not read at all, with the reason."""
    return db.query(
        f"""
        select council, dataset, source_file, message
        from mart_rows_by_file
        where status = 'failed' and {_in_scope()}
        order by council, dataset, source_file
        """,
        _quality_params(scope),
    )


def supplier_match_candidates(scope: Scope, limit: int | None = None) -> pd.DataFrame:
    """Pairs of suppliers whose names look alike, best score first, with each side's councils and
    spend, both counted only within the user's councils (both sides must be used by one of them)."""
    limit = limit or config.settings().supplier_match_max_shown
    return db.query(
        sql_file("supplier_match_candidates"),
        [*_quality_params(scope), *_quality_params(scope), limit],
    )


def ledger_file_with_hash(scope: Scope, sha256: str) -> str | None:
    """The file (raw/-relative) the live database loaded with this content, if any."""
    row = db.query(
        f"select source_file from mart_rows_by_file where sha256 = ? and {_in_scope()} order by file_id limit 1",
        [sha256, *_user_params(scope)],
    )
    return None if row.empty else str(row.iloc[0, 0])


def loaded_files(scope: Scope, council_id: str, dataset: str) -> pd.DataFrame:
    """The files the live database loaded for one council and dataset, with the dates they cover."""
    return db.query(
        f"""
        select source_file, file_name, status, rows_loaded, first_date, last_date
        from mart_rows_by_file
        where council_id = ? and dataset = ? and {_in_scope()}
        order by source_file
        """,
        [council_id, dataset, *_user_params(scope)],
    )


def import_snapshot(scope: Scope) -> dict[str, pd.DataFrame]:
    """What an import compares before and after its build: rows per council, dataset and month;
    suppliers; contracts; files. Small tables (thousands of rows at most)."""
    params = _user_params(scope)
    return {
        "rows": db.query(
            f"select council_id, dataset, month, count_rows from mart_coverage_by_council_month "
            f"where count_rows > 0 and {_in_scope()}",
            params,
        ),
        "suppliers": db.query(
            f"""select s.supplier_id, s.supplier_name, list_sort(list(distinct n.council_id)) as council_ids
                from dim_suppliers s join map_supplier_names n using (supplier_id)
                where {_in_scope("n.council_id")}
                group by s.supplier_id, s.supplier_name""",
            params,
        ),
        "contracts": db.query(
            f"select contract_id, council_id, contract_title, supplier_name, value_gbp, start_date, end_date "
            f"from mart_contracts where {_in_scope()}",
            params,
        ),
        "files": db.query(
            f"select council_id, dataset, source_file, status, message, rows_read, rows_loaded, rows_rejected, "
            f"first_date, last_date from mart_rows_by_file where {_in_scope()}",
            params,
        ),
        "councils": db.query(f"select council_id, short_name from dim_councils where {_in_scope()} order by sort_order", params),
    }
