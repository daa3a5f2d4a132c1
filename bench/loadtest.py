"""Load tests against real app processes: start replicas, drive a crowd of simulated people on
Streamlit's own protocol (:mod:`bench.loadgen`, no browsers), and measure the app's CPU.

Also the pieces the browser tests share: the app under `streamlit run`, Chromium's path and flags,
signing in with Playwright.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from bench import loadgen
from starviz import config

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
IDLE = "document.querySelector('[data-test-script-state]')?.getAttribute('data-test-script-state') === 'notRunning'"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_app(url: str, seconds: float = 60) -> None:
    """Until something listens on the port of `url` (the app server has started), at most `seconds`."""
    port = int(url.rsplit(":", 1)[1])
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)


def start_app(env: dict[str, str], log=None) -> tuple[subprocess.Popen, str]:
    """`streamlit run serve.py` (as `make run` and production) with these extra environment settings;
    (process, base URL). Output goes to the open file `log`, or nowhere."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "serve.py", "--server.port", str(port), "--server.headless", "true"],
        cwd=config.ROOT,
        env={**os.environ, **env},
        stdout=log or subprocess.DEVNULL,
        stderr=subprocess.STDOUT if log else subprocess.DEVNULL,
    )
    return proc, f"http://127.0.0.1:{port}"


@contextmanager
def app_servers(db: Path, auth_dir: Path, replicas: int = 1):
    """`replicas` app processes reading the same database file; yields their base URLs."""
    started = [start_app({"STARVIZ_DB": str(db), "STARVIZ_AUTH_DIR": str(auth_dir)}) for _ in range(replicas)]
    procs, urls = [p for p, _ in started], [u for _, u in started]
    try:
        for url in urls:
            wait_for_app(url)
        yield urls, procs
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=15)


def sign_in(page, username: str = "director", lands_on: str = "Overview", timeout_ms: int = 120_000) -> None:
    """Fill the login form (Playwright's sync API) and wait until the app shows the page `lands_on`,
    has finished running and the browser holds the sign-in cookie."""
    from starviz.auth import COOKIE_NAME
    from starviz.credentials import DEMO_PASSWORD

    page.get_by_role("textbox", name="Username").wait_for(timeout=timeout_ms)
    page.get_by_role("textbox", name="Username").fill(username)
    page.get_by_role("textbox", name="Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name=lands_on).first.wait_for(timeout=timeout_ms)
    page.wait_for_function(IDLE, timeout=timeout_ms)
    for _ in range(150):  # set HttpOnly by the server (serve.py): the browser holds it, no script sees it
        if any(c["name"] == COOKIE_NAME for c in page.context.cookies()):
            break
        page.wait_for_timeout(200)


def percentile(values: list[float], q: float) -> float:
    """The q (0-1, in hundredths) quantile of the values, by statistics.quantiles (inclusive method:
    interpolated between the two nearest values); NaN for none. The bench's one definition of p50/p95."""
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1]


def _cpu_seconds(pids: list[int]) -> float:
    """CPU time (user and system) these processes have used so far."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def _busy_seconds() -> float:
    """CPU time the whole machine has spent busy so far (every core; idle and I/O wait left out)."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, Path("/proc/stat").read_text().split()[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _measure(pids: list[int]):
    """A mark to take now and compare later: (wall clock, machine busy, these processes' CPU)."""
    return time.perf_counter(), _busy_seconds(), _cpu_seconds(pids)


