"""Demo Find a Tender notices: OCDS release packages for the demo councils' contracts.

Most contracts a council entered into under the Procurement Act 2023 (from 24 February 2025) are
in both its register and its notices (some share the reference, others only the supplier, value
and dates), some only in the register, and a few only in notices. Notices follow the Act's
sequence with the slips real data has: tender (UK4) and award (UK6) notices, a contract details
notice (UK7) mostly within 30 days, sometimes late or never; performance notices (UK9) for
contracts over £5m; termination notices (UK11) for contracts that ended; a pipeline notice (UK1)
each year for councils spending over £100m. Suppliers carry Companies House numbers (GB-COH),
buyers a PPON; a neighbouring authority's notices show how other buyers are counted, not loaded.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path

import numpy as np

from starviz import fts
from starviz.config import CouncilConfig
from starviz.demo.datasets import Table

ACT_FROM = dt.date(2025, 2, 24)
OTHER_BUYER = fts.Org("Borsetshire County Council", "GB-PPON", "PBRS-4821-QXTW")


def _day(value: np.datetime64) -> dt.date | None:
    return None if np.isnat(value) else value.astype("datetime64[D]").astype(dt.date)


def _ppon(council_id: str) -> str:
    letters = "".join(c for c in council_id.upper() if c.isalpha())[:3].ljust(3, "X")
    digits = sum(ord(c) for c in council_id) % 10_000
    return f"P{letters}-{digits:04d}-DEMO"


def _buyer(cc: CouncilConfig) -> fts.Org:
    extra = [("GB-LAC", cc.gss_code)] if cc.gss_code and len(cc.id) % 2 == 0 else []  # others matched by name
    return fts.Org(cc.name, "GB-PPON", _ppon(cc.id), extra_ids=extra)


class _Ids:
    """Find a Tender notice ids (nnnnnn-yyyy) and OCIDs (ocds-h6vhtk-hhhhhh), unique in the demo."""

    def __init__(self) -> None:
        self.notice = 0
        self.process = 0

    def notice_id(self, day: dt.date) -> str:
        self.notice += 1
        return f"{self.notice:06d}-{day.year}"

    def ocid(self) -> str:
        self.process += 1
        return f"{fts.PREFIX}-{self.process:06x}"


def releases_for(
    cc: CouncilConfig, register: Table, annual_spend_gbp: float, seed: int, last_day: dt.date, ids: _Ids
) -> list[dict]:
    """The notices of one council: its register contracts under the Act, some extra contracts only
    in notices, and its pipeline notices."""
    r = random.Random(f"{seed}:{cc.id}:notices")
    buyer = _buyer(cc)
    cols = register.columns
    refs = cols["contract_ref"].to_pylist()
    titles = cols["contract_title"].to_pylist()
    suppliers = cols["supplier_name"].to_pylist()
    companies = cols["company_number"].to_pylist() if "company_number" in cols else [None] * register.n
    releases: list[dict] = []
    for k in range(register.n):
        start, end = _day(cols["start_date"][k]), _day(cols["end_date"][k])
        value = int(cols["value_gbp"][k]) / 100
        if start is None or end is None or start < ACT_FROM or start > last_day or value < 30_000:
            continue
        if r.random() < 0.2:
            continue  # only in the register: never noticed
        company = companies[k] or f"{r.randrange(10**7):08d}"
        supplier = fts.Org(suppliers[k], "GB-COH", company)
        by_reference = r.random() < 0.5  # else matched on supplier, value and dates
        p = fts.Procurement(
            ids.ocid(), buyer, titles[k], value, "79000000", supplier, start, end, reference=refs[k] if by_reference else None
        )
        releases += _lifecycle(p, r, ids, last_day)
    for _ in range(max(1, register.n // 12)):  # contracts only in notices (the register missed them)
        start = ACT_FROM + dt.timedelta(days=r.randrange(max(1, (last_day - ACT_FROM).days)))
        end = start + dt.timedelta(days=365 * r.choice((1, 2, 3, 4)))
        name = f"{r.choice(('Northern', 'Pennine', 'Irwell', 'Mersey'))} {r.choice(('Care', 'Facilities', 'Digital'))} Ltd"
        supplier = fts.Org(name, "GB-COH", f"{r.randrange(10**7):08d}")
        value = r.choice((45_000, 120_000, 650_000, 2_400_000, 6_500_000))
        p = fts.Procurement(ids.ocid(), buyer, f"{supplier.name.split()[1]} services", value, "79000000", supplier, start, end)
        releases += _lifecycle(p, r, ids, last_day)
    releases += _pipeline_notices(cc, buyer, annual_spend_gbp, r, ids, last_day)
    return releases


def _lifecycle(p: fts.Procurement, r: random.Random, ids: _Ids, last_day: dt.date) -> list[dict]:
    """A procurement's notices up to the demo's last day: tender, award, contract details (on time,
    late or missing), performance every 12 months over £5m, termination after it ends."""
    assert p.start is not None and p.end is not None
    out = []

    def publish(kind: str, day: dt.date) -> None:
        if day <= last_day:
            out.append(fts.release(p, kind, ids.notice_id(day), day))

    publish("UK4", p.start - dt.timedelta(days=r.randrange(90, 200)))
    publish("UK6", p.start - dt.timedelta(days=r.randrange(10, 40)))
    u = r.random()
    if u < 0.75:
        publish("UK7", p.start + dt.timedelta(days=r.randrange(1, 29)))
    elif u < 0.9:
        publish("UK7", p.start + dt.timedelta(days=r.randrange(35, 90)))  # late
    if p.value_gbp > 5_000_000:
        due = p.start
        while True:
            due = due.replace(year=due.year + 1)
            if due > p.end or due > last_day:
                break
            if r.random() < 0.8:
                publish("UK9", due - dt.timedelta(days=r.randrange(0, 40)))
    if p.end < last_day and r.random() < 0.6:
        publish("UK11", p.end + dt.timedelta(days=r.randrange(1, 45)))
    return out


def _pipeline_notices(
    cc: CouncilConfig, buyer: fts.Org, annual_spend_gbp: float, r: random.Random, ids: _Ids, last_day: dt.date
) -> list[dict]:
    if cc.kind != "council" or annual_spend_gbp <= 100_000_000:
        return []
    out = []
    for year in range(ACT_FROM.year, last_day.year + 1):
        day = dt.date(year, 4, 1) + dt.timedelta(days=r.choice((20, 40, 54, 70)))  # 70: after 26 May, late
        if day > last_day or r.random() < 0.15:
            continue  # not published
        p = fts.Procurement(ids.ocid(), buyer, f"{cc.short_name} pipeline {year}-{(year + 1) % 100:02d}", 0.0, "79000000")
        out.append(fts.release(p, "UK1", ids.notice_id(day), day))
    return out


def write(
    folder: Path,
    councils: dict[str, CouncilConfig],
    registers: dict[str, Table],
    annual_spend_gbp: dict[str, float],
    seed: int,
    last_day: dt.date,
) -> list[str]:
    """One release package per calendar year of publication, as Find a Tender's API gives them
    (plus a neighbouring authority's notices, which the build counts and does not load)."""
    ids = _Ids()
    releases: list[dict] = []
    for cid, table in registers.items():
        releases += releases_for(councils[cid], table, annual_spend_gbp.get(cid, 0.0), seed, last_day, ids)
    r = random.Random(f"{seed}:other-buyer")
    for _ in range(5):
        start = ACT_FROM + dt.timedelta(days=r.randrange(max(1, (last_day - ACT_FROM).days)))
        p = fts.Procurement(
            ids.ocid(), OTHER_BUYER, "Road gritting", 250_000, "90620000", None, start, start + dt.timedelta(days=730)
        )
        releases.append(fts.release(p, "UK4", ids.notice_id(start), start))
    by_year: dict[int, list[dict]] = {}
    for rel in releases:
        by_year.setdefault(int(rel["date"][:4]), []).append(rel)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for year, rels in sorted(by_year.items()):
        rels.sort(key=lambda rel: rel["date"])
        name = f"find-a-tender-{year}.json"
        package = fts.package(rels, min(last_day, dt.date(year, 12, 31)))
        (folder / name).write_text(json.dumps(package, indent=1) + "\n", encoding="utf-8")
        written.append(name)
    return written
