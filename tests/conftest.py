from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest

from starviz import build, config
from tests.fixtures.extracts import write_raw

SAMPLES = config.ROOT.parent / "shared" / "samples"
# Every partner council the configuration lists (STAR, the shared service, aside): a director's "all
# councils". Tests take it from here, so a partner added by one TOML file changes no test.
ALL = tuple(cid for cid, cc in config.load_councils().items() if cc.kind == "council")


def partners_without_files(raw: Path) -> dict[str, config.CouncilConfig]:
    """The configured partners the extracts under `raw` hold nothing for (as one added by a TOML file
    alone): the pages list them as awaiting their first file, with no months loaded."""
    configured = config.load_councils()
    return {cid: configured[cid] for cid in ALL if not (raw / cid).exists()}


@pytest.fixture(scope="session")
def councils():
    return config.load_councils()


@pytest.fixture(scope="session")
def fixture_raw(tmp_path_factory) -> Path:
    return write_raw(tmp_path_factory.mktemp("raw"))


@pytest.fixture(scope="session")
def fixture_build(fixture_raw, tmp_path_factory) -> build.BuildSummary:
    db = tmp_path_factory.mktemp("db") / "star.duckdb"
    return build.build(raw_dir=fixture_raw, db_path=db)


@pytest.fixture()
def db(fixture_build) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(fixture_build.db_path), read_only=True)
    yield con
    con.close()


def sample(*parts: str) -> Path:
    path = SAMPLES.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real sample not available: {path}")
    return path


@contextmanager
def app_on(db_path: Path, monkeypatch, tmp_path: Path):
    """The app and ``starviz.queries`` pointed at `db_path`, with demo accounts in a temporary folder."""
    monkeypatch.setenv("STARVIZ_DB", str(db_path))
    monkeypatch.setenv("STARVIZ_AUTH_DIR", str(tmp_path / "auth"))
    config.settings.cache_clear()
    yield
    config.settings.cache_clear()


@pytest.fixture()
def staging_in_tmp(tmp_path, monkeypatch):
    """Staged uploads live beside the database: keep a test's away from the repository."""
    monkeypatch.setenv("STARVIZ_DB", str(tmp_path / "no-database" / "star.duckdb"))
    config.settings.cache_clear()
    yield
    getattr(config.settings, "cache_clear", lambda: None)()  # a test may have replaced settings


@pytest.fixture()
def app_env(fixture_build, monkeypatch, tmp_path):
    """The app pointed at the fixture database."""
    with app_on(fixture_build.db_path, monkeypatch, tmp_path):
        yield


def run_app(username: str | None, page: str | None = None, **params: str):
    """An AppTest of app.py signed in as `username` (None: signed out), optionally on `page`
    (e.g. "pages/spend.py"), with the given query parameters."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(config.ROOT / "app.py"), default_timeout=60)
    if username:
        at.session_state["authentication_status"] = True
        at.session_state["username"] = username
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    if page:
        at.switch_page(page).run()
    return at


# --- collaboration, pipeline and exception reports: a second fixture build with more rows ---------


@pytest.fixture(scope="session")
def pipeline_build(tmp_path_factory) -> build.BuildSummary:
    from tests.fixtures.extracts import write_pipeline_raw

    raw = write_pipeline_raw(tmp_path_factory.mktemp("pipeline-raw"))
    return build.build(raw_dir=raw, db_path=tmp_path_factory.mktemp("pipeline-db") / "star.duckdb")


@pytest.fixture()
def pipeline_env(pipeline_build, monkeypatch, tmp_path):
    """The app and ``starviz.queries`` pointed at the pipeline fixture database."""
    with app_on(pipeline_build.db_path, monkeypatch, tmp_path):
        yield pipeline_build


# --- browser tests: one Chromium page per test (see tests/browser.py) ----------------------------
@pytest.fixture()
def page():
    from playwright.sync_api import sync_playwright

    from tests.browser import CHROMIUM, CHROMIUM_ARGS

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1600, "height": 1200})
        yield context.new_page()
        browser.close()
