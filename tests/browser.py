"""Shared pieces of the browser tests: the real app served by `streamlit run`, driven by Debian's Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench import loadtest
from bench.loadtest import CHROMIUM, CHROMIUM_ARGS, IDLE, start_app, wait_for_app  # noqa: F401
from starviz import config

ARTIFACTS = config.ROOT / "tests" / "artifacts"


@contextmanager
def serve_app(work: Path, **env: str) -> Iterator[str]:
    """`streamlit run serve.py` (as `make run`) with these STARVIZ_* settings; yields its address. Log in `work`."""
    with (work / "streamlit.log").open("w") as log:
        server, url = start_app(env, log)
        wait_for_app(url)
        try:
            yield url
        finally:
            server.terminate()
            server.wait(timeout=15)


@contextmanager
def serve_import_app(work: Path, raw: Path) -> Iterator[str]:
    """:func:`serve_app` on a database built from ``raw``, with the reference folder, raw folder
    and accounts in ``work`` (an import writes to them); yields its address."""
    import shutil

    from starviz import build

    shutil.copytree(config.DATA_DIR / "reference", work / "reference")
    build.build(raw_dir=raw, db_path=work / "star.duckdb")
    with serve_app(
        work,
        STARVIZ_DB=str(work / "star.duckdb"),
        STARVIZ_RAW=str(raw),
        STARVIZ_REFERENCE=str(work / "reference"),
        STARVIZ_AUTH_DIR=str(work / "auth"),
    ) as url:
        yield url


def sign_in(page, username: str = "director", lands_on: str = "Overview") -> None:
    """Fill the login form and wait until the app shows the page `lands_on` and the browser holds the
    sign-in cookie."""
    loadtest.sign_in(page, username, lands_on, timeout_ms=60_000)


def open_page(page, address: str, ready) -> None:
    """Go to an address of the signed-in app (the cookie signs the new session in) and wait for `ready`."""
    page.goto(address, timeout=60_000)
    ready.wait_for(timeout=60_000)
    page.wait_for_function(IDLE, timeout=60_000)


def screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)
