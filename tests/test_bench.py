"""The benchmark's bookkeeping: a partial run replaces its own figures and keeps the others."""

from __future__ import annotations

import json

import pytest

from bench import core, data, suites
from tests.conftest import ALL


def test_a_partial_run_replaces_its_own_figures_and_keeps_the_rest(tmp_path, monkeypatch):
    results, table = tmp_path / "results.json", tmp_path / "PERFORMANCE.md"
    monkeypatch.setattr(core, "RESULTS", results)
    monkeypatch.setattr(core, "PERFORMANCE_MD", table)
    old = [
        core._result("ingest time / read_csv time", 2.4, "ratio", 2.0, "lower") | {"run_at": "2026-01-01T00:00:00"},
        core._result("cube p95 pivot @1.0M lines", 0.044, "s", 0.15, "lower") | {"run_at": "2026-01-01T00:00:00"},
        # a figure the ingest suite gave once under a name it no longer uses
        core._result("ingest old name", 9.0, "s", None, "lower") | {"run_at": "2026-01-01T00:00:00", "suite": "ingest"},
        core._result("failures", 3, "count", 0, "lower") | {"run_at": "2026-01-01T00:00:00", "suite": "scale_suite"},
    ]
    results.write_text(json.dumps({"machine": {}, "run_at": "2026-01-01T00:00:00", "results": old}))
    monkeypatch.setattr(
        data, "ingest_vs_read_csv", lambda: [core._result("ingest time / read_csv time", 1.5, "ratio", 2.0, "lower")]
    )

    assert suites.main(only="ingest") == 0

    merged = {r["name"]: r for r in json.loads(results.read_text())["results"]}
    assert merged["ingest time / read_csv time"]["value"] == 1.5
    assert merged["ingest time / read_csv time"]["run_at"] != "2026-01-01T00:00:00"
    assert merged["cube p95 pivot @1.0M lines"] == old[1]
    assert "ingest old name" not in merged and merged["failures"] == old[3]
    text = table.read_text()
    assert "| failures | 3 | count | ≤ 0 | **no** | 2026-01-01T00:00:00 |" in text
    assert "| ingest time / read_csv time | 1.500 | ratio | ≤ 2 | yes |" in text
    assert "| cube p95 pivot @1.0M lines | 0.044 | s | ≤ 0.15 | yes | 2026-01-01T00:00:00 |" in text


def test_an_unknown_suite_is_refused_with_the_names_to_choose_from():
    with pytest.raises(SystemExit, match="scale_suite"):
        suites.main(only="nonsense")


def test_each_child_reports_its_own_peak_memory_not_the_largest_so_far():
    _, big, out = core._run_child("x = bytearray(200 * 1024 * 1024); print(len(x))")
    _, small, _ = core._run_child("print('small')")
    assert out.strip() == str(200 * 1024 * 1024)
    assert big > 200 and small < 150


def test_query_timings_run_with_the_answer_cache_off_so_a_repeat_is_not_a_dictionary_lookup():
    _, _, out = core._run_child("from starviz import config; print(config.settings().query_cache_entries)")
    assert out.strip().splitlines()[-1] == "0"


def test_people_pause_between_clicks_each_session_differently_and_a_zero_pause_is_none():
    from bench import loadgen

    first, second = loadgen.thinker(0, 5.0), loadgen.thinker(1, 5.0)
    pauses = [first() for _ in range(200)]
    assert all(2.5 <= p <= 7.5 for p in pauses)
    assert 4.5 < sum(pauses) / len(pauses) < 5.5
    assert pauses[:5] != [second() for _ in range(5)]
    again = loadgen.thinker(0, 5.0)  # seeded: a run repeats
    assert [again() for _ in range(5)] == pauses[:5]
    assert {loadgen.thinker(3, 0.0)() for _ in range(5)} == {0.0}


def test_every_target_the_bench_checks_is_configured_and_every_configured_target_is_checked():
    import inspect
    import re

    from bench import concurrency, exports, pages, scale, spend_cube
    from starviz import config

    source = "".join(inspect.getsource(m) for m in (concurrency, data, exports, pages, scale, spend_cube))
    asked = set(re.findall(r'_target\("(\w+)"\)', source))
    assert asked and asked == set(config.settings().bench_targets)


def test_the_aggregation_timed_alone_is_the_query_the_pivot_sends(fixture_build, monkeypatch):
    from starviz import config, cube, queries
    from starviz.queries import db
    from starviz.scope import Filters, User

    monkeypatch.setenv("STARVIZ_DB", str(fixture_build.db_path))
    config.settings.cache_clear()
    try:
        scope = queries.Scope(
            Filters(councils=ALL, addressable_only=True, period="fy", fy="2025-26"),
            User("d", "D", "admin"),
        )
        view = cube.View("category", "council", "spend_gbp")
        sql, params = core._first_query(lambda: queries.spend_pivot(scope, view))
        assert not db._tracers  # the hook is let go
        assert "group by" in sql.lower()  # the aggregation, not a lookup of names
        cells = db.rows(sql, params)  # (category, council, spend, lines) per cell
        pivot = queries.spend_pivot(scope, view)
        assert sum(spend for _, _, spend, _ in cells) == pytest.approx(pivot.table.iloc[-1]["Total"])
    finally:
        config.settings.cache_clear()


