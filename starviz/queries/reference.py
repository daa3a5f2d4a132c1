"""Reference questions every page asks: councils, their names and colours, months loaded, build info."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace

import duckdb
import pandas as pd

from starviz import config, fmt, nodata
from starviz.queries import db
from starviz.queries.common import sql_file
from starviz.queries.db import DatabaseUnavailable
from starviz.scope import Scope, month_end

# --- reference -----------------------------------------------------------------------------------


def councils() -> pd.DataFrame:
    """Partner councils (not STAR itself), in configuration order."""
    return db.query(
        "select council_id, name, short_name, colour, population, gss_code, joined_date "
        "from dim_councils where is_council order by sort_order"
    )


def council_names() -> dict[str, str]:
    """Partner councils' short names by id, in configuration order."""
    table = councils()
    return dict(zip(table["council_id"], table["short_name"], strict=True))


def colours() -> dict[str, str]:
    return dict(db.query("select short_name, colour from dim_councils").itertuples(index=False))


def months_loaded() -> list[dt.date]:
    """Months with spend, within the plausible window only: a stray date in the data (31/12/9999
    from a database built before the plausibility rules) never becomes a page's default period."""
    first, last = config.settings().plausibility.window()
    frame = db.query(
        "select distinct month from mart_spend_by_council_month where month between ? and ? order by month", [first, last]
    )
    return [m.date() if hasattr(m, "date") else m for m in frame["month"]]


def build_info() -> dict:
    try:
        row = db.query("select * from build_info").iloc[0].to_dict()
    except duckdb.CatalogException as exc:
        raise DatabaseUnavailable(f"{config.settings().db_path.name} is not a complete starviz database") from exc
    row["demo"] = json.loads(row["demo_info"]) if row.get("demo_info") else None
    return row


def data_status(scope: Scope) -> pd.DataFrame:
    """Per council in scope: months of spend loaded, first and last month, complete through, and a
    note (the partial latest month, or "No data loaded yet")."""
    return db.query(
        sql_file("data_status"),
        [scope.council_ids],
    )


def as_at_date() -> dt.date | None:
    last = db.scalar(
        "select max(month) from mart_spend_by_council_month where month <= ?", [config.settings().plausibility.window()[1]]
    )
    return None if last is None else month_end(last)


def category_names() -> list[str]:
    """ProClass headings that can filter a list (not "Not classified")."""
    return db.query("select category from dim_categories where not is_unclassified order by category")["category"].tolist()


def measure_coverage(scope: Scope) -> pd.DataFrame:
    """Each council in scope and measure that needs a dataset or attribute (on contract, local, SME,
    VCSE, social value, KPIs, maturity; spend and contracts for counts and totals): whether the council
    has any data for it and what it needs."""
    return db.query(
        """
        select m.council_id, c.short_name as council, m.measure, m.has_data, m.count_rows, m.known_share, m.needs
        from mart_measure_coverage_by_council as m
        join dim_councils as c using (council_id)
        where in_scope(m.council_id, ?)
        order by c.sort_order, m.measure
        """,
        [scope.council_ids],
    )


def spend_covered_in_period(scope: Scope) -> nodata.Covered:
    """The councils in scope with spend loaded in the period (a month of it, by the coverage mart) and
    those without: a total or column of spend for the period covers only the first; the others are
    "no data", not £0, whether they have sent nothing or nothing for these months."""
    frame = db.query(
        """
        select c.council_id, c.short_name as council, 'spend' as measure, 'spend data' as needs,
               coalesce(bool_or(m.count_rows > 0), false) as has_data
        from mart_measure_coverage_by_council as cov
        join dim_councils as c using (council_id)
        left join mart_coverage_by_council_month as m
            on m.council_id = cov.council_id and m.dataset = 'spend' and m.month between ? and ?
        where cov.measure = 'spend' and in_scope(cov.council_id, ?)
        group by all
        order by any_value(c.sort_order)
        """,
        [scope.filters.date_from, scope.filters.date_to, scope.council_ids],
    )
    return replace(nodata.covered(frame, "spend"), missing_text="no spend loaded for the period")


def spend_publication(scope: Scope) -> pd.DataFrame:
    """Which spend lines each council in scope publishes (``dim_spend_publication``): ``publishes``
    "lines of £500 and over" or "every line"; a council with no spend loaded and no setting is left out."""
    frame = db.query(
        """
        select c.short_name as council, p.publishes_from_gbp, p.smallest_line_gbp,
               p.configured_from_gbp is not null as is_configured
        from dim_spend_publication as p
        join dim_councils as c using (council_id)
        where in_scope(p.council_id, ?) and p.publishes_from_gbp is not null
        order by c.sort_order
        """,
        [scope.council_ids],
    )
    frame["publishes"] = [
        f"lines of {fmt.gbp(float(p))} and over" if p > 0 else "every line" for p in frame["publishes_from_gbp"]
    ]
    return frame
