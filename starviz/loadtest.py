"""Concurrent browser sessions against real app processes (Playwright's async API on Chromium).

Each session signs in, then changes a filter `changes` times, pausing between changes as a person
reading the page would; the response time of a change is from the click to the page's script having
finished and the chart being drawn again.
"""

from __future__ import annotations

import asyncio
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

from starviz import config

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
IDLE = "document.querySelector('[data-test-script-state]')?.getAttribute('data-test-script-state') === 'notRunning'"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_app(url: str, seconds: float = 60) -> None:
    """Until something listens on the port of `url` (the app server has started), at most `seconds`."""
    port = int(url.rsplit(":", 1)[1])
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)


def start_app(env: dict[str, str], log=None) -> tuple[subprocess.Popen, str]:
    """`streamlit run app.py` with these extra environment settings; (process, base URL). Output goes
    to the open file `log`, or nowhere."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port), "--server.headless", "true"],
        cwd=config.ROOT,
        env={**os.environ, **env},
        stdout=log or subprocess.DEVNULL,
        stderr=subprocess.STDOUT if log else subprocess.DEVNULL,
    )
    return proc, f"http://127.0.0.1:{port}"


@contextmanager
def app_servers(db: Path, auth_dir: Path, replicas: int = 1):
    """`replicas` app processes reading the same database file; yields their base URLs."""
    started = [start_app({"STARVIZ_DB": str(db), "STARVIZ_AUTH_DIR": str(auth_dir)}) for _ in range(replicas)]
    procs, urls = [p for p, _ in started], [u for _, u in started]
    try:
        for url in urls:
            wait_for_app(url)
        yield urls, procs
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=15)


def sign_in(page, username: str = "director", lands_on: str = "Overview", timeout_ms: int = 120_000) -> None:
    """Fill the login form (Playwright's sync API) and wait until the app shows the page `lands_on`,
    has finished running and the browser holds the sign-in cookie."""
    from starviz.auth import COOKIE_NAME, DEMO_PASSWORD

    page.get_by_role("textbox", name="Username").wait_for(timeout=timeout_ms)
    page.get_by_role("textbox", name="Username").fill(username)
    page.get_by_role("textbox", name="Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name=lands_on).first.wait_for(timeout=timeout_ms)
    page.wait_for_function(IDLE, timeout=timeout_ms)
    page.wait_for_function(f"document.cookie.includes('{COOKIE_NAME}=')", timeout=30_000)


class _Gate:
    """Opens when every session has opened the app (or failed to): the filter changes are timed with
    all the sessions open at once, not while others are still loading the app."""

    def __init__(self, sessions: int, on_open: Callable[[], None]):
        self.left, self.event, self.on_open = sessions, asyncio.Event(), on_open

    def arrive(self) -> None:
        self.left -= 1
        if self.left == 0:
            self.on_open()
            self.event.set()


async def _session(
    browser,
    url: str,
    changes: int,
    timings: list[float],
    errors: list[str],
    openings: list[float],
    think: Callable[[], float],
    gate: _Gate,
) -> None:
    """One person: opens the app, signs in, waits for the overview's chart (the first visit loads
    the chart library), waits for everyone else to have opened it too, then changes a filter
    `changes` times, reading the page for `think()` seconds before each change. The opening and the
    filter changes are timed apart: the first is paid once a visit, the second on every click."""
    from starviz.auth import DEMO_PASSWORD

    context = await browser.new_context(viewport={"width": 1400, "height": 900})
    page = await context.new_page()
    arrived = False
    try:
        started = time.perf_counter()
        await page.goto(url, timeout=120_000)
        await page.get_by_role("textbox", name="Username").wait_for(timeout=120_000)
        await page.wait_for_function(IDLE, timeout=120_000)
        await page.get_by_role("textbox", name="Username").fill("director")
        await page.get_by_role("textbox", name="Password").fill(DEMO_PASSWORD)
        await page.get_by_role("button", name="Sign in").click()
        await page.get_by_role("heading", name="Overview").first.wait_for(timeout=120_000)
        await page.wait_for_function(IDLE, timeout=120_000)
        await page.locator(".js-plotly-plot").first.wait_for(timeout=120_000)
        openings.append(time.perf_counter() - started)
        arrived = True
        gate.arrive()
        await gate.event.wait()
        for n in range(changes):
            await asyncio.sleep(think())
            started = time.perf_counter()
            await page.get_by_text("Addressable spend only").click()
            want = "true" if n % 2 == 0 else "false"
            await page.wait_for_function(f"window.location.search.includes('addressable=0') === {want}", timeout=60_000)
            await page.wait_for_function(IDLE, timeout=60_000)
            await page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
            timings.append(time.perf_counter() - started)
            if await page.locator("[data-testid='stException']").count():
                errors.append("exception shown on the page")
    except Exception as exc:  # a failed session is a result to count, not a crash of the benchmark
        errors.append(f"{type(exc).__name__}: {str(exc).splitlines()[0]}")
    finally:
        if not arrived:
            gate.arrive()
        await context.close()


async def _run(
    urls: list[str], sessions: int, changes: int, think_seconds: float, on_open: Callable[[], None]
) -> tuple[list[float], list[str], list[float]]:
    from playwright.async_api import async_playwright

    timings: list[float] = []
    errors: list[str] = []
    openings: list[float] = []
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        gate = _Gate(sessions, on_open)
        await asyncio.gather(
            *(
                _session(browser, urls[i % len(urls)], changes, timings, errors, openings, _thinker(i, think_seconds), gate)
                for i in range(sessions)
            )
        )
        await browser.close()
    return timings, errors, openings


def percentile(values: list[float], q: float) -> float:
    """The value at rank q (0-1) of the sorted values, nearest rank; NaN for none. The bench's one
    definition of p50/p95."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))] if ordered else float("nan")


