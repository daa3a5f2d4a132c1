"""Is the database file the one the build wrote? A checksum pass over the built file, recorded
beside it (``<db>.checksum``), checked when the app opens or swaps in a file.

DuckDB checks its own blocks only when it reads them: random bytes inside the file pass "can it
open" and surface later as checksum errors in some drill-down. One CRC-32 pass over the whole file
when it is first served catches that up front, and the app shows its "database unavailable" page
with Rebuild instead. The record keeps the last two builds' checksums, so a reader still opening
the previous file while a build swaps the next one in never sees a false alarm.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import zlib
from pathlib import Path

from starviz import config

KEPT = 2

OUTDATED = (
    "The database was built by another version of starviz: its tables and views differ from what this "
    "version asks of them. Rebuild it from the extracts; nothing in the extracts is lost."
)


@functools.cache
def sql_version() -> str:
    """The version of the views a build creates: a hash of every file of ``sql/`` the build runs (the
    questions under ``sql/queries/`` are read at query time and do not count). The build records it in
    ``build_info``; the app serves only a file whose version matches its own, so new code never meets
    an old file's missing macro or column halfway through a page."""
    digest = hashlib.sha256()
    for path in sorted(config.SQL_DIR.rglob("*.sql")):
        relative = path.relative_to(config.SQL_DIR)
        if relative.parts[0] == "queries":
            continue
        digest.update(str(relative.as_posix()).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def record_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".checksum")


def checksum(path: Path) -> str:
    """CRC-32 of the whole file and its size, as ``crc32:<hex>:<bytes>``."""
    crc, size = 0, 0
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 22):
            crc = zlib.crc32(chunk, crc)
            size += len(chunk)
    return f"crc32:{crc:08x}:{size}"


def _recorded(db_path: Path) -> list[str] | None:
    try:
        data = json.loads(record_path(db_path).read_text())
        return [str(c) for c in data["checksums"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def record(built: Path, db_path: Path) -> None:
    """Record ``built``'s checksum for ``db_path`` (before ``built`` is swapped in there)."""
    kept = [checksum(built), *(_recorded(db_path) or [])][:KEPT]
    target = record_path(db_path)
    part = target.with_name(target.name + ".part")
    part.write_text(json.dumps({"checksums": kept}))
    part.chmod(0o640)
    os.replace(part, target)


def problem(db_path: Path) -> str | None:
    """Why the file at ``db_path`` is not one a build wrote, or None (also when nothing was recorded:
    a file from before checksums were kept is served as it is)."""
    recorded = _recorded(db_path)
    if recorded is None:
        return None
    if checksum(db_path) in recorded:
        return None
    return (
        "The database file is damaged: its contents no longer match the checksum recorded when it was built. "
        "Rebuild it from the extracts; nothing in the extracts is lost."
    )
