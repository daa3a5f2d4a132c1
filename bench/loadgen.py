"""Simulated people on Streamlit's own wire protocol: no browsers.

Each :class:`Session` does what the front end does: fetches the page (which sets the cookies a
proxy routes on), opens the websocket at ``/_stcore/stream`` with the ``streamlit`` subprotocol
and permessage-deflate, and sends ``BackMsg.rerun_script`` as the front end builds it: the query
string, the page's script hash, the widget states the front end holds (the value of every widget
it has mounted: every widget of the last run except those inside a closed popover, and on opening
another page only the sidebar's; a form submit is the form's values plus the submit button's
trigger), the hashes of the cached messages it has kept (the front end forgets a message unused
for ``max_cached_message_age`` script runs, so a page opened again after two others comes in full)
and the same context (time zone, locale, URL). It reads every ``ForwardMsg`` (new elements,
query-string changes, navigation, references to cached messages)
and takes a rerun as answered at ``script_finished`` ``FINISHED_SUCCESSFULLY``
(``FINISHED_EARLY_FOR_RERUN`` means another run follows, as after an ``st.rerun``). Signing in
is answered when that run has declared the app's navigation (the pages of the signed-in app):
the sign-in form's callback signs the session in before the run, so one run draws the page.

A change is timed from sending its ``rerun_script`` to that message: the same span as a browser's
click to the app going idle, less drawing. An exception element in the answer, a closed socket or
no answer within the timeout is an error. The messages are decoded with the protobuf classes the
streamlit package ships (C++/upb), so a session costs a few milliseconds of client CPU a rerun.
"""

from __future__ import annotations

import asyncio
import random
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from urllib.parse import urlsplit

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

FINISHED, FINISHED_EARLY_FOR_RERUN = 0, 2
SIDEBAR = 1  # the sidebar's root container in a delta path (0 is the main body)
WIDGETS = {
    "button",
    "checkbox",
    "multiselect",
    "radio",
    "selectbox",
    "text_input",
    "number_input",
    "date_input",
    "button_group",
    "segmented_control",
    "download_button",
    "slider",
    "toggle",
}


class ProtocolError(RuntimeError):
    """The app answered in a way a person would see as broken: an exception, a lost socket, no answer."""


@dataclass
class Run:
    """What one script run sent back."""

    seconds: float
    status: int
    widgets: dict[str, object] = field(default_factory=dict)  # widget id -> its element proto
    exceptions: list[str] = field(default_factory=list)
    headings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # st.error boxes shown
    pages: list[str] = field(default_factory=list)  # the navigation this run declared
    hidden: list[tuple[int, ...]] = field(default_factory=list)  # paths of closed popovers
    unmounted: set[str] = field(default_factory=set)  # widgets drawn inside them
    sidebar: set[str] = field(default_factory=set)  # widgets drawn in the sidebar
    runs: int = 0  # script runs it took (new_session messages)
    stale: int = 0  # script_finished messages of earlier runs read before this run started
    bytes: int = 0


def shown_value(proto) -> WidgetState | None:
    """The value a widget shows when it is drawn, as the front end sends it back: the app's value when
    the app set one (``set_value``), else the widget's default. None for widgets that hold no value
    (buttons) or kinds this client does not draw."""
    kind = type(proto).__name__
    w = WidgetState(id=proto.id)
    if kind in ("Selectbox", "Radio"):
        if proto.set_value and proto.HasField("raw_value"):
            w.string_value = proto.raw_value
        elif proto.HasField("default") and 0 <= proto.default < len(proto.options):
            w.string_value = proto.options[proto.default]
        else:
            return None
    elif kind == "MultiSelect":
        values = proto.raw_values if proto.set_value else [proto.options[i] for i in proto.default]
        w.string_array_value.data.extend(values)
    elif kind == "ButtonGroup":
        values = proto.raw_values if proto.set_value else [proto.options[i].content for i in proto.default]
        w.string_array_value.data.extend(values)
    elif kind == "Checkbox":
        w.bool_value = proto.value if proto.set_value else proto.default
    elif kind == "TextInput":
        if proto.set_value and proto.HasField("value"):
            w.string_value = proto.value
        elif proto.HasField("default"):
            w.string_value = proto.default
        else:
            return None
    else:
        return None
    return w


