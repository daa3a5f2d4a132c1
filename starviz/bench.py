"""python -m starviz bench: performance measured against baselines run in the same process.

Each result is {"name", "value", "unit", "target", "better"}; the whole run is printed and written
to bench/results.json. Heavy steps run in subprocesses so their peak memory can be read.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from starviz import config

RESULTS = config.ROOT / "bench" / "results.json"


def _result(name: str, value: float, unit: str, target: float | None, better: str) -> dict:
    return {"name": name, "value": round(value, 3), "unit": unit, "target": target, "better": better}


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
            started = time.perf_counter()
            rows = sum(r.rows_loaded for z in zips for r in ingest.load_file(con, z, council, "spend"))
            ours.append(time.perf_counter() - started)
            con.close()
    ours_s, base_s = min(ours), min(base)
    return [
        _result(f"ingest {sample['label']} ({rows:,} rows, from zip)", ours_s, "s", None, "lower"),
        _result("DuckDB plain read_csv of the same files", base_s, "s", None, "lower"),
        _result("ingest time / read_csv time", ours_s / base_s, "ratio", 2.0, "lower"),
        _result("ingest rows per second", rows / ours_s, "rows/s", None, "higher"),
    ]


def _run_child(code: str, env: dict | None = None) -> tuple[float, float, str]:
    """Run Python code in a child; return (seconds, peak RSS in MB, stdout)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=config.ROOT, env={**os.environ, **(env or {})})
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return seconds, max(peak, before) / 1024, out.stdout


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
        _result(f"demo build @scale {scale:g} ({lines:,} spend lines)", build_s, "s", 60.0 if scale == 1 else None,
                "lower"),
        _result(f"demo build peak memory @scale {scale:g}", peak_mb, "MB", 2048.0 if scale == 1 else None, "lower"),
    ]


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
    return [_result("overview page AppTest run, median warm", float(out.strip().splitlines()[-1]), "s", 1.0, "lower")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _chromium_filter_change(db: Path, work: Path) -> list[dict]:
    """From a filter change to the redrawn overview in Chromium (the script finished and painted)."""
    if not Path("/usr/bin/chromium").exists():
        return []
    from playwright.sync_api import sync_playwright

    port = _free_port()
    env = {**os.environ, "STARVIZ_DB": str(db), "STARVIZ_AUTH_DIR": str(work / "auth")}
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port), "--server.headless", "true"],
        cwd=config.ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            page.goto(f"http://127.0.0.1:{port}/", timeout=60000)
            page.get_by_role("textbox", name="Username").fill("director", timeout=60000)
            page.get_by_role("textbox", name="Password").fill("star-demo")
            page.get_by_role("button", name="Sign in").click()
            page.get_by_role("heading", name="Overview").wait_for(timeout=60000)
            idle = "document.querySelector('[data-test-script-state]')?.getAttribute('data-test-script-state') " \
                   "=== 'notRunning'"
            page.wait_for_function(idle, timeout=60000)
            times = []
            for n in range(6):
                toggle = page.get_by_text("Addressable spend only")
                started = time.perf_counter()
                toggle.click()
                page.wait_for_function(f"window.location.search.includes('addressable=0') === {str(n % 2 == 0).lower()}",
                                       timeout=30000)
                page.wait_for_function(idle, timeout=30000)
                page.locator(".js-plotly-plot").first.wait_for(timeout=30000)
                times.append(time.perf_counter() - started)
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
    return [_result("Chromium: filter change to redrawn overview, median", statistics.median(times), "s", 1.0, "lower")]


def machine() -> dict:
    return {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count(),
            "processor": platform.processor() or platform.machine()}


def _app_suites(work: Path) -> list[dict]:
    db = work / "star.duckdb"
    return _overview_apptest(db, work) + _chromium_filter_change(db, work)


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
        _, peak_mb, out = _run_child(f"from starviz import bench; bench.cube_latency_child({str(db)!r})",
                                     env={"STARVIZ_DB": str(db)})
        results += json.loads(out.strip().splitlines()[-1])
        results.append(_result(f"cube latency run peak memory @scale {scale:g} (pandas frame included)", peak_mb, "MB",
                               None, "lower"))
    return results


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


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
    periods += [{"period": "quarter", "fy": years[-1], "quarter": 1}, {"period": "all"},
                {"period": "months", "month_from": months[-6], "month_to": months[-1]}]
    council_sets = [tuple(ids), (ids[0],), tuple(ids[1:3])]
    scopes = []
    for i, period in enumerate(periods):
        for j, councils in enumerate(council_sets):
            filters = Filters(councils=councils, all_councils=len(councils) == len(ids),
                              addressable_only=(i + j) % 2 == 0, **period)
            scopes.append(queries.Scope(filters, director))
    return scopes


