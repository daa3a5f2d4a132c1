"""The protocol load generator against the real app (`streamlit run`): it signs in through the
form, changes a filter and opens pages exactly as the front end asks, and sees what a person sees."""

from __future__ import annotations

import asyncio

import pytest

from bench import loadgen, loadtest
from starviz.credentials import DEMO_PASSWORD
from tests.browser import serve_app


@pytest.fixture(scope="module")
def app_url(fixture_build, tmp_path_factory):
    work = tmp_path_factory.mktemp("loadgen")
    with serve_app(work, STARVIZ_DB=str(fixture_build.db_path), STARVIZ_AUTH_DIR=str(work / "auth")) as url:
        yield url


def test_a_session_signs_in_changes_the_year_and_opens_pages_through_the_protocol(app_url):
    async def go():
        s = loadgen.Session(app_url)
        first = await s.open()
        assert {type(w).__name__ for w in first.widgets.values()} >= {"TextInput", "Button"}
        with pytest.raises(loadgen.ProtocolError, match=r"still on the sign-in form .*Username or password is incorrect"):
            await s.sign_in("director", "not the password")
        signed_in = await s.sign_in("director", DEMO_PASSWORD)
        assert "Overview" in signed_in.headings
        assert signed_in.runs == 1  # the form's callback signed in before the run: no second run
        assert s.widget("selectbox", key="f_fy").options
        await s.tick("f_addr", False)
        assert "addressable=0" in s.query_string  # the app wrote the filter into the address
        await s.tick("f_addr", True)
        assert "addressable=0" not in s.query_string
        spend = await s.open_page("Spend")
        assert "rows=" in s.query_string and spend.bytes > 0
        assert s.widget("selectbox", key="f_fy") is not None  # the filters stay in the sidebar
        await s.close()

    asyncio.run(go())


def test_a_crowd_reports_every_click_and_no_errors(app_url):
    r = loadtest.crowd([app_url], [], sessions=3, changes=3, think_seconds=0.0)
    assert r["errors"] == 0, r["first_errors"]
    assert r["responses"] == 9 and r["reruns"] == 3 * (2 + 3)
    assert r["client_cpu_s"] > 0


def test_a_wrong_address_is_an_error_counted_not_a_crash():
    r = loadtest.crowd(["http://127.0.0.1:9"], [], sessions=2, changes=1, think_seconds=0.0)
    assert r["errors"] == 2 and r["responses"] == 0


def test_a_filter_change_on_a_page_with_views_keeps_the_open_view(app_url):
    async def go():
        s = loadgen.Session(app_url)
        await s.open()
        await s.sign_in("director", DEMO_PASSWORD)
        for page in ("Collaboration", "Pipeline"):
            await s.open_page(page)
            switch = next(w for w in s.last.widgets.values() if type(w).__name__ == "ButtonGroup")
            s.hold(switch.id, string_array_value=[switch.options[1].content])  # the front end's value of a segmented control
            await s.rerun()
            assert f"tab={switch.options[1].content.replace(' ', '+')}" in s.query_string
            await s.tick("f_addr", False)  # the shared filters rewrite the address: the view stays
            assert "addressable=0" in s.query_string and "tab=" in s.query_string
            await s.tick("f_addr", True)
        await s.close()

    asyncio.run(go())


def test_a_shared_link_opened_first_after_the_server_starts_shows_its_page(fixture_build, tmp_path):
    """The first run of a fresh process used to run /pipeline as the bare file from pages/ and send
    the browser to app.py: the link's page was lost (Overview opened after signing in)."""
    with serve_app(tmp_path, STARVIZ_DB=str(fixture_build.db_path), STARVIZ_AUTH_DIR=str(tmp_path / "auth")) as url:

        async def go():
            s = loadgen.Session(url, address="pipeline?addressable=0")
            first = await s.open()  # a "Page not found" answer is an error
            assert "Sign in to starviz" in first.headings
            signed_in = await s.sign_in("director", DEMO_PASSWORD)
            assert "Contract pipeline" in signed_in.headings and "Overview" not in signed_in.headings
            assert "addressable=0" in s.query_string  # the link's filters too
            await s.close()

        asyncio.run(go())


