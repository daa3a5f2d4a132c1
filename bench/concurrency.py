"""The concurrency suite: crowds of simulated people (:mod:`bench.loadgen`, Streamlit's own protocol,
no browsers) against 1 and 2 app replicas, at the first-run demo scale and at scale 1.

For each database, replica count and pause (about 5 s between clicks, and none): 20, 50 and 100
people open the app all at once, sign in through the form, then each clicks `changes` times
(two financial-year changes for every page opened). Reported: p50/p95 of a click, of signing in,
errors, the app's CPU per click, the client's own CPU, and the saturation point (the fewest
sessions at which the p95 passes 1 s). Then the server CPU per rerun of each page (one person
alone). Two replicas are also run behind nginx (deploy/serve.sh) with the same pauses. One person's
clicks timed by the protocol client against Chromium is a suite of its own (browser_agreement).

Settings (environment), to run a part: STARVIZ_BENCH_SESSIONS ("20,50,100"), STARVIZ_BENCH_CHANGES
(6), STARVIZ_BENCH_CONCURRENCY_SCALES ("first-run,1"), STARVIZ_BENCH_SETUPS ("1,2,nginx": one
replica, two without a proxy, two behind nginx at the first-run scale), STARVIZ_BENCH_PAUSES
(seconds, "5,0": the settings' think time, and none). A set-up that fails is reported and the
others' figures kept.
"""

from __future__ import annotations

import os
from functools import partial
from pathlib import Path

from bench import loadtest
from bench.core import _result, _run_child, _target
from starviz import config

PAGES = ("Overview", "Spend", "Benchmarking", "Collaboration", "Pipeline", "Social value", "KPIs", "Maturity", "Data quality")
SATURATED_S = 1.0  # p95 past this: the sessions are queueing
# A saturation not reached: its value is then the largest crowd run, every one under SATURATED_S.
NOT_REACHED = "sessions run, p95 never past 1 s"
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


def _setups() -> list[str]:
    return [x.strip() for x in os.environ.get("STARVIZ_BENCH_SETUPS", "1,2,nginx").split(",") if x.strip()]


def concurrency(work: Path) -> list[dict]:
    sessions_list = [int(x) for x in os.environ.get("STARVIZ_BENCH_SESSIONS", "20,50,100").split(",") if x.strip()]
    changes = int(os.environ.get("STARVIZ_BENCH_CHANGES", "6"))
    think = config.settings().bench_think_seconds
    pauses = [float(x) for x in os.environ.get("STARVIZ_BENCH_PAUSES", f"{think:g},0").split(",") if x.strip()]
    setups = _setups()
    out: list[dict] = []
    failed: list[str] = []

    def part(what: str, measure) -> None:
        """One set-up's figures; a failure loses that set-up only (said at the end), not the suite."""
        try:
            out.extend(measure())
        except Exception as exc:
            failed.append(f"{what}: {type(exc).__name__}: {exc}")
            print(f"concurrency: {what} failed, its figures left out: {type(exc).__name__}: {exc}", flush=True)

    for label, scale in _scales():
        db = _database(scale, work)
        for replicas in (1, 2):
            if str(replicas) in setups:
                how = f"{label}, {replicas} replica(s)"
                part(how, partial(_direct, label, db, work, replicas, pauses, sessions_list, changes))
        # (browser_agreement is a suite of its own)
        if "nginx" in setups and scale == config.settings().demo_scale_first_run and Path(NGINX).exists():
            # with the pauses the replicas without a proxy had (people reading), so the two compare like for like
            part(f"{label}, nginx", partial(_through_proxy, label, db, work, sessions_list, changes, [p for p in pauses if p]))
    if failed:
        out.append(_result("concurrency: set-ups that failed (see the log)", len(failed), "count", 0, "lower"))
    return out


def _direct(label: str, db: Path, work: Path, replicas: int, pauses, sessions_list, changes) -> list[dict]:
    """`replicas` app processes started here, the crowd's sessions dealt round them in turn."""
    out = []
    with loadtest.app_servers(db, work / "auth", replicas) as (urls, procs):
        loadtest.warm(urls)
        pids = [p.pid for p in procs]
        loadtest.settle(pids)
        if replicas == 1:
            out += _cpu_per_page(label, urls[0], pids)
        for pause in pauses:
            out += _curve(label, f"{replicas} replica(s)", urls, pids, pause, sessions_list, changes)
    return out


NGINX = "/usr/sbin/nginx"
PROXIED = "nginx + 2 replicas (deploy/serve.sh)"


