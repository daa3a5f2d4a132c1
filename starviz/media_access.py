"""Streamlit serves every file a page offers (a download button's CSV or XLSX, an image) at
``/media/<id>.<ext>``, to any request: the address alone was the key, so anyone holding it (a copied
link, a shared machine's history, a proxy log) read council data without signing in. As served
(``serve.py``), :class:`SignedInMedia` answers such a request only when it carries the sign-in
cookie of a live session (the same check as a page: :func:`starviz.auth.session_user`, so a session
ended by log-out, expiry, idleness or a password change opens no file); otherwise 404, as for a file
that does not exist. A file served is marked ``Cache-Control: private, no-store``, so no shared cache
keeps it for the next person.

Uploads the same way: Streamlit keeps each file PUT to ``/_stcore/upload_file/<session>/<file>`` in
memory, up to ``server.maxUploadSize`` (200 MB) a file and any number of files, for any live
Streamlit session, the sign-in form's included: anyone could fill the server's memory without
signing in. :class:`AdminUploads` lets an upload through only with the cookie of a live session of
a user who may import (the Import page's uploader is the app's only one); otherwise 403."""

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


def _user(cookie_value: str | None):
    """The user of the live session ``cookie_value`` names, or None (any failure: None)."""
    from starviz import auth

    if not cookie_value:
        return None
    try:
        session_id = auth.unseal(cookie_value, auth.cookie_key())
        return auth.session_user(session_id) if session_id else None
    except Exception:  # configuration refused, store unreadable: no one
        return None


def signed_in(cookie_value: str | None) -> bool:
    """Whether ``cookie_value`` names a live session."""
    return _user(cookie_value) is not None


def may_upload(cookie_value: str | None) -> bool:
    """Whether ``cookie_value`` names a live session of a user who may import files."""
    user = _user(cookie_value)
    return user is not None and user.can("import")


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


UPLOAD_PREFIX = "/_stcore/upload_file/"


class AdminUploads:
    """ASGI middleware: ``/_stcore/upload_file/`` only for a live session of a user who may import."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        upload = (
            scope["type"] == "http"
            and scope.get("path", "").startswith(UPLOAD_PREFIX)
            and scope.get("method") != "OPTIONS"  # a preflight carries no cookie
        )
        if upload and not await run_in_threadpool(may_upload, _cookie(scope)):
            await Response("Sign in as an administrator to upload files.", status_code=403, media_type="text/plain")(
                scope, receive, send
            )
            return
        await self.app(scope, receive, send)
