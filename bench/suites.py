"""python -m starviz bench: performance measured against baselines run in the same process.

Each result is {"name", "value", "unit", "target", "better"}; the whole run is printed and written
to bench/results.json. Heavy steps run in subprocesses so their peak memory can be read.
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
import zipfile
from pathlib import Path

from bench import core, loadtest
from bench.core import (
    _first_query,
    _result,
    _run_child,
    _seconds,
    _target,
    machine,
    write_performance_md,
)
from starviz import config


def _ingest_vs_read_csv() -> list[dict]:
    """Our ingest of the two real Trafford zips against DuckDB's plain read_csv of the same CSVs."""
    import duckdb

    from starviz import ingest

    sample = config.settings().bench_ingest_sample
    zips = sorted(config.ROOT.glob(sample["files"]))
    if not zips:
        return []
    council = config.load_councils()[sample["council"]]
    with tempfile.TemporaryDirectory() as tmp:
        csvs = []
        for z in zips:
            with zipfile.ZipFile(z) as archive:
                csvs += [Path(archive.extract(n, tmp)) for n in archive.namelist() if n.endswith(".csv")]
        ours, base = [], []
        rows = 0
        for _ in range(5):
            con = duckdb.connect()
            started = time.perf_counter()
            con.execute("create table t as select * from read_csv(?)", [[str(p) for p in csvs]])
            base.append(time.perf_counter() - started)
            con.close()
            con = duckdb.connect()
            ingest.create_tables(con)
            jobs = [ingest.Job(z, council, "spend", n, z.name) for n, z in enumerate(zips, start=1)]
            started = time.perf_counter()  # as a build reads them: build_ingest_workers files at once
            loaded = ingest.load_files(con, jobs, config.settings().build_ingest_workers)
            ours.append(time.perf_counter() - started)
            rows = sum(r.rows_loaded for results in loaded for r in results)
            con.close()
    ours_s, base_s = min(ours), min(base)
    return [
        _result(f"ingest {sample['label']} ({rows:,} rows, from zip)", ours_s, "s", None, "lower"),
        _result("DuckDB plain read_csv of the same files", base_s, "s", None, "lower"),
        _result("ingest time / read_csv time", ours_s / base_s, "ratio", _target("ingest_vs_read_csv_ratio"), "lower"),
        _result("ingest rows per second", rows / ours_s, "rows/s", None, "higher"),
    ]


def _demo_build(scale: float, work: Path) -> list[dict]:
    raw, db = work / "raw", work / "star.duckdb"
    gen_s, _, _ = _run_child(f"from starviz import demo; demo.generate({str(raw)!r}, scale={scale})")
    build_s, peak_mb, out = _run_child(
        f"from starviz import build; s = build.build(raw_dir={str(raw)!r}, db_path={str(db)!r}); "
        "print(sum(f.rows_loaded for f in s.files if f.dataset == 'spend'))"
    )
    lines = int(out.strip().splitlines()[-1])
    return [
        _result(f"demo generate @scale {scale:g}", gen_s, "s", None, "lower"),
        _result(
            f"demo build @scale {scale:g} ({lines:,} spend lines)",
            build_s,
            "s",
            _target("demo_build_s") if scale == 1 else None,
            "lower",
        ),
        _result(
            f"demo build peak memory @scale {scale:g}",
            peak_mb,
            "MB",
            _target("demo_build_memory_mb") if scale == 1 else None,
            "lower",
        ),
    ]


def _quiet_demo_build(scale: float, work: Path) -> list[dict]:
    """The demo database the other suites need, when the build itself is not being measured."""
    _demo_build(scale, work)
    return []


def _overview_apptest(db: Path, work: Path) -> list[dict]:
    code = f"""
import os, statistics, time
os.environ["STARVIZ_DB"] = {str(db)!r}
os.environ["STARVIZ_AUTH_DIR"] = {str(work / "auth")!r}
from streamlit.testing.v1 import AppTest
times = []
for i in range(6):
    at = AppTest.from_file({str(config.ROOT / "app.py")!r}, default_timeout=120)
    at.session_state["authentication_status"] = True
    at.session_state["username"] = "director"
    started = time.perf_counter()
    at.run()
    times.append(time.perf_counter() - started)
    assert not at.exception, at.exception
print(statistics.median(times[1:]))
"""
    _, _, out = _run_child(code)
    return [
        _result(
            "overview page AppTest run, median warm", float(out.strip().splitlines()[-1]), "s", _target("page_run_s"), "lower"
        )
    ]


