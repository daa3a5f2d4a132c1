"""The concurrency suite: crowds of simulated people (:mod:`bench.loadgen`, Streamlit's own protocol,
no browsers) against 1 and 2 app replicas, at the first-run demo scale and at scale 1.

For each database, replica count and pause (about 5 s between clicks, and none): 20, 50 and 100
people open the app all at once, sign in through the form, then each clicks `changes` times
(two financial-year changes for every page opened). Reported: p50/p95 of a click, of signing in,
errors, the app's CPU per click, the client's own CPU, and the saturation point (the fewest
sessions at which the p95 passes 1 s). Then the server CPU per rerun of each page (one person
alone), and one person's clicks timed by the protocol client against Chromium.

Settings (environment): STARVIZ_BENCH_SESSIONS ("20,50,100"), STARVIZ_BENCH_CHANGES (6),
STARVIZ_BENCH_CONCURRENCY_SCALES ("first-run,1").
"""

from __future__ import annotations

import os
from pathlib import Path

from bench import loadtest
from bench.core import _result, _run_child, _target
from starviz import config

PAGES = ("Overview", "Spend", "Benchmarking", "Collaboration", "Pipeline", "Social value", "KPIs", "Maturity", "Data quality")
SATURATED_S = 1.0  # p95 past this: the sessions are queueing
GIVE_UP_S = 15.0  # p95 past this: larger crowds on the same set-up are not run


def _database(scale: float, work: Path) -> Path:
    if scale == float(os.environ.get("STARVIZ_BENCH_SCALE", "1")) and (work / "star.duckdb").exists():
        return work / "star.duckdb"  # the bench's own demo database is at this scale
    db = work / f"concurrency-{scale:g}" / "star.duckdb"
    if not db.exists():
        db.parent.mkdir(parents=True, exist_ok=True)
        raw = db.parent / "raw"
        _run_child(
            "from starviz import build, demo\n"
            f"demo.generate({str(raw)!r}, scale={scale!r})\n"
            f"build.build(raw_dir={str(raw)!r}, db_path={str(db)!r})\n"
        )
    return db


def _scales() -> list[tuple[str, float]]:
    first = config.settings().demo_scale_first_run
    out = []
    for name in os.environ.get("STARVIZ_BENCH_CONCURRENCY_SCALES", "first-run,1").split(","):
        name = name.strip()
        if name:
            out.append(
                (
                    f"first-run scale {first:g}" if name == "first-run" else f"scale {name}",
                    first if name == "first-run" else float(name),
                )
            )
    return out


def concurrency(work: Path) -> list[dict]:
    sessions_list = [int(x) for x in os.environ.get("STARVIZ_BENCH_SESSIONS", "20,50,100").split(",") if x.strip()]
    changes = int(os.environ.get("STARVIZ_BENCH_CHANGES", "6"))
    think = config.settings().bench_think_seconds
    out: list[dict] = []
    for label, scale in _scales():
        db = _database(scale, work)
        for replicas in (1, 2):
            with loadtest.app_servers(db, work / "auth", replicas) as (urls, procs):
                loadtest.warm(urls)
                pids = [p.pid for p in procs]
                if replicas == 1:
                    out += _cpu_per_page(label, urls[0], pids)
                for pause in (think, 0.0):
                    out += _curve(label, urls, pids, replicas, pause, sessions_list, changes)
        # browser_agreement is a suite of its own
        if scale == config.settings().demo_scale_first_run and Path(NGINX).exists():
            out += _through_proxy(label, db, work, sessions_list, changes, think)
    return out


NGINX = "/usr/sbin/nginx"


