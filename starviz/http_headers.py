"""Security headers on every HTTP answer of the app as served (``serve.py`` adds :class:`SecurityHeaders`
to ``st.App``'s middleware), so they hold behind nginx or without it.

- ``Content-Security-Policy``: the page may talk to, load from and be framed by its own origin only.
  Streamlit's front end needs inline styles and scripts (and our cookie script is inline), so
  ``script-src`` keeps ``'unsafe-inline'``; what the policy adds is that a script injected into the
  page, if one ever were, can send nothing to another site (``connect-src``, ``img-src``,
  ``form-action``), load no script from one, and that no other site can frame the app
  (``frame-ancestors``: Streamlit's own host-config lets a few of its hosting domains drive the app
  from a parent frame; starviz is never framed). Checked in Chromium on every page
  (``tests/test_browser_headers.py``): no violation.
- ``X-Frame-Options: SAMEORIGIN`` for browsers without ``frame-ancestors``; ``X-Content-Type-Options:
  nosniff``; ``Referrer-Policy: same-origin`` (an address holds the view: supplier, contract, filters;
  a link out of the app sends none of it); ``Permissions-Policy`` turning off what a dashboard never
  uses.
"""

from __future__ import annotations

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        # Streamlit's protobuf decoder is WebAssembly; 'unsafe-eval' adds little beside 'unsafe-inline', and
        # Vega (st.altair_chart) and the browser tests' waits (Playwright's wait_for_function) evaluate text.
        "script-src 'self' 'unsafe-inline' 'unsafe-eval' 'wasm-unsafe-eval'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "media-src 'self' data: blob:",
        "worker-src 'self' blob:",
        "frame-src 'self' blob: data:",
        "frame-ancestors 'self'",
        "base-uri 'self'",
        "form-action 'self'",
        "object-src 'none'",
    ]
)

HEADERS: dict[str, str] = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-frame-options": "SAMEORIGIN",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}
_RAW = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in HEADERS.items()]


class SecurityHeaders:
    """ASGI middleware: :data:`HEADERS` on every HTTP response (replacing any of the same name)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message) -> None:
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message.get("headers", []) if k.decode("latin-1").lower() not in HEADERS]
                message = {**message, "headers": kept + _RAW}
            await send(message)

        await self.app(scope, receive, send_with_headers)
