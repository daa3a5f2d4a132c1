"""The sign-in cookie is HttpOnly when the app is served as in production (``streamlit run serve.py``):
the server sets it with Set-Cookie through the cookie route (``starviz/cookie_route.py``), so a script
in the page (``document.cookie``) cannot read it, and signing in and out still holds across reloads and
two replicas sharing the session store (cookies ignore the port: two ports on one host stand for two
replicas behind nginx)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from starviz import auth, config, sessions
from tests.browser import CHROMIUM, CHROMIUM_ARGS, IDLE, wait_for_app

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium")


# --- the store and the route, without a browser ------------------------------------------------------


def test_a_cookie_handoff_is_redeemed_once(tmp_path):
    store = sessions.Store(tmp_path / "state.sqlite")
    token = store.offer_cookie("set", "v1.abc.def", 3600)
    assert store.redeem_cookie(token) == ("set", "v1.abc.def", 3600)
    assert store.redeem_cookie(token) is None  # used
    assert store.redeem_cookie("not-a-token") is None
    late = store.offer_cookie("delete", "", None, ttl=-1)
    assert store.redeem_cookie(late) is None  # expired


def _post(token: str, **headers: str):
    """The cookie route's answer to a POST of ``token`` (the endpoint called as Starlette would)."""
    import asyncio

    from starlette.requests import Request

    from starviz import cookie_route

    scope = {
        "type": "http",
        "method": "POST",
        "path": cookie_route.PATH,
        "scheme": "http",
        "server": ("127.0.0.1", 8080),
        "query_string": b"",
        "headers": [(b"host", b"127.0.0.1:8080")]
        + [(k.replace("_", "-").lower().encode(), v.encode()) for k, v in headers.items()],
    }

    async def receive():
        return {"type": "http.request", "body": token.encode(), "more_body": False}

    return asyncio.run(cookie_route.cookie(Request(scope, receive)))


def test_the_route_sets_the_cookie_httponly_and_secure_behind_https(tmp_path, monkeypatch):
    monkeypatch.setenv("STARVIZ_AUTH_DIR", str(tmp_path))
    monkeypatch.setenv("STARVIZ_TRUSTED_PROXIES", "1")  # nginx, as deploy/serve.sh runs it
    config.settings.cache_clear()
    try:
        token = auth.store().offer_cookie("set", "v1.abc.def", 600)
        answer = _post(token, x_forwarded_proto="https")
        assert answer.status_code == 204
        header = answer.headers["set-cookie"]
        assert header.startswith("starviz_auth=v1.abc.def;")
        assert {"HttpOnly", "Secure", "SameSite=strict", "Path=/", "Max-Age=600"} <= {p.strip() for p in header.split(";")}
        assert _post(token).status_code == 404  # once only
        plain = _post(auth.store().offer_cookie("delete", "", None))  # over plain http: not Secure
        assert "Secure" not in plain.headers["set-cookie"] and "HttpOnly" in plain.headers["set-cookie"]
        refused = _post(auth.store().offer_cookie("set", "v1.x.y", 600), origin="https://evil.example")
        assert refused.status_code == 403 and "set-cookie" not in refused.headers
        # A forwarded host counts only from a trusted proxy: anyone can write the header.
        token = auth.store().offer_cookie("set", "v1.x.y", 600)
        monkeypatch.delenv("STARVIZ_TRUSTED_PROXIES")
        assert _post(token, origin="https://evil.example", x_forwarded_host="evil.example").status_code == 403
        monkeypatch.setenv("STARVIZ_TRUSTED_PROXIES", "1")
        assert _post(token, origin="https://starviz.example", x_forwarded_host="starviz.example").status_code == 204
    finally:
        config.settings.cache_clear()