def test_the_widget_states_sent_are_every_mounted_widgets_value_as_the_front_end_sends_them():
    """Chromium's rerun_script carries the value of every widget it has mounted (the sidebar's
    filters included, never touched), not only the ones changed; a widget in a closed popover is not
    mounted, and a value the person chose stays until the app sets another."""
    from streamlit.proto.ButtonGroup_pb2 import ButtonGroup
    from streamlit.proto.Checkbox_pb2 import Checkbox
    from streamlit.proto.MultiSelect_pb2 import MultiSelect
    from streamlit.proto.Selectbox_pb2 import Selectbox

    fy = Selectbox(id="fy", options=["2025-26", "2024-25"], default=0)
    councils = MultiSelect(id="councils", options=["Bolton", "Bury"])
    addr = Checkbox(id="addr", default=True)
    tab = ButtonGroup(id="tab", default=[1])
    tab.options.add(content="Suppliers")
    tab.options.add(content="Categories")
    size = Selectbox(id="size", options=["Slide", "A4"], default=0)
    assert loadgen.shown_value(fy).string_value == "2025-26"
    assert list(loadgen.shown_value(councils).string_array_value.data) == []
    assert loadgen.shown_value(addr).bool_value is True
    assert list(loadgen.shown_value(tab).string_array_value.data) == ["Categories"]
    assert loadgen.shown_value(Selectbox(id="x", raw_value="2024-25", set_value=True, default=0, options=["a"])).string_value == (
        "2024-25"
    )

    s = loadgen.Session("http://127.0.0.1:9")
    run = loadgen.Run(0.1, 0, widgets={w.id: w for w in (fy, councils, addr, tab, size)}, unmounted={"size"})
    s._hold_mounted(run)
    assert set(s.held) == {"fy", "councils", "addr", "tab"}
    s.hold("fy", string_value="2024-25")  # the person picks a year
    s._hold_mounted(run)
    assert s.held["fy"].string_value == "2024-25"
    s._hold_mounted(loadgen.Run(0.1, 0, widgets={"addr": addr}))  # a run that no longer draws the year
    assert set(s.held) == {"addr"} and not s.chosen


def test_cached_messages_are_forgotten_after_two_runs_unused_as_the_front_end_forgets_them():
    s = loadgen.Session("http://127.0.0.1:9")
    s.cache = {"chart": object(), "table": object()}
    s.cache_used = {"chart": 0, "table": 0}
    s._age_cache()
    s.cache_used["table"] = s.finished_runs  # the next run referred to the table again
    s._age_cache()
    assert set(s.cache) == {"chart", "table"}
    s._age_cache()  # three runs without the chart: its age passes max_cached_message_age (2)
    assert set(s.cache) == {"table"}


def _frame(payload: bytes, opcode: int = 2, fin: bool = True, mask: bytes = b"", rsv1: bool = False) -> bytes:
    head = bytes([(0x80 if fin else 0) | (0x40 if rsv1 else 0) | opcode])
    size = len(payload)
    if size < 126:
        head += bytes([(0x80 if mask else 0) | size])
    else:
        head += bytes([(0x80 if mask else 0) | 126]) + size.to_bytes(2, "big")
    if mask:
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return head + mask + payload


