"""The person of ``bench/clone_to_dashboard.sh``: from the moment the README's run command starts the
server until a signed-in user sees the Overview with data.

Run with the clone's own Python (``.venv/bin/python -m bench.first_dashboard PORT START``, START the
clock's epoch when the clone began). It waits for the server to answer, opens the app at once as a
browser tab would (the first-run setup page with its progress bar, if the database is still being
built), waits for the sign-in form, signs in as a demo user and opens the Overview; when the page does
not show data yet (the build still running behind the form, the database not there) it reloads, as a
person would, once a second. Meanwhile it notes when the demo extracts were written
(``data/raw/demo.json``) and when the database was swapped in (``data/star.duckdb``). Prints one JSON
line: seconds from START to each step, and what the Overview showed.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import urllib.request
from pathlib import Path

from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from bench import loadgen

USER, PASSWORD = "director", "star-demo"  # a demo account the sign-in page lists
LIMIT_S = 900.0


class Watching(loadgen.Session):
    """A session that also keeps what each run drew beyond loadgen's summary: metric values, chart
    specs, tables and the setup page's progress messages."""

    async def rerun(self, page=None, triggers=()):
        real, seen = self.ws, []

        class Tee:
            async def send(self, message):
                await real.send(message)

            async def recv(self):
                data = await real.recv()
                seen.append(data)
                return data

        self.ws = Tee()
        try:
            return await super().rerun(page, triggers)
        finally:
            self.ws = real
            self.drawn = self._decode(seen)

    def _decode(self, seen: list[bytes]) -> dict:
        drawn: dict = {"metrics": {}, "charts": [], "tables": 0, "progress": [], "texts": []}
        for data in seen:
            fwd = ForwardMsg()
            fwd.ParseFromString(data)
            if fwd.WhichOneof("type") == "ref_hash":
                fwd = self.cache.get(fwd.ref_hash, fwd)
            if fwd.WhichOneof("type") == "new_session":
                drawn = {"metrics": {}, "charts": [], "tables": 0, "progress": [], "texts": []}
            if fwd.WhichOneof("type") != "delta" or fwd.delta.WhichOneof("type") != "new_element":
                continue
            element = fwd.delta.new_element
            what = element.WhichOneof("type")
            if what == "metric":
                drawn["metrics"][element.metric.label] = element.metric.body
            elif what == "plotly_chart":
                drawn["charts"].append(element.plotly_chart.spec)
            elif what in ("dataframe", "table"):
                drawn["tables"] += 1
            elif what == "progress":
                drawn["progress"].append(element.progress.text)
            elif what in ("markdown", "alert"):
                drawn["texts"].append(getattr(element, what).body)
        return drawn


def with_data(run: loadgen.Run, drawn: dict) -> str:
    """'' when the Overview shows data, else what is missing."""
    if "Overview" not in run.headings:
        return f"not the Overview (headings {run.headings[:3]}, errors {run.errors[:1]})"
    if len(drawn["metrics"]) < 9:
        return f"{len(drawn['metrics'])} metric cards, not 9"
    spend = drawn["metrics"].get("Addressable spend", drawn["metrics"].get("Total spend", "no data"))
    if spend in ("no data", "£0"):
        return f"spend {spend!r}"
    if not drawn["charts"] or any("Nothing to show" in spec for spec in drawn["charts"]):
        return "no spend chart, or one with nothing to show"
    if not drawn["tables"]:
        return "no 'Data loaded' table"
    return ""


async def person(base: str, clock: dict, start: float) -> dict:
    tries = 0
    while time.time() - start < LIMIT_S:
        tries += 1
        session = Watching(base, timeout=LIMIT_S)
        try:
            opened = await session.open()  # through the first-run build when it runs in this tab
            clock.setdefault("first_page_opened", time.time() - start)
            progress = session.drawn["progress"]
            if progress:
                clock["progress_messages"] = len(progress)
            if not any(getattr(w, "label", "") == "Username" for w in opened.widgets.values()):
                await asyncio.sleep(1)
                continue
            clock.setdefault("sign_in_form", time.time() - start)
            run = await session.sign_in(USER, PASSWORD)
            missing = with_data(run, session.drawn)
            if not missing:
                clock["overview_with_data"] = time.time() - start
                clock["overview"] = {"metrics": session.drawn["metrics"], "tries": tries}
                return clock
            clock["last_miss"] = missing
        except loadgen.ProtocolError as exc:
            clock["last_miss"] = str(exc)
        finally:
            await session.close()
        await asyncio.sleep(1)
    raise SystemExit(f"no Overview with data after {LIMIT_S:g} s: {clock.get('last_miss')}")


async def files(clock: dict, start: float) -> None:
    """When the first run wrote the demo extracts and swapped the database in."""
    marks = {"generated": Path("data/raw/demo.json"), "built": Path("data/star.duckdb")}
    while marks:
        for name, path in list(marks.items()):
            if path.exists():
                clock[name] = time.time() - start
                del marks[name]
        await asyncio.sleep(0.1)


def answers(base: str) -> bool:
    try:
        with urllib.request.urlopen(base + "/_stcore/health", timeout=2) as r:
            return r.read().strip() == b"ok"
    except OSError:
        return False


async def main(port: int, start: float) -> dict:
    base = f"http://127.0.0.1:{port}"
    clock: dict = {}
    watcher = asyncio.create_task(files(clock, start))
    while not await asyncio.to_thread(answers, base):
        if time.time() - start > LIMIT_S:
            raise SystemExit(f"the server did not answer within {LIMIT_S:g} s")
        await asyncio.sleep(0.1)
    clock["app_started"] = time.time() - start
    await person(base, clock, start)
    await asyncio.sleep(0.3)
    watcher.cancel()
    return clock


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(int(sys.argv[1]), float(sys.argv[2])))))
