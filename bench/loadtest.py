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
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # ended
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def _tree_cpu_seconds(pids: list[int]) -> float:
    """CPU time of these processes and every process they started (an app's Kaleido Chromium), so far."""
    return _cpu_seconds(sorted(set(pids) | {c for pid in pids for c in _descendants(pid)}))


def _busy_seconds() -> float:
    """CPU time the whole machine has spent busy so far (every core; idle and I/O wait left out)."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, Path("/proc/stat").read_text().split()[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _measure(pids: list[int]):
    """A mark to take now and compare later: (wall clock, machine busy, these processes' CPU and
    their children's, this process's CPU)."""
    return time.perf_counter(), _busy_seconds(), _tree_cpu_seconds(pids), time.process_time()


def _websockets(pid: int) -> int:
    """Established TCP connections this process holds (an app replica: one per open session, plus a
    proxy's idle keep-alive connections)."""
    inodes = set()
    try:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    except OSError:
        return 0
    n = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] == "01" and fields[9] in inodes:  # 01: ESTABLISHED
                n += 1
    return n


def crowd(
    urls: list[str], pids: list[int], sessions: int, changes: int = 10, think_seconds: float = 5.0, proxy: list[int] = ()
) -> dict:
    """`sessions` simulated people opening the app at once on `urls` and then clicking `changes`
    times each about `think_seconds` apart; the app processes `pids` (all the replicas, and the
    processes they started) are measured from the moment every session is open to the end, and so
    is the whole machine: ``other_cpu_share`` is what neither the app nor this load generator used
    (another job on the machine; a run with much of it is not comparable). ``busiest_replica_share``:
    the share of the open sessions' connections held by the busiest of `pids` (a proxy places them,
    without one they go round the `urls`). The `proxy`'s processes count as the app's. Percentiles
    in seconds."""
    from starviz.credentials import DEMO_PASSWORD

    marks = {}

    serving = [*pids, *proxy]

    def opened() -> None:
        marks["open"] = _measure(serving)
        marks["connections"] = [_websockets(pid) for pid in pids]

    started = time.perf_counter()
    out = asyncio.run(
        loadgen.crowd(urls, sessions, changes=changes, think=think_seconds, password=DEMO_PASSWORD, on_all_open=opened)
    )
    wall = time.perf_counter() - started
    marks["end"] = _measure(serving)
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
        "client_cpu_share_of_a_core": out.client_cpu_s / max(wall, 1e-9),
    }
    if "open" in marks:
        (t0, busy0, app0, me0), (t1, busy1, app1, me1) = marks["open"], marks["end"]
        cores = (t1 - t0) * (os.cpu_count() or 1)
        r["machine_busy_share"] = (busy1 - busy0) / max(cores, 1e-9)
        r["app_cpu_share"] = (app1 - app0) / max(busy1 - busy0, 1e-9)
        r["app_cpu_s_per_click"] = (app1 - app0) / max(len(clicks), 1)
        r["other_cpu_share"] = max(0.0, (busy1 - busy0) - (app1 - app0) - (me1 - me0)) / max(cores, 1e-9)
        held = marks["connections"]
        r["busiest_replica_share"] = max(held) / max(sum(held), 1) if held else float("nan")
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


def settle(pids: list[int], quiet_s: float = 0.05, longest_s: float = 30.0) -> float:
    """Wait until these processes and theirs use less than `quiet_s` of CPU in a second (an app
    started its exporter's Chromium in the background on its first run: a crowd starting
    meanwhile would share the machine with it), at most `longest_s`; how long it waited."""
    started = time.perf_counter()
    while time.perf_counter() - started < longest_s:
        before = _tree_cpu_seconds(pids)
        time.sleep(1.0)
        if _tree_cpu_seconds(pids) - before < quiet_s:
            break
    return time.perf_counter() - started


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


