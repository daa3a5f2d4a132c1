"""Payment data is not world-readable, and scratch left by a killed process goes at the next start."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from starviz import config, imports, reader


def test_a_built_database_is_readable_by_owner_and_group_only(fixture_raw, tmp_path):
    db = tmp_path / "star.duckdb"
    done = subprocess.run(
        [sys.executable, "-m", "starviz", "build", "--raw", str(fixture_raw), "--db", str(db)],
        cwd=config.ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert db.exists(), done.stderr
    assert stat.S_IMODE(db.stat().st_mode) == 0o640


def test_an_upload_is_staged_readable_by_owner_and_group_only(tmp_path, monkeypatch):
    s = config.settings().model_copy(update={"db_path": tmp_path / "star.duckdb"})
    monkeypatch.setattr(config, "settings", lambda: s)
    staged = imports.stage("spend.csv", b"PaymentDate,Amount\n2025-04-01,12\n")
    assert stat.S_IMODE(staged.path.stat().st_mode) == 0o640


def test_scratch_of_a_dead_process_is_removed_and_a_live_ones_kept():
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = Path(reader.scratch_dir() or "/tmp") / f"starviz-{finished.stdout.strip()}-abc"
    live = Path(reader.scratch_dir() or "/tmp") / f"{reader.scratch_prefix()}abc"
    for folder in (dead, live):
        (folder / "member0.csv").parent.mkdir(parents=True, exist_ok=True)
        (folder / "member0.csv").write_text("x")
    try:
        assert dead in reader.remove_stale_scratch()
        assert not dead.exists() and live.exists()
    finally:
        for folder in (dead, live):
            if folder.exists():
                (folder / "member0.csv").unlink()
                os.rmdir(folder)
