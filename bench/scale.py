"""Page queries at 1M, 10M and 50M spend lines; each page's AppTest run; the app's memory at 10M."""

from __future__ import annotations

import json
import os
import statistics
import time
from pathlib import Path

from bench import loadtest, pages, spend_cube
from bench.core import _result, _run_child, _target
from starviz import config

# --- page queries at 1M, 10M and 50M spend lines; the app's memory at 10M ----------------------


def scale_latency_child(db: str) -> list[dict]:
    """Every scoped query the pages ask, p50 and p95, on one large demo database (run in a child)."""
    import duckdb

    lines = int(duckdb.connect(db, read_only=True).execute("select count(*) from fct_spend").fetchone()[0])
    label = f" @{lines / 1e6:.0f}M lines"
    return pages.scoped_query_latency(
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
    # the same pages the AppTest suite runs, at their addresses (Overview is the root, the Board's is a mode)
    paths = ["" if p == "overview" else "?present=1" if p == "present" else p for p in PAGES]
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


def scale_suite(work: Path) -> list[dict]:
    s = config.settings()
    one_million = spend_cube.cube_database(s.bench_query_scales[0], work)
    _, _, out = _run_child(
        f"import json; from bench import scale; print(json.dumps(scale.page_apptest_child("
        f"{str(one_million)!r}, {str(work / 'auth-apptest')!r})))"
    )
    results: list[dict] = json.loads(out.strip().splitlines()[-1])
    for scale in s.bench_query_scales:
        db = spend_cube.cube_database(scale, work)
        _, peak_mb, out = _run_child(
            f"import json; from bench import scale; print(json.dumps(scale.scale_latency_child({str(db)!r})))",
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
    results += _app_memory(spend_cube.cube_database(s.bench_memory_scale, work), work)
    return results
