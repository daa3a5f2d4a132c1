"""What the page-area modules share: named parameters, "today", a ranked list's narrowing, the
wide per-council tables, and which councils of the scope a STAR contract covers.

Dates relative to "today" (due dates, start-by dates, RAG, live contracts) take an explicit
``today`` so that tests can pin it; pages leave it out and get the date they run on.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass

import pandas as pd

from starviz import config
from starviz.queries import db
from starviz.scope import Scope


@functools.cache
def sql_file(name: str) -> str:
    """The SQL of a fixed question, kept in sql/queries/<page area>/<name>.sql (named after the
    function that asks it), where the SQL conventions test reads it."""
    found = sorted((config.SQL_DIR / "queries").glob(f"*/{name}.sql"))
    if len(found) != 1:
        raise FileNotFoundError(f"sql/queries/*/{name}.sql: {len(found)} files")
    return found[0].read_text()


_NAMED = re.compile(r"\$([a-z_][a-z0-9_]*)")


def _named(sql: str, params: dict) -> pd.DataFrame:
    """Run SQL with named parameters ($name), passing only the names it uses (DuckDB rejects extras)."""
    used = set(_NAMED.findall(sql))
    return db.query(sql, {k: v for k, v in params.items() if k in used})


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
    return {
        "ids": scope.council_ids,
        "date_from": f.date_from,
        "date_to": f.date_to,
        "addressable": f.addressable_only,
        **(narrow or ListFilter()).params(),
        **extra,
    }


def _councils_in(scope: Scope) -> pd.DataFrame:
    """Councils of the scope, in display order: the columns of the wide tables."""
    return db.query(
        "select council_id, short_name from dim_councils where in_scope(council_id, ?) order by sort_order",
        [scope.council_ids],
    )


def _contract_text(end: object, only_star: object) -> str:
    if end is None or pd.isna(end):
        return "none"
    star = not pd.isna(only_star) and bool(only_star)
    return f"{'STAR, ' if star else ''}to {pd.Timestamp(end):%b %Y}"


def _wide(
    long: pd.DataFrame, columns: list[str], councils: pd.DataFrame, values: dict[str, str], fill: dict[str, object] | None = None
) -> pd.DataFrame:
    """One row per value of ``columns[0]`` (the key) with ``columns``, then for each council of the
    scope the columns ``<council_id>_<suffix>`` from the long frame (``values``: column -> suffix),
    missing ones filled from ``fill`` (suffix -> value). Row order kept."""
    key = columns[0]
    base = long[columns].drop_duplicates(subset=key).set_index(key)
    wide = long[long["council_id"].notna()].pivot(index=key, columns="council_id", values=list(values))
    out = base.copy()
    for council_id in councils["council_id"]:
        for column, suffix in values.items():
            series = (
                wide[(column, council_id)].reindex(base.index)
                if (column, council_id) in wide.columns
                else pd.Series(None, index=base.index, dtype=object)
            )
            value = (fill or {}).get(suffix)
            if isinstance(value, str):
                series = series.fillna(value)
            elif value is not None:  # numbers: pivoting mixed columns leaves them as objects
                series = pd.to_numeric(series).fillna(value).astype(type(value))
            out[f"{council_id}_{suffix}"] = series
    return out.reset_index()


# Which councils of the scope a STAR contract covers; a user never learns of councils outside theirs.
_COVERS = """
    case when {t}is_collaborative then (
        select string_agg(councils.short_name, ', ' order by councils.sort_order) from dim_councils as councils
        where list_contains({t}covered_council_ids, councils.council_id)
          and in_scope(councils.council_id, $ids)) end
"""