def test_percentiles_are_the_standard_librarys_quantiles():
    import statistics

    from bench.loadtest import percentile

    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.5) == statistics.median(values)
    assert percentile(values, 0.95) == statistics.quantiles(values, n=20, method="inclusive")[-1] == 95.05
    assert percentile([3.0], 0.95) == 3.0
    assert percentile([], 0.95) != percentile([], 0.95)  # NaN


def test_a_suite_that_fails_keeps_the_other_suites_figures_and_the_run_says_it_failed(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(core, "RESULTS", tmp_path / "results.json")
    monkeypatch.setattr(core, "PERFORMANCE_MD", tmp_path / "PERFORMANCE.md")

    def fails(work):
        raise TimeoutError("Locator.click: Timeout 60000ms exceeded.")

    fails.__name__ = "browser_agreement"
    kept = [core._result("scale figure", 1.0, "s", None, "lower")]
    monkeypatch.setattr(suites, "SUITES", [fails, lambda work: kept])
    suites.SUITES[1].__name__ = "scale_suite"

    assert suites.main(only="browser_agreement,scale_suite") == 1

    names = [r["name"] for r in json.loads(core.RESULTS.read_text())["results"]]
    assert names == ["scale figure"]
    assert "browser_agreement: TimeoutError: Locator.click: Timeout 60000ms exceeded." in capsys.readouterr().err


def _run(name: str, value: float) -> dict:
    return core._result(name, value, "s", None, "lower")


def test_the_concurrency_curve_reads_as_people_against_p95_for_1_and_2_replicas_with_saturation_and_cpu():
    from bench.concurrency import NOT_REACHED, PROXIED, curve_markdown

    db, pause = "first-run scale 0.25", "~5 s pauses"
    results = []
    for setup, p95s in (("1 replica(s)", (0.3, 3.9)), ("2 replica(s)", (0.2, 0.8)), (PROXIED, (0.25, 0.9))):
        for n, p95 in zip((20, 50), p95s, strict=True):
            results.append(_run(f"concurrency @{db}, {setup}, {pause}, {n} sessions: click p95", p95))
            results.append(_run(f"concurrency @{db}, {setup}, {pause}, {n} sessions: load generator CPU", n / 10))
            other = 40.0 if (setup, n) == ("2 replica(s)", 50) else 1.0
            results.append(
                _run(
                    f"concurrency @{db}, {setup}, {pause}, {n} sessions: other processes (not the app, not the load generator)",
                    other,
                )
            )
        name = f"concurrency @{db}, {setup}, {pause}: saturation (fewest sessions with click p95 > 1 s)"
        reached = setup == "1 replica(s)"
        results.append(core._result(name, 50, "sessions" if reached else NOT_REACHED, None, "higher"))
    results.append(_run(f"server CPU per rerun @{db}: open Spend", 0.06))
    results.append(_run(f"server CPU per rerun @{db}: year changed on Spend", 0.065))

    text = "\n".join(curve_markdown(results))

    assert "| database | pauses | people | 1 replica | 2 replicas, no proxy | 2 replicas behind nginx |" in text
    assert f"| {db} | {pause} | 20 | 0.30 | 0.20 | 0.25 |" in text
    assert f"| {db} | {pause} | 50 | 3.90 | 0.80 | 0.90 |" in text
    assert f"| {db} | {pause} | **saturation** | 50 | none up to 50 | none up to 50 |" in text
    assert "at most 5% of one core" in text
    assert "2 replicas, no proxy, ~5 s pauses, 50 people: 40%" in text  # a run other work disturbed is named
    assert "| Spend | 0.060 | 0.065 |" in text


def test_the_browser_is_pinned_apart_from_the_app_at_its_own_priority_or_left_alone():
    """Chromium lowered to nice 19 and held to one CPU waited behind any other work there (the click
    timeouts of the Chromium suites): pinned apart, it keeps its priority; not pinned, it is left alone."""
    import os
    import subprocess
    import sys

    if (os.cpu_count() or 1) < 2:
        pytest.skip("pinning needs two CPUs")
    code = """
import os, subprocess, sys, json
from bench import loadtest
browser = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
app = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)  # streamlit"])
out = {}
for pinned in (True, False):
    how = loadtest.keep_browser_apart([app.pid], pinned)
    out[how] = {"cpus": sorted(os.sched_getaffinity(browser.pid)), "nice": os.getpriority(os.PRIO_PROCESS, browser.pid),
                "app_cpus": sorted(os.sched_getaffinity(app.pid))}
    loadtest.unpin([app.pid, browser.pid])
browser.kill(); app.kill()
print(json.dumps(out))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    found = json.loads(done.stdout.strip().splitlines()[-1])
    every = list(range(os.cpu_count()))
    assert found["app on CPU 0, browser on CPU 1"] == {"cpus": [1], "nice": 0, "app_cpus": [0]}
    assert found["not pinned"] == {"cpus": every, "nice": 0, "app_cpus": every}
