"""Streamlit serves every file a page offers (a download button's CSV or XLSX, an image) at
``/media/<id>.<ext>``, to any request: the address alone was the key, so anyone holding it (a copied
link, a shared machine's history, a proxy log) read council data without signing in. As served
(``serve.py``), :class:`SignedInMedia` answers such a request only when it carries the sign-in
cookie of a live session (the same check as a page: :func:`starviz.auth.session_user`, so a session
ended by log-out, expiry, idleness or a password change opens no file); otherwise 404, as for a file
that does not exist."""

from __future__ import annotations

from http.cookies import CookieError, SimpleCookie

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

PREFIX = "/media/"


def _cookie(scope) -> str | None:
    from starviz import auth

    for name, value in scope.get("headers", []):
        if name == b"cookie":
            try:
                jar = SimpleCookie(value.decode("latin-1"))
            except CookieError:
                return None
            if auth.COOKIE_NAME in jar:
                return jar[auth.COOKIE_NAME].value
    return None


def signed_in(cookie_value: str | None) -> bool:
    """Whether ``cookie_value`` names a live session (any failure: no)."""
    from starviz import auth

    if not cookie_value:
        return False
    try:
        session_id = auth.unseal(cookie_value, auth.cookie_key())
        return session_id is not None and auth.session_user(session_id) is not None
    except Exception:  # configuration refused, store unreadable: no file
        return False


class SignedInMedia:
    """ASGI middleware: ``/media/`` only for a request carrying a live session's cookie."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        media = scope["type"] == "http" and scope.get("path", "").startswith(PREFIX)
        if media and not await run_in_threadpool(signed_in, _cookie(scope)):
            await Response("Not found", status_code=404, media_type="text/plain")(scope, receive, send)
            return
        await self.app(scope, receive, send)