def test_the_wire_clock_reads_websocket_frames_as_they_cross_split_masked_fragmented_and_deflated():
    import zlib

    seen: list[tuple[str, bytes, float]] = []
    browser = loadtest._WsReader(lambda data, t: seen.append(("browser", data, t)))
    app = loadtest._WsReader(lambda data, t: seen.append(("app", data, t)))
    browser.partner, app.upstream = app, browser
    browser.feed(b"GET /_stcore/stream HTTP/1.1\r\nUpgrade: websocket\r\n\r\n", 1.0)
    app.feed(b"HTTP/1.1 101 Switching Protocols\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n", 1.0)
    masked = _frame(b"rerun" * 40, mask=b"\x01\x02\x03\x04")
    browser.feed(masked[:7], 2.0)  # a frame split across reads is stamped when its last bytes come
    browser.feed(masked[7:], 3.0)
    app.feed(_frame(b"ab", fin=False) + _frame(b"\x88\x00", opcode=9) + _frame(b"cd", opcode=0), 4.0)  # a ping between fragments
    squeeze = zlib.compressobj(wbits=-15)
    deflated = squeeze.compress(b"finished") + squeeze.flush(zlib.Z_SYNC_FLUSH)
    app.feed(_frame(deflated[:-4], rsv1=True), 5.0)
    app.feed(_frame(b"text", opcode=1), 6.0)  # text frames are not protobuf: not passed on
    assert seen == [("browser", b"rerun" * 40, 3.0), ("app", b"abcd", 4.0), ("app", b"finished", 5.0)]

    plain = loadtest._WsReader(lambda data, t: seen.append(("plain", data, t)))
    plain.partner = loadtest._WsReader(lambda data, t: None)
    plain.feed(b"GET /index.html HTTP/1.1\r\n\r\n" + _frame(b"x"), 7.0)  # not a websocket: not looked at
    assert plain.state == plain.partner.state == "ignore" and seen[-1][0] == "app"


def test_the_wire_clock_relays_a_session_faithfully_and_stamps_its_runs(app_url):
    import urllib.request

    relay = loadtest.WireClock(app_url)
    try:
        with (
            urllib.request.urlopen(app_url + "/_stcore/health") as direct,
            urllib.request.urlopen(relay.url + "/_stcore/health") as via,
        ):
            assert via.read() == direct.read()

        async def settled():  # the relay stamps a message just after passing it on
            for _ in range(100):
                if relay.finished() and relay.stamps[-1][0] == "finished":
                    return
                await asyncio.sleep(0.02)

        async def go():
            s = loadgen.Session(relay.url)
            await s.open()
            await settled()
            relay.clear()
            signed_in = await s.sign_in("director", DEMO_PASSWORD)
            assert "Overview" in signed_in.headings  # the sign-in form works through the relay
            await settled()
            assert [what for what, _ in relay.stamps] == ["sent", "finished"]
            assert relay.sent[0].rerun_script.widget_states.widgets
            spend = await s.open_page("Spend")
            await settled()
            assert spend.bytes > 0 and [what for what, _ in relay.stamps][-2:] == ["sent", "finished"]
            await s.close()

        asyncio.run(go())
    finally:
        relay.close()


def _app_pid(url: str) -> int:
    import os

    port = url.rsplit(":", 1)[1].encode()
    return next(
        pid
        for pid in loadtest._descendants(os.getpid())
        if b"streamlit" in loadtest._command(pid) and port in loadtest._command(pid)
    )


def test_the_load_test_counts_the_sessions_each_replica_holds_and_the_cpu_the_app_used(app_url):
    app = _app_pid(app_url)
    before = loadtest._websockets(app)

    async def go():
        sessions = [loadgen.Session(app_url) for _ in range(3)]
        for s in sessions:
            await s.open()
        held = loadtest._websockets(app)
        for s in sessions:
            await s.close()
        return held

    assert asyncio.run(go()) >= before + 3
    assert loadtest.settle([app]) < 30  # an app alone goes quiet (its exporter warmed in the background)
    r = loadtest.crowd([app_url], [app], sessions=2, changes=2, think_seconds=0.0)
    assert r["errors"] == 0, r["first_errors"]
    assert r["app_cpu_s_per_click"] > 0
    assert 0 <= r["other_cpu_share"] <= 1 and 0 < r["client_cpu_share_of_a_core"] < 1
    assert r["busiest_replica_share"] == 1.0  # one replica holds every session