def _chromium_filter_change(db: Path, work: Path) -> list[dict]:
    """From a filter change to the redrawn overview in Chromium (the script finished and painted)."""
    if not Path(loadtest.CHROMIUM).exists():
        return []
    from playwright.sync_api import sync_playwright

    with loadtest.app_servers(db, work / "auth") as (urls, _procs), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=loadtest.CHROMIUM, args=loadtest.CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        page.goto(urls[0], timeout=60000)
        loadtest.sign_in(page, timeout_ms=60000)
        idle = loadtest.IDLE
        times = []
        for n in range(6):
            toggle = page.get_by_text("Addressable spend only")
            started = time.perf_counter()
            toggle.click()
            page.wait_for_function(
                f"window.location.search.includes('addressable=0') === {str(n % 2 == 0).lower()}", timeout=30000
            )
            page.wait_for_function(idle, timeout=30000)
            page.locator(".js-plotly-plot").first.wait_for(timeout=30000)
            times.append(time.perf_counter() - started)
        browser.close()
    return [
        _result(
            "Chromium: filter change to redrawn overview, median", statistics.median(times), "s", _target("page_run_s"), "lower"
        )
    ]


def _app_suites(work: Path) -> list[dict]:
    db = work / "star.duckdb"
    return _overview_apptest(db, work) + _chromium_filter_change(db, work)


def _scopes(queries, user, council_ids: list[str], years: list[str]) -> list:
    """Varied filters, as a director would click through them."""
    from starviz.scope import Filters

    out = []
    for fy in years:
        for addressable in (True, False):
            out.append(
                queries.Scope(Filters(councils=tuple(council_ids), all_councils=True, fy=fy, addressable_only=addressable), user)
            )
        for q in (1, 3):
            out.append(queries.Scope(Filters(councils=tuple(council_ids[:2]), period="quarter", fy=fy, quarter=q), user))
    return out


def page_query_latency(
    db: Path, repeats: int = 3, label: str = "", target_ms: float | None = None, p50: bool = False
) -> list[dict]:
    """p50/p95 of every scoped function in starviz.queries (the questions the pages ask) over
    varied filters, in this process, as the app runs them."""
    import inspect

    os.environ["STARVIZ_DB"] = str(db)
    config.settings.cache_clear()
    from starviz import queries
    from starviz.scope import User, financial_year

    user = User("director", "Director", "admin")
    ids = queries.councils()["council_id"].tolist()
    years = sorted({financial_year(m) for m in queries.months_loaded()})[-3:]
    scopes = _scopes(queries, user, ids, years)
    results = []
    for name, fn in inspect.getmembers(queries, inspect.isfunction):
        params = inspect.signature(fn).parameters
        if not fn.__module__.startswith(f"{queries.__name__}.") or name.startswith("_") or "scope" not in params:
            continue
        if any(p.default is p.empty for n, p in params.items() if n != "scope"):
            continue
        fn(scopes[0])  # warm
        times = []
        for _ in range(repeats):
            for scope in scopes:
                started = time.perf_counter()
                fn(scope)
                times.append(time.perf_counter() - started)
        p95 = loadtest.percentile(times, 0.95) * 1000
        if p50:
            results.append(_result(f"query {name} p50 ms{label}", statistics.median(times) * 1000, "ms", None, "lower"))
        results.append(_result(f"query {name} p95 ms{label}", p95, "ms", target_ms or _target("query_p95_ms"), "lower"))
    return results


def _page_queries(work: Path) -> list[dict]:
    return page_query_latency(work / "star.duckdb", label=" @demo")


def _concurrency(work: Path) -> list[dict]:
    """Crowds of simulated people on Streamlit's protocol: see :mod:`bench.concurrency`."""
    from bench import concurrency

    return concurrency.concurrency(work)


def _page_query_latency(work: Path) -> list[dict]:
    """Social value, KPI and maturity pages: the queries one render of each page runs, timed end to end
    (p50/p95 over renders with varied periods, councils and users), plus the slowest single query."""
    import datetime as dt

    from starviz import queries
    from starviz.scope import Filters, User, financial_year

    saved = os.environ.get("STARVIZ_DB")
    os.environ["STARVIZ_DB"] = str(work / "star.duckdb")
    config.settings.cache_clear()
    try:
        ids = queries.councils()["council_id"].tolist()
        years = sorted({financial_year(m) for m in queries.months_loaded()})
        director = User("director", "Director", "admin")
        officer = User("officer", "Officer", "analyst", (ids[-1],))
        periods = [{"period": "fy", "fy": fy} for fy in years] + [
            {"period": "quarter", "fy": years[-1], "quarter": 2},
            {"period": "all"},
        ]
        selections = [
            (director, tuple(ids), True),
            (director, (ids[0],), False),
            (director, tuple(ids[:2]), False),
            (officer, (ids[-1],), True),
        ]
        scopes = [queries.Scope(Filters(councils=c, all_councils=a, **p), u) for p in periods for u, c, a in selections]
        by = queries.SV_BREAKDOWNS

        def social_value(scope, k):
            queries.social_value_summary(scope)
            queries.social_value_breakdown(scope, by[k % len(by)])
            queries.social_value_by_quarter(scope)
            queries.social_value_contracts(scope, at_risk_only=k % 2 == 0)

        def kpis(scope, k):
            as_at = queries.kpi_as_at(scope) or dt.date.today()
            card = queries.kpi_scorecard(scope, as_at)
            group_by = list(queries.KPI_GROUPINGS)[k % 2]
            queries.kpi_groups(group_by)
            groups = card[group_by].unique().tolist() or ["none"]
            queries.kpi_trends(scope, as_at, group_by, groups[k % len(groups)])

        def maturity(scope, k):
            councils = queries.maturity_councils(scope)["council_id"].tolist()
            queries.maturity_levels()
            one = councils[k % len(councils)] if councils else None
            queries.maturity_assessments(scope, one)
            queries.maturity_assessments(scope, one, gaps_only=True)
            queries.maturity_assessments(scope)
            queries.maturity_problems(scope)

        results: list[dict] = []
        for name, render in (("social value", social_value), ("KPIs", kpis), ("maturity", maturity)):
            render(scopes[0], 0)  # warm the connection and DuckDB's caches once, as a running app has
            times = []
            for k in range(3 * len(scopes)):
                started = time.perf_counter()
                render(scopes[k % len(scopes)], k)
                times.append(time.perf_counter() - started)
            p50, p95 = statistics.median(times), loadtest.percentile(times, 0.95)
            results += [
                _result(f"{name} page queries per render, p50 ({len(times)} renders)", p50, "s", None, "lower"),
                _result(f"{name} page queries per render, p95", p95, "s", _target("query_p95_ms") / 1000, "lower"),
            ]
        return results
    finally:
        if saved is None:
            os.environ.pop("STARVIZ_DB", None)
        else:
            os.environ["STARVIZ_DB"] = saved
        config.settings.cache_clear()


