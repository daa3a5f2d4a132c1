"""The spend cube: query latency at ~1M and ~10M spend lines, against pandas on the same lines."""

from __future__ import annotations

import json
import os
import statistics
import time
from pathlib import Path

from bench import loadtest
from bench.core import _first_query, _result, _run_child, _seconds, _target
from starviz import config

# --- spend cube: query latency at ~1M and ~10M spend lines, against pandas on the same lines -----------
# `bench --sizes 0.45,4.5` (or settings.bench_cube_scales) names the demo scales to build; each gets its
# own demo database (STARVIZ_BENCH_CUBE_DIR keeps them between runs). The queries run in a child process,
# through the same starviz.queries functions the pages call, over filters that vary run to run.
SIZES: list[float] = []


def _cube_scales() -> list[float]:
    return SIZES or list(config.settings().bench_cube_scales)


def cube_database(scale: float, work: Path) -> Path:
    keep = os.environ.get("STARVIZ_BENCH_CUBE_DIR")
    folder = (Path(keep) if keep else work) / f"cube-{scale:g}"
    db = folder / "star.duckdb"
    if not db.exists():
        folder.mkdir(parents=True, exist_ok=True)
        _run_child(f"from starviz import demo; demo.generate({str(folder / 'raw')!r}, scale={scale})")
        _run_child(f"from starviz import build; build.build(raw_dir={str(folder / 'raw')!r}, db_path={str(db)!r})")
    return db


def cube_suite(work: Path) -> list[dict]:
    results = []
    for scale in _cube_scales():
        db = cube_database(scale, work)
        _, peak_mb, out = _run_child(
            f"from bench import spend_cube; spend_cube.cube_latency_child({str(db)!r})", env={"STARVIZ_DB": str(db)}
        )
        results += json.loads(out.strip().splitlines()[-1])
        results.append(
            _result(f"cube latency run peak memory @scale {scale:g} (pandas frame included)", peak_mb, "MB", None, "lower")
        )
    return results


def _cube_scopes():
    """Scopes a director might ask for in a meeting: each financial year, a quarter, a month range,
    all years; all councils, one, two; addressable or all spend."""
    from starviz import queries
    from starviz.scope import Filters, User, financial_year

    director = User("director", "Director", "admin")
    ids = queries.councils()["council_id"].tolist()
    months = queries.months_loaded()
    years = sorted({financial_year(m) for m in months})[-3:]
    periods = [{"period": "fy", "fy": fy} for fy in years]
    periods += [
        {"period": "quarter", "fy": years[-1], "quarter": 1},
        {"period": "all"},
        {"period": "months", "month_from": months[-6], "month_to": months[-1]},
    ]
    council_sets = [tuple(ids), (ids[0],), tuple(ids[1:3])]
    scopes = []
    for i, period in enumerate(periods):
        for j, councils in enumerate(council_sets):
            filters = Filters(
                councils=councils, all_councils=len(councils) == len(ids), addressable_only=(i + j) % 2 == 0, **period
            )
            scopes.append(queries.Scope(filters, director))
    return scopes