def cube_latency_child(db: str) -> None:
    """Time every query of the spend and benchmarking pages over varied filters; print JSON results."""
    import duckdb

    from starviz import cube, queries

    scopes = _cube_scopes()
    lines = int(duckdb.connect(db, read_only=True).execute("select count(*) from fct_spend").fetchone()[0])
    label = f"{lines / 1e6:.1f}M lines"
    target = 0.15 if lines < 3_000_000 else 1.0
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
        "treemap": [queries.spend_by_category_supplier,
                    lambda s: queries.spend_by_category_supplier(s, (cube.Criterion("category", category),))],
        "trend": [lambda s: queries.spend_trend(s, (), "spend_gbp"), lambda s: queries.spend_trend(s, (), "count_suppliers")],
        "excluded spend": [queries.excluded_spend],
        "drill-down count": [lambda s: queries.drill_summary(s, (cube.Criterion("category", category),))],
        "drill-down page of lines": [
            lambda s: queries.drill_lines(s, (cube.Criterion("category", category),), "amount_gbp", True, 3)],
        "supplier search": [lambda s: queries.supplier_search(s, "ltd"), lambda s: queries.supplier_search(s, "")],
        "supplier profile": [lambda s: (queries.supplier_profile(s, top), queries.supplier_spend_by_council_month(s, top),
                                        queries.supplier_categories(s, top), queries.supplier_contracts(s, top),
                                        queries.supplier_name_variants(s, top))],
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
        p95 = _percentile(times, 0.95)
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
            "select council_id, month, category, supplier_id, amount_gbp::double as amount_gbp, is_addressable "
            "from fct_spend").df()
    for column in ("council_id", "category"):
        lines[column] = lines[column].astype("category")
    scope = next(s for s in scopes if s.filters.period == "fy" and len(s.council_ids) > 2)

    def pandas_pivot(values: str, aggfunc) -> pd.DataFrame:
        f = scope.filters
        mask = (lines["council_id"].isin(scope.council_ids) & (lines["month"] >= pd.Timestamp(f.date_from))
                & (lines["month"] <= pd.Timestamp(f.date_to)))
        if f.addressable_only:
            mask &= lines["is_addressable"]
        return lines[mask].pivot_table(index="category", columns="council_id", values=values, aggfunc=aggfunc,
                                       margins=True, observed=True)

    cases = [
        ("spend by category and council", cube.View("category", "council", "spend_gbp"), "amount_gbp", "sum"),
        ("suppliers by category and council", cube.View("category", "council", "count_suppliers"), "supplier_id",
         "nunique"),
    ]
    out = []
    for name, view, values, aggfunc in cases:
        ours, theirs = [], []
        for _ in range(7):
            started = time.perf_counter()
            queries.spend_pivot(scope, view)
            ours.append(time.perf_counter() - started)
            started = time.perf_counter()
            pandas_pivot(values, aggfunc)
            theirs.append(time.perf_counter() - started)
        a, b = statistics.median(ours), statistics.median(theirs)
        out += [
            _result(f"pivot {name} @{label}: cube query, median", a, "s", None, "lower"),
            _result(f"pivot {name} @{label}: pandas on the lines, median", b, "s", None, "lower"),
            _result(f"pivot {name} @{label}: pandas time / cube time", b / a, "ratio", 10.0, "higher"),
        ]
    load = os.getloadavg()[0]
    out.append(_result("machine load average (1 min) at the end of the cube runs", load, "load", None, "lower"))
    return out


# Each suite takes the work folder (holding raw/ and star.duckdb from the demo build) and returns
# results. A page issue adds its own suite here, e.g. query latency at larger scales.
SUITES: list = [_app_suites, _cube_suite]


def main(as_json: bool = False, sizes: str = "") -> int:
    scale = float(os.environ.get("STARVIZ_BENCH_SCALE", "1"))
    SIZES[:] = [float(x) for x in sizes.split(",") if x.strip()]
    results: list[dict] = []
    results += _ingest_vs_read_csv()
    with tempfile.TemporaryDirectory(prefix="starviz-bench-") as tmp:
        work = Path(tmp)
        results += _demo_build(scale, work)
        for suite in SUITES:
            results += suite(work)
    report = {"machine": machine(), "run_at": time.strftime("%Y-%m-%dT%H:%M:%S"), "results": results}
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2))
    if as_json:
        print(json.dumps(report, indent=2))
    else:
        for r in results:
            target = "" if r["target"] is None else f"  (target {'<=' if r['better'] == 'lower' else '>='} {r['target']})"
            print(f"{r['name']:<60} {r['value']:>12,.3f} {r['unit']}{target}")
    return 0
