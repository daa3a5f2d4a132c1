"""starviz: page set-up, first-run build, login, navigation and the shared filters; nothing else."""

import logging

import streamlit as st

from starviz import auth, build, charts, config, credentials, export, queries, reader, slides, ui  # noqa: F401  (charts registers the template)

st.set_page_config(page_title="starviz · STAR Procurement", page_icon="⭐", layout="wide")
config.keep_files_private()
reader.remove_stale_scratch(once=True)  # scratch left in /dev/shm by a killed build
production = config.settings().env == "production"
if production:  # an unexpected error shows no type, message or traceback to anyone
    st.set_option("client.showErrorDetails", "none")

# Production also refuses `streamlit run app.py`: only serve.py sets the sign-in cookie HttpOnly.
if production and (problems := credentials.production_problems() + auth.serving_problems()):
    auth.refuse_to_start(problems)  # says exactly why; lists no page

# Demo mode only: production never builds or generates data for a request (an administrator
# rebuilds after signing in, from the page that says the database cannot be opened).
# A visitor arriving while this server's first run builds watches the same progress bar.
if (
    config.settings().env == "demo"
    and not config.settings().db_path.exists()
    and (build.first_run_running() or not build.is_building())
):

    def setting_up() -> None:
        st.title("Setting up starviz")
        st.write("No database yet: generating the demo extracts and building them. This happens once.")
        bar = st.progress(0.0, text="Starting")
        job = build.first_run_in_background()  # the server's, not this page's: a reload does not stop it
        while not job.finished.wait(0.25):
            bar.progress(job.fraction, text=job.message)
        if job.error is not None:  # its reason may name files on this server: the log's, not the visitor's
            logging.getLogger("starviz.build").error("the first build failed: %s", job.error)
            st.error("The first build failed; the reason is in the server's log. Reload the page to try again.")
            st.stop()

    # A hidden navigation of this one page: without it Streamlit lists every file in pages/ beside it.
    st.navigation([st.Page(setting_up, title="Setting up starviz", url_path="setup", default=True)], position="hidden").run()
    st.rerun()

# Once per process, in the background: the first chart export then takes ~0.3 s, not ~3 s. After the
# first-run build, not beside it: Chromium starting takes a core from the build on a small machine.
export.warm()

pages = [
    st.Page("pages/overview.py", title="Overview", icon=":material/dashboard:", default=True),
    st.Page("pages/spend.py", title="Spend", icon=":material/payments:"),
    st.Page("pages/benchmarking.py", title="Benchmarking", icon=":material/leaderboard:"),
    st.Page("pages/collaboration.py", title="Collaboration", icon=":material/handshake:"),
    st.Page("pages/pipeline.py", title="Pipeline", icon=":material/event_upcoming:"),
    st.Page("pages/social_value.py", title="Social value", icon=":material/volunteer_activism:"),
    st.Page("pages/kpis.py", title="KPIs", icon=":material/monitoring:"),
    st.Page("pages/maturity.py", title="Maturity", icon=":material/stairs:"),
    st.Page("pages/data_quality.py", title="Data quality", icon=":material/fact_check:"),
]
import_page = st.Page("pages/import_data.py", title="Import", icon=":material/upload_file:")
audit_page = st.Page("pages/audit.py", title="Audit trail", icon=":material/policy:")
present_page = st.Page("pages/present.py", title="Present to the Board", icon=":material/slideshow:")

# Signed out: every page address shows the sign-in form, and after signing in the same address
# (page and filters) opens the page.
user = auth.login([p.url_path for p in [*pages, import_page, audit_page, present_page]])
if user is None:
    st.stop()

presenting = st.query_params.get("present") == "1"
try:
    if presenting:  # a slide shows demo status as a small tag in its footer instead
        queries.build_info()
    else:
        ui.demo_banner()
except queries.DatabaseUnavailable as exc:
    ui.database_unavailable(user, exc)
    auth.logout_button()
    st.stop()

if user.can("import"):
    pages.append(import_page)
if user.can("audit"):
    pages.append(audit_page)
if presenting:  # Board presentation: one slide per screen, no sidebar or Streamlit chrome
    slides.presentation_style()
    page = st.navigation([st.Page("pages/present.py", title="Board presentation", default=True)], position="hidden")
else:
    page = st.navigation([*pages, present_page])
ui.app_style()
ui.render_filters(user)
auth.logout_button()
if production:
    ui.run_guarded(page)  # whatever the data holds, the page degrades to a notice
else:
    page.run()  # in development and tests an error shows in full
