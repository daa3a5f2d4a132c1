"""The app as served in production: app.py with the route that sets the sign-in cookie from the server
(HttpOnly), through st.App, Streamlit's supported way to add routes. Run it as app.py is run:
``streamlit run serve.py`` (deploy/serve.sh does). ``streamlit run app.py`` still works for
development: the cookie is then written by a script (not HttpOnly)."""

import os

import streamlit as st

from starviz import cookie_route

os.environ[cookie_route.ENV] = "1"
app = st.App("app.py", routes=cookie_route.routes())
