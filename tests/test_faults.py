"""Faults lose nothing: a killed or failing build leaves the live database serving, a corrupt file
gets a clear page, and a flood of garbage is rejected row by row with bounded memory."""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from starviz import build, config, demo, ingest
from tests.conftest import run_app
from tests.fixtures.extracts import write_raw


@pytest.fixture()
def live(tmp_path, monkeypatch):
    """A live database built from the fixture extracts, with the app pointed at it."""
    raw = write_raw(tmp_path / "raw")
    db = tmp_path / "star.duckdb"
    build.build(raw_dir=raw, db_path=db)
    monkeypatch.setenv("STARVIZ_DB", str(db))
    monkeypatch.setenv("STARVIZ_RAW", str(raw))
    monkeypatch.setenv("STARVIZ_AUTH_DIR", str(tmp_path / "auth"))
    config.settings.cache_clear()
    yield raw, db
    config.settings.cache_clear()


def _spend_total(db: Path) -> float:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return float(con.execute("select sum(amount_gbp) from fct_spend").fetchone()[0])
    finally:
        con.close()


def test_build_killed_midway_leaves_the_old_database_and_the_next_build_recovers(live, tmp_path):
    raw, db = live
    before = db.read_bytes()
    big = tmp_path / "big-raw"
    demo.generate(big, scale=0.02)
    proc = subprocess.Popen(
        [sys.executable, "-m", "starviz", "build", "--raw", str(big), "--db", str(db)],
        cwd=config.ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 60
    while time.time() < deadline and not list(tmp_path.glob("star.duckdb.building-*")):
        time.sleep(0.05)
    time.sleep(0.5)  # well inside the ingest
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert list(tmp_path.glob("star.duckdb.building-*")), "the build was killed before it started writing"
    assert db.read_bytes() == before
    assert _spend_total(db) > 0  # the app keeps serving the old file
    build.build(raw_dir=raw, db_path=db)  # the lock died with the process; the stale file is cleared
    assert not list(tmp_path.glob("star.duckdb.building-*"))


def test_disk_full_during_a_build_leaves_no_partial_database(live, monkeypatch):
    raw, db = live
    before = db.read_bytes()
    calls = {"n": 0}
    real = ingest.load_file

    def fill_disk(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(28, "No space left on device")
        return real(*args, **kwargs)

    monkeypatch.setattr(ingest, "load_file", fill_disk)
    with pytest.raises(build.BuildError, match="No space left on device"):
        build.build(raw_dir=raw, db_path=db)
    assert db.read_bytes() == before
    assert [p.name for p in db.parent.iterdir() if ".building-" in p.name] == []


def test_a_real_full_disk_is_a_clear_build_error(live, tmp_path):
    raw, _ = live
    small = tmp_path / "small"
    small.mkdir()
    mounted = (
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=600k", "tmpfs", str(small)], capture_output=True).returncode == 0
    )
    if not mounted:
        pytest.skip("cannot mount a small tmpfs here")
    try:
        with pytest.raises(build.BuildError):
            build.build(raw_dir=raw, db_path=small / "star.duckdb")
        assert list(small.iterdir()) in ([], [small / "star.duckdb.lock"])
    finally:
        subprocess.run(["umount", str(small)], check=False)


def test_corrupt_database_shows_a_clear_page_and_an_admin_can_rebuild(live):
    _, db = live
    db.write_bytes(b"this is not a duckdb file" * 100)
    at = run_app("director")
    assert not at.exception
    assert at.title[0].value == "The database cannot be opened"
    shown = at.error[0].value.replace("\\", "") if at.error else ""  # Markdown-escaped text, as it reads on screen
    assert db.name in shown and str(db.parent) not in shown
    rebuild = [b for b in at.button if b.label == "Rebuild the database"]
    assert rebuild, "an admin is offered a rebuild"
    rebuild[0].click().run()
    assert not at.exception
    assert _spend_total(db) > 0


def test_corrupt_database_tells_a_viewer_to_ask_an_administrator(live):
    _, db = live
    db.write_bytes(b"\x00" * 4096)
    at = run_app("board")
    assert not at.exception
    assert at.title[0].value == "The database cannot be opened"
    assert not [b for b in at.button if b.label == "Rebuild the database"]
    assert any("administrator" in i.value for i in at.info)


def test_a_million_garbage_rows_are_all_rejected_with_bounded_memory(tmp_path):
    path = tmp_path / "garbage.csv"
    with path.open("w") as fh:
        fh.write("PaymentDate,Amount,BeneficiaryName\n")
        line = "not a date,N/A,\x7fjunk\n"
        for _ in range(100):
            fh.write(line * 10_000)
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "starviz",
            "check",
            str(path),
            "--council",
            "trafford",
            "--dataset",
            "spend",
            "--json",
            "--limit",
            "5",
        ],
        cwd=config.ROOT,
        capture_output=True,
        text=True,
    )
    peak_mb = max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
    assert out.returncode == 1  # nothing could be loaded
    result = json.loads(out.stdout)
    assert result["rows_read"] == result["rows_rejected"] == 1_000_000
    assert result["rows_loaded"] == 0 and len(result["rejects"]) == 5
    assert peak_mb < 1500


def test_stale_building_files_do_not_pile_up(live, tmp_path):
    raw, db = live
    stale = db.with_name(db.name + ".building-999999")
    shutil.copy(db, stale)
    build.build(raw_dir=raw, db_path=db)
    assert not stale.exists()
    assert os.path.exists(db)