def keep_browser_apart(app_pids: list[int], pinned: bool = True) -> str:
    """With `pinned` on two or more CPUs, keep Chromium's drawing off the app's CPU: the app alone
    on CPU 0, this process, Chromium and the driver on CPU 1 (:func:`pin_apart`), each at the
    priority it gives itself; say how. Otherwise nothing: the browser and the app share the
    machine, as on a laptop running both.

    No longer also nice 19 (:func:`yield_to_the_app`, kept for scripts): with autogroups
    (``/proc/sys/kernel/sched_autogroup_enabled``, on here) Chromium runs in a session of its own,
    so a thread's nice weighs only against Chromium's own threads, never against the app; and
    Chromium, running as root, sets its threads' priorities itself (compositor, IO and display
    threads at -8, renderers' main threads back to 0 or 5: seen in /proc at the failed clicks), so
    nice 19 lasted until Chromium changed it, and meanwhile put a renderer's main thread (which
    handles the app's messages and Playwright's click checks) behind Chromium's own -8 threads.
    Held to one CPU, the browser has only that CPU: with other work on it, the page took minutes
    to handle a run the app had finished in 0.17 s (the scheduler statistics kept with the click:
    the renderer ran 0.4 s in two minutes, its threads waiting runnable for hundreds of seconds),
    so the Chromium suites run under the heavy-job lock, on a quiet machine. Call it again after
    Chromium starts processes."""
    if pinned and pin_apart(app_pids):
        return "app on CPU 0, browser on CPU 1"
    return "not pinned"


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
    driver on CPU 1, all at normal priority (a relay woken by a frame preempts Chromium's drawing
    at once, as any thread waking from a read does). So the browser's drawing cannot take the
    app's CPU mid-run. False (nothing pinned) on one CPU."""
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
        # read (busy drawing): waiting for the browser would stamp script_finished late.
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
        self.reopened = 0  # select box clicks made twice (see _choose_year)
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
        self.url = relay.url if relay else url
        self.page.goto(self.url, timeout=120_000)
        sign_in(self.page)

    def click(self, kind: str, value: str) -> tuple[float, float]:
        """(sent to finished, mouse press to drawn) of one click. A click Playwright cannot make, or
        whose run does not finish or draw in time, raises :class:`ClickFailed` with what the page
        showed then (:func:`_evidence`)."""
        from playwright.sync_api import Error as PlaywrightError

        page = self.page
        before = _scheduled(self.browser_pids())
        stage = "click"
        try:
            page.evaluate(_WATCH)
            self.frames.clear()
            self.sent.clear()
            if self.relay:
                self.relay.clear()
            if kind == "fy":
                self._choose_year(value)
            else:
                page.locator("[data-testid='stSidebarNav'] a").filter(has_text=re.compile(rf"{re.escape(value)}\s*$")).click()
            stage = "script_finished"
            deadline = time.monotonic() + 120
            while not any(what == "finished" for what, _ in self.frames) or (  # the run's end reached the browser
                self.relay and not self.relay.finished()
            ):
                if time.monotonic() > deadline:
                    raise TimeoutError("no script_finished within 120 s")
                page.wait_for_timeout(5)
            stage = "idle"
            page.wait_for_function(IDLE)
            drawn = page.evaluate(_DRAWN) / 1000
            page.wait_for_timeout(50)  # any later frames' events
        except (PlaywrightError, TimeoutError) as exc:
            found = _evidence(page, f"{kind}-{value}", self.relay, str(exc), _scheduled(self.browser_pids(), since=before))
            raise ClickFailed(f"{kind} {value}", stage, exc, found) from None
        self.devtools_s = _span(self.frames)
        if self.relay:
            with self.relay.lock:
                return _span(self.relay.stamps), drawn
        return self.devtools_s, drawn

    def _choose_year(self, value: str) -> None:
        """Open the sidebar's Financial year select box and click the option `value`. A click on the
        box now and then focused it and left its menu closed, so the option Playwright waited for
        never appeared (the suite's "Locator.click: Timeout 60000ms exceeded": the page idle, no
        dialog; 2 of 160 clicks in a probe on a quiet machine). Every such screenshot shows the box
        at the bottom edge of the sidebar as the page first draws it (900 px high), where its menu
        has no room below: the box is scrolled to the middle of the sidebar first, the focus let go
        as after a click elsewhere, and if the menu has not shown after MENU_S the box is clicked
        once more (counted in ``reopened``)."""
        from playwright.sync_api import Error as PlaywrightError

        page = self.page
        box = page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").filter(has_text="Financial year")
        option = page.get_by_role("option", name=value, exact=True)
        page.evaluate("document.activeElement && document.activeElement.blur && document.activeElement.blur()")
        box.evaluate("e => e.scrollIntoView({block: 'center'})")  # room below it for the menu
        box.click()
        try:
            option.wait_for(timeout=MENU_S * 1000)
        except PlaywrightError:
            self.reopened += 1
            page.keyboard.press("Escape")
            box.evaluate("e => e.scrollIntoView({block: 'center'})")
            box.click()
        option.click()

    def recover(self) -> bool:
        """After a failed click: load the app again (the sign-in cookie keeps the person signed in)
        and wait for it to be idle. Whether the tab is usable again."""
        from playwright.sync_api import Error as PlaywrightError

        try:
            self.page.goto(self.url, timeout=120_000)
            if self.page.get_by_role("textbox", name="Username").count():
                sign_in(self.page)
            self.page.get_by_role("heading").first.wait_for(timeout=60_000)
            self.page.wait_for_function(IDLE, timeout=60_000)
            return True
        except (PlaywrightError, TimeoutError):
            return False

    def browser_pids(self) -> list[int]:
        """Chromium's processes and the Playwright driver: everything this process started that is not
        an app server."""
        pids = _descendants(os.getpid())
        apps = [pid for pid in pids if b"streamlit" in _command(pid)]
        return sorted(set(pids) - set(apps) - {c for app in apps for c in _descendants(app)})

    def close(self) -> None:
        self.browser.close()


