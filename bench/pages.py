"""The pages' questions: every scoped query, each page's queries per render, collaboration and
pipeline, data quality and import, and a page run in AppTest and in Chromium."""

from __future__ import annotations

import json
import os
import statistics
import time
from pathlib import Path

from bench import loadtest
from bench.core import _result, _run_child, _target
from starviz import config


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


def chromium_page_opens(work: Path, rounds: int = 3) -> list[dict]:
    """Every page of the sidebar opened in turn in Chromium, one person on a warm app at the first-run
    demo scale (``python -m starviz bench --only chromium_page_opens``): median over `rounds` rounds
    (after one round that warms) of the mouse press to the page drawn and the app idle, and of the
    rerun_script sent to script_finished (the server's part). The browser and the app share the
    machine, neither pinned nor lowered (STARVIZ_BENCH_PIN=1: the app alone on CPU 0, the browser on
    CPU 1, :func:`bench.loadtest.keep_browser_apart`).

    A click that fails (:class:`bench.loadtest.ClickFailed`) is counted, its screenshot and text
    kept, the tab loaded again, and the other pages still measured."""
    if not Path(loadtest.CHROMIUM).exists():
        return []
    from playwright.sync_api import sync_playwright

    from bench import concurrency

    first = config.settings().demo_scale_first_run
    db = concurrency._database(first, work)
    pinned = os.environ.get("STARVIZ_BENCH_PIN", "0") == "1"
    drawn: dict[str, list[float]] = {}
    wire: dict[str, list[float]] = {}
    failed: list[str] = []
    with loadtest.app_servers(db, work / "auth") as (urls, procs):
        loadtest.warm(urls)  # before Playwright's own event loop runs
        app_pids = [p.pid for p in procs]
        try:
            with sync_playwright() as p:
                tab = loadtest._Tab(p, urls[0])
                for n in range(rounds + 1):
                    loadtest.keep_browser_apart(app_pids, pinned)  # again each round: processes Chromium started since
                    for page in loadtest.OPENED:
                        try:
                            sent_to_finished, seen = tab.click("page", page)
                        except loadtest.ClickFailed as exc:
                            failed.append(str(exc))
                            print(f"chromium_page_opens: {exc}", flush=True)
                            if len(failed) >= 3 or not tab.recover():
                                break
                            continue
                        if n:
                            wire.setdefault(page, []).append(sent_to_finished)
                            drawn.setdefault(page, []).append(seen)
                    else:
                        continue
                    break  # Chromium gave up: keep what was measured
                tab.close()
        finally:
            if pinned:
                loadtest.unpin(app_pids)
    out = []
    how0 = f"Chromium @first-run scale {first:g}"
    for page in loadtest.OPENED:
        if page not in drawn:
            continue
        how = f"{how0}: open {page}"
        out += [
            _result(
                f"{how}, click to drawn, median", statistics.median(drawn[page]), "s", _target("page_open_chromium_s"), "lower"
            ),
            _result(f"{how}, sent to script finished, median", statistics.median(wire[page]), "s", None, "lower"),
        ]
    out.append(_result(f"{how0}: page opens that failed (not made, answered or drawn in time)", len(failed), "count", 0, "lower"))
    return out


def app_suites(work: Path) -> list[dict]:
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


def scoped_query_latency(
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


def page_queries(work: Path) -> list[dict]:
    return scoped_query_latency(work / "star.duckdb", label=" @demo")


def page_query_latency(work: Path) -> list[dict]:
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


def collaboration_pipeline_latency(work: Path, repeats: int = 40) -> list[dict]:
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


# --- data quality page and import --------------------------------------------------------------


def data_quality(work: Path, runs: int = 40) -> list[dict]:
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