# Each suite takes the work folder (holding raw/ and star.duckdb from the demo build) and returns
# results. A page issue adds its own suite here, e.g. query latency at larger scales.
SUITES: list = [_page_queries, _app_suites, _page_query_latency, _concurrency]
# --- collaboration and pipeline pages: latency of each query with varied filters ------------------

_COLLABORATION_PIPELINE_QUERIES = """
import datetime as dt, json, os, statistics, time
os.environ["STARVIZ_DB"] = {db!r}
from bench import core, loadtest
from starviz import queries
from starviz.scope import Filters, User, financial_year

admin, officer = User("bench", "Bench", "admin"), User("bench.officer", "Officer", "analyst", ({first!r},))
ids = queries.councils()["council_id"].tolist()
months = queries.months_loaded()
fy = financial_year(months[-1])
scopes = [
    queries.Scope(Filters(councils=tuple(ids), all_councils=True, period="fy", fy=fy), admin),
    queries.Scope(Filters(councils=tuple(ids[:2]), period="fy", fy=fy, addressable_only=False), admin),
    queries.Scope(Filters(councils=tuple(ids), all_councils=True, period="quarter", fy=fy, quarter=1), admin),
    queries.Scope(Filters(councils=tuple(ids), all_councils=True, period="all"), admin),
    queries.Scope(Filters(councils=tuple(ids), all_councils=True, period="fy", fy=fy), officer),
]
narrows = [queries.ListFilter(), queries.ListFilter(search="ltd", min_gbp=10_000),
           queries.ListFilter(categories=tuple(queries.category_names()[:5]))]
report_months = months[-3:]
supplier = queries.common_suppliers(scopes[0])["supplier_id"].iloc[0]
contract = queries.pipeline_contracts(scopes[0])["contract_id"].iloc[0]
category = queries.common_categories(scopes[0])["category"].iloc[0]
pages = {{
    "collaboration": {{
        "common_suppliers": lambda s, n, m: queries.common_suppliers(s, n),
        "common_categories": lambda s, n, m: queries.common_categories(s, n),
        "expiry_alignment": lambda s, n, m: queries.expiry_alignment(s, n),
        "partner_contract_leakage by supplier": lambda s, n, m: queries.partner_contract_leakage(s, n),
        "partner_contract_leakage by category": lambda s, n, m: queries.partner_contract_leakage(s, n, "category"),
        "supplier_profile": lambda s, n, m: queries.supplier_profile(s, supplier),
        "supplier_spend_by_council": lambda s, n, m: queries.supplier_spend_by_council(s, supplier),
        "supplier_spend_by_month": lambda s, n, m: queries.supplier_spend_by_month(s, supplier),
        "supplier_contracts": lambda s, n, m: queries.supplier_contracts(s, supplier),
        "supplier_payments": lambda s, n, m: queries.supplier_payments(s, supplier),
        "category_suppliers": lambda s, n, m: queries.category_suppliers(s, category),
    }},
    "pipeline": {{
        "pipeline_summary": lambda s, n, m: queries.pipeline_summary(s),
        "pipeline_contracts": lambda s, n, m: queries.pipeline_contracts(s, n),
        "workload_by_manager_quarter": lambda s, n, m: queries.workload_by_manager_quarter(s),
        "procurement_act_pipeline": lambda s, n, m: queries.procurement_act_pipeline(s, fy),
        "expired_contract_spend": lambda s, n, m: queries.expired_contract_spend(s, m, n),
        "off_contract_suppliers": lambda s, n, m: queries.off_contract_suppliers(s, m, n),
        "split_orders": lambda s, n, m: queries.split_orders(s, m, n),
        "split_order_lines": lambda s, n, m: queries.split_order_lines(s, m),
        "contracts_without_spend": lambda s, n, m: queries.contracts_without_spend(s, m, n),
        "contracts_missing_fields": lambda s, n, m: queries.contracts_missing_fields(s, m, n),
        "contract_profile": lambda s, n, m: queries.contract_profile(s, contract),
        "contract_spend_by_month": lambda s, n, m: queries.contract_spend_by_month(s, contract),
        "aligned_contracts": lambda s, n, m: queries.aligned_contracts(s, contract),
    }},
}}
out = []
for page, questions in pages.items():
    for name, run in questions.items():
        run(scopes[0], narrows[0], report_months[-1])  # warm the connection and the OS cache
        times = []
        for i in range({repeats}):
            args = (scopes[i % len(scopes)], narrows[i % len(narrows)], report_months[i % len(report_months)])
            started = time.perf_counter()
            run(*args)
            times.append(time.perf_counter() - started)
        out.append([page, name, statistics.median(times), loadtest.percentile(times, 0.95)])
print(json.dumps(out))
"""


