"""The bench's bookkeeping: a result, its target, a child process and its peak memory, the
results file and docs/PERFORMANCE.md, and what question a page function asks (through
``starviz.queries.db.traced``, the hook the app offers for this)."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time

from starviz import config

RESULTS = config.ROOT / "bench" / "results.json"
PERFORMANCE_MD = config.ROOT / "docs" / "PERFORMANCE.md"


def _target(name: str) -> float:
    """A target from the issues, kept in data/settings.toml ([bench_targets])."""
    return config.settings().bench_targets[name]


def _result(name: str, value: float, unit: str, target: float | None, better: str) -> dict:
    return {"name": name, "value": round(value, 3), "unit": unit, "target": target, "better": better}


# Linux keeps a process's peak RSS from before exec, so a child forked straight from a large
# benchmark process would report the parent's memory: a small wrapper starts the real child and
# reports the peak of that child alone (wait4).
_PEAK_WRAPPER = (
    "import os, subprocess, sys\n"
    "child = subprocess.Popen(sys.argv[1:])\n"
    "_, status, usage = os.wait4(child.pid, 0)\n"
    "sys.stderr.write(f'\\n__peak_kb__={usage.ru_maxrss}\\n')\n"
    "sys.exit(os.waitstatus_to_exitcode(status))\n"
)


# Query timings are DuckDB's: children and this process run with the app's answer cache off, or a
# repeated question would time a dictionary lookup. The app servers the browser suites start are
# left as deployed (cache on).
NO_ANSWER_CACHE = {"STARVIZ_QUERY_CACHE_ENTRIES": "0"}


def _run_child(code: str, env: dict | None = None) -> tuple[float, float, str]:
    """Run Python code in a child (answer cache off); return (seconds, that child's own peak RSS in MB,
    stdout)."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _PEAK_WRAPPER, sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=config.ROOT,
        env={**os.environ, **NO_ANSWER_CACHE, **(env or {})},
    )
    seconds = time.perf_counter() - started
    if done.returncode:
        raise subprocess.CalledProcessError(done.returncode, code, done.stdout, done.stderr)
    peak_kb = int(done.stderr.rsplit("__peak_kb__=", 1)[1].split()[0])
    return seconds, peak_kb / 1024, done.stdout


def _meets(r: dict) -> str:
    if r["target"] is None:
        return ""
    ok = r["value"] <= r["target"] if r["better"] == "lower" else r["value"] >= r["target"]
    return "yes" if ok else "**no**"


def write_performance_md(report: dict) -> None:
    """docs/PERFORMANCE.md: the latest table and the machine it ran on."""
    m = report["machine"]
    lines = [
        "# Performance",
        "",
        f"Latest `python -m starviz bench` run: {report['run_at']}, on {m['platform']}, {m['cpus']} CPUs, "
        f"Python {m['python']}. Figures are written by the benchmark itself; do not edit by hand.",
        "",
        "| measure | value | unit | target | met | measured |",
        "|---|---:|---|---:|---|---|",
    ]
    for r in report["results"]:
        target = "" if r["target"] is None else f"{'≤' if r['better'] == 'lower' else '≥'} {r['target']:g}"
        whole = r["unit"] == "count" or r["unit"].startswith("sessions")  # counted in whole things
        value = f"{r['value']:,.0f}" if whole else f"{r['value']:,.3f}"
        lines.append(f"| {r['name']} | {value} | {r['unit']} | {target} | {_meets(r)} | {r.get('run_at', report['run_at'])} |")
    from bench.concurrency import curve_markdown

    lines += curve_markdown(report["results"])
    PERFORMANCE_MD.write_text("\n".join(lines) + "\n")


def machine() -> dict:
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "processor": platform.processor() or platform.machine(),
    }


def _seconds(ask) -> float:
    """How long ``ask()`` takes, in seconds."""
    started = time.perf_counter()
    ask()
    return time.perf_counter() - started


def _first_query(ask) -> tuple[str, list]:
    """The SQL and parameters of the first question ``ask()`` puts to DuckDB (answer cache off)."""
    from starviz.queries import db

    asked: list[tuple[str, list]] = []
    with db.traced(lambda sql, params: asked.append((sql, params))):
        ask()
    return asked[0]
