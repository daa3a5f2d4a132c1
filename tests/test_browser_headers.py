"""The app as served (``streamlit run serve.py``) answers every request with its security headers
(``starviz/http_headers.py``): no other site can frame it, and the policy breaks no page in Chromium.
A file a page offers for download (``/media/``) reaches only a signed-in browser
(``starviz/media_access.py``)."""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from starviz import http_headers
from tests.browser import CHROMIUM, IDLE, serve_app, sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
]

# Every violation of the page's policy, as the browser reports it, kept in the page.
WATCH = (
    "window.__violations = []; document.addEventListener('securitypolicyviolation', "
    "e => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));"
)


@pytest.fixture(scope="module")
def app(fixture_build, tmp_path_factory):
    work = tmp_path_factory.mktemp("headers")
    with serve_app(work, STARVIZ_DB=str(fixture_build.db_path), STARVIZ_AUTH_DIR=str(work / "auth")) as url:
        yield url


def _answer(url: str, method: str = "GET", data: bytes | None = None):
    request = urllib.request.Request(url, data=data, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.headers
    except urllib.error.HTTPError as refused:
        return refused.code, refused.headers


@pytest.mark.parametrize(
    ("path", "method"),
    [
        ("/", "GET"),
        ("/spend?councils=trafford", "GET"),
        ("/_stcore/health", "GET"),
        ("/media/nothing.png", "GET"),
        ("/_starviz/cookie", "POST"),
        ("/static/../../etc/passwd", "GET"),
    ],
)
def test_every_answer_carries_the_security_headers(app, path, method):
    status, headers = _answer(app + path, method, b"not-a-token" if method == "POST" else None)
    assert status < 500
    for name, value in http_headers.HEADERS.items():
        assert headers.get_all(name) == [value], name  # once, not doubled by a layer below
    policy = dict(part.split(" ", 1) for part in headers["content-security-policy"].split("; "))
    assert policy["frame-ancestors"] == "'self'" and policy["connect-src"] == "'self'"


def test_another_site_cannot_frame_the_app(app, page):
    """A page of another origin (another port on the same host) puts the app in a frame: before, the
    sign-in form showed inside it (clickjacking); now the browser refuses to draw it."""

    class Framing(BaseHTTPRequestHandler):
        def do_GET(self):
            body = f"<iframe src='{app}/' width=800 height=600></iframe>".encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    other = HTTPServer(("127.0.0.1", 0), Framing)
    threading.Thread(target=other.serve_forever, daemon=True).start()
    try:
        said = []
        page.on("console", lambda m: said.append(m.text))
        page.goto(f"http://127.0.0.1:{other.server_port}/", timeout=60_000)
        page.wait_for_timeout(3000)
        [framed] = page.frames[1:]
        assert not framed.url.startswith(app)
        assert "Sign in" not in framed.evaluate("document.body ? document.body.innerText : ''")
        assert any("frame-ancestors" in s for s in said)
    finally:
        other.shutdown()


def test_the_policy_breaks_no_page(app, page):
    page.context.add_init_script(WATCH)
    page.goto(app + "/", timeout=60_000)
    sign_in(page)
    for path, shows in [("/spend", "Spend"), ("/kpis", "KPI"), ("/data_quality", "Data quality"), ("/?present=1", None)]:
        page.goto(app + path, timeout=60_000)
        if shows:
            page.get_by_role("heading", name=shows).first.wait_for(timeout=60_000)
        page.wait_for_function(IDLE, timeout=60_000)
        if path == "/spend":  # Plotly's charts drawn under the policy
            page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
        page.wait_for_timeout(1000)
        assert page.evaluate("window.__violations") == [], path


def _fetch(url: str, cookie: str | None = None):
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read()


def test_a_download_s_address_opens_nothing_without_a_live_sign_in(app, page):
    """Before, anyone holding a download's address (a copied link, a proxy log) read the file without
    signing in, for as long as the session that offered it lived."""
    from starviz import auth

    page.goto(app + "/spend", timeout=60_000)
    sign_in(page, lands_on="Spend")
    with page.expect_download(timeout=60_000) as download:
        page.locator("[data-testid='stDownloadButton'] button").first.click()
    address = download.value.url
    assert address.startswith(app + "/media/")
    assert Path(download.value.path()).read_bytes()  # the signed-in browser gets the file
    cookie = next(c for c in page.context.cookies() if c["name"] == auth.COOKIE_NAME)
    signed_in = f"{auth.COOKIE_NAME}={cookie['value']}"

    status, body = _fetch(address, signed_in)
    assert status == 200 and body == Path(download.value.path()).read_bytes()
    for anyone in (None, f"{auth.COOKIE_NAME}=v1.{'A' * 43}.{'B' * 43}", "garbage=;;"):
        assert _fetch(address, anyone) == (404, b"Not found")

    page.get_by_role("button", name="Log out").click()
    page.get_by_role("textbox", name="Username").wait_for(timeout=60_000)
    assert _fetch(address, signed_in)[0] == 404  # the copied cookie of an ended session opens nothing