def _collaboration_pipeline_latency(work: Path, repeats: int = 40) -> list[dict]:
    """p50 and p95 of every query the collaboration and pipeline pages run, over varied scopes
    (all councils, two, a quarter, all years, a one-council user), list filters and report months."""
    from starviz import config as _config

    first = next(iter(c for c, v in _config.load_councils().items() if v.kind == "council"))
    _, _, stdout = _run_child(_COLLABORATION_PIPELINE_QUERIES.format(db=str(work / "star.duckdb"), first=first, repeats=repeats))
    rows = json.loads(stdout.strip().splitlines()[-1])
    scale = os.environ.get("STARVIZ_BENCH_SCALE", "1")
    results = []
    for page, name, p50, p95 in rows:
        results.append(_result(f"{page}: {name} p50 @scale {scale}", p50 * 1000, "ms", None, "lower"))
        results.append(_result(f"{page}: {name} p95 @scale {scale}", p95 * 1000, "ms", _target("query_p95_ms"), "lower"))
    return results


SUITES.insert(-1, _collaboration_pipeline_latency)  # before the slow concurrency suite


# --- spend cube: query latency at ~1M and ~10M spend lines, against pandas on the same lines -----------
# `bench --sizes 0.45,4.5` (or settings.bench_cube_scales) names the demo scales to build; each gets its
# own demo database (STARVIZ_BENCH_CUBE_DIR keeps them between runs). The queries run in a child process,
# through the same starviz.queries functions the pages call, over filters that vary run to run.
SIZES: list[float] = []


def _cube_scales() -> list[float]:
    return SIZES or list(config.settings().bench_cube_scales)


def _cube_database(scale: float, work: Path) -> Path:
    keep = os.environ.get("STARVIZ_BENCH_CUBE_DIR")
    folder = (Path(keep) if keep else work) / f"cube-{scale:g}"
    db = folder / "star.duckdb"
    if not db.exists():
        folder.mkdir(parents=True, exist_ok=True)
        _run_child(f"from starviz import demo; demo.generate({str(folder / 'raw')!r}, scale={scale})")
        _run_child(f"from starviz import build; build.build(raw_dir={str(folder / 'raw')!r}, db_path={str(db)!r})")
    return db


