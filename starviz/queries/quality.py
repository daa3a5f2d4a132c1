"""The data quality page and the import report: coverage, rejects, freshness, files, supplier matches."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from starviz import config, fmt
from starviz.queries import db
from starviz.queries.common import sql_file
from starviz.scope import Scope, line_date_text

# --- data quality and import ---------------------------------------------------------------------
# STAR's own files (shared services: collaborative contracts, team KPIs) are data too: they show on
# the data quality page to a user who sees every council and has not narrowed the selection.


def _shared_services() -> list[str]:
    return db.reference(
        "shared services", lambda: [r[0] for r in db.rows("select council_id from dim_councils where not is_council")]
    )


def _quality_params(scope: Scope) -> list:
    """The councils in scope, and the shared services for a user who sees every council and has not
    narrowed the selection (in_scope_or_shared's parameters)."""
    shared = scope.user.all_councils and scope.filters.all_councils
    return [scope.council_ids, list(_shared_services()) if shared else []]


def _user_params(scope: Scope) -> list:
    """Every council the user may see, whatever the filters (an import reports on all of them)."""
    ids = db.query("select council_id from dim_councils order by sort_order")["council_id"].tolist()
    return [list(scope.user.allowed(ids)), list(_shared_services()) if scope.user.all_councils else []]


def coverage(scope: Scope, dataset: str) -> pd.DataFrame:
    """Rows loaded per council per month of one dataset in the period, missing months flagged."""
    return db.query(
        sql_file("coverage"),
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
    """Per council and dataset: the expected months in the period with no rows at all; and once,
    with ``count_missing`` null, each dataset a council is configured for but has sent nothing of
    yet ("No data loaded yet")."""
    return db.query(
        sql_file("missing_months"),
        [*_quality_params(scope), scope.filters.date_from, scope.filters.date_to, *_quality_params(scope)],
    )


def rejects_by_reason(scope: Scope) -> pd.DataFrame:
    """Problems found in rows, counted per council, dataset, severity and reason."""
    return db.query(
        sql_file("rejects_by_reason"),
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
        sql_file("rejected_rows"),
        [*_quality_params(scope), severities, limit],
    )


def count_rejected_rows(scope: Scope, severities: list[str]) -> int:
    return int(
        db.scalar(
            "select count(*) from mart_rejects_by_row"
            " where in_scope_or_shared(council_id, ?, ?) and severity in (select unnest(?::varchar[]))",
            [*_quality_params(scope), severities],
        )
    )


def unclassified_by_council(scope: Scope) -> pd.DataFrame:
    """Per council in scope: net spend with no ProClass heading, and classified only from the
    supplier's other lines or the expense type, with their shares of the spend in the period
    (addressable only when the filter says so) under the one share rule (``known_share``), and the
    net refunds that rule leaves out (``share_left_out_gbp``). A council with no spend in the period
    has a row with no shares ("no data")."""
    return db.query(
        sql_file("unclassified_by_council"),
        [
            scope.council_ids,
            scope.filters.date_from,
            scope.filters.date_to,
            scope.filters.addressable_only,
            scope.council_ids,
        ],
    )


def exclusions_by_reason(scope: Scope) -> pd.DataFrame:
    """Per council and reason: the net spend left out of addressable spend in the period, its share
    of all the council's spend under the one share rule (``known_share``), and the council's net
    refunds that rule leaves out (``share_left_out_gbp``, on each of its rows)."""
    return db.query(
        sql_file("exclusions_by_reason"),
        [scope.council_ids, scope.filters.date_from, scope.filters.date_to],
    )


def freshness(scope: Scope, today: dt.date | None = None) -> pd.DataFrame:
    """Per council and dataset: the latest file loaded, the last date it covers, when it arrived,
    and how old the data is. A monthly dataset ages from the end of its last month (a council that
    dates a month's lines on the 1st has still sent the whole month); a register or other snapshot
    from the day its latest file arrived; notices per council from the day its latest notice was
    published. Stale beyond the configured number of days."""
    today = today or dt.date.today()
    df = db.query(
        sql_file("freshness"),
        [*_quality_params(scope), scope.council_ids, today, today, config.settings().quality_stale_after_days],
    )
    # a council publishing months, not days, is told in months: "Sep 2014", "3 months old"
    months = df["date_precision"].eq("month")
    df["data_up_to"] = [line_date_text(d, p) for d, p in zip(df["last_date"], df["date_precision"], strict=True)]
    df["age"] = [fmt.age(n, m) for n, m in zip(df["days_old"], months, strict=True)]
    return df


def failed_files(scope: Scope) -> pd.DataFrame:
    """Files the build could not read at all, with the reason."""
    return db.query(
        sql_file("failed_files"),
        _quality_params(scope),
    )


def contract_sources(scope: Scope) -> pd.DataFrame:
    """Per council, contracts only in its register, only in its notices, and in both."""
    return db.query(sql_file("contract_sources"), _quality_params(scope))


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
        "select source_file from mart_rows_by_file"
        " where sha256 = ? and in_scope_or_shared(council_id, ?, ?) order by file_id limit 1",
        [sha256, *_user_params(scope)],
    )
    return None if row.empty else str(row.iloc[0, 0])


def loaded_files(scope: Scope, council_id: str, dataset: str) -> pd.DataFrame:
    """The files the live database loaded for one council and dataset, with the dates they cover."""
    return db.query(
        sql_file("loaded_files"),
        [council_id, dataset, *_user_params(scope)],
    )


def overlapping_files(scope: Scope, council_id: str, file_months: list[dt.date]) -> pd.DataFrame:
    """Spend files already loaded for a council with lines in ``file_months`` (an incoming file's): per
    file, those months, their lines and amount, and the lines it holds in other months."""
    return db.query(sql_file("overlapping_files"), [list(file_months), council_id, *_user_params(scope)])


def duplicate_lines(scope: Scope, limit: int | None = None) -> pd.DataFrame:
    """Likely duplicate spend lines across files: same council, transaction number, date, amount."""
    limit = limit or config.settings().quality_max_problem_rows
    return db.query(sql_file("duplicate_lines"), [*_quality_params(scope), limit])


def import_snapshot(scope: Scope) -> dict[str, pd.DataFrame]:
    """What an import compares before and after its build: rows per council, dataset and month;
    suppliers; contracts; files. Small tables (thousands of rows at most)."""
    params = _user_params(scope)
    return {
        "rows": db.query(
            "select council_id, dataset, month, count_rows from mart_coverage_by_council_month "
            "where count_rows > 0 and in_scope_or_shared(council_id, ?, ?)",
            params,
        ),
        "suppliers": db.query(
            """select s.supplier_id, s.supplier_name, list_sort(list(distinct n.council_id)) as council_ids
                from dim_suppliers s join map_supplier_names n using (supplier_id)
                where in_scope_or_shared(n.council_id, ?, ?)
                group by s.supplier_id, s.supplier_name""",
            params,
        ),
        "contracts": db.query(
            "select contract_id, council_id, contract_title, supplier_name, value_gbp, start_date, end_date "
            "from mart_contracts where in_scope_or_shared(council_id, ?, ?)",
            params,
        ),
        "files": db.query(
            "select council_id, dataset, source_file, status, message, rows_read, rows_loaded, rows_rejected, "
            "first_date, last_date from mart_rows_by_file where in_scope_or_shared(council_id, ?, ?)",
            params,
        ),
        "councils": db.query(
            "select council_id, short_name from dim_councils where in_scope_or_shared(council_id, ?, ?) order by sort_order",
            params,
        ),
    }