def crowd(urls: list[str], pids: list[int], sessions: int, changes: int = 10, think_seconds: float = 5.0) -> dict:
    """`sessions` simulated people opening the app at once on `urls` and then clicking `changes`
    times each about `think_seconds` apart; the app processes `pids` (all the replicas) are measured
    from the moment every session is open to the end. Percentiles in seconds."""
    from starviz.credentials import DEMO_PASSWORD

    marks = {}

    def opened() -> None:
        marks["open"] = _measure(pids)

    out = asyncio.run(
        loadgen.crowd(urls, sessions, changes=changes, think=think_seconds, password=DEMO_PASSWORD, on_all_open=opened)
    )
    marks["end"] = _measure(pids)
    pages = [t for ts in out.page_open.values() for t in ts]
    clicks = out.filter_change + pages
    r = {
        "sessions": sessions,
        "think_s": think_seconds,
        "p50": percentile(clicks, 0.5),
        "p95": percentile(clicks, 0.95),
        "filter_p50": percentile(out.filter_change, 0.5),
        "filter_p95": percentile(out.filter_change, 0.95),
        "page_p50": percentile(pages, 0.5),
        "page_p95": percentile(pages, 0.95),
        "sign_in_p50": percentile(out.signing_in, 0.5),
        "sign_in_p95": percentile(out.signing_in, 0.95),
        "opening_p95": percentile([a + b for a, b in zip(out.opening, out.signing_in, strict=False)], 0.95),
        "errors": len(out.errors),
        "first_errors": out.errors[:3],
        "responses": len(clicks),
        "reruns": out.reruns,
        "client_cpu_s": out.client_cpu_s,
        "client_cpu_ms_per_rerun": 1000 * out.client_cpu_s / max(out.reruns, 1),
    }
    if "open" in marks:
        (t0, busy0, app0), (t1, busy1, app1) = marks["open"], marks["end"]
        r["machine_busy_share"] = (busy1 - busy0) / max((t1 - t0) * (os.cpu_count() or 1), 1e-9)
        r["app_cpu_share"] = (app1 - app0) / max(busy1 - busy0, 1e-9)
        r["app_cpu_s_per_click"] = (app1 - app0) / max(len(clicks), 1)
    return r


def run(db: Path, auth_dir: Path, sessions: int = 20, changes: int = 10, replicas: int = 1, think_seconds: float = 0.0) -> dict:
    """:func:`crowd` against `replicas` fresh app processes serving `db`."""
    with app_servers(db, auth_dir, replicas) as (urls, procs):
        warm(urls)
        return crowd(urls, [p.pid for p in procs], sessions, changes, think_seconds)


def warm(urls: list[str]) -> None:
    """One person through every page of each replica first, so that a crowd measures a running app
    (imports done, answers cached), not a cold start."""
    from starviz.credentials import DEMO_PASSWORD

    async def visit(url: str) -> None:
        s = loadgen.Session(url)
        await s.open()
        await s.sign_in("director", DEMO_PASSWORD)
        for page in loadgen.PAGES:
            await s.open_page(page)
        await s.close()

    async def visit_all() -> None:
        await asyncio.gather(*(visit(u) for u in urls))

    asyncio.run(visit_all())


def cpu_per_rerun(url: str, pids: list[int], pages: tuple[str, ...], repeats: int = 6) -> dict[str, dict]:
    """Server CPU (all `pids`) per rerun, page by page, one person alone: opening the page (from
    another page), and changing the financial year on it. Answers are cached in the app as in
    normal use: each page is visited once before it is measured."""
    from starviz.credentials import DEMO_PASSWORD

    async def go() -> dict[str, dict]:
        s = loadgen.Session(url)
        await s.open()
        await s.sign_in("director", DEMO_PASSWORD)
        out = {}
        years = list(s.widget("selectbox", key="f_fy").options)[:2]
        for page in pages:
            other = "Overview" if page != "Overview" else "Spend"
            await s.open_page(page)
            for fy in years:
                await s.choose("f_fy", fy)
            opens, changes, wall = [], [], []
            for _ in range(repeats):
                await s.open_page(other)
                c0 = _cpu_seconds(pids)
                run = await s.open_page(page)
                opens.append(_cpu_seconds(pids) - c0)
                wall.append(run.seconds)
            for k in range(repeats):
                c0 = _cpu_seconds(pids)
                await s.choose("f_fy", years[k % 2])
                changes.append(_cpu_seconds(pids) - c0)
            out[page] = {
                "open_cpu_s": statistics.median(opens),
                "change_cpu_s": statistics.median(changes),
                "open_wall_s": statistics.median(wall),
                "bytes": run.bytes,
            }
        await s.close()
        return out

    return asyncio.run(go())