def _cube_suite(work: Path) -> list[dict]:
    results = []
    for scale in _cube_scales():
        db = _cube_database(scale, work)
        _, peak_mb, out = _run_child(
            f"from bench import suites; suites.cube_latency_child({str(db)!r})", env={"STARVIZ_DB": str(db)}
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


# Each suite takes the work folder (holding raw/ and star.duckdb from the demo build) and returns
# results. A page issue adds its own suite here, e.g. query latency at larger scales.


SUITES.insert(-1, _cube_suite)


def _export_suite(work: Path) -> list[dict]:
    """One branded chart export warm (p95 of 10) and the whole Board pack (PDF), on the demo database."""
    from starviz import export

    if export.chromium_path() is None:
        return []
    os.environ["STARVIZ_DB"] = str(work / "star.duckdb")
    config.settings.cache_clear()
    from starviz import board, queries
    from starviz.scope import Filters, User

    ids = tuple(queries.councils()["council_id"])
    scope = queries.Scope(Filters(councils=ids, all_councils=True, period="all"), User("director", "Director", "admin"))
    preset = config.settings().export_presets["x"]
    art = export.branded(
        board.slide(scope, 0).figure,
        title="Bench",
        subtitle=scope.filters.label,
        source=export.source_line(queries.as_at_date()),
        width=preset.width,
        height=preset.height,
    )
    export.image(art, "png", preset.width, preset.height)  # starts the one Kaleido server
    times = []
    for _ in range(10):
        started = time.perf_counter()
        export.image(art, "png", preset.width, preset.height)
        times.append(time.perf_counter() - started)
    started = time.perf_counter()
    board.pack_pdf(scope)
    pack = time.perf_counter() - started
    return [
        _result("chart export PNG 1600x900, warm p95", sorted(times)[-1], "s", _target("chart_export_s"), "lower"),
        _result(f"Board pack PDF ({len(board.sequence())} slides)", pack, "s", _target("board_pack_s"), "lower"),
    ]


SUITES.insert(-1, _export_suite)


def _matching_suite(work: Path) -> list[dict]:
    """Supplier matching on the labelled real pairs: merge precision, recall (merged or proposed)."""
    from bench import matching

    f = matching.figures(matching.outcomes())
    label = f"({f['pairs']} labelled pairs, {f['same']} same)"
    return [
        _result(
            f"supplier matching: merge precision {label}",
            f["merge_precision"],
            "share",
            _target("matching_merge_precision"),
            "higher",
        ),
        _result(
            f"supplier matching: recall, merged or proposed {label}", f["recall"], "share", _target("matching_recall"), "higher"
        ),
        _result(f"supplier matching: merged without review {label}", f["merge_recall"], "share", None, "higher"),
    ]


SUITES.insert(-1, _matching_suite)


def _categorisation_suite(work: Path) -> list[dict]:
    """Share of the real 2014 samples' addressable spend given a ProClass heading, by tier. All the
    real samples are built (a supplier's heading comes from any council's categorised lines)."""
    import duckdb

    from starviz import build

    samples = config.ROOT.parent / "shared" / "samples"
    files = {
        "trafford": [
            "trafford-current/trafford-supplier-spend-2024-25.zip",
            "trafford-current/trafford-supplier-spend-2025-26.zip",
            "trafford-2014/Trafford September 2014.csv",
        ],
        "stockport": ["stockport-2014/Stockport September 2014.xls"],
    }
    raw = work / "samples-raw"
    for council, names in files.items():
        folder = raw / council / "spend"
        folder.mkdir(parents=True, exist_ok=True)
        for name in names:
            if not (samples / name).exists():
                return []
            (folder / Path(name).name).symlink_to(samples / name)
    db = work / "samples.duckdb"
    build.build(raw_dir=raw, db_path=db)
    con = duckdb.connect(str(db), read_only=True)
    tiers = dict(
        con.execute(
            "select category_source, sum(abs(amount_gbp)) / sum(sum(abs(amount_gbp))) over () from fct_spend "
            "where financial_year = '2014-15' and is_addressable group by all"
        ).fetchall()
    )
    con.close()
    out = [
        _result(
            "categorised share of addressable spend, real 2014 samples",
            1 - tiers.get("none", 0.0),
            "share",
            _target("categorised_share"),
            "higher",
        )
    ]
    out += [_result(f"categorised by tier: {tier}", share, "share", None, "higher") for tier, share in sorted(tiers.items())]
    return out


SUITES.insert(-1, _categorisation_suite)

NO_DEMO_NEEDED = {"ingest", "scale_suite", "cube_suite", "matching_suite", "categorisation_suite", "notices_suite"}
# A first chart export as a user meets it: the app warms the exporter in the background when it
# starts, and the first click comes after signing in and opening a page (here: when the warm-up is
# done, at most 8 s after the start; the warm-up's own time is reported beside it).
_FIRST_EXPORT_CHILD = """
import os, sys, time
from starviz import board, config, export, queries
from starviz.scope import Filters, User
warm = sys.argv[1] == "warm"
if warm:
    started = time.perf_counter()
    export.warm().join(timeout=8.0)  # the first click comes after signing in and opening a page
    print(f"__warmup__={time.perf_counter() - started}", file=sys.stderr)
ids = tuple(queries.councils()["council_id"])
scope = queries.Scope(Filters(councils=ids, all_councils=True, period="all"), User("director", "Director", "admin"))
fig = board.slide(scope, 1).figure
preset = config.settings().export_presets["x"]
started = time.perf_counter()
art = export.branded(fig, title="Spend by council by month", subtitle=scope.filters.label,
                     source=export.source_line(queries.as_at_date()), width=preset.width, height=preset.height)
export.image(art, "png", preset.width, preset.height)
print(time.perf_counter() - started)
"""


def _board_outputs(work: Path) -> list[dict]:
    """The first chart export of a fresh process (with the background warm-up the app does at start,
    and without it), and the Board pack as cron makes it: `python -m starviz board-pack` end to end."""
    import subprocess
    import sys

    from starviz import export

    if export.chromium_path() is None:
        return []
    env = {**os.environ, "STARVIZ_DB": str(work / "star.duckdb")}
    firsts = {}
    for mode in ("warm", "cold"):
        done = subprocess.run(
            [sys.executable, "-c", _FIRST_EXPORT_CHILD, mode],
            capture_output=True,
            text=True,
            cwd=config.ROOT,
            env=env,
            check=True,
        )
        firsts[mode] = float(done.stdout.strip().splitlines()[-1])
        if mode == "warm":
            firsts["warm-up"] = float(done.stderr.rsplit("__warmup__=", 1)[1].split()[0])
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "starviz", "board-pack", "--out", str(work / "board-pack.pdf")],
        capture_output=True,
        cwd=config.ROOT,
        env=env,
        check=True,
    )
    pack = time.perf_counter() - started
    return [
        _result(
            "first chart export after app start (warmed in background)",
            firsts["warm"],
            "s",
            _target("first_chart_export_s"),
            "lower",
        ),
        _result("first chart export, no warm-up (for comparison)", firsts["cold"], "s", None, "lower"),
        _result("exporter warm-up in the background at start (waited at most 8 s)", firsts["warm-up"], "s", None, "lower"),
        _result("python -m starviz board-pack (cron, end to end)", pack, "s", _target("board_pack_s"), "lower"),
    ]


