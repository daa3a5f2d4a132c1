"""Shared pieces of the browser tests: the real app served by `streamlit run`, driven by Debian's Chromium."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from starviz import config
from starviz.loadtest import CHROMIUM, CHROMIUM_ARGS, IDLE, free_port  # noqa: F401  (shared with the tests)

ARTIFACTS = config.ROOT / "tests" / "artifacts"


@contextmanager
def serve_app(work: Path, **env: str) -> Iterator[str]:
    """`streamlit run app.py` with these STARVIZ_* settings; yields its address. Log in `work`."""
    port = free_port()
    log = (work / "streamlit.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
         "--server.headless", "true"],
        cwd=config.ROOT, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.3)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=15)
        log.close()


def sign_in(page, username: str = "director", lands_on: str = "Overview") -> None:
    """Fill the login form and wait until the app shows the page `lands_on` and the browser holds the
    sign-in cookie."""
    page.get_by_role("textbox", name="Username").wait_for(timeout=120_000)
    page.get_by_role("textbox", name="Username").fill(username)
    page.get_by_role("textbox", name="Password").fill("star-demo")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name=lands_on).first.wait_for(timeout=60_000)
    page.wait_for_function(IDLE, timeout=60_000)
    page.wait_for_function("document.cookie.includes('starviz_auth=')", timeout=10_000)


def open_page(page, address: str, ready) -> None:
    """Go to an address of the signed-in app (the cookie signs the new session in) and wait for `ready`."""
    page.goto(address, timeout=60_000)
    ready.wait_for(timeout=60_000)
    page.wait_for_function(IDLE, timeout=60_000)


def screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)