def cube_latency_child(db: str) -> None:
    """Time every query of the spend and benchmarking pages over varied filters; print JSON results."""
    import duckdb

    from starviz import cube, queries

    scopes = _cube_scopes()
    lines = int(duckdb.connect(db, read_only=True).execute("select count(*) from fct_spend").fetchone()[0])
    label = f"{lines / 1e6:.1f}M lines"
    target = _target("cube_p95_1m_s") if lines < 3_000_000 else _target("cube_p95_10m_s")
    top = queries.top_supplier(scopes[0])
    category = queries.spend_by_category_supplier(scopes[0]).dropna(subset=["category"])["category"].iloc[0]
    views = [
        cube.View("category", "council", "spend_gbp"),
        cube.View("supplier", "council", "spend_gbp"),
        cube.View("supplier", "month", "count_suppliers"),
        cube.View("department", "quarter", "count_suppliers"),
        cube.View("category_l2", "local", "avg_line_gbp"),
        cube.View("month", cube.NONE, "count_lines"),
        cube.View("council", "contract", "count_suppliers", picks=(("category", category),)),
        cube.View("financial_year", "sme", "spend_gbp", picks=(("supplier", top),)),
        cube.View("vcse", "category", "count_lines", picks=(("local", "yes"),)),
    ]
    families: dict[str, list] = {
        "pivot": [lambda s, v=v: queries.spend_pivot(s, v) for v in views],
        "totals": [lambda s, v=v: queries.cube_totals(s, v.criteria()) for v in views[-3:]] + [queries.cube_totals],
        "treemap": [
            queries.spend_by_category_supplier,
            lambda s: queries.spend_by_category_supplier(s, (cube.Criterion("category", category),)),
        ],
        "trend": [lambda s: queries.spend_trend(s, (), "spend_gbp"), lambda s: queries.spend_trend(s, (), "count_suppliers")],
        "excluded spend": [queries.excluded_spend],
        "drill-down count": [lambda s: queries.drill_summary(s, (cube.Criterion("category", category),))],
        "drill-down page of lines": [
            lambda s: queries.drill_lines(s, (cube.Criterion("category", category),), "amount_gbp", True, 3)
        ],
        "supplier search": [lambda s: queries.supplier_search(s, "ltd"), lambda s: queries.supplier_search(s, "")],
        "supplier profile": [
            lambda s: (
                queries.cube_supplier_profile(s, top),
                queries.supplier_spend_by_council_month(s, top),
                queries.supplier_categories(s, top),
                queries.cube_supplier_contracts(s, top),
                queries.supplier_name_variants(s, top),
            )
        ],
        "benchmark by council": [queries.benchmark_by_council],
        "category mix": [queries.category_mix_by_council],
        "coverage": [queries.coverage_by_council],
    }
    for fn in (f for fs in families.values() for f in fs):  # open the file and warm its caches once
        fn(scopes[0])
    results, worst = [], 0.0
    for family, fns in families.items():
        times = []
        for _ in range(2):
            for s in scopes:
                for fn in fns:
                    started = time.perf_counter()
                    fn(s)
                    times.append(time.perf_counter() - started)
        p95 = loadtest.percentile(times, 0.95)
        if family not in ("drill-down count", "drill-down page of lines", "supplier profile"):
            worst = max(worst, p95)
        results.append(_result(f"cube p50 {family} @{label}", statistics.median(times), "s", None, "lower"))
        results.append(_result(f"cube p95 {family} @{label} ({len(times)} runs)", p95, "s", target, "lower"))
    results.append(_result(f"cube p95, slowest cube query family @{label}", worst, "s", target, "lower"))
    results += _cube_vs_pandas(db, scopes, label)
    print(json.dumps(results))


def _cube_vs_pandas(db: str, scopes: list, label: str) -> list[dict]:
    """The same pivots as an analyst would compute them with pandas on the lines (loaded once,
    outside the timing), against our query of the cube, timed in the same process."""
    import duckdb
    import pandas as pd

    from starviz import cube, queries

    with duckdb.connect(db, read_only=True) as con:
        lines = con.execute(
            "select council_id, month, category, supplier_id, amount_gbp::double as amount_gbp, is_addressable from fct_spend"
        ).df()
    for column in ("council_id", "category"):
        lines[column] = lines[column].astype("category")
    scope = next(s for s in scopes if s.filters.period == "fy" and len(s.council_ids) > 2)

    def pandas_pivot(values: str, aggfunc) -> pd.DataFrame:
        f = scope.filters
        mask = (
            lines["council_id"].isin(scope.council_ids)
            & (lines["month"] >= pd.Timestamp(f.date_from))
            & (lines["month"] <= pd.Timestamp(f.date_to))
        )
        if f.addressable_only:
            mask &= lines["is_addressable"]
        return lines[mask].pivot_table(
            index="category", columns="council_id", values=values, aggfunc=aggfunc, margins=True, observed=True
        )

    cases = [
        ("spend by category and council", cube.View("category", "council", "spend_gbp"), "amount_gbp", "sum"),
        ("suppliers by category and council", cube.View("category", "council", "count_suppliers"), "supplier_id", "nunique"),
    ]
    out = []
    for name, view, values, aggfunc in cases:
        sql, params = _first_query(lambda view=view: queries.spend_pivot(scope, view))
        ours, alone, theirs = [], [], []
        for _ in range(7):
            # each of our two timings follows a pandas run, as when only the pivot was timed
            for times, ask in (
                (ours, lambda view=view: queries.spend_pivot(scope, view)),
                (alone, lambda sql=sql, params=params: queries.db.rows(sql, params)),
            ):
                times.append(_seconds(ask))
                theirs.append(_seconds(lambda values=values, aggfunc=aggfunc: pandas_pivot(values, aggfunc)))
        a, b, c = statistics.median(ours), statistics.median(theirs), statistics.median(alone)
        out += [
            _result(f"pivot {name} @{label}: cube query, median", a, "s", None, "lower"),
            _result(f"pivot {name} @{label}: pandas on the lines, median", b, "s", None, "lower"),
            _result(f"pivot {name} @{label}: pandas time / cube time", b / a, "ratio", _target("cube_vs_pandas_ratio"), "higher"),
            # for reading the figure above: the aggregation alone, without building the table shown
            _result(f"pivot {name} @{label}: the cube's aggregation query alone, median", c, "s", None, "lower"),
            _result(f"pivot {name} @{label}: pandas time / aggregation query time", b / c, "ratio", None, "higher"),
        ]
    load = os.getloadavg()[0]
    out.append(_result("machine load average (1 min) at the end of the cube runs", load, "load", None, "lower"))
    return out
