"""The spreadsheet reader processes: many reads at once start at most ``[reader] workers`` of them,
none is left once they have been idle (or at shutdown), and a worker that crashes or hangs on one
file fails that file alone, with one line naming it."""

from __future__ import annotations

import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from starviz import config, ingest, reader
from tests.fixtures.extracts import write_xlsx
from tests.test_reader import STOCKPORT_HEADERS, far_cell_xlsx


def _limits(monkeypatch, **changes) -> None:
    s = config.settings()
    changed = s.model_copy(update={"reader": s.reader.model_copy(update=changes)})
    monkeypatch.setattr(config, "settings", lambda: changed)


@pytest.fixture
def pool(monkeypatch):
    """A pool of this test's own; whatever it still holds is ended afterwards. Readers left idle by
    earlier tests in this process (the module's own pool) are ended first, so they are not counted."""
    reader.shutdown_workers()
    fresh = reader._Pool()
    monkeypatch.setattr(reader, "_pool", fresh)
    yield fresh
    fresh.shutdown()


def _reader_processes() -> list[int]:
    """Pids of this process's reader processes that have not been waited for (zombies included)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == os.getpid() and b"starviz.reader\x00--worker" in cmdline:
            found.append(int(entry.name))
    return found


def _wait_for_no_readers(seconds: float = 20.0) -> list[int]:
    deadline = time.monotonic() + seconds
    while (alive := _reader_processes()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return alive


def _sheets(tmp_path: Path, n: int) -> list[Path]:
    return [write_xlsx(tmp_path / f"sheet{i}.xlsx", [STOCKPORT_HEADERS, ["Apr 2025", i + 1, "ABC Ltd"]]) for i in range(n)]


def _read(path: Path, councils) -> ingest.FileResult:
    return ingest.check_file(path, councils["stockport"], "spend")[0]


def test_many_reads_at_once_keep_at_most_the_bound_alive_and_none_once_idle(tmp_path, councils, monkeypatch, pool):
    _limits(monkeypatch, workers=2, worker_idle_seconds=1)
    files = _sheets(tmp_path, 12)
    most, stop = [0], threading.Event()

    def watch() -> None:
        while not stop.is_set():
            most[0] = max(most[0], len(_reader_processes()))
            time.sleep(0.01)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        with ThreadPoolExecutor(max_workers=12) as threads:
            results = list(threads.map(lambda p: _read(p, councils), files))
    finally:
        stop.set()
        watcher.join()
    assert [r.rows_loaded for r in results] == [1] * 12
    assert [r.status for r in results] == ["loaded"] * 12
    assert pool.peak == 2
    assert 1 <= most[0] <= 2
    assert _wait_for_no_readers() == []  # idle for worker_idle_seconds: ended, and waited for
    assert pool.live == 0
    # and the pool starts readers again when needed
    assert _read(files[0], councils).rows_loaded == 1


def test_shutdown_ends_idle_readers_at_once(tmp_path, councils, monkeypatch, pool):
    _limits(monkeypatch, workers=3, worker_idle_seconds=600)
    with ThreadPoolExecutor(max_workers=6) as threads:
        assert [r.rows_loaded for r in threads.map(lambda p: _read(p, councils), _sheets(tmp_path, 6))] == [1] * 6
    assert 1 <= len(_reader_processes()) <= 3
    reader.shutdown_workers()
    assert _reader_processes() == []
    assert pool.live == 0


def test_a_reader_that_crashes_on_one_file_fails_that_file_alone(tmp_path, councils, monkeypatch, pool):
    # Limits high enough to let the far cell through: its reader aborts on the allocation.
    _limits(monkeypatch, workers=2, max_columns=20_000, max_rows=2_000_000, max_cells=10**12, worker_memory_mb=1024)
    files = [far_cell_xlsx(tmp_path / "crash.xlsx"), *_sheets(tmp_path, 6)]
    with ThreadPoolExecutor(max_workers=7) as threads:
        results = list(threads.map(lambda p: _read(p, councils), files))
    assert results[0].status == "failed"
    assert results[0].message.startswith("crash.xlsx: reading the spreadsheet needed more than the 1,024 MB")
    assert "\n" not in results[0].message
    assert [r.rows_loaded for r in results[1:]] == [1] * 6
    assert pool.peak <= 2


def test_a_reader_that_hangs_fails_its_file_and_the_next_read_goes_on(tmp_path, councils, monkeypatch, pool):
    _limits(monkeypatch, workers=1, worker_seconds=2)
    first, hung, after = _sheets(tmp_path, 3)
    assert _read(first, councils).rows_loaded == 1
    (stuck,) = _reader_processes()
    os.kill(stuck, signal.SIGSTOP)  # the one idle reader stops answering
    with ThreadPoolExecutor(max_workers=2) as threads:
        hanging = threads.submit(_read, hung, councils)
        deadline = time.monotonic() + 10
        while pool._idle and time.monotonic() < deadline:  # the hung read holds the only reader
            time.sleep(0.01)
        waiting = threads.submit(_read, after, councils)
        hung_result, after_result = hanging.result(), waiting.result()
    assert hung_result.status == "failed"
    assert hung_result.message == (
        "sheet1.xlsx: reading the spreadsheet took longer than 2 s ([reader] worker_seconds in data/settings.toml); "
        "nothing from it was loaded"
    )
    assert after_result.rows_loaded == 1
    assert stuck not in _reader_processes()  # killed and waited for, not left stopped
    assert pool.peak == 1
