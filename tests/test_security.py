"""No way in without login, no way round the council scope, nothing secret in the repository."""

from __future__ import annotations

import inspect
import re
import subprocess

import duckdb
import pandas as pd
import pytest

from starviz import config, queries
from starviz.scope import Filters, User
from tests.conftest import ALL, run_app

PAGES = sorted(p.relative_to(config.ROOT).as_posix() for p in (config.ROOT / "pages").glob("*.py"))
TRAFFORD = User("trafford.officer", "Officer", "analyst", ("trafford",))


@pytest.mark.parametrize("page", PAGES)
def test_every_page_refuses_without_login_even_by_direct_address(app_env, page):
    at = run_app(None)
    assert not at.exception
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(page)
    assert [t.value for t in at.title] == [] and len(at.text_input) == 2


@pytest.mark.parametrize(
    "params",
    [
        {"councils": "stockport'); drop table fct_spend; --"},
        {"fy": "2025-26' or '1'='1"},
        {"from": "2025-04'; delete from raw_spend; --", "to": "2025-05"},
        {"q": "1 union select * from dim_suppliers"},
        {"addressable": "1; drop view mart_contracts"},
    ],
)
def test_sql_injection_in_the_link_is_inert(app_env, fixture_build, params):
    before = _counts(fixture_build.db_path)
    at = run_app("director", **params)
    assert not at.exception
    assert at.warning, "the odd parameter is reported, not used"
    assert at.title[0].value == "Overview"
    assert _counts(fixture_build.db_path) == before


def _counts(path) -> tuple:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(
            "select (select count(*) from fct_spend), (select count(*) from raw_spend), (select count(*) from mart_contracts)"
        ).fetchone()
    finally:
        con.close()


def _scope_functions():
    for name, fn in inspect.getmembers(queries, inspect.isfunction):
        if not fn.__module__.startswith(f"{queries.__name__}.") or name.startswith("_"):
            continue
        params = inspect.signature(fn).parameters
        if "scope" in params and all(p.default is not p.empty for n, p in params.items() if n != "scope"):
            yield name, fn


def _council_values(result) -> set[str]:
    frames = (
        [result]
        if isinstance(result, pd.DataFrame)
        else [v for v in (result or {}).values() if isinstance(v, pd.DataFrame)]
        if isinstance(result, dict)
        else []
    )
    found: set[str] = set()
    for frame in frames:
        for col in ("council_id", "council"):
            if col in frame.columns:
                found |= {str(v).lower() for v in frame[col].dropna()}
    return found


def test_every_scoped_query_returns_only_the_users_councils(app_env):
    scope = queries.Scope(Filters(councils=ALL, period="all", addressable_only=False), TRAFFORD)
    checked = 0
    for name, fn in _scope_functions():
        # STAR's collaborative contracts are shared with every partner they cover ("STAR (Stockport, Trafford)")
        found = {v for v in _council_values(fn(scope)) if not v.startswith("star")}
        assert found <= {"trafford"}, f"{name} leaked {found - {'trafford'}}"
        checked += 1
    assert checked >= 3


def test_no_secret_or_password_hash_is_tracked_by_git():
    files = subprocess.run(["git", "ls-files"], cwd=config.ROOT, capture_output=True, text=True, check=True)
    patterns = {
        "bcrypt hash": re.compile(r"\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}"),
        "Argon2 hash": re.compile(r"\$argon2(id|i|d)\$v=\d+\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]{11,}\$"),
        "private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
        "cookie key": re.compile(r"cookie_key\s*[=:]\s*['\"][^'\"<>{}]{16,}['\"]"),
        "AWS key": re.compile(r"AKIA[0-9A-Z]{16}"),
    }
    for name in files.stdout.splitlines():
        path = config.ROOT / name
        if not path.is_file() or path.suffix in {".png", ".xlsx", ".xls", ".zip", ".duckdb"}:
            continue
        text = path.read_text(errors="ignore")
        for what, pattern in patterns.items():
            if name == "tests/test_security.py":
                continue
            assert not pattern.search(text), f"{what} in {name}"


def test_cookie_and_deployment_settings_are_documented():
    text = (config.ROOT / "docs" / "DEPLOYMENT.md").read_text()
    for needle in ("STARVIZ_ENV=production", "cookie_key", "32", "starviz_auth", "TLS", "cookie_expiry_days"):
        assert needle in text


def test_a_failed_first_build_tells_the_visitor_no_server_path(tmp_path, monkeypatch, caplog):
    """Demo mode, a fresh clone whose first build fails (a full disk, a folder it may not write): the
    visitor, not signed in, read the exception text with the server's paths in it; it goes to the log."""
    import logging

    from streamlit.testing.v1 import AppTest

    from starviz import build

    secret = tmp_path / "srv" / "starviz" / "data" / "star.duckdb.building-42"
    monkeypatch.setenv("STARVIZ_DB", str(tmp_path / "star.duckdb"))
    monkeypatch.setenv("STARVIZ_RAW", str(tmp_path / "raw"))
    monkeypatch.setenv("STARVIZ_AUTH_DIR", str(tmp_path / "auth"))

    def fails(**_):
        raise PermissionError(13, "Permission denied", str(secret))

    monkeypatch.setattr(build, "ensure_database", fails)
    monkeypatch.setattr(build, "_first_run", None)
    config.settings.cache_clear()
    try:
        with caplog.at_level(logging.ERROR, logger="starviz.build"):
            at = AppTest.from_file(str(config.ROOT / "app.py"), default_timeout=60).run()
    finally:
        config.settings.cache_clear()
    assert not at.exception
    [error] = at.error
    assert error.value == "The first build failed; the reason is in the server's log. Reload the page to try again."
    assert str(tmp_path) not in " ".join(str(e.value) for e in [*at.error, *at.markdown, *at.title])
    assert any(str(secret) in r.getMessage() for r in caplog.records)