def _through_proxy(label: str, db: Path, work: Path, sessions_list: list[int], changes: int, pauses) -> list[dict]:
    """deploy/serve.sh: two replicas behind nginx (sticky by cookie, websocket upgrade), the crowd
    through the proxy as people would come. Each replica is warmed directly first (through the
    proxy, a warming session lands where nginx's cookie hash sends it, maybe both on one), and the
    figures are those of the replicas without a proxy, nginx's CPU counted as the app's."""
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
            raise RuntimeError("deploy/serve.sh stopped before it said where it listens")
        url = f"http://127.0.0.1:{port}"
        replicas = [pid for pid in _children(serve.pid) if "streamlit" in _cmdline(pid)]
        run_dir = Path(line.rsplit("(logs in ", 1)[1].rstrip(")\n ")) if "(logs in " in line else None
        nginx = []
        if run_dir is not None and (run_dir / "nginx.pid").exists():
            master = int((run_dir / "nginx.pid").read_text().split()[0])
            nginx = [master, *_children(master)]
        loadtest.warm([f"http://127.0.0.1:{first}", f"http://127.0.0.1:{first + 1}"])
        loadtest.settle(replicas + nginx)
        for pause in pauses:
            out += _curve(label, PROXIED, [url], replicas, pause, sessions_list, changes, proxy=nginx)
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


