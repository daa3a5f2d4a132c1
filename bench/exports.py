"""Chart exports and the Board pack: warm, first of a fresh process, and as cron makes it."""

from __future__ import annotations

import os
import time
from pathlib import Path

from bench.core import _result, _target
from starviz import config


def export_suite(work: Path) -> list[dict]:
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


def board_outputs(work: Path) -> list[dict]:
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


# Every line behind the Spend page's "everything in the filters" drill-down (all councils, all
# years, all spend), written as the download buttons write it: streamed from DuckDB in batches into a
# temporary file (CSV batch by batch; XLSX by XlsxWriter in constant-memory mode), then read once,
# as Streamlit's download button reads it into the copy it serves.
_DRILL_EXPORT_CHILD = """
import sys, time
from starviz import export, queries
from starviz.scope import Filters, User
kind = sys.argv[1]
ids = tuple(queries.councils()["council_id"])
scope = queries.Scope(Filters(councils=ids, all_councils=True, period="all", addressable_only=False),
                      User("director", "Director", "admin"))
lines = queries.drill_summary(scope, ())["count_shown"]
started = time.perf_counter()
batches = queries.drill_lines_batches(scope, (), "payment_date", True)
if kind == "csv":
    file = export.csv_file(batches)
else:
    file = export.xlsx_file(batches, "Spend lines", {"Filters": scope.filters.label})
with file:
    size = len(file.read())
print(lines, size, time.perf_counter() - started)
"""


def drilldown_export(work: Path) -> list[dict]:
    """The drill-down's CSV and XLSX of every line at the first query scale (about a million lines),
    or at each scale of `bench --sizes` (0.045: about 100,000 lines): seconds and the child's peak
    memory, which shows the lines are streamed, not held at once."""
    from bench import spend_cube
    from bench.core import _run_child

    results = []
    for scale in spend_cube.SIZES or config.settings().bench_query_scales[:1]:
        db = spend_cube.cube_database(scale, work)
        for kind in ("csv", "xlsx"):
            _, peak_mb, out = _run_child(_DRILL_EXPORT_CHILD.replace("sys.argv[1]", repr(kind)), env={"STARVIZ_DB": str(db)})
            lines, size, seconds = out.split()[-3:]
            label = f"drill-down {kind.upper()} export of every line ({int(lines):,} lines, {int(size) / 1e6:,.0f} MB)"
            results.append(_result(label, float(seconds), "s", None, "lower"))
            results.append(
                _result(f"drill-down {kind.upper()} export peak memory ({int(lines):,} lines)", peak_mb, "MB", None, "lower")
            )
    return results