if __name__ == "__main__":  # python -m bench.loadtest URL [sessions] [think]: a crowd against a running app
    url, n, think = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 20, float(sys.argv[3]) if len(sys.argv) > 3 else 5.0
    print(json.dumps(crowd([url], [], n, think_seconds=think), indent=2))


_WATCH = """() => {
  if (!window.__starvizClicks) {
    window.__starvizClicks = true;
    document.addEventListener('mousedown', () => { window.__starvizClick = performance.now(); }, true);
  }
}"""
# The next frame painted after the app went idle, from the last mouse press. (Watching the script
# state attribute for running -> not running missed runs whose messages the page handled in one
# batch: the attribute never showed "running", and the wait never ended.)
_DRAWN = (
    "new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(performance.now() - window.__starvizClick))))"
)


def _descendants(pid: int) -> list[int]:
    """Every process started (directly or not) by `pid`."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(parent, []).append(int(stat.parent.name))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def _command(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def yield_to_the_app(pids: list[int] | None = None) -> int:
    """Lower every process this bench started that is not the app (Chromium's browser, GPU, network
    and renderer processes, the Playwright driver) to the lowest priority, nice 19, every thread.
    On a machine shared with the app, Chromium drawing the answer as it streams in (and reporting
    every websocket frame to DevTools) otherwise takes the app's CPU mid-run: measured with the app's
    per-thread scheduler statistics, the script thread of the browser's session waited runnable for
    a CPU 0.86 s over 23 runs against 0.08 s for the protocol client's, with the same CPU time, so
    the browser's clicks timed the app slowed by the browser. A person's browser runs on their own
    machine. How many processes were lowered."""
    lowered = 0
    if pids is None:
        pids = _descendants(os.getpid())
        apps = [pid for pid in pids if b"streamlit" in _command(pid)]  # the app, when this process started it
        pids = sorted(set(pids) - set(apps) - {child for app in apps for child in _descendants(app)})
    for pid in pids:
        for task in Path(f"/proc/{pid}/task").glob("*"):
            try:
                os.setpriority(os.PRIO_PROCESS, int(task.name), 19)
            except (OSError, ValueError):
                continue
        lowered += 1
    return lowered


def pin(pids: list[int], cpus: set[int]) -> int:
    """Let every thread of these processes run only on these CPUs (os.sched_setaffinity per thread:
    on Linux it applies to one thread; threads and processes started later inherit it). How many
    threads were pinned."""
    pinned = 0
    for pid in pids:
        for task in Path(f"/proc/{pid}/task").glob("*"):
            try:
                os.sched_setaffinity(int(task.name), cpus)
                pinned += 1
            except (OSError, ValueError):
                continue
    return pinned


def pin_apart(app_pids: list[int]) -> bool:
    """On a machine of two or more CPUs: the app (these processes and theirs) on CPU 0 alone; this
    process (the protocol client and the :class:`WireClock` relay), Chromium and the Playwright
    driver on CPU 1, where Chromium (nice 19, :func:`yield_to_the_app`) yields to the relay. So the
    browser's drawing cannot take the app's CPU mid-run. False (nothing pinned) on one CPU."""
    if (os.cpu_count() or 1) < 2:
        return False
    apps = set(app_pids) | {child for app in app_pids for child in _descendants(app)}
    pin(sorted(apps), {0})
    pin([os.getpid(), *sorted(set(_descendants(os.getpid())) - apps)], {1})
    return True


def unpin(pids: list[int]) -> None:
    """Every CPU again for these processes, theirs and this one."""
    every = set(range(os.cpu_count() or 1))
    pin(sorted(set(pids) | {c for pid in pids for c in _descendants(pid)} | {os.getpid()}), every)


class WireClock:
    """A relay on its own port between Chromium and the app that stamps the websocket's messages as
    they cross the socket (time.perf_counter() when the bytes are read): each ``rerun_script`` as it
    leaves for the app, each ``script_finished`` as it comes from the app. It forwards every byte
    unchanged in both directions, as it arrives, before looking at it (HTTP, the websocket upgrade,
    text, binary and control frames, close; the app's side read as fast as the app writes, held
    for a browser slow to read), and only reads a copy: it parses the websocket frames
    of the ``/_stcore/stream`` connection (unmasking the browser's, inflating permessage-deflate if
    the app negotiated it) and decodes the small ones as BackMsg / ForwardMsg.

    Why not DevTools or Playwright's ``route_web_socket``: Chromium reports
    ``Network.webSocketFrameReceived`` from the renderer's main thread (Blink's websocket channel),
    so a frame arriving while the page is still drawing the run's Plotly figures is stamped when
    the drawing lets go; ``route_web_socket`` is worse (Playwright 1.65's mock opens the real
    socket inside the page, ``new NativeWebSocket`` in webSocketMock, and hands each message to the
    driver from its ``onmessage``: after the renderer's main thread, and then through the driver
    to Python). The relay runs in this process's own thread and event loop."""

    def __init__(self, target_url: str):
        import threading

        self.target_port = int(target_url.rsplit(":", 1)[1])
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.stamps: list[tuple[str, float]] = []  # ("sent" | "finished", perf_counter)
        self.sent: list = []  # the rerun_script BackMsgs, in order
        self.lock = threading.Lock()
        self._writers: set = set()
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        self._ready.wait(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)

        async def start():
            self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
            self._ready.set()

        self.loop.run_until_complete(start())
        self.loop.run_forever()

    def finished(self) -> bool:
        """Whether a script_finished has been stamped since :meth:`clear`."""
        with self.lock:
            return any(what == "finished" for what, _ in self.stamps)

    def clear(self) -> None:
        with self.lock:
            self.stamps.clear()
            self.sent.clear()

    def close(self) -> None:
        async def stop():
            self._server.close()
            for writer in self._writers:
                writer.close()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            await asyncio.wait(tasks, timeout=5) if tasks else None

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)

    async def _serve(self, browser_r, browser_w) -> None:
        try:
            app_r, app_w = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            browser_w.close()
            return
        self._writers |= {browser_w, app_w}
        upstream, downstream = _WsReader(self._from_browser), _WsReader(self._from_app)
        upstream.partner, downstream.upstream = downstream, upstream

        async def pipe(reader, writer, watcher, wait_for_reader: bool):
            try:
                while data := await reader.read(1 << 16):
                    t = time.perf_counter()
                    writer.write(data)  # forwarded first, looked at after
                    if wait_for_reader:
                        await writer.drain()
                    watcher.feed(data, t)
            except (OSError, asyncio.IncompleteReadError):
                pass
            finally:
                try:
                    writer.close()  # one side closed: close the other (as a TCP proxy does)
                except OSError:
                    pass

        # The app's answer is read as fast as the app writes it, and held here for a browser slow to
        # read (drawing at nice 19): waiting for the browser would stamp script_finished late.
        await asyncio.gather(pipe(browser_r, app_w, upstream, True), pipe(app_r, browser_w, downstream, False))
        self._writers -= {browser_w, app_w}

    def _from_browser(self, data: bytes, t: float) -> None:
        from streamlit.proto.BackMsg_pb2 import BackMsg

        msg = BackMsg.FromString(data)
        if msg.WhichOneof("type") == "rerun_script":
            with self.lock:
                self.stamps.append(("sent", t))
                self.sent.append(msg)

    def _from_app(self, data: bytes, t: float) -> None:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        if len(data) > 1024:  # a script_finished message is a few dozen bytes: deltas are not decoded
            return
        msg = ForwardMsg.FromString(data)
        if msg.WhichOneof("type") == "script_finished" and msg.script_finished == loadgen.FINISHED:
            with self.lock:
                self.stamps.append(("finished", t))