def _curve(label: str, setup: str, urls, pids, pause: float, sessions_list: list[int], changes: int, proxy=()) -> list[dict]:
    out, saturation, largest = [], None, 0
    how_pause = f"~{pause:g} s pauses" if pause else "no pauses"
    for n in sessions_list:
        r = loadtest.crowd(urls, pids, n, changes, pause, proxy=proxy)
        how = f"concurrency @{label}, {setup}, {how_pause}, {n} sessions"
        p95_target = None
        if setup == "1 replica(s)" and pause and n == 20:
            p95_target = _target("concurrency_p95_s")
        elif pause and n == 50:
            p95_target = _target("concurrency_50_p95_s")  # replicas allowed: any set-up may meet it
        nan = float("nan")
        out += [
            _result(f"{how}: click p50", r["p50"], "s", None, "lower"),
            _result(f"{how}: click p95", r["p95"], "s", p95_target, "lower"),
            _result(f"{how}: filter change p95", r["filter_p95"], "s", None, "lower"),
            _result(f"{how}: page open p95", r["page_p95"], "s", None, "lower"),
            _result(
                f"{how}: signing in, all at once, p95",
                r["sign_in_p95"],
                "s",
                _target("sign_in_20_p95_s") if n == 20 and setup == "1 replica(s)" and pause else None,
                "lower",
            ),
            _result(
                f"{how}: errors", r["errors"], "count", _target("concurrency_errors") if pause and n <= 50 else None, "lower"
            ),
            _result(f"{how}: app CPU per click", r.get("app_cpu_s_per_click", nan), "s", None, "lower"),
            _result(f"{how}: load generator CPU per rerun", r["client_cpu_ms_per_rerun"], "ms", None, "lower"),
            _result(f"{how}: load generator CPU", 100 * r["client_cpu_share_of_a_core"], "% of one core", None, "lower"),
            _result(f"{how}: machine busy", 100 * r.get("machine_busy_share", nan), "% of all cores", None, "lower"),
            _result(
                f"{how}: other processes (not the app, not the load generator)",
                100 * r.get("other_cpu_share", nan),
                "% of all cores",
                None,
                "lower",
            ),
        ]
        if len(pids) > 1:
            out.append(
                _result(f"{how}: sessions on the busiest replica", 100 * r.get("busiest_replica_share", nan), "%", None, "lower")
            )
        if r["first_errors"]:
            print(f"{how}: first errors: {r['first_errors']}")
        largest = n
        if saturation is None and r["p95"] > SATURATED_S:
            saturation = n
        if r["p95"] > GIVE_UP_S:
            break
    out.append(
        _result(
            f"concurrency @{label}, {setup}, {how_pause}: saturation (fewest sessions with click p95 > {SATURATED_S:g} s)",
            saturation if saturation is not None else largest,
            "sessions" if saturation is not None else NOT_REACHED,
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
    unless STARVIZ_BENCH_PIN=0. A Chromium click that fails is counted (with where its screenshot
    went), not fatal: the figures measured are kept."""
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
    how = f"{label}, {messages['placed'] or 'no browser'}"
    ratios = []
    for what, r in found.items():
        ratios.append(r["ratio"])  # NaN: Chromium measured none of this kind (failed clicks), so not in agreement
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
            sum(not abs(r - 1) <= AGREE for r in ratios),
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
        _result(
            f"one person @{how}: Chromium year choices whose select box had to be clicked twice",
            messages["reopened"],
            "count",
            None,
            "lower",
        ),
        _result(
            f"one person @{how}: Chromium clicks that failed (not made, answered or drawn in time)",
            len(messages["failed"]),
            "count",
            0,
            "lower",
        ),
    ]
    for failure in messages["failed"]:
        print(f"browser_agreement: {failure}")
    return out


_SHOWN = {"1 replica(s)": "1 replica", "2 replica(s)": "2 replicas, no proxy", PROXIED: "2 replicas behind nginx"}


def curve_markdown(results: list[dict]) -> list[str]:
    """PERFORMANCE.md's curve: people against the p95 of a click, per database and pause, one column
    per set-up (1 replica, 2 replicas, 2 behind nginx); the saturation point of each; the load
    generator's own CPU; runs that other work on the machine disturbed; and the server CPU per
    rerun of each page."""
    import re

    setup = r"\d replica\(s\)|nginx \+ 2 replicas \(deploy/serve.sh\)"
    run = re.compile(rf"concurrency @(?P<db>[^,]+), (?P<set>{setup}), (?P<pause>[^,]+), (?P<n>\d+) sessions: (?P<what>.+)$")
    saturated = re.compile(rf"concurrency @(?P<db>[^,]+), (?P<set>{setup}), (?P<pause>[^,:]+): saturation")
    per_page = re.compile(r"server CPU per rerun @(?P<db>[^:]+): (?P<what>open|year changed on) (?P<page>.+)$")
    cells: dict[tuple[str, str], dict[int, dict[str, float]]] = {}
    saturation: dict[tuple[str, str], dict[str, float | str]] = {}
    client: list[tuple[float, float, str]] = []
    disturbed: list[str] = []
    pages: dict[str, dict[str, dict[str, float]]] = {}
    sets: list[str] = []
    for r in results:
        if m := run.match(r["name"]):
            key = (m["db"], m["pause"])
            if m["what"] == "click p95":
                cells.setdefault(key, {}).setdefault(int(m["n"]), {})[m["set"]] = r["value"]
                sets += [m["set"]] if m["set"] not in sets else []
            elif m["what"] == "load generator CPU":
                client.append((int(m["n"]), r["value"], f"{_SHOWN.get(m['set'], m['set'])}, {m['pause']}"))
            elif m["what"].startswith("other processes") and r["value"] > 10:
                disturbed.append(f"{m['db']}, {_SHOWN.get(m['set'], m['set'])}, {m['pause']}, {m['n']} people: {r['value']:.0f}%")
        elif m := saturated.match(r["name"]):
            reached = r["unit"] != NOT_REACHED
            saturation.setdefault((m["db"], m["pause"]), {})[m["set"]] = r["value"] if reached else f"none up to {r['value']:g}"
        elif m := per_page.match(r["name"]):
            pages.setdefault(m["db"], {}).setdefault(m["page"], {})[m["what"]] = r["value"]
    if not cells and not pages:
        return []
    order = sorted(sets, key=lambda x: (x.startswith("nginx"), x))
    lines = [
        "",
        "## Concurrency: people against the p95 of a click, for 1 and 2 replicas",
        "",
        "`python -m starviz bench --only concurrency` (`bench/concurrency.py`): simulated people on Streamlit's own",
        "protocol, no browsers, all opening the app at once and signing in through the form, then clicking (filter",
        "changes and page opens) with about the pause shown between clicks. p95 of a click in seconds; a blank is a",
        "crowd not run (a smaller one was already past 15 s, or the set-up was not chosen). Saturation: the fewest",
        "people at which the p95 passes 1 s (none up to N: not reached by the largest crowd run, N).",
        "",
        "| database | pauses | people | " + " | ".join(_SHOWN.get(s, s) for s in order) + " |",
        "|---|---|---:|" + "---:|" * len(order),
    ]
    for (db, pause), by_n in cells.items():
        for n in sorted(by_n):
            row = " | ".join(f"{by_n[n][s]:.2f}" if s in by_n[n] else "" for s in order)
            lines.append(f"| {db} | {pause} | {n} | {row} |")
        sat = saturation.get((db, pause), {})
        row = " | ".join(f"{sat[s]:g}" if isinstance(sat.get(s), float | int) else sat.get(s, "") for s in order)
        lines.append(f"| {db} | {pause} | **saturation** | {row} |")
    if client:
        n, share, where = max(client)
        lines += [
            "",
            f"The load generator's own CPU: at most {max(c[1] for c in client):.0f}% of one core in any run; "
            f"{share:.0f}% with {n} people ({where}).",
        ]
    if disturbed:
        lines += [
            "",
            "Runs during which other processes (neither the app nor the load generator) used more than 10% of the",
            "machine, so not comparable with the rest: " + "; ".join(disturbed) + ".",
        ]
    for db, by_page in pages.items():
        lines += [
            "",
            f"Server CPU per rerun, one person alone @{db} (seconds, median):",
            "",
            "| page | open | year changed |",
            "|---|---:|---:|",
        ]
        for page, v in by_page.items():
            lines.append(f"| {page} | {v.get('open', float('nan')):.3f} | {v.get('year changed on', float('nan')):.3f} |")
    return lines