def _busiest(seconds: float = 1.0, top: int = 8) -> list[str]:
    """The processes that used the most CPU over the next `seconds`: "pid name: % of a CPU, on CPU n"."""

    def ticks() -> dict[int, tuple[int, str, int]]:
        out = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                text = stat.read_text()
            except OSError:
                continue
            name, rest = text[text.index("(") + 1 : text.rindex(")")], text.rsplit(")", 1)[1].split()
            out[int(stat.parent.name)] = (int(rest[11]) + int(rest[12]), name, int(rest[36]))
        return out

    first = ticks()
    time.sleep(seconds)
    second = ticks()
    hz = os.sysconf("SC_CLK_TCK")
    used = sorted(((t - first[pid][0], pid, name, cpu) for pid, (t, name, cpu) in second.items() if pid in first), reverse=True)
    return [f"{pid} {name}: {100 * d / hz / seconds:.0f}% on CPU {cpu}" for d, pid, name, cpu in used[:top] if d]


def _scheduled(pids: list[int], since: dict | None = None) -> dict:
    """Per process: seconds on a CPU and seconds waiting runnable for one (/proc/PID/schedstat,
    every thread), and its nice value; with `since`, the difference from that earlier reading. A
    process that waited far longer than it ran was starved of CPU."""
    out = {}
    for pid in pids:
        ran = waited = 0
        try:
            for task in Path(f"/proc/{pid}/task").glob("*"):
                run_ns, wait_ns, _ = (task / "schedstat").read_text().split()
                ran, waited = ran + int(run_ns), waited + int(wait_ns)
            nice = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16])
        except (OSError, ValueError):
            continue
        command = _command(pid)  # Chromium rewrites its own: one string, spaces between the arguments
        typed = re.search(rb"--type=([\w-]+)", command)
        kind = typed[1] if typed else command.split(b"\0")[0].split(b" ")[0].rsplit(b"/", 1)[-1]
        try:
            group = Path(f"/proc/{pid}/autogroup").read_text().strip()  # nice between sessions' groups
        except OSError:
            group = ""
        out[pid] = {
            "what": kind.decode(errors="replace")[:60],
            "nice": nice,
            "autogroup": group,
            "ran_s": ran / 1e9,
            "waited_s": waited / 1e9,
        }
    if since:
        for pid, r in out.items():
            if pid in since:
                r["ran_s"] -= since[pid]["ran_s"]
                r["waited_s"] -= since[pid]["waited_s"]
    return out


MENU_S = 5  # seconds a select box's menu may take to show after a click before the box is clicked again


class ClickFailed(RuntimeError):
    """A click in Chromium that did not happen or was not answered in time (`stage`: "click",
    "script_finished" or "idle"), with what the page showed then (:func:`_evidence`)."""

    def __init__(self, what: str, stage: str, exc: Exception, evidence: dict):
        self.what, self.stage, self.evidence = what, stage, evidence
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        super().__init__(f"Chromium {what}, waiting for {stage}: {first} (page as it was: {evidence.get('folder', '?')})")


EVIDENCE = Path(os.environ.get("STARVIZ_BENCH_EVIDENCE", "/tmp/starviz-bench-evidence"))


