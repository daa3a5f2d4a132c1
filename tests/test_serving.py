"""Production refuses ``streamlit run app.py`` (no route sets the sign-in cookie HttpOnly): whether
the route is served is known from the server started in this process, never from the environment."""

from __future__ import annotations

import asyncio
import importlib.util
import logging

import streamlit as st

from starviz import config, cookie_route


def _serve_app():
    """serve.py's ``app`` (st.App with the route), as ``streamlit run serve.py`` finds it."""
    spec = importlib.util.spec_from_file_location("starviz_serve_under_test", config.ROOT / "serve.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.app


def _served_while_starting(app) -> tuple[bool, bool]:
    async def start():
        async with cookie_route.lifespan(app):
            during = cookie_route.served()
        return during, cookie_route.served()

    return asyncio.run(start())


def test_the_server_serve_py_starts_says_it_holds_the_route_until_it_stops(monkeypatch):
    monkeypatch.delenv("STARVIZ_COOKIE_ROUTE", raising=False)
    assert not cookie_route.served()
    assert _served_while_starting(_serve_app()) == (True, False)


def test_no_environment_and_no_server_without_the_route_can_say_it_is_served(monkeypatch):
    monkeypatch.setenv("STARVIZ_COOKIE_ROUTE", "1")  # what the old check believed
    assert not cookie_route.served()
    assert _served_while_starting(st.App(str(config.ROOT / "app.py"))) == (False, False)  # no route given


def test_a_production_server_names_what_stops_it_in_its_log_as_it_starts(monkeypatch, caplog):
    from starviz import credentials

    monkeypatch.setenv("STARVIZ_ENV", "production")
    for var in ("STARVIZ_AUTH_FILE", "STARVIZ_COOKIE_KEY", "STARVIZ_COOKIE_EXPIRY_DAYS"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(credentials, "_auth_secrets", dict)
    config.settings.cache_clear()
    try:
        with caplog.at_level(logging.ERROR, logger="starviz.auth"):
            _served_while_starting(_serve_app())
    finally:
        config.settings.cache_clear()
    [line] = [r.getMessage() for r in caplog.records]
    assert line.startswith("starviz will not start in production: No credentials file configured")
    assert "No cookie key" in line and "\n" not in line


def test_a_download_is_served_to_a_live_session_s_cookie_whatever_other_cookies_the_browser_holds(tmp_path, monkeypatch):
    """``/media/`` (a download) passes the guard with the cookie of a live session, beside another app's
    cookie holding a quote (the standard library's cookie parser then dropped every cookie: the
    signed-in user's download answered 404), and not without it or after log-out; never kept by a
    shared cache (Streamlit sends no Cache-Control)."""
    from starviz import auth, media_access

    monkeypatch.setenv("STARVIZ_AUTH_DIR", str(tmp_path))
    config.settings.cache_clear()
    try:
        session_id = auth.open_session("director")
        sealed = auth.seal(session_id, auth.cookie_key())

        async def inner(scope, receive, send):
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"the file"})

        def get(cookie: str | None, header: str = "") -> int:
            scope = {
                "type": "http",
                "method": "GET",
                "path": "/media/abc.csv",
                "headers": [(b"cookie", cookie.encode())] if cookie else [],
                "query_string": b"",
            }
            sent = []

            async def receive():
                return {"type": "http.request", "body": b"", "more_body": False}

            async def send(message):
                sent.append(message)

            asyncio.run(media_access.SignedInMedia(inner)(scope, receive, send))
            if header:
                return dict(sent[0]["headers"]).get(header.encode(), b"").decode()
            return sent[0]["status"]

        assert get(f'legacy="a b; {auth.COOKIE_NAME}={sealed}; theme=a"b') == 200
        assert get(None) == 404 and get("theme=dark") == 404
        assert get(f"{auth.COOKIE_NAME}={sealed}", "cache-control") == "private, no-store"  # no shared cache keeps it
        auth.store().end(session_id)  # logged out
        assert get(f"{auth.COOKIE_NAME}={sealed}") == 404
    finally:
        config.settings.cache_clear()


def test_an_upload_reaches_streamlit_only_from_an_administrator_signed_in(tmp_path, monkeypatch):
    """Streamlit keeps every file PUT to /_stcore/upload_file/ in memory (200 MB each, any number) for
    any live session, the sign-in form's too: anyone could fill the server's memory without signing in."""
    from starviz import auth, media_access

    monkeypatch.setenv("STARVIZ_AUTH_DIR", str(tmp_path))
    config.settings.cache_clear()
    try:
        cookies = {
            name: f"{auth.COOKIE_NAME}={auth.seal(auth.open_session(name), auth.cookie_key())}"
            for name in ("director", "category.manager")
        }
        reached = []

        async def streamlit(scope, receive, send):
            reached.append(scope["method"])
            await send({"type": "http.response.start", "status": 204, "headers": []})
            await send({"type": "http.response.body", "body": b""})

        def put(cookie: str | None, method: str = "PUT") -> int:
            scope = {
                "type": "http",
                "method": method,
                "path": "/_stcore/upload_file/some-session/some-file",
                "headers": [(b"cookie", cookie.encode())] if cookie else [],
                "query_string": b"",
            }
            sent = []

            async def receive():
                return {"type": "http.request", "body": b"x" * 1000, "more_body": False}

            async def send(message):
                sent.append(message)

            asyncio.run(media_access.AdminUploads(streamlit)(scope, receive, send))
            return sent[0]["status"]

        assert put(None) == 403 and put("theme=dark") == 403 and reached == []  # not signed in
        assert put(cookies["category.manager"]) == 403 and reached == []  # an analyst has no Import page
        assert put(cookies["director"]) == 204 and reached == ["PUT"]  # the Import page's administrator
        assert put(None, "OPTIONS") == 204  # a preflight carries no cookie
    finally:
        config.settings.cache_clear()