def _thinker(session: int, mean: float) -> Callable[[], float]:
    """A person's pauses between clicks: on average `mean` seconds, each between half and one and a
    half times that, different for every session (seeded, so runs repeat) so that the sessions do
    not click in step. A mean of 0 clicks again as soon as the page has answered."""
    rng = random.Random(session)
    return lambda: mean * rng.uniform(0.5, 1.5)


def _cpu_seconds(pids: list[int]) -> float:
    """CPU time (user and system) these processes have used so far."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def _busy_seconds() -> float:
    """CPU time the whole machine has spent busy so far (every core; idle and I/O wait left out)."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, Path("/proc/stat").read_text().split()[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def run(db: Path, auth_dir: Path, sessions: int = 20, changes: int = 10, replicas: int = 1, think_seconds: float = 0.0) -> dict:
    """p50/p95 response to a filter change and error count for `sessions` concurrent users on
    `replicas` app processes, each pausing about `think_seconds` between changes; with the p95 of
    opening the app (sign-in to the first chart drawn), and, while the changes ran, how busy the
    machine was and the app processes' share of that (the rest is the browsers and the harness,
    which share the machine with the app here)."""
    marks: dict[str, tuple[float, float, float]] = {}
    with app_servers(db, auth_dir, replicas) as (urls, procs):
        pids = [p.pid for p in procs]

        def mark(name: str) -> None:
            marks[name] = (time.perf_counter(), _busy_seconds(), _cpu_seconds(pids))

        timings, errors, openings = asyncio.run(_run(urls, sessions, changes, think_seconds, lambda: mark("open")))
        mark("end")
    out = {
        "p50": statistics.median(timings) if timings else float("nan"),
        "p95": percentile(timings, 0.95),
        "errors": len(errors),
        "responses": len(timings),
        "first_errors": errors[:3],
        "opening_p95": percentile(openings, 0.95),
    }
    if "open" in marks:
        (t0, busy0, app0), (t1, busy1, app1) = marks["open"], marks["end"]
        out["machine_busy_share"] = (busy1 - busy0) / ((t1 - t0) * (os.cpu_count() or 1))
        out["app_cpu_share"] = (app1 - app0) / max(busy1 - busy0, 1e-9)
    return out