class Session:
    """One browser tab's conversation with the app, without the browser."""

    def __init__(self, base_url: str, timeout: float = 120.0, address: str = ""):
        """``address``: the page address the tab opens (``spend?fy=2024-25``, as in a shared link);
        the front end sends its path as the page name and its query string with the first run."""
        self.base = base_url.rstrip("/")
        self.timeout = timeout
        path, _, query = address.partition("?")
        self.page_name = path.strip("/")
        self.query_string = query
        self.page_hash = ""
        self.pages: dict[str, str] = {}  # page name -> script hash, from the navigation message
        self.held: dict[str, WidgetState] = {}  # what the front end would send back, by widget id
        self.chosen: set[str] = set()  # widgets whose value this person set (the rest show the app's)
        self.sidebar: set[str] = set()  # the held widgets that are in the sidebar
        self.cache: dict[str, ForwardMsg] = {}  # cacheable messages by hash, as the front end keeps them
        self.cache_used: dict[str, int] = {}  # hash -> the script-run count when last received or used
        self.finished_runs = 0  # script runs finished on this connection (the front end's cache clock)
        self.max_cache_age = 2  # new_session's config.max_cached_message_age
        self.cookies: dict[str, str] = {}
        self.ws = None
        self.last: Run | None = None

    # ----------------------------------------------------------------------------- connection
    async def open(self) -> Run:
        """Load the page (its cookies), open the websocket and run the script once, as a new tab does."""
        from websockets.asyncio.client import connect

        await asyncio.to_thread(self._get_page)
        parts = urlsplit(self.base)
        scheme = "wss" if parts.scheme == "https" else "ws"
        headers = {"Origin": self.base}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        self.ws = await connect(
            f"{scheme}://{parts.netloc}{parts.path}/_stcore/stream",
            subprotocols=["streamlit"],
            additional_headers=headers,
            max_size=None,
            open_timeout=self.timeout,
        )
        return await self.rerun()

    def _get_page(self) -> None:
        with urllib.request.urlopen(self.base + "/", timeout=self.timeout) as answer:
            answer.read()
            for header in answer.headers.get_all("Set-Cookie") or []:
                for name, morsel in SimpleCookie(header).items():
                    self.cookies[name] = morsel.value

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
            self.ws = None

    # ---------------------------------------------------------------------------------- reruns
    async def rerun(self, page: str | None = None, triggers: tuple[WidgetState, ...] = ()) -> Run:
        """Send one rerun_script (to the page named `page`, else the current one) and read until the
        script has finished; when it finishes early for a rerun, keep reading: the app reruns itself."""
        msg = BackMsg()
        state = msg.rerun_script
        state.query_string = "" if page else self.query_string
        state.page_script_hash = self.pages[page] if page else self.page_hash
        if not state.page_script_hash and self.page_name:
            state.page_name = self.page_name  # a new tab at a page address
        # Opening another page, the front end drops the page's widgets and keeps the sidebar's.
        kept = [w for wid, w in self.held.items() if not page or wid in self.sidebar]
        for w in [*kept, *triggers]:
            state.widget_states.widgets.add().CopyFrom(w)
        state.cached_message_hashes.extend(self.cache)
        info = state.context_info
        info.timezone, info.timezone_offset, info.locale = "UTC", 0, "en-GB"
        info.url, info.is_embedded, info.color_scheme = self.base + "/", False, "light"
        started = time.perf_counter()
        await self.ws.send(msg.SerializeToString())
        run = Run(0.0, -1)
        deadline = started + self.timeout
        while True:
            left = deadline - time.perf_counter()
            if left <= 0:
                raise ProtocolError(f"no answer within {self.timeout:g} s")
            try:
                data = await asyncio.wait_for(self.ws.recv(), left)
            except TimeoutError:
                raise ProtocolError(f"no answer within {self.timeout:g} s") from None
            except Exception as exc:  # the socket closed under us
                raise ProtocolError(f"connection lost: {type(exc).__name__}") from exc
            run.bytes += len(data)
            fwd = ForwardMsg()
            fwd.ParseFromString(data)
            kind = fwd.WhichOneof("type")
            if kind == "ref_hash":
                if fwd.ref_hash not in self.cache:
                    raise ProtocolError("the app referred to a message this client never received")
                self.cache_used[fwd.ref_hash] = self.finished_runs
                cached = self.cache[fwd.ref_hash]
                cached.metadata.delta_path[:] = fwd.metadata.delta_path
                fwd, kind = cached, "delta"
            elif fwd.metadata.cacheable and fwd.hash:
                self.cache.setdefault(fwd.hash, fwd)
                self.cache_used[fwd.hash] = self.finished_runs
            if kind == "new_session":
                self.page_hash = fwd.new_session.page_script_hash
                self.max_cache_age = fwd.new_session.config.max_cached_message_age or self.max_cache_age
                run.widgets, run.exceptions, run.headings, run.errors = {}, [], [], []  # a new run draws afresh
                run.hidden, run.unmounted, run.sidebar = [], set(), set()
                run.runs += 1
            elif kind == "navigation":
                self.pages = {p.page_name: p.page_script_hash for p in fwd.navigation.app_pages}
                run.pages = list(self.pages)
                self.page_hash = fwd.navigation.page_script_hash or self.page_hash
            elif kind == "page_info_changed":
                self.query_string = fwd.page_info_changed.query_string
            elif kind == "page_not_found":  # the browser shows a "Page not found" dialog
                run.exceptions.append(f"Page not found: /{fwd.page_not_found.page_name}")
            elif kind == "delta" and fwd.delta.WhichOneof("type") == "add_block":
                if fwd.delta.add_block.WhichOneof("type") == "popover":  # mounted only when opened
                    run.hidden.append(tuple(fwd.metadata.delta_path))
            elif kind == "delta" and fwd.delta.WhichOneof("type") == "new_element":
                element = fwd.delta.new_element
                what = element.WhichOneof("type")
                if what in WIDGETS:
                    proto = getattr(element, what)
                    if proto.id:
                        run.widgets[proto.id] = proto
                        path = tuple(fwd.metadata.delta_path)
                        if any(path[: len(h)] == h for h in run.hidden):
                            run.unmounted.add(proto.id)
                        if path[:1] == (SIDEBAR,):
                            run.sidebar.add(proto.id)
                elif what == "exception":
                    run.exceptions.append(f"{element.exception.type}: {element.exception.message}"[:200])
                elif what == "heading":
                    run.headings.append(element.heading.body)
                elif what == "alert" and element.alert.format == element.alert.ERROR:
                    run.errors.append(element.alert.body)
            elif kind == "script_finished":
                if fwd.script_finished != FINISHED_EARLY_FOR_RERUN:
                    self._age_cache()
                if run.runs == 0:  # the end of a run that started before this request: not its answer
                    run.stale += 1
                    continue
                run.status = fwd.script_finished
                if run.status != FINISHED_EARLY_FOR_RERUN:
                    break
        run.seconds = time.perf_counter() - started
        self._hold_mounted(run)
        self.last = run
        if run.exceptions:
            raise ProtocolError("exception shown: " + run.exceptions[0])
        if run.status != FINISHED:
            raise ProtocolError(f"script finished with status {run.status}")
        return run

    def _age_cache(self) -> None:
        """A script run has finished: forget cached messages unused for more than max_cache_age runs."""
        self.finished_runs += 1
        for h in [h for h, used in self.cache_used.items() if self.finished_runs - used > self.max_cache_age]:
            del self.cache[h], self.cache_used[h]

    def _hold_mounted(self, run: Run) -> None:
        """What the front end holds after a run: the value of every widget it mounted (none in a
        form, none in a closed popover), the app's value where the app set one or this person chose
        none; widgets the run did not draw are forgotten, and a trigger is never resent."""
        held = {}
        for wid, proto in run.widgets.items():
            if wid in run.unmounted or getattr(proto, "form_id", ""):
                continue
            if wid in self.chosen and wid in self.held and not getattr(proto, "set_value", False):
                held[wid] = self.held[wid]
            elif (shown := shown_value(proto)) is not None:
                held[wid] = shown
        self.held = held
        self.chosen &= set(held)
        self.sidebar = run.sidebar

    def widget(self, kind: str, *, key: str | None = None, label: str | None = None):
        """The proto of a widget the last run drew, by its key (ids end in -<key>) or its label."""
        for wid, proto in (self.last.widgets if self.last else {}).items():
            if type(proto).__name__.lower() != kind.replace("_", "").lower():
                continue
            if (key and wid.endswith("-" + key)) or (label and proto.label == label):
                return proto
        raise ProtocolError(f"no {kind} {key or label!r} on the page")

    def hold(self, wid: str, **value) -> None:
        """Set a widget's value, as a person does in the page: sent with every rerun until the app
        sets another or stops drawing the widget."""
        self.chosen.add(wid)
        w = WidgetState(id=wid)
        for name, v in value.items():
            if name == "string_array_value":
                w.string_array_value.data.extend(v)
            else:
                setattr(w, name, v)
        self.held[wid] = w

    # ------------------------------------------------------------------------------ what people do
    async def sign_in(self, username: str, password: str) -> Run:
        """Type into the sign-in form and press its submit button: the form's values and the trigger."""
        user = self.widget("text_input", label="Username")
        secret = self.widget("text_input", label="Password")
        submit = self.widget("button", label="Sign in")
        self.hold(user.id, string_value=username)
        self.hold(secret.id, string_value=password)
        run = await self.rerun(triggers=(WidgetState(id=submit.id, trigger_value=True),))
        # Answered when the run that finished declared the signed-in app's navigation, not by what
        # earlier runs left in self.pages.
        if "Overview" not in run.pages or "Sign in to starviz" in run.headings:
            shown = "; ".join(run.errors) or "no message shown"
            raise ProtocolError(f"still on the sign-in form after signing in ({shown})")
        return run

    async def choose(self, key: str, value: str) -> Run:
        """Pick `value` in the selectbox keyed `key` (the front end sends the option's text)."""
        box = self.widget("selectbox", key=key)
        self.hold(box.id, string_value=value)
        return await self.rerun()

    async def tick(self, key: str, on: bool) -> Run:
        box = self.widget("checkbox", key=key)
        self.hold(box.id, bool_value=on)
        return await self.rerun()

    async def open_page(self, name: str) -> Run:
        return await self.rerun(page=name)


