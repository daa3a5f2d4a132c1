"""How starviz is served, in development and production alike: app.py with the route that sets the
sign-in cookie from the server (HttpOnly), through st.App, Streamlit's supported way to add routes.
``make run`` and deploy/serve.sh run ``streamlit run serve.py``. ``streamlit run app.py`` has no such
route (the cookie would be written by a script, readable by any script in the page): it still runs in
demo mode for quick experiments and AppTest, but production refuses it (``auth.serving_problems``)."""

import os

import streamlit as st

from starviz import cookie_route

os.environ[cookie_route.ENV] = "1"
app = st.App("app.py", routes=cookie_route.routes())
