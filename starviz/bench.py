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


# Each suite takes the work folder (holding raw/ and star.duckdb from the demo build) and returns
# results. A page issue adds its own suite here, e.g. query latency at larger scales.
SUITES: list = [_app_suites]


def main(as_json: bool = False, sizes: str = "") -> int:
    scale = float(os.environ.get("STARVIZ_BENCH_SCALE", "1"))
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


# --- collaboration and pipeline pages: latency of each query with varied filters ------------------

_COLLABORATION_PIPELINE_QUERIES = """
import datetime as dt, json, os, statistics, time
os.environ["STARVIZ_DB"] = {db!r}
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
        times.sort()
        out.append([page, name, statistics.median(times), times[max(0, int(len(times) * 0.95) - 1)]])
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
        results.append(_result(f"{page}: {name} p95 @scale {scale}", p95 * 1000, "ms", 300.0, "lower"))
    return results


SUITES.append(_collaboration_pipeline_latency)