def _through_proxy(label: str, db: Path, work: Path, sessions_list: list[int], changes: int, think: float) -> list[dict]:
    """deploy/serve.sh: two replicas behind nginx (sticky by cookie, websocket upgrade), the crowd
    through the proxy as people would come."""
    import signal
    import subprocess
    import sys

    port = loadtest.free_port()
    first = loadtest.free_port()
    serve = subprocess.Popen(
        ["bash", "deploy/serve.sh", "2", str(port), str(first)],
        cwd=config.ROOT,
        env={
            **os.environ,
            "PYTHON": sys.executable,
            "NGINX_BIN": NGINX,
            "STARVIZ_DB": str(db),
            "STARVIZ_AUTH_DIR": str(work / "auth"),
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    out = []
    try:
        line = serve.stdout.readline()  # the script says where it listens once everything is up
        while line and "starviz:" not in line:
            print(f"deploy/serve.sh: {line.rstrip()}")
            line = serve.stdout.readline()
        if not line:
            return []
        url = f"http://127.0.0.1:{port}"
        replicas = [pid for pid in _children(serve.pid) if "streamlit" in _cmdline(pid)]
        loadtest.warm([url, url])
        for n in sessions_list:
            r = loadtest.crowd([url], replicas, n, changes, think)
            how = f"concurrency @{label}, nginx + 2 replicas (deploy/serve.sh), ~{think:g} s pauses, {n} sessions"
            out += [
                _result(f"{how}: click p50", r["p50"], "s", None, "lower"),
                _result(f"{how}: click p95", r["p95"], "s", None, "lower"),
                _result(f"{how}: signing in, all at once, p95", r["sign_in_p95"], "s", None, "lower"),
                _result(f"{how}: errors", r["errors"], "count", None, "lower"),
            ]
    finally:
        serve.send_signal(signal.SIGTERM)
        serve.wait(timeout=30)
    return out


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _curve(label: str, urls, pids, replicas: int, pause: float, sessions_list: list[int], changes: int) -> list[dict]:
    out, saturation = [], None
    how_pause = f"~{pause:g} s pauses" if pause else "no pauses"
    for n in sessions_list:
        r = loadtest.crowd(urls, pids, n, changes, pause)
        how = f"concurrency @{label}, {replicas} replica(s), {how_pause}, {n} sessions"
        p95_target = None
        if replicas == 1 and pause and n == 20:
            p95_target = _target("concurrency_p95_s")
        elif pause and n == 50:
            p95_target = _target("concurrency_50_p95_s")  # replicas allowed: either count may meet it
        out += [
            _result(f"{how}: click p50", r["p50"], "s", None, "lower"),
            _result(f"{how}: click p95", r["p95"], "s", p95_target, "lower"),
            _result(f"{how}: filter change p95", r["filter_p95"], "s", None, "lower"),
            _result(f"{how}: page open p95", r["page_p95"], "s", None, "lower"),
            _result(
                f"{how}: signing in, all at once, p95",
                r["sign_in_p95"],
                "s",
                _target("sign_in_20_p95_s") if n == 20 and replicas == 1 and pause else None,
                "lower",
            ),
            _result(
                f"{how}: errors", r["errors"], "count", _target("concurrency_errors") if pause and n <= 50 else None, "lower"
            ),
            _result(f"{how}: app CPU per click", r.get("app_cpu_s_per_click", float("nan")), "s", None, "lower"),
            _result(f"{how}: load generator CPU per rerun", r["client_cpu_ms_per_rerun"], "ms", None, "lower"),
            _result(f"{how}: machine busy", 100 * r.get("machine_busy_share", float("nan")), "% of all cores", None, "lower"),
        ]
        if r["first_errors"]:
            print(f"{how}: first errors: {r['first_errors']}")
        if saturation is None and r["p95"] > SATURATED_S:
            saturation = n
        if r["p95"] > GIVE_UP_S:
            break
    out.append(
        _result(
            f"concurrency @{label}, {replicas} replica(s), {how_pause}: saturation "
            f"(fewest sessions with click p95 > {SATURATED_S:g} s)",
            saturation if saturation is not None else float("nan"),
            "sessions",
            None,
            "higher",
        )
    )
    return out


def _cpu_per_page(label: str, url: str, pids: list[int]) -> list[dict]:
    out = []
    for page, r in loadtest.cpu_per_rerun(url, pids, PAGES).items():
        out += [
            _result(f"server CPU per rerun @{label}: open {page}", r["open_cpu_s"], "s", None, "lower"),
            _result(f"server CPU per rerun @{label}: year changed on {page}", r["change_cpu_s"], "s", None, "lower"),
        ]
    return out


AGREE = 0.2  # the protocol client's median click within 20% of Chromium's, either way


def browser_agreement(work: Path) -> list[dict]:
    """One person at the first-run scale, the protocol client and Chromium click for click on one
    warm app (``python -m starviz bench --only browser_agreement``). Chromium's clicks are timed at
    the socket (:class:`bench.loadtest.WireClock`); the app pinned to CPU 0 and the browser to CPU 1
    unless STARVIZ_BENCH_PIN=0."""
    if not Path(loadtest.CHROMIUM).exists():
        return []
    first = config.settings().demo_scale_first_run
    return _agreement(f"first-run scale {first:g}", _database(first, work), work)


def _agreement(label: str, db: Path, work: Path) -> list[dict]:
    out = []
    pinned = os.environ.get("STARVIZ_BENCH_PIN", "1") != "0"
    with loadtest.app_servers(db, work / "auth") as (urls, procs):
        loadtest.warm(urls)
        found = loadtest.browser_agreement(urls[0], app_pids=[p.pid for p in procs], pinned=pinned)
    messages = found.pop("messages")
    how = f"{label}, {'app on CPU 0, browser on CPU 1' if messages['pinned'] else 'not pinned'}"
    ratios = []
    for what, r in found.items():
        ratios.append(r["ratio"])
        out += [
            _result(f"one person @{how}, {what}: protocol client, median", r["protocol_s"], "s", None, "lower"),
            _result(
                f"one person @{how}, {what}: Chromium, rerun_script to script_finished at the socket, median",
                r["chromium_s"],
                "s",
                None,
                "lower",
            ),
            _result(
                f"one person @{how}, {what}: Chromium, the same span by DevTools, median", r["devtools_s"], "s", None, "lower"
            ),
            _result(f"one person @{how}, {what}: Chromium, click to drawn, median", r["chromium_drawn_s"], "s", None, "lower"),
            _result(
                f"one person @{how}, {what}: protocol client through the relay, median (the relay's cost)",
                r["relay_s"],
                "s",
                None,
                "lower",
            ),
            _result(f"one person @{how}, {what}: protocol / Chromium", r["ratio"], "ratio", None, "higher"),
        ]
    out += [
        _result(
            f"one person @{how}: kinds of click whose protocol median is more than {AGREE:.0%} from Chromium's",
            sum(abs(r - 1) > AGREE for r in ratios),
            "count",
            None,
            "lower",
        ),
        _result(
            f"one person @{how}: clicks whose rerun_script carried other widget states than Chromium's",
            messages["differing"],
            f"of {messages['clicks']}",
            None,
            "lower",
        ),
    ]
    return out


def curve_markdown(results: list[dict]) -> list[str]:
    """PERFORMANCE.md's curve: people against the p95 of a click, per database, pause and replicas."""
    import re

    pattern = re.compile(
        r"concurrency @(?P<db>[^,]+), (?P<set>\d replica\(s\)|nginx \+ 2 replicas \(deploy/serve.sh\)), "
        r"(?P<pause>[^,]+), (?P<n>\d+) sessions: click p95$"
    )
    cells: dict[tuple[str, str], dict[int, dict[str, float]]] = {}
    sets: list[str] = []
    for r in results:
        m = pattern.match(r["name"])
        if m:
            cells.setdefault((m["db"], m["pause"]), {}).setdefault(int(m["n"]), {})[m["set"]] = r["value"]
            sets += [m["set"]] if m["set"] not in sets else []
    if not cells:
        return []
    lines = [
        "",
        "## Concurrency: people against the p95 of a click",
        "",
        "Simulated people on Streamlit's protocol (`bench/concurrency.py`), all opening the app at once, then",
        "clicking (filter changes and page opens). p95 in seconds; a blank is a crowd not run because a smaller",
        "one was already past 15 s.",
        "",
        "| database | pauses | people | " + " | ".join(sets) + " |",
        "|---|---|---:|" + "---:|" * len(sets),
    ]
    for (db, pause), by_n in cells.items():
        for n in sorted(by_n):
            row = " | ".join(f"{by_n[n][s]:.2f}" if s in by_n[n] else "" for s in sets)
            lines.append(f"| {db} | {pause} | {n} | {row} |")
    return lines