# -------------------------------------------------------------------------------- a crowd of them
@dataclass
class Outcome:
    """Timings of one load run, by what was timed."""

    opening: list[float] = field(default_factory=list)  # new tab to the sign-in form drawn
    signing_in: list[float] = field(default_factory=list)  # submit to the overview drawn
    filter_change: list[float] = field(default_factory=list)
    page_open: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    client_cpu_s: float = 0.0
    reruns: int = 0


PAGES = ("Spend", "Benchmarking", "Collaboration", "Pipeline", "Overview")


def thinker(session: int, mean: float) -> Callable[[], float]:
    """A person's pauses between clicks: on average `mean` seconds, each between half and one and a
    half times that, different for every session (seeded, so runs repeat) so that the sessions do not
    click in step. A mean of 0 clicks again as soon as the page has answered."""
    rng = random.Random(session)
    return lambda: mean * rng.uniform(0.5, 1.5)


async def person(
    url: str,
    n: int,
    out: Outcome,
    *,
    changes: int,
    think: float,
    username: str,
    password: str,
    start_together: asyncio.Event | None = None,
    all_open: Callable[[], None] | None = None,
    pages: tuple[str, ...] = PAGES,
) -> None:
    """One person: opens the app, signs in through the form, then `changes` times reads for a while
    and either changes the financial year (most clicks; the addressable-only switch
    when there is one year) or opens another page (every third)."""
    pause = thinker(n, think)
    rng = random.Random(1000 + n)
    s = Session(url)
    opened = False
    try:
        if start_together is not None:
            await start_together.wait()
        started = time.perf_counter()
        await s.open()
        out.opening.append(time.perf_counter() - started)
        run = await s.sign_in(username, password)
        out.signing_in.append(run.seconds)
        out.reruns += 2
        opened = True
        if all_open:
            all_open()
        for k in range(changes):
            await asyncio.sleep(pause())
            if k % 3 == 2:
                page = pages[(n + k // 3) % len(pages)]
                run = await s.open_page(page)
                out.page_open.setdefault(page, []).append(run.seconds)
            else:
                fy = s.widget("selectbox", key="f_fy")
                current = s.held.get(fy.id)
                options = [o for o in fy.options[:4] if not current or o != current.string_value]
                if len(fy.options) > 1:
                    run = await s.choose("f_fy", rng.choice(options))
                else:  # one year of data: the other filter everyone has
                    run = await s.tick("f_addr", k % 2 == 1)
                out.filter_change.append(run.seconds)
            out.reruns += 1
    except ProtocolError as exc:
        out.errors.append(str(exc))
    except Exception as exc:  # a failed session is a result to count, not a crash of the run
        out.errors.append(f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
    finally:
        if not opened and all_open:
            all_open()
        await s.close()


async def crowd(
    urls: list[str],
    sessions: int,
    *,
    changes: int = 10,
    think: float = 5.0,
    username: str = "director",
    password: str,
    on_all_open: Callable[[], None] | None = None,
) -> Outcome:
    """`sessions` people opening the app all at once (spread over `urls`, one replica each, or one
    proxy), each then clicking `changes` times with about `think` seconds between clicks."""
    out = Outcome()
    go = asyncio.Event()
    left = [sessions]

    def arrived() -> None:
        left[0] -= 1
        if left[0] == 0 and on_all_open:
            on_all_open()

    cpu = time.process_time()
    tasks = [
        asyncio.create_task(
            person(
                urls[i % len(urls)],
                i,
                out,
                changes=changes,
                think=think,
                username=username,
                password=password,
                start_together=go,
                all_open=arrived,
            )
        )
        for i in range(sessions)
    ]
    await asyncio.sleep(0)
    go.set()
    await asyncio.gather(*tasks)
    out.client_cpu_s = time.process_time() - cpu
    return out