SUITES.insert(-1, _board_outputs)


def _notices_suite(work: Path, releases: int = 100_000) -> list[dict]:
    """Find a Tender notices: 100,000 OCDS releases read, compiled per OCID and loaded (best of two)."""
    from bench import notices

    paths = notices.write_releases(work / "notices", releases)
    runs = [notices.load_seconds(paths) for _ in range(2)]
    seconds, loaded, contracts = min(runs)
    label = f"notices: load {releases:,} releases ({loaded:,} of configured councils, {contracts:,} contracts)"
    return [_result(label, seconds, "s", _target("notices_load_100k_s"), "lower")]


SUITES.insert(-1, _notices_suite)


def suite_names() -> list[str]:
    return ["ingest", "demo_build", *(suite.__name__.lstrip("_") for suite in SUITES)]


def main(as_json: bool = False, sizes: str = "", only: str = "") -> int:
    """Run the suites (all, or the comma-separated names in ``only``) and record the results. A
    partial run replaces its own figures in bench/results.json and keeps the others, each dated."""
    scale = float(os.environ.get("STARVIZ_BENCH_SCALE", "1"))
    SIZES[:] = [float(x) for x in sizes.split(",") if x.strip()]
    chosen = {x.strip() for x in only.split(",") if x.strip()} or set(suite_names())
    unknown = chosen - set(suite_names())
    if unknown:
        raise SystemExit(f"unknown suite(s) {sorted(unknown)}; choose from {', '.join(suite_names())}")
    run_at = time.strftime("%Y-%m-%dT%H:%M:%S")
    results: list[dict] = []
    from starviz import queries

    queries.cache_answers(False)
    try:
        if "ingest" in chosen:
            results += _ingest_vs_read_csv()
        with tempfile.TemporaryDirectory(prefix="starviz-bench-") as tmp:
            work = Path(tmp)
            needs_demo = chosen - NO_DEMO_NEEDED
            if needs_demo:
                results += _demo_build(scale, work) if "demo_build" in chosen else _quiet_demo_build(scale, work)
            for suite in SUITES:
                if suite.__name__.lstrip("_") in chosen:
                    results += suite(work)
    finally:
        queries.cache_answers(True)
    for r in results:
        r["run_at"] = run_at
    if chosen != set(suite_names()) and core.RESULTS.exists():
        fresh = {r["name"] for r in results}
        results = [r for r in json.loads(core.RESULTS.read_text())["results"] if r["name"] not in fresh] + results
    report = {"machine": machine(), "run_at": run_at, "results": results}
    core.RESULTS.parent.mkdir(exist_ok=True)
    core.RESULTS.write_text(json.dumps(report, indent=2))
    write_performance_md(report)
    if as_json:
        print(json.dumps(report, indent=2))
    else:
        for r in results:
            target = "" if r["target"] is None else f"  (target {'<=' if r['better'] == 'lower' else '>='} {r['target']})"
            print(f"{r['name']:<60} {r['value']:>12,.3f} {r['unit']}{target}")
    return 0


# --- data quality page and import --------------------------------------------------------------


