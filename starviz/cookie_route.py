"""The sign-in cookie set by the server (``Set-Cookie`` with ``HttpOnly``), so a script in the page
cannot read it. Served through ``serve.py`` (``st.App`` with :func:`routes` and :func:`lifespan`,
Streamlit's supported way to add routes); the page posts the one-time token ``auth``
offered for the write (``sessions.Store.offer_cookie``, in the store every replica shares) and the
answer sets or deletes ``starviz_auth``: ``HttpOnly; SameSite=Strict; Path=/``, ``Secure`` when the
request came over HTTPS (directly, or as a trusted proxy's ``X-Forwarded-Proto`` says). No Streamlit here beyond
what Starlette gives the route.

Whether the route is served is known from this process, not from its environment: :func:`served`
is true only once a server whose routes hold :func:`cookie` has started in this process (its
lifespan ran). ``streamlit run app.py``, or any setting of an environment variable, cannot make it
true."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

PATH = "/_starviz/cookie"

_serving = False  # set by lifespan() when its server holds the route, in this process only


def served() -> bool:
    """True when this process serves the app with the cookie route (``streamlit run serve.py``).
    False under ``streamlit run app.py``, in AppTest, in scripts."""
    return _serving


def _holds_route(app) -> bool:
    """Whether ``app`` (the ``st.App`` starting) was given the cookie route. Read from the routes it
    keeps; should Streamlit keep them elsewhere one day, the answer is no and production refuses to
    start (loudly, in the log), never the other way round."""
    return any(
        getattr(r, "endpoint", None) is cookie and getattr(r, "path", None) == PATH for r in getattr(app, "_user_routes", ())
    )


@asynccontextmanager
async def lifespan(app):
    """``st.App``'s lifespan in serve.py: from the moment the server starts, :func:`served` is true
    in this process if the server holds the route."""
    global _serving
    _serving = _holds_route(app)
    _say_production_problems()
    try:
        yield
    finally:
        _serving = False


def _say_production_problems() -> None:
    """In production, the reasons it cannot serve yet, in the server's log as it starts (a visitor
    only reads that starviz is not available)."""
    from starviz import credentials

    try:
        problems = credentials.production_problems()
    except Exception as exc:  # the first page says it again; starting must not fail here
        problems = [f"{type(exc).__name__}: {exc}"]
    if problems:
        logging.getLogger("starviz.auth").error("starviz will not start in production: %s", " ".join(problems))


def _same_origin(request: Request) -> bool:
    """Whether the request comes from the app's own page: its ``Origin`` names the host the browser
    asked for (``Host``, which nginx passes on; ``X-Forwarded-Host`` only from a trusted proxy, since
    anyone can write it)."""
    from starviz import auth

    origin = request.headers.get("origin")
    if not origin:
        return True  # a same-origin fetch may omit it; SameSite and the one-time token do the rest
    forwarded = request.headers.get("x-forwarded-host") if auth.trusted_proxies() > 0 else None
    host = forwarded or request.headers.get("host") or ""
    return origin.split("://", 1)[-1] == host


_untrusted_https_logged = False


def _over_https(request: Request) -> bool:
    """Whether the browser reached the app over HTTPS: directly, or as a trusted proxy says
    (``X-Forwarded-Proto``, only with ``STARVIZ_TRUSTED_PROXIES`` set: otherwise anyone can write it).
    A proxy saying https while untrusted is logged once: set STARVIZ_TRUSTED_PROXIES so the cookie is
    Secure."""
    global _untrusted_https_logged
    from starviz import auth

    if request.url.scheme == "https":
        return True
    said = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower() == "https"
    if said and auth.trusted_proxies() > 0:
        return True
    if said and not _untrusted_https_logged:
        _untrusted_https_logged = True
        logging.getLogger("starviz.auth").warning(
            "X-Forwarded-Proto: https ignored (STARVIZ_TRUSTED_PROXIES is not set): the sign-in cookie is not "
            "Secure; behind a proxy you run, set STARVIZ_TRUSTED_PROXIES to the number of proxies"
        )
    return False


async def cookie(request: Request) -> Response:
    from starviz import auth

    if not _same_origin(request):
        return Response(status_code=403)
    token = (await request.body())[:200].decode("ascii", "replace").strip()
    found = await run_in_threadpool(auth.store().redeem_cookie, token) if token else None
    if found is None:
        return Response(status_code=404, headers={"Cache-Control": "no-store"})
    action, value, max_age = found
    secure = _over_https(request)
    response = Response(status_code=204, headers={"Cache-Control": "no-store"})
    if action == "set":
        response.set_cookie(auth.COOKIE_NAME, value, max_age=max_age, path="/", secure=secure, httponly=True, samesite="strict")
    else:
        response.delete_cookie(auth.COOKIE_NAME, path="/", secure=secure, httponly=True, samesite="strict")
    return response


def routes() -> list[Route]:
    return [Route(PATH, cookie, methods=["POST"])]