def test_x_forwarded_proto_counts_only_from_a_trusted_proxy(tmp_path, monkeypatch, caplog):
    """Anyone can write X-Forwarded-Proto; only a proxy the operator named (STARVIZ_TRUSTED_PROXIES)
    decides that the browser came over HTTPS. Untrusted, the header is ignored and the log says why."""
    from starviz import cookie_route

    monkeypatch.setenv("STARVIZ_AUTH_DIR", str(tmp_path))
    monkeypatch.delenv("STARVIZ_TRUSTED_PROXIES", raising=False)
    monkeypatch.setattr(cookie_route, "_untrusted_https_logged", False)
    config.settings.cache_clear()
    try:
        with caplog.at_level("WARNING", logger="starviz.auth"):
            answer = _post(auth.store().offer_cookie("set", "v1.abc.def", 600), x_forwarded_proto="https")
        assert answer.status_code == 204 and "Secure" not in answer.headers["set-cookie"]
        assert any("set STARVIZ_TRUSTED_PROXIES" in r.getMessage() for r in caplog.records)
        monkeypatch.setenv("STARVIZ_TRUSTED_PROXIES", "1")
        answer = _post(auth.store().offer_cookie("set", "v1.abc.def", 600), x_forwarded_proto="https")
        assert "Secure" in answer.headers["set-cookie"]
    finally:
        config.settings.cache_clear()


def test_every_way_of_serving_goes_through_serve_py():
    """`make run` (README's run command), deploy/serve.sh and the browser tests all serve serve.py."""
    makefile = (config.ROOT / "Makefile").read_text()
    recipe = makefile.split("\nrun:", 1)[1].split("\n\n", 1)[0]
    assert "streamlit run serve.py" in recipe and "app.py" not in recipe
    assert "streamlit run serve.py" in (config.ROOT / "deploy" / "serve.sh").read_text()
    import inspect

    from bench import loadtest

    assert '"run", "serve.py"' in inspect.getsource(loadtest.start_app)


# --- the real app, two replicas ------------------------------------------------------------------------


def _replica(port: int, env: dict[str, str], log):
    return subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "serve.py", "--server.port", str(port), "--server.headless", "true"],
        cwd=config.ROOT,
        env={**os.environ, **env},
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def _session_cookie(page):
    return next((c for c in page.context.cookies() if c["name"] == auth.COOKIE_NAME), None)


def test_document_cookie_cannot_see_the_session_and_sign_in_holds_across_reloads_and_replicas(fixture_build, tmp_path):
    from playwright.sync_api import sync_playwright

    from bench.loadtest import free_port
    from starviz.credentials import DEMO_PASSWORD

    env = {"STARVIZ_DB": str(fixture_build.db_path), "STARVIZ_AUTH_DIR": str(tmp_path / "auth")}
    ports = [free_port(), free_port()]
    with (tmp_path / "replicas.log").open("w") as log:
        procs = [_replica(port, env, log) for port in ports]
        try:
            a, b = (f"http://127.0.0.1:{p}" for p in ports)
            wait_for_app(a)
            wait_for_app(b)
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = browser.new_page()
                page.goto(a, timeout=120_000)
                page.get_by_role("textbox", name="Username").fill("director")
                page.get_by_role("textbox", name="Password").fill(DEMO_PASSWORD)
                page.get_by_role("button", name="Sign in").click()
                page.get_by_role("heading", name="Overview").first.wait_for(timeout=120_000)
                page.wait_for_function(IDLE, timeout=120_000)
                for _ in range(50):
                    if _session_cookie(page):
                        break
                    page.wait_for_timeout(200)
                cookie = _session_cookie(page)
                assert cookie and cookie["httpOnly"] and cookie["sameSite"] == "Strict"
                assert auth.COOKIE_NAME not in page.evaluate("document.cookie")  # a script cannot read it

                page.reload()  # a new Streamlit session: the cookie signs it in
                page.get_by_role("heading", name="Overview").first.wait_for(timeout=120_000)
                page.goto(b, timeout=120_000)  # the other replica, the same store
                page.get_by_role("heading", name="Overview").first.wait_for(timeout=120_000)
                page.wait_for_function(IDLE, timeout=120_000)

                page.get_by_role("button", name="Log out").first.click()
                page.get_by_role("textbox", name="Username").wait_for(timeout=120_000)
                for _ in range(50):
                    if not _session_cookie(page):
                        break
                    page.wait_for_timeout(200)
                assert _session_cookie(page) is None  # deleted by the server too
                page.goto(a, timeout=120_000)
                page.get_by_role("textbox", name="Username").wait_for(timeout=120_000)
                browser.close()
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait(timeout=15)