def _evidence(page, what: str, relay=None, error: str = "", browser_cpu: dict | None = None) -> dict:
    """What the page showed when a click timed out, kept under EVIDENCE/<time>-<what>/: a
    screenshot, the page's text, and whether the app was running, which dialogs were open and
    what the relay last saw."""
    folder = EVIDENCE / f"{time.strftime('%H%M%S')}-{re.sub(r'[^A-Za-z0-9-]+', '_', what)}"
    folder.mkdir(parents=True, exist_ok=True)
    found: dict = {"folder": str(folder), "url": page.url, "error": error, "browser_cpu": browser_cpu}
    for name, script in {
        "script_state": "document.querySelector('[data-test-script-state]')?.getAttribute('data-test-script-state')",
        "dialogs": "[...document.querySelectorAll('[role=dialog], [data-testid=stDialog], [data-testid=stToast]')]"
        ".map(e => e.innerText.slice(0, 200))",
        "nav_links": "[...document.querySelectorAll('[data-testid=stSidebarNav] a')].map(e => e.innerText)",
        "connection": "document.querySelector('[data-testid=stStatusWidget]')?.innerText || ''",
        "cookie": "document.cookie.length",
    }.items():
        try:
            found[name] = page.evaluate(script)
        except Exception as exc:  # the page itself may be gone
            found[name] = f"unreadable: {type(exc).__name__}"
    try:
        page.screenshot(path=str(folder / "page.png"), full_page=True, timeout=30_000)
        (folder / "page.txt").write_text(page.inner_text("body", timeout=30_000))
    except Exception as exc:
        found["screenshot"] = f"failed: {type(exc).__name__}"
    if relay is not None:
        with relay.lock:
            found["relay_stamps"] = list(relay.stamps)
    found["load_average"] = Path("/proc/loadavg").read_text().split()[:3]
    found["busiest_processes"] = _busiest()
    (folder / "state.json").write_text(json.dumps(found, indent=2, default=str))
    return found


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

    With `pinned` (and the app's `app_pids`, on two or more CPUs) the app is on CPU 0 alone, this
    process, Chromium and the driver on CPU 1; else both share the machine
    (:func:`keep_browser_apart`). Also how many of the clicks' rerun_script messages carried other
    widget states than the browser's ("differing").

    A Chromium click that fails (:class:`ClickFailed`: not made, not answered or not drawn in
    time) is counted and kept under ``messages["failed"]`` with where the page's screenshot and
    text went; the tab is loaded again and the clicks go on from the next round, both protocol
    sessions brought to where the tab is (the overview, the default year); Chromium is left out of
    the rest after three failures, or when it cannot be loaded again. What was measured is kept."""
    import threading

    from playwright.sync_api import Error as PlaywrightError
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

    def align(session, year: str) -> None:
        """The session on the overview in `year`, as a tab loaded again is."""
        wait(session.open_page("Overview"))
        box = session.widget("selectbox", key="f_fy")
        held = session.held.get(box.id)
        if held is None or held.string_value != year:
            wait(session.choose("f_fy", year))

    times: dict[str, dict[str, list[float]]] = {}
    differing, example, placed = 0, "", ""
    failed: list[str] = []
    reopened = 0
    try:
        with sync_playwright() as p:
            try:
                tab = _Tab(p, url, relay)
            except (PlaywrightError, TimeoutError) as exc:
                tab = None
                failed.append(f"Chromium could not open and sign in: {str(exc).splitlines()[0] if str(exc) else exc!r}")
            for n in range(rounds + 1):  # the first round warms both
                if tab is not None:
                    placed = keep_browser_apart(app_pids or [], pinned and bool(app_pids))  # again: new processes
                for kind, value in steps:
                    sent.clear()
                    ours = click(s, kind, value)
                    time.sleep(0.2)
                    relayed = click(via, kind, value)
                    time.sleep(0.2)
                    theirs = drawn = float("nan")
                    if tab is not None:
                        try:
                            theirs, drawn = tab.click(kind, value)
                        except ClickFailed as exc:
                            failed.append(str(exc))
                            print(f"browser agreement: {exc}", flush=True)
                            reopened = tab.reopened
                            if len(failed) >= 3 or not tab.recover():
                                tab.close()
                                tab = None
                            else:  # the tab starts again from the overview in the default year: so do both sessions
                                for session in (s, via):
                                    align(session, years[0])
                                break  # on to the next round, which starts there
                        time.sleep(0.2)
                    if n == 0:
                        continue
                    label = "filter change" if kind == "fy" else f"open {value}"
                    if theirs == theirs:  # a click Chromium made: compare what both sent
                        ours_sent, theirs_sent = [_widget_states(m) for m in sent], [_widget_states(m) for m in tab.sent]
                        if ours_sent != theirs_sent:
                            differing += 1
                            example = example or f"{kind} {value}: protocol {ours_sent}, Chromium {theirs_sent}"
                    found = (
                        ("protocol", ours),
                        ("relay", relayed),
                        ("chromium", theirs),
                        ("devtools", tab.devtools_s if tab is not None and theirs == theirs else float("nan")),
                        ("drawn", drawn),
                    )
                    for what, t in found:
                        if t == t:  # NaN: not measured
                            times.setdefault(label, {}).setdefault(what, []).append(t)
            if tab is not None:
                reopened = tab.reopened
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
        a, b = _median(t.get("protocol")), _median(t.get("chromium"))
        out[label] = {
            "protocol_s": a,
            "chromium_s": b,
            "ratio": a / b,
            "relay_s": _median(t.get("relay")),
            "devtools_s": _median(t.get("devtools")),
            "chromium_drawn_s": _median(t.get("drawn")),
            "clicks": len(t.get("protocol", [])),
            "chromium_clicks": len(t.get("chromium", [])),
        }
    out["messages"] = {
        "differing": differing,
        "clicks": rounds * len(steps),
        "example": example,
        "pinned": placed.startswith("app on CPU 0"),
        "placed": placed,
        "failed": failed,
        "reopened": reopened,
    }
    return out


def _median(values: list[float] | None) -> float:
    """The median, NaN for none."""
    return statistics.median(values) if values else float("nan")
