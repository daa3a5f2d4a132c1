"""The sign-in cookie set by the server (``Set-Cookie`` with ``HttpOnly``), so a script in the page
cannot read it. Served through ``serve.py`` (``st.App`` with this route, Streamlit's supported way to
add routes); the page posts the one-time token ``auth`` offered for the write (``sessions.Store.
offer_cookie``, in the store every replica shares) and the answer sets or deletes ``starviz_auth``:
``HttpOnly; SameSite=Strict; Path=/``, ``Secure`` when the request came over HTTPS (directly or as
nginx's ``X-Forwarded-Proto``). No Streamlit here beyond what Starlette gives the route."""

from __future__ import annotations

import os

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

PATH = "/_starviz/cookie"
# Set by serve.py: the script then asks this route for the cookie instead of writing document.cookie.
ENV = "STARVIZ_COOKIE_ROUTE"


def served() -> bool:
    """True when the app runs under serve.py, with this route."""
    return os.environ.get(ENV) == "1"


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if not origin:
        return True  # a same-origin fetch may omit it; SameSite and the one-time token do the rest
    host = request.headers.get("x-forwarded-host") or request.headers.get("host") or ""
    return origin.split("://", 1)[-1] == host


async def cookie(request: Request) -> Response:
    from starviz import auth

    if not _same_origin(request):
        return Response(status_code=403)
    token = (await request.body())[:200].decode("ascii", "replace").strip()
    found = await run_in_threadpool(auth.store().redeem_cookie, token) if token else None
    if found is None:
        return Response(status_code=404, headers={"Cache-Control": "no-store"})
    action, value, max_age = found
    secure = request.url.scheme == "https" or request.headers.get("x-forwarded-proto", "").split(",")[0].strip() == "https"
    response = Response(status_code=204, headers={"Cache-Control": "no-store"})
    if action == "set":
        response.set_cookie(auth.COOKIE_NAME, value, max_age=max_age, path="/", secure=secure, httponly=True, samesite="strict")
    else:
        response.delete_cookie(auth.COOKIE_NAME, path="/", secure=secure, httponly=True, samesite="strict")
    return response


def routes() -> list[Route]:
    return [Route(PATH, cookie, methods=["POST"])]
