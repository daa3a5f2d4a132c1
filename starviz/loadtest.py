"""Concurrent browser sessions against real app processes (Playwright's async API on Chromium).

Each session signs in, then changes a filter `changes` times; the response time of a change is from
the click to the page's script having finished and the chart being drawn again.
"""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from starviz import config

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
IDLE = ("document.querySelector('[data-test-script-state]')?.getAttribute('data-test-script-state') "
        "=== 'notRunning'")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def app_servers(db: Path, auth_dir: Path, replicas: int = 1):
    """`replicas` app processes reading the same database file; yields their base URLs."""
    env = {**os.environ, "STARVIZ_DB": str(db), "STARVIZ_AUTH_DIR": str(auth_dir)}
    procs, urls = [], []
    for _ in range(replicas):
        port = free_port()
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
             "--server.headless", "true"], cwd=config.ROOT, env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        urls.append(f"http://127.0.0.1:{port}")
    try:
        for url in urls:
            port = int(url.rsplit(":", 1)[1])
            deadline = time.time() + 60
            while time.time() < deadline:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.2)
        yield urls, procs
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=15)


async def _session(browser, url: str, changes: int, timings: list[float], errors: list[str]) -> None:
    context = await browser.new_context(viewport={"width": 1400, "height": 900})
    page = await context.new_page()
    try:
        await page.goto(url, timeout=120_000)
        await page.get_by_role("textbox", name="Username").wait_for(timeout=120_000)
        await page.wait_for_function(IDLE, timeout=120_000)
        await page.get_by_role("textbox", name="Username").fill("director")
        await page.get_by_role("textbox", name="Password").fill("star-demo")
        await page.get_by_role("button", name="Sign in").click()
        await page.get_by_role("heading", name="Overview").first.wait_for(timeout=120_000)
        await page.wait_for_function(IDLE, timeout=120_000)
        for n in range(changes):
            started = time.perf_counter()
            await page.get_by_text("Addressable spend only").click()
            want = "true" if n % 2 == 0 else "false"
            await page.wait_for_function(f"window.location.search.includes('addressable=0') === {want}",
                                         timeout=60_000)
            await page.wait_for_function(IDLE, timeout=60_000)
            await page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
            timings.append(time.perf_counter() - started)
            if await page.locator("[data-testid='stException']").count():
                errors.append("exception shown on the page")
    except Exception as exc:  # a failed session is a result to count, not a crash of the benchmark
        errors.append(f"{type(exc).__name__}: {str(exc).splitlines()[0]}")
    finally:
        await context.close()


async def _run(urls: list[str], sessions: int, changes: int) -> tuple[list[float], list[str]]:
    from playwright.async_api import async_playwright

    timings: list[float] = []
    errors: list[str] = []
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM,
                                          args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        await asyncio.gather(*(_session(browser, urls[i % len(urls)], changes, timings, errors)
                               for i in range(sessions)))
        await browser.close()
    return timings, errors


def run(db: Path, auth_dir: Path, sessions: int = 20, changes: int = 10, replicas: int = 1) -> dict:
    """p50/p95 response and error count for `sessions` concurrent users on `replicas` app processes."""
    with app_servers(db, auth_dir, replicas) as (urls, _):
        timings, errors = asyncio.run(_run(urls, sessions, changes))
    ordered = sorted(timings)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)] if ordered else float("nan")
    return {"p50": statistics.median(ordered) if ordered else float("nan"), "p95": p95,
            "errors": len(errors), "responses": len(timings), "first_errors": errors[:3]}
