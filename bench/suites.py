"""python -m starviz bench: performance measured against baselines run in the same process.

Each result is {"name", "value", "unit", "target", "better"}; the whole run is printed and written
to bench/results.json. Heavy steps run in subprocesses so their peak memory can be read. The suites
live by subject: ``data`` (ingest, demo build, matching, categorisation, notices), ``pages`` (the
pages' queries, data quality, AppTest and Chromium runs), ``spend_cube``, ``exports``, ``scale`` and
``concurrency``; this module lists them in the order they run and keeps the books.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

from bench import concurrency, core, data, exports, pages, scale, spend_cube
from bench.core import machine, write_performance_md

# Each suite takes the work folder (holding raw/ and star.duckdb from the demo build) and returns
# results; its name for ``--only`` is its function's name. ``ingest`` and ``demo_build`` run first,
# outside this list (the demo build makes the work folder the others read).
SUITES: list = [
    pages.page_queries,
    pages.app_suites,
    pages.page_query_latency,
    pages.collaboration_pipeline_latency,
    spend_cube.cube_suite,
    exports.export_suite,
    data.matching_suite,
    data.categorisation_suite,
    exports.board_outputs,
    exports.drilldown_export,
    data.notices_suite,
    concurrency.concurrency,  # slow
    concurrency.browser_agreement,
    pages.chromium_page_opens,
    scale.scale_suite,
    pages.data_quality,
]
NO_DEMO_NEEDED = {
    "ingest",
    "browser_agreement",  # these two build their own database at the first-run scale
    "chromium_page_opens",
    "scale_suite",
    "cube_suite",
    "drilldown_export",
    "matching_suite",
    "categorisation_suite",
    "notices_suite",
}


def suite_names() -> list[str]:
    return ["ingest", "demo_build", *(suite.__name__ for suite in SUITES)]


def main(as_json: bool = False, sizes: str = "", only: str = "") -> int:
    """Run the suites (all, or the comma-separated names in ``only``) and record the results. A
    partial run replaces its own figures in bench/results.json and keeps the others, each dated."""
    demo_scale = float(os.environ.get("STARVIZ_BENCH_SCALE", "1"))
    spend_cube.SIZES[:] = [float(x) for x in sizes.split(",") if x.strip()]
    chosen = {x.strip() for x in only.split(",") if x.strip()} or set(suite_names())
    unknown = chosen - set(suite_names())
    if unknown:
        raise SystemExit(f"unknown suite(s) {sorted(unknown)}; choose from {', '.join(suite_names())}")
    run_at = time.strftime("%Y-%m-%dT%H:%M:%S")
    results: list[dict] = []
    failed: list[str] = []
    from starviz import queries

    queries.cache_answers(False)
    ran: set[str] = set()  # the suites that finished: their old figures all go, renamed or not

    def record(name: str, figures: list[dict]) -> None:
        results.extend(r | {"suite": name} for r in figures)
        ran.add(name)

    try:
        if "ingest" in chosen:
            record("ingest", data.ingest_vs_read_csv())
        with tempfile.TemporaryDirectory(prefix="starviz-bench-") as tmp:
            work = Path(tmp)
            needs_demo = chosen - NO_DEMO_NEEDED
            if "demo_build" in chosen:
                record("demo_build", data.demo_build(demo_scale, work))
            elif needs_demo:
                data.quiet_demo_build(demo_scale, work)
            for suite in SUITES:
                if suite.__name__ in chosen:
                    try:
                        record(suite.__name__, suite(work))
                    except Exception as exc:  # one suite's failure keeps the others' figures, and its own old ones
                        failed.append(f"{suite.__name__}: {type(exc).__name__}: {exc}")
    finally:
        queries.cache_answers(True)
    for r in results:
        r["run_at"] = run_at
    if chosen != set(suite_names()) and core.RESULTS.exists():
        # A partial run replaces every figure of each suite it ran (a figure the suite no longer
        # gives is dropped, not left standing with an old date) and keeps the other suites'.
        fresh = {r["name"] for r in results}
        kept = [
            r for r in json.loads(core.RESULTS.read_text())["results"] if r["name"] not in fresh and r.get("suite") not in ran
        ]
        results = kept + results
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
    for failure in failed:
        print(f"bench suite failed, its figures left out: {failure}", file=sys.stderr)
    return 1 if failed else 0
