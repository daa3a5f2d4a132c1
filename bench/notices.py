"""Loading Find a Tender notices: 100,000 OCDS releases read, compiled per OCID and loaded.

The releases are in Find a Tender's shape (starviz.fts): daily release packages of 10,000
releases, one to four notices per contracting process (tender, award, contract details,
termination), nine in ten of them by configured councils (matched by name, as most are), the rest
by another buyer (counted, not loaded).
"""

from __future__ import annotations

import datetime as dt
import json
import random
import time
from pathlib import Path

import duckdb

from starviz import config, fts, ingest
from starviz.notices import loader
from starviz.notices import rows as notice_rows

KINDS = ("UK4", "UK6", "UK7", "UK11")


def write_releases(folder: Path, n: int, seed: int = 19, per_file: int = 10_000) -> list[Path]:
    """``n`` releases as JSON release packages of ``per_file`` releases each."""
    r = random.Random(seed)
    councils = [c for c in config.load_councils().values() if c.kind == "council"]
    buyers = [fts.Org(c.name, "GB-PPON", f"P{c.id[:3].upper()}-{i:04d}-BNCH") for i, c in enumerate(councils)]
    other = fts.Org("Borsetshire County Council", "GB-PPON", "PBRS-4821-QXTW")
    releases: list[dict] = []
    process = 0
    while len(releases) < n:
        process += 1
        buyer = other if r.random() < 0.1 else r.choice(buyers)
        supplier = fts.Org(f"Supplier {r.randrange(20_000)} Ltd", "GB-COH", f"{r.randrange(10**7):08d}", "M1 1AA")
        start = dt.date(2025, 3, 1) + dt.timedelta(days=r.randrange(600))
        p = fts.Procurement(
            f"{fts.PREFIX}-{process:06x}", buyer, f"Contract {process}", round(r.uniform(30_000, 8_000_000), 2),
            "79000000", supplier, start, start + dt.timedelta(days=365 * r.randint(1, 4)), reference=f"REF-{process}",
        )  # fmt: skip
        for k, kind in enumerate(KINDS[: r.randint(1, 4)]):
            day = start + dt.timedelta(days=(-120, -20, 10, 400)[k])
            releases.append(fts.release(p, kind, f"{len(releases):06d}-{day.year}", day))
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(0, n, per_file):
        path = folder / f"fts-day-{i // per_file:03d}.json"
        path.write_text(json.dumps(fts.package(releases[i : i + per_file], dt.date(2026, 1, 1))))
        paths.append(path)
    return paths


def load_seconds(paths: list[Path]) -> tuple[float, int, int]:
    """(seconds, releases loaded, contract rows) to read, compile and load the files into a fresh database."""
    councils = config.load_councils()
    con = duckdb.connect()
    ingest.create_tables(con)
    notice_rows.create_tables(con)
    started = time.perf_counter()
    notice_loader = loader.Loader(councils)
    for n, path in enumerate(paths, start=1):
        notice_loader.read(path, n, path.name)
    notice_loader.finish(con)
    seconds = time.perf_counter() - started
    loaded = con.execute("select count(*) from raw_notices").fetchone()[0]
    contracts = con.execute("select count(*) from raw_notice_contracts").fetchone()[0]
    con.close()
    return seconds, loaded, contracts
