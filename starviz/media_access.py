"""Streamlit serves every file a page offers (a download button's CSV or XLSX, an image) at
``/media/<id>.<ext>``, to any request: the address alone was the key, so anyone holding it (a copied
link, a shared machine's history, a proxy log) read council data without signing in. As served
(``serve.py``), :class:`SignedInMedia` answers such a request only when it carries the sign-in
cookie of a live session (the same check as a page: :func:`starviz.auth.session_user`, so a session
ended by log-out, expiry, idleness or a password change opens no file); otherwise 404, as for a file
that does not exist. A file served is marked ``Cache-Control: private, no-store``, so no shared cache
keeps it for the next person."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import cookie_parser
from starlette.responses import Response

PREFIX = "/media/"


def _cookie(scope) -> str | None:
    """The sign-in cookie of the request, read as browsers write cookies (Starlette's parser, as
    ``request.cookies``): the standard library's ``SimpleCookie`` drops every cookie of a header once
    one of them (another app's on the same host) holds a quote or a space."""
    from starviz import auth

    for name, value in scope.get("headers", []):
        if name == b"cookie" and (found := cookie_parser(value.decode("latin-1")).get(auth.COOKIE_NAME)):
            return found
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
        if not media:
            await self.app(scope, receive, send)
            return
        if not await run_in_threadpool(signed_in, _cookie(scope)):
            await Response("Not found", status_code=404, media_type="text/plain")(scope, receive, send)
            return

        async def send_private(message) -> None:
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"cache-control"]
                message = {**message, "headers": kept + _PRIVATE}
            await send(message)

        await self.app(scope, receive, send_private)


# Streamlit sends a download with no Cache-Control: a shared cache (a council's web proxy) could keep
# it and hand it to the next person asking for the address, signed in or not.
_PRIVATE = [(b"cache-control", b"private, no-store")]
