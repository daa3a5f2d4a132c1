"""How starviz is served, in development and production alike: app.py with the route that sets the
sign-in cookie from the server (HttpOnly), through st.App, Streamlit's supported way to add routes.
``make run`` and deploy/serve.sh run ``streamlit run serve.py`` (which finds ``app = st.App(...)``
here by reading this file: keep it a plain assignment). ``streamlit run app.py`` has no such route
(the cookie would be written by a script, readable by any script in the page): it still runs in demo
mode for quick experiments and AppTest, but production refuses it (``auth.serving_problems``): the
server started here says it holds the route (``cookie_route.lifespan``), no environment variable.
Every HTTP answer carries the security headers of ``starviz/http_headers.py``; the files a page offers
(``/media/``) are served only to a signed-in browser, and uploads taken only from an administrator's
(``starviz/media_access.py``)."""

import streamlit as st
from starlette.middleware import Middleware

from starviz import cookie_route, http_headers, media_access

app = st.App(
    "app.py",
    routes=cookie_route.routes(),
    lifespan=cookie_route.lifespan,
    middleware=[
        Middleware(http_headers.SecurityHeaders),  # CSP, frame-ancestors, nosniff, Referrer-Policy
        Middleware(media_access.SignedInMedia),  # a download's /media/ address opens nothing without signing in
        Middleware(media_access.AdminUploads),  # no upload into the server's memory without an admin's sign-in
    ],
)