def _data_quality(work: Path, runs: int = 40) -> list[dict]:
    """p50/p95 of every query the data quality page runs, on the demo database, filters varied from
    run to run (financial years, addressable or not, one council or all, a council-scoped analyst,
    each dataset of the coverage matrix); against a bare aggregate of fct_spend as the baseline.
    Then what an import adds before its build: header detection and the preview of one month's file."""
    import duckdb

    from starviz import imports, ingest, matching, queries
    from starviz.scope import Filters, User, financial_year

    db = work / "star.duckdb"
    saved = os.environ.get("STARVIZ_DB")
    os.environ["STARVIZ_DB"] = str(db)
    config.settings.cache_clear()
    try:
        admin, ids = User("bench", "Bench", "admin"), queries.councils()["council_id"].tolist()
        analyst = User("bench.officer", "Officer", "analyst", (ids[-1],))
        years = sorted({financial_year(m) for m in queries.months_loaded()})
        scopes = [
            queries.Scope(Filters(councils=tuple(ids), all_councils=True, period="fy", fy=fy, addressable_only=a), admin)
            for fy in years
            for a in (True, False)
        ]
        scopes += [queries.Scope(Filters(councils=(c,), period="fy", fy=years[-1]), admin) for c in ids]
        scopes += [
            queries.Scope(Filters(councils=(ids[-1],), period="all"), analyst),
            queries.Scope(Filters(councils=tuple(ids), all_councils=True, period="all"), admin),
        ]
        datasets = list(queries.coverage_datasets())
        page = {
            "coverage matrix": lambda s, i: queries.coverage(s, datasets[i % len(datasets)]),
            "missing months": lambda s, i: queries.missing_months(s),
            "freshness": lambda s, i: queries.freshness(s),
            "unreadable files": lambda s, i: queries.failed_files(s),
            "problems by reason": lambda s, i: queries.rejects_by_reason(s),
            "problem rows": lambda s, i: queries.rejected_rows(s, ["rejected", "warning", "skipped"]),
            "problem rows count": lambda s, i: queries.count_rejected_rows(s, ["rejected", "warning", "skipped"]),
            "unclassified spend": lambda s, i: queries.unclassified_by_council(s),
            "excluded spend by reason": lambda s, i: queries.exclusions_by_reason(s),
            "supplier match candidates": lambda s, i: matching.candidates(s),
            "supplier decisions waiting": lambda s, i: matching.waiting_for_build(s),
        }
        results, totals = [], []
        per_query: dict[str, list[float]] = {name: [] for name in page}
        for fn in page.values():  # warm: first use opens the connection and loads the tables
            fn(scopes[0], 0)
        for i in range(runs):
            scope = scopes[i % len(scopes)]
            started_page = time.perf_counter()
            for name, fn in page.items():
                started = time.perf_counter()
                fn(scope, i)
                per_query[name].append(time.perf_counter() - started)
            totals.append(time.perf_counter() - started_page)
        with duckdb.connect(str(db), read_only=True) as con:
            base = []
            for _ in range(runs):
                started = time.perf_counter()
                con.execute("select council_id, count(*), sum(amount_gbp) from fct_spend group by council_id").fetchall()
                base.append(time.perf_counter() - started)
            sql = (config.SQL_DIR / "30_marts" / "mart_supplier_matches_by_pair.sql").read_text()
            body = sql[sql.index("\nwith\n") :]
            started = time.perf_counter()
            pairs = con.execute(f"select count(*) from ({body})").fetchone()[0]
            candidates_s = time.perf_counter() - started
            suppliers = con.execute("select count(*) from dim_suppliers").fetchone()[0]
        for name, times in per_query.items():
            p50, p95 = statistics.median(times), loadtest.percentile(times, 0.95)
            results.append(_result(f"data quality: {name}, p50", p50, "s", None, "lower"))
            results.append(_result(f"data quality: {name}, p95", p95, "s", _target("data_quality_query_p95_s"), "lower"))
        p50, p95 = statistics.median(totals), loadtest.percentile(totals, 0.95)
        base_p50 = statistics.median(base)
        results += [
            _result("data quality: every query of the page, p50", p50, "s", None, "lower"),
            _result("data quality: every query of the page, p95", p95, "s", _target("page_run_s"), "lower"),
            _result("bare aggregate of fct_spend (baseline), p50", base_p50, "s", None, "lower"),
            _result("data quality page queries / bare aggregate, p50", p50 / base_p50, "ratio", None, "lower"),
            _result(
                f"supplier match candidates at build ({suppliers:,} suppliers, {pairs:,} pairs)", candidates_s, "s", None, "lower"
            ),
        ]
        sample = max((p for p in (work / "raw").glob("*/spend/*.csv")), key=lambda p: p.stat().st_size, default=None)
        if sample is not None:
            council = config.load_councils()[sample.parts[-3]]
            staged = imports.stage(sample.name, sample.read_bytes())
            started = time.perf_counter()
            detection = imports.detect(staged)
            detect_s = time.perf_counter() - started
            started = time.perf_counter()
            summary, _ = ingest.check_file(sample, council, "spend", preview_limit=20)
            preview_s = time.perf_counter() - started
            results += [
                _result(
                    f"import: detect council and dataset ({sample.name}, "
                    f"{'right' if detection.best and detection.best.council_id == council.id else 'WRONG'})",
                    detect_s,
                    "s",
                    _target("import_detect_s"),
                    "lower",
                ),
                _result(
                    f"import: preview one month ({summary.rows_read:,} rows)",
                    preview_s,
                    "s",
                    _target("import_preview_s"),
                    "lower",
                ),
            ]
        return results
    finally:
        queries.db.release(db)  # let the file go before the work folder is removed
        if saved is None:
            os.environ.pop("STARVIZ_DB", None)
        else:
            os.environ["STARVIZ_DB"] = saved
        config.settings.cache_clear()