class _WsReader:
    """One direction of a relayed connection, read passively: the HTTP head, and if the connection
    was upgraded to a websocket, its frames; each complete binary message goes to `on_message` with
    the time its last bytes were read. A connection that is not a websocket is not looked at."""

    def __init__(self, on_message):
        self.on_message = on_message
        self.partner = None  # on the browser's side: the app's (the browser's request decides both)
        self.upstream = None  # on the app's side: the browser's
        self.buf = bytearray()
        self.state = "head"  # head -> frames | ignore
        self.message: list[bytes] = []
        self.opcode, self.deflated = 0, False
        self.inflater = None

    def feed(self, data: bytes, t: float) -> None:
        if self.state == "ignore":
            return
        self.buf += data
        if self.state == "head":
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buf) > 65536:
                    self.state, self.buf = "ignore", bytearray()
                return
            head = bytes(self.buf[:end]).lower()
            del self.buf[: end + 4]
            if self.partner is not None:  # the browser's request
                upgrade = b"upgrade: websocket" in head
                self.state = "frames" if upgrade else "ignore"
                if not upgrade:
                    self.partner.state = "ignore"
            else:  # the app's answer to the upgrade
                if not head.startswith(b"http/1.1 101"):
                    self.state = "ignore"
                    return
                self.state = "frames"
                if b"permessage-deflate" in head:
                    import zlib

                    self.inflater = zlib.decompressobj(-15)
                    self.upstream.inflater = zlib.decompressobj(-15)  # each direction its own context
            if self.state == "ignore":
                self.buf = bytearray()
                return
        self._frames(t)

    def _frames(self, t: float) -> None:
        buf = self.buf
        while len(buf) >= 2:
            b0, b1 = buf[0], buf[1]
            size, at = b1 & 0x7F, 2
            if size == 126:
                if len(buf) < 4:
                    return
                size, at = int.from_bytes(buf[2:4], "big"), 4
            elif size == 127:
                if len(buf) < 10:
                    return
                size, at = int.from_bytes(buf[2:10], "big"), 10
            mask = b""
            if b1 & 0x80:
                mask, at = bytes(buf[at : at + 4]), at + 4
            if len(buf) < at + size:
                return
            payload = bytes(buf[at : at + size])
            del buf[: at + size]
            if mask:
                key = int.from_bytes((mask * (size // 4 + 1))[:size], "big")
                payload = (int.from_bytes(payload, "big") ^ key).to_bytes(size, "big")
            opcode = b0 & 0x0F
            if opcode >= 8:  # close, ping, pong
                continue
            if opcode:  # a new message (0 continues one)
                self.opcode, self.deflated, self.message = opcode, bool(b0 & 0x40), []
            self.message.append(payload)
            if b0 & 0x80:  # its last frame
                data = b"".join(self.message)
                self.message = []
                if self.deflated and self.inflater is not None:
                    data = self.inflater.decompress(data + b"\x00\x00\xff\xff")
                if self.opcode == 2:
                    self.on_message(data, t)


def _widget_states(msg) -> dict[str, str]:
    """A rerun_script's widget states, by widget id, each as its value's text (to compare two clients)."""
    out = {}
    for w in msg.rerun_script.widget_states.widgets:
        value = w.WhichOneof("value")
        out[w.id] = f"{value}={getattr(w, value)}".replace("\n", " ") if value else ""
    return out


class _Tab:
    """One person in Chromium, clicking the sidebar of the real UI; each click timed from the
    rerun_script the browser sent to the script_finished it received: at the socket by a
    :class:`WireClock` relay when one is given (Chromium then loads the app through it), and always
    also as DevTools reports the frames (``Network.webSocketFrameSent/Received``, stamped in the
    renderer's main thread, so late by whatever drawing is under way; kept in ``devtools_s``); and
    from the mouse press to the app idle in the page and the next frame painted (drawn)."""

    def __init__(self, playwright, url: str, relay: WireClock | None = None):
        import base64

        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        self.frames: list[tuple[str, float]] = []
        self.sent: list = []
        self.relay = relay
        self.devtools_s = float("nan")

        def sent(event: dict) -> None:
            msg = BackMsg()
            msg.ParseFromString(base64.b64decode(event["response"]["payloadData"]))
            if msg.WhichOneof("type") == "rerun_script":
                self.frames.append(("sent", event["timestamp"]))
                self.sent.append(msg)

        def received(event: dict) -> None:
            if event["response"]["opcode"] != 2:
                return
            msg = ForwardMsg()
            msg.ParseFromString(base64.b64decode(event["response"]["payloadData"]))
            if msg.WhichOneof("type") == "script_finished" and msg.script_finished == 0:
                self.frames.append(("finished", event["timestamp"]))

        self.browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        self.page = self.browser.new_page(viewport={"width": 1400, "height": 900})
        self.page.set_default_timeout(60_000)
        cdp = self.page.context.new_cdp_session(self.page)
        cdp.send("Network.enable")
        cdp.on("Network.webSocketFrameSent", sent)
        cdp.on("Network.webSocketFrameReceived", received)
        self.page.goto(relay.url if relay else url, timeout=120_000)
        sign_in(self.page)

    def click(self, kind: str, value: str) -> tuple[float, float]:
        """(sent to finished, mouse press to drawn) of one click."""
        page = self.page
        page.evaluate(_WATCH)
        self.frames.clear()
        self.sent.clear()
        if self.relay:
            self.relay.clear()
        if kind == "fy":
            page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").filter(has_text="Financial year").click()
            page.get_by_role("option", name=value, exact=True).click()
        else:
            page.locator("[data-testid='stSidebarNav'] a").filter(has_text=re.compile(rf"{re.escape(value)}\s*$")).click()
        deadline = time.monotonic() + 120
        while not any(what == "finished" for what, _ in self.frames) or (  # the run's end reached the browser
            self.relay and not self.relay.finished()
        ):
            if time.monotonic() > deadline:
                raise TimeoutError(f"no script_finished within 120 s after {kind} {value}")
            page.wait_for_timeout(5)
        page.wait_for_function(IDLE)
        drawn = page.evaluate(_DRAWN) / 1000
        page.wait_for_timeout(50)  # any later frames' events
        self.devtools_s = _span(self.frames)
        if self.relay:
            with self.relay.lock:
                return _span(self.relay.stamps), drawn
        return self.devtools_s, drawn

    def close(self) -> None:
        self.browser.close()


def _span(stamps: list[tuple[str, float]]) -> float:
    """From the first rerun_script sent to the last script_finished received."""
    first_sent = min((t for what, t in stamps if what == "sent"), default=float("nan"))
    last_done = max((t for what, t in stamps if what == "finished"), default=float("nan"))
    return last_done - first_sent


# Every page of the sidebar, opened one after the other (the overview last: the first is already open).
OPENED = ("Spend", "Benchmarking", "Collaboration", "Pipeline", "Social value", "KPIs", "Maturity", "Data quality", "Overview")


def browser_agreement(url: str, rounds: int = 5, app_pids: list[int] | None = None, pinned: bool = True) -> dict[str, dict]:
    """One person's clicks (the year changed on the overview and back, then every page opened in
    turn), `rounds` times, made by the protocol client and by Chromium click for click on the same
    warm app (each pair a moment apart, so both meet the same machine); median seconds of each kind
    of click by each, the same span: the rerun_script sent to that run's script_finished received.

    The Chromium figure is a real browser session (Playwright driving /usr/bin/chromium) clicking
    the real UI (the sidebar's year select box, the sidebar's page links), after signing in through
    the form; its span is stamped at the socket by a :class:`WireClock` relay it loads the app
    through (``chromium_s``), and also as DevTools reports it (``devtools_s``, the renderer's main
    thread: late by the page's own drawing). The relay's own cost is measured with a second protocol
    session through it (``relay_s`` against ``protocol_s``, same clicks).

    Chromium and the Playwright driver run at nice 19 (:func:`yield_to_the_app`); with `pinned` (and
    the app's `app_pids`, on two or more CPUs) the app is on CPU 0 alone, this process, Chromium and
    the driver on CPU 1 (:func:`pin_apart`). Also how many of the clicks' rerun_script messages
    carried other widget states than the browser's ("differing")."""
    import threading

    from playwright.sync_api import sync_playwright

    from starviz.credentials import DEMO_PASSWORD

    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, daemon=True).start()

    def wait(coro):
        return asyncio.run_coroutine_threadsafe(coro, loop).result()

    relay = WireClock(url)
    s, via = loadgen.Session(url), loadgen.Session(relay.url)
    sent: list = []
    for session in (s, via):
        wait(session.open())
        wait(session.sign_in("director", DEMO_PASSWORD))
    years = list(s.widget("selectbox", key="f_fy").options)[:2]
    steps = [("fy", years[1]), ("fy", years[0])] + [("page", p) for p in OPENED]
    send = s.ws.send

    async def recording(data):
        from streamlit.proto.BackMsg_pb2 import BackMsg

        sent.append(BackMsg.FromString(data))
        return await send(data)

    s.ws.send = recording

    def click(session, kind, value) -> float:
        return wait(session.choose("f_fy", value) if kind == "fy" else session.open_page(value)).seconds

    times: dict[str, dict[str, list[float]]] = {}
    differing, example, pin_applied = 0, "", False
    try:
        with sync_playwright() as p:
            tab = _Tab(p, url, relay)
            for n in range(rounds + 1):  # the first round warms both
                yield_to_the_app()  # again each round: processes Chromium started since
                if pinned and app_pids:
                    pin_applied = pin_apart(app_pids)
                for kind, value in steps:
                    sent.clear()
                    ours = click(s, kind, value)
                    time.sleep(0.2)
                    relayed = click(via, kind, value)
                    time.sleep(0.2)
                    theirs, drawn = tab.click(kind, value)
                    time.sleep(0.2)
                    if n == 0:
                        continue
                    ours_sent, theirs_sent = [_widget_states(m) for m in sent], [_widget_states(m) for m in tab.sent]
                    if ours_sent != theirs_sent:
                        differing += 1
                        example = example or f"{kind} {value}: protocol {ours_sent}, Chromium {theirs_sent}"
                    label = "filter change" if kind == "fy" else f"open {value}"
                    found = (
                        ("protocol", ours),
                        ("relay", relayed),
                        ("chromium", theirs),
                        ("devtools", tab.devtools_s),
                        ("drawn", drawn),
                    )
                    for what, t in found:
                        times.setdefault(label, {}).setdefault(what, []).append(t)
            tab.close()
    finally:
        if pinned and app_pids:
            unpin(app_pids)
        for session in (s, via):
            wait(session.close())
        loop.call_soon_threadsafe(loop.stop)
        relay.close()
    out = {}
    for label, t in times.items():
        a, b = statistics.median(t["protocol"]), statistics.median(t["chromium"])
        out[label] = {
            "protocol_s": a,
            "chromium_s": b,
            "ratio": a / b,
            "relay_s": statistics.median(t["relay"]),
            "devtools_s": statistics.median(t["devtools"]),
            "chromium_drawn_s": statistics.median(t["drawn"]),
            "clicks": len(t["protocol"]),
        }
    out["messages"] = {"differing": differing, "clicks": rounds * len(steps), "example": example, "pinned": pin_applied}
    return out
