"""The procurement maturity page: assessments by council and area, levels, unreadable rows."""

from __future__ import annotations

import pandas as pd

from starviz.queries import db
from starviz.queries.common import sql_file
from starviz.scope import Scope

# --- procurement maturity (issue 6) --------------------------------------------------------------


def maturity_councils(scope: Scope) -> pd.DataFrame:
    """Councils in scope with a readable maturity assessment on or before the end of the period."""
    return db.query(
        sql_file("maturity_councils"),
        [scope.council_ids, scope.filters.date_to],
    )


def maturity_assessments(scope: Scope, council_id: str | None = None, gaps_only: bool = False) -> pd.DataFrame:
    """Per council in scope (or only ``council_id``, if the user may see it) and key area: its latest
    self-assessment on or before the end of the period (current and target level, the gap, the level
    at the assessment before). ``gaps_only``: areas below their target, largest gap first."""
    ids = [c for c in scope.council_ids if council_id is None or c == council_id]
    order = "m.gap_levels desc, councils.sort_order, m.area_order" if gaps_only else "councils.sort_order, m.area_order"
    return db.query(
        f"""
        with latest as (
            select council_id, max(assessed_date) as assessed_date
            from mart_maturity_by_council_area
            where in_scope(council_id, ?) and assessed_date <= ? and problem is null
            group by council_id
        )
        select
            councils.short_name as council,
            m.council_id,
            m.area_code,
            m.area,
            m.theme,
            m.kind,
            m.area_order,
            m.assessed_date,
            m.current_level,
            m.current_level_name,
            -- nullable integers as doubles: pandas' <NA> does not survive every export
            m.target_level::double as target_level,
            m.target_level_name,
            m.gap_levels::double as gap_levels,
            m.previous_level::double as previous_level,
            m.previous_assessed_date,
            m.target_date,
            m.notes
        from mart_maturity_by_council_area as m
        join latest using (council_id, assessed_date)
        join dim_councils as councils using (council_id)
        where m.problem is null and (m.gap_levels > 0 or not ?)
        order by {order}
        """,
        [ids, scope.filters.date_to, gaps_only],
    )


def maturity_levels() -> pd.DataFrame:
    return db.query("select level, level_name, description from dim_maturity_levels order by level")


def maturity_problems(scope: Scope) -> pd.DataFrame:
    """Assessment rows that could not be read (an unknown key area, a level that names no level),
    with the file and row they came from."""
    return db.query(
        sql_file("maturity_problems"),
        [scope.council_ids],
    )