SUITES.append(_data_quality)


# --- page queries at 1M, 10M and 50M spend lines; the app's memory at 10M ----------------------


def scale_latency_child(db: str) -> list[dict]:
    """Every scoped query the pages ask, p50 and p95, on one large demo database (run in a child)."""
    import duckdb

    lines = int(duckdb.connect(db, read_only=True).execute("select count(*) from fct_spend").fetchone()[0])
    label = f" @{lines / 1e6:.0f}M lines"
    return page_query_latency(
        Path(db), repeats=1 if lines > 20e6 else 2, label=label, target_ms=_target("scale_query_p95_ms"), p50=True
    )


def _app_memory(db: Path, work: Path) -> list[dict]:
    """Peak resident memory of one app process while a director opens every page on a large database."""
    if not Path(loadtest.CHROMIUM).exists():
        return []
    import duckdb
    from playwright.sync_api import sync_playwright

    with duckdb.connect(str(db), read_only=True) as con:
        lines = int(con.execute("select count(*) from fct_spend").fetchone()[0])
    paths = [
        "",
        "spend",
        "benchmarking",
        "collaboration",
        "pipeline",
        "social_value",
        "kpis",
        "maturity",
        "data_quality",
        "import_data",
        "?present=1",
    ]
    with loadtest.app_servers(db, work / "auth-memory") as (urls, procs):
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=loadtest.CHROMIUM, args=loadtest.CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            page.goto(urls[0], timeout=120_000)
            loadtest.sign_in(page, timeout_ms=300_000)
            for path in paths:
                page.goto(f"{urls[0]}/{path}", timeout=300_000)
                page.wait_for_timeout(500)
                page.wait_for_function(loadtest.IDLE, timeout=300_000)
            browser.close()
        status = Path(f"/proc/{procs[0].pid}/status").read_text()
    peak_kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:"))
    return [
        _result(
            f"app process peak memory, every page opened @{lines / 1e6:.0f}M lines",
            peak_kb / 1024,
            "MB",
            _target("app_memory_mb") if lines >= 9e6 else None,
            "lower",
        )
    ]


PAGES = [
    "overview",
    "spend",
    "benchmarking",
    "collaboration",
    "pipeline",
    "social_value",
    "kpis",
    "maturity",
    "data_quality",
    "import_data",
    "present",
]


def page_apptest_child(db: str, auth_dir: str) -> list[dict]:
    """Each page's full AppTest run (app.py, then the page) as the director, median of warm runs."""
    import duckdb
    from streamlit.testing.v1 import AppTest

    os.environ["STARVIZ_DB"], os.environ["STARVIZ_AUTH_DIR"] = db, auth_dir
    lines = int(duckdb.connect(db, read_only=True).execute("select count(*) from fct_spend").fetchone()[0])
    out = []
    for name in PAGES:
        times = []
        for _ in range(4):
            at = AppTest.from_file(str(config.ROOT / "app.py"), default_timeout=300)
            at.session_state["authentication_status"] = True
            at.session_state["username"] = "director"
            at.run()
            started = time.perf_counter()
            at.switch_page(f"pages/{name}.py").run()
            times.append(time.perf_counter() - started)
            assert not at.exception, (name, at.exception)
        out.append(
            _result(
                f"page {name}: AppTest full run, median warm @{lines / 1e6:.0f}M lines",
                statistics.median(times[1:]),
                "s",
                None,
                "lower",
            )
        )
    return out


def _scale_suite(work: Path) -> list[dict]:
    s = config.settings()
    one_million = _cube_database(s.bench_query_scales[0], work)
    _, _, out = _run_child(
        f"import json; from bench import suites; print(json.dumps(suites.page_apptest_child("
        f"{str(one_million)!r}, {str(work / 'auth-apptest')!r})))"
    )
    results: list[dict] = json.loads(out.strip().splitlines()[-1])
    for scale in s.bench_query_scales:
        db = _cube_database(scale, work)
        _, peak_mb, out = _run_child(
            f"import json; from bench import suites; print(json.dumps(suites.scale_latency_child({str(db)!r})))",
            env={"STARVIZ_DB": str(db)},
        )
        found = json.loads(out.strip().splitlines()[-1])
        worst = max((r for r in found if " p95 " in r["name"]), key=lambda r: r["value"], default=None)
        results += found
        if worst:
            label = worst["name"].split(" @")[-1]
            results.append(
                _result(
                    f"slowest page query p95 ms @{label} ({worst['name'].split()[1]})",
                    worst["value"],
                    "ms",
                    _target("scale_query_p95_ms"),
                    "lower",
                )
            )
            results.append(_result(f"page query process peak memory @{label}", peak_mb, "MB", None, "lower"))
    results += _app_memory(_cube_database(s.bench_memory_scale, work), work)
    return results


SUITES.insert(-1, _scale_suite)
