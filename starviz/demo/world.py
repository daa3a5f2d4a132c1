"""The invented world: every entity's suppliers (shared ones under name variants across ledgers),
and the collaborative contracts a shared service lets on behalf of councils; plus small helpers
(random streams, English dates, text vocabularies) the datasets and rendering use.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from starviz.config import CouncilConfig
from starviz.demo.vocabulary import (
    ABBREVIATIONS,
    DAY_ABBR,
    DAY_NAME,
    EDUCATION,
    GBP_PER_HEAD,
    ICT,
    INWARD_LETTERS,
    KIND_HEADINGS,
    LEGAL,
    LINES_PER_YEAR,
    LTD,
    MANAGERS,
    MONTH_ABBR,
    MONTH_NAME,
    PLACES,
    REFERENCE_POPULATION,
    SCHOOL_KINDS,
    SHARE_ADDRESSABLE,
    SURNAMES,
    UK_OUTWARD,
    gm_outward,
    heading_index,
    proclass,
)


def entity_rng(seed: int, entity: str, stream: int) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(entity.encode("utf-8")), stream])


def py_rng(rng: np.random.Generator) -> random.Random:
    return random.Random(int(rng.integers(2**62)))


def strftime(day: dt.date, fmt: str) -> str:
    """``day.strftime(fmt)`` with English month and day names whatever the process locale."""

    def sub(m: re.Match[str]) -> str:
        code = m.group(1)
        if code == "b":
            return MONTH_ABBR[day.month - 1]
        if code == "B":
            return MONTH_NAME[day.month - 1]
        if code == "a":
            return DAY_ABBR[day.weekday()]
        if code == "A":
            return DAY_NAME[day.weekday()]
        return m.group(0)

    return day.strftime(re.sub(r"%(.)", sub, fmt))


def norm_key(name: str) -> str:
    """The dashboard's exact-match rule, used here to keep invented suppliers distinct."""
    s = name.upper().replace("&", " AND ")
    s = re.sub(r"[^\w\s]", "", s)
    parts = s.split()
    if len(parts) > 1 and parts[-1] in LEGAL:
        parts = parts[:-1]
    return " ".join(parts)


def month_range(first: np.datetime64, last: np.datetime64) -> np.ndarray:
    return np.arange(first, last + 1, dtype="datetime64[M]")


def add_months(day: np.datetime64, months: int) -> np.datetime64:
    """Same day-of-month ``months`` later, clipped to the month's end."""
    m = day.astype("datetime64[M]") + months
    offset = (day - day.astype("datetime64[M]").astype("datetime64[D]")).astype(int)
    last = ((m + 1).astype("datetime64[D]") - 1 - m.astype("datetime64[D]")).astype(int)
    return m.astype("datetime64[D]") + min(offset, last)


def month_end(m: np.datetime64) -> np.datetime64:
    return (np.datetime64(m, "M") + 1).astype("datetime64[D]") - 1


def reference_prefix(cc: CouncilConfig) -> str:
    """Contract reference prefix: an acronym short name as it is, else the name's initials."""
    short = re.sub(r"[^A-Za-z0-9]", "", cc.short_name)
    if short.isupper() and len(short) >= 2:
        return short
    initials = "".join(w[0] for w in cc.name.split() if w[:1].isupper())
    return initials if len(initials) >= 2 else cc.id[:4].upper()


class Vocab:
    """Distinct strings and integer codes for them: text columns are built as codes, then taken."""

    def __init__(self) -> None:
        self.items: list[str] = []
        self._index: dict[str, int] = {}

    def code(self, text: str) -> int:
        i = self._index.get(text)
        if i is None:
            i = self._index[text] = len(self.items)
            self.items.append(text)
        return i

    def codes(self, texts: Sequence[str]) -> np.ndarray:
        return np.array([self.code(t) for t in texts], dtype=np.int64)

    def take(self, codes: np.ndarray) -> pa.Array:
        """Codes to strings; code -1 is null (an empty cell)."""
        codes = np.asarray(codes, dtype=np.int64)
        arr = pa.array(self.items or [""], type=pa.string())
        return arr.take(pa.array(codes, mask=codes < 0))


def text_array(values: Sequence[str | None]) -> pa.Array:
    return pa.array([v if v else None for v in values], type=pa.string())


# --------------------------------------------------------------------------------------------
# Supplier names and their variants across ledgers
# --------------------------------------------------------------------------------------------


@dataclass
class Name:
    base: str
    suffix: str
    kind: str  # company, plc, llp, cic, charity, sole, school
    heading: int

    @property
    def full(self) -> str:
        return f"{self.base} {self.suffix}" if self.suffix else self.base


def _draw_headings(r: random.Random, kinds: Sequence[str]) -> list[int]:
    """A ProClass heading for each new supplier, by heading weight, among those its kind fits."""
    headings = proclass()
    weights = [h.suppliers for h in headings]
    allowed = {
        k: [w if h.code in codes else 0.0 for h, w in zip(headings, weights, strict=True)] for k, codes in KIND_HEADINGS.items()
    }
    return [r.choices(range(len(headings)), weights=allowed.get(k, weights))[0] for k in kinds]


def _pick(r: random.Random, seq: Sequence[str]) -> str:
    return seq[r.randrange(len(seq))]


def _draw_name(r: random.Random, heading: int, kind: str) -> Name:
    sector = _pick(r, proclass()[heading].words)
    sur, place = _pick(r, SURNAMES), _pick(r, PLACES)
    if kind == "plc":
        base = r.choice((f"{place} Group", f"{sur} {sector} Group", f"{place} {sector}"))
        return Name(base, r.choice(("PLC", "plc", "Plc")), kind, heading)
    if kind == "llp":
        return Name(
            r.choice((f"{sur} {_pick(r, SURNAMES)}", f"{sur} & {_pick(r, SURNAMES)}", f"{sur} {sector}")), "LLP", kind, heading
        )
    if kind == "cic":
        return Name(f"{place} Community {sector}", "CIC", kind, heading)
    if kind == "charity":
        base = r.choice(
            (
                f"{place} {sector} Trust",
                f"{place} Community Trust",
                f"{sur} House Trust",
                f"{place} Carers Centre",
                f"{place} {sector} Foundation",
            )
        )
        return Name(base, "", kind, heading)
    if kind == "sole":
        return Name(f"{r.choice('ABCDGJKLMPRST')} {sur} {sector}", "", kind, heading)
    acronym = "".join(r.choice("ABCDEFGHJKLMNPRSTW") for _ in range(r.choice((2, 3, 3, 4))))
    base = r.choice(
        (
            f"{sur} {sector}",
            f"{place} {sector}",
            f"{sur} & Sons",
            f"{acronym} {sector}",
            f"{sur} & {_pick(r, SURNAMES)} {sector}",
            f"{place} {sector} Services",
            f"{sur} Brothers {sector}",
        )
    )
    return Name(base, r.choice(("Ltd", "Ltd", "Limited")), kind, heading)


def _unique_names(
    r: random.Random, kinds: Sequence[str], headings: Sequence[int], taken: set[str], prefixes: set[str]
) -> list[Name]:
    """One new name per (kind, heading), distinct from every other under exact and prefix matching."""
    out = []
    for kind, heading in zip(kinds, headings, strict=True):
        for attempt in range(200):
            name = _draw_name(r, heading, kind)
            if name.full.upper().startswith(("TOTAL", "GRAND")):
                continue
            key = norm_key(name.full)
            if key not in taken and key[:30] not in prefixes:
                break
            if attempt == 199:  # the name space is exhausted: make the name unique
                name.base = f"{name.base} {len(taken)}"
                key = norm_key(name.full)
        taken.add(key)
        prefixes.add(key[:30])
        out.append(name)
    return out


def _easy_variant(r: random.Random, name: Name) -> str:
    """A spelling the dashboard's exact rules still match: case, suffix, &/AND, dots, commas."""
    base, suffix = name.base, name.suffix
    ops = ["suffix", "drop", "amp", "dots", "comma", "case", "spaces"]
    for op in r.sample(ops, r.choice((1, 1, 2))):
        if op == "suffix" and suffix in LTD:
            suffix = r.choice([s for s in LTD if s != suffix])
        elif op == "suffix" and suffix.upper() == "PLC":
            suffix = r.choice([s for s in ("PLC", "plc", "Plc") if s != suffix])
        elif op == "drop" and suffix:
            suffix = ""
        elif op == "amp" and " & " in base:
            base = base.replace(" & ", r.choice((" and ", " AND ")))
        elif op == "amp" and " and " in base:
            base = base.replace(" and ", " & ")
        elif op == "dots" and re.match(r"^[A-Z]{2,4} ", base):
            head, rest = base.split(" ", 1)
            base = ".".join(head) + ". " + rest
        elif op == "comma" and suffix:
            base = base + ","
        elif op == "case":
            base = base.upper() if r.random() < 0.5 else base.title()
        elif op == "spaces" and " " in base:
            i = base.index(" ")
            base = base[:i] + "  " + base[i + 1 :]
    return f"{base} {suffix}" if suffix else base


def _hard_variant(r: random.Random, name: Name) -> str:
    """A spelling only fuzzy matching finds: abbreviation, typo, a leading 'The'."""
    target = norm_key(name.full)
    for _ in range(20):
        base = name.base
        op = r.choice(("abbrev", "typo", "typo", "the"))
        words = [w for w in base.split() if w in ABBREVIATIONS]
        if op == "abbrev" and words:
            w = r.choice(words)
            base = base.replace(w, ABBREVIATIONS[w], 1)
        elif op == "the" and not base.startswith("The "):
            base = "The " + base
        else:
            long_words = [w for w in base.split() if len(w) >= 5 and w.isalpha()]
            if not long_words:
                continue
            w = r.choice(long_words)
            i = r.randrange(1, len(w) - 2)
            typo = w[:i] + w[i + 1] + w[i] + w[i + 2 :] if r.random() < 0.6 else w[:i] + w[i + 1 :]
            base = base.replace(w, typo, 1)
        variant = f"{base} {name.suffix}" if name.suffix else base
        key = norm_key(variant)
        if key != target and not target.startswith(key) and not key.startswith(target):
            return variant
    return name.full


def _postcodes(rng: np.random.Generator, n: int, gm_share: float) -> list[str]:
    gm = gm_outward()
    is_gm = rng.random(n) < gm_share
    a = rng.integers(0, len(gm), n)
    b = rng.integers(0, len(UK_OUTWARD), n)
    digit = rng.integers(1, 10, n)
    l1 = rng.integers(0, len(INWARD_LETTERS), n)
    l2 = rng.integers(0, len(INWARD_LETTERS), n)
    return [
        f"{gm[a[i]] if is_gm[i] else UK_OUTWARD[b[i]]} {digit[i]}{INWARD_LETTERS[l1[i]]}{INWARD_LETTERS[l2[i]]}" for i in range(n)
    ]


def _company_numbers(rng: np.random.Generator, kinds: Sequence[str]) -> list[str]:
    n = len(kinds)
    num = rng.integers(1_000_000, 15_000_000, n)
    scot = rng.random(n) < 0.05
    out = []
    for i, k in enumerate(kinds):
        if k in ("sole", "school"):
            out.append("")
        elif k == "llp":
            out.append(f"OC{num[i] % 1_000_000:06d}")
        elif k == "charity" and num[i] % 2:
            out.append("")
        else:
            out.append(f"SC{num[i] % 1_000_000:06d}" if scot[i] else f"{num[i]:08d}")
    return out


def _vat_numbers(rng: np.random.Generator, n: int) -> list[str]:
    return [f"GB{v:09d}" for v in rng.integers(100_000_000, 999_999_999, n)]


# --------------------------------------------------------------------------------------------
# The world: every entity's suppliers, and the collaborative contracts that cover councils
# --------------------------------------------------------------------------------------------


@dataclass
class Suppliers:
    """One entity's suppliers (arrays of equal length)."""

    gid: np.ndarray  # global id: shared suppliers keep theirs across councils
    canon: list[Name]
    ledger: list[str]  # as the entity's spend ledger writes it
    register: list[str]  # as its contracts register writes it
    heading: np.ndarray
    l2: np.ndarray
    share: np.ndarray  # share of addressable value (0: register-only supplier)
    annual: np.ndarray  # expected addressable £ a year, at this scale
    company: list[str]
    charity: list[str]
    vat: list[str]
    postcode: list[str]
    size: np.ndarray  # 0 micro, 1 small, 2 medium, 3 large
    vcse: np.ndarray
    shared: np.ndarray
    school: np.ndarray
    ref: np.ndarray  # the entity's own supplier id
    ids_known: np.ndarray  # the ledger records company/VAT numbers for this supplier

    def __len__(self) -> int:
        return len(self.gid)


@dataclass
class Entity:
    cc: CouncilConfig
    suppliers: Suppliers
    upper: bool
    vat: str
    v_year: float  # all payments, £ a year at this scale
    lines_year: float


@dataclass
class Collab:
    """A collaborative contract let by a shared service on behalf of councils."""

    owner: str
    gid: int
    name: Name
    start: np.datetime64
    covered: list[str]
    annual: float


class World:
    def __init__(
        self, councils: dict[str, CouncilConfig], seed: int, scale: float, first: np.datetime64, last: np.datetime64
    ) -> None:
        self.councils, self.seed, self.scale = councils, seed, scale
        self.first, self.last = first, last
        self.months = month_range(first, last)
        g = scale**0.5
        self.g = g
        rng = np.random.default_rng([seed, 0])
        r = py_rng(rng)
        ict = heading_index(ICT)
        self.managers = [MANAGERS[i % len(MANAGERS)] for i in rng.permutation(len(proclass()))]
        self.heading_weights = np.array([h.suppliers for h in proclass()], dtype=float)
        self.value_factor = np.array([h.value for h in proclass()], dtype=float)

        n_sup = max(50, round(2000 * g))
        n_shared = max(20, round(350 * g))
        self.n_school = max(3, round(30 * g))
        self.n_local = max(25, n_sup - round(0.65 * n_shared) - self.n_school)
        taken: set[str] = set()
        prefixes: set[str] = set()
        # two distinct suppliers that share one VAT number (as BT and EE do)
        pair = [
            Name("Brightline Telecommunications", "PLC", "plc", ict),
            Name("Brightline Mobile", "Limited", "company", ict),
        ]
        for p in pair:
            taken.add(norm_key(p.full))
            prefixes.add(norm_key(p.full)[:30])
        kinds = r.choices(("company", "plc", "llp", "charity"), weights=(76, 14, 5, 5), k=n_shared - 2)
        headings = _draw_headings(r, kinds)
        self.shared_names = pair + _unique_names(r, kinds, headings, taken, prefixes)
        ns = len(self.shared_names)
        shared_kinds = [n.kind for n in self.shared_names]
        self.shared_weight = rng.lognormal(1.0, 1.5, ns) * self.value_factor[[n.heading for n in self.shared_names]]
        self.shared_weight[:2] = np.sort(self.shared_weight)[-ns // 10]
        pct = np.argsort(np.argsort(self.shared_weight)) / max(ns - 1, 1)
        self.shared_use = np.clip(0.3 + 0.65 * pct, 0, 1)
        self.shared_use[:2] = 1.0
        self.shared_l2 = np.array([r.randrange(len(proclass()[n.heading].level2)) for n in self.shared_names])
        self.shared_l2[:2] = len(proclass()[ict].level2) - 1
        self.shared_company = _company_numbers(rng, shared_kinds)
        vats = _vat_numbers(rng, ns)
        vat_mask = rng.random(ns) < np.where(np.array(shared_kinds) == "charity", 0.4, 0.92)
        self.shared_vat = [v if m else "" for v, m in zip(vats, vat_mask, strict=True)]
        self.shared_vat[1] = self.shared_vat[0] = vats[0]
        self.shared_charity = [
            f"{c}" if k == "charity" else "" for c, k in zip(rng.integers(500_000, 1_200_000, ns), shared_kinds, strict=True)
        ]
        self.shared_postcode = _postcodes(rng, ns, 0.2)
        self.shared_size = rng.choice(4, ns, p=[0.05, 0.15, 0.3, 0.5])

        # each entity draws its local suppliers and schools from its own stream; one register of
        # names taken (filled in id order) keeps any two distinct suppliers from colliding
        self.entities: dict[str, Entity] = {}
        for cid in sorted(councils):
            rl = py_rng(entity_rng(seed, cid, 3))
            local_kinds = rl.choices(("company", "sole", "llp", "cic", "charity"), weights=(72, 16, 4, 3, 5), k=self.n_local)
            local = _unique_names(rl, local_kinds, _draw_headings(rl, local_kinds), taken, prefixes)
            schools = []
            for _ in range(self.n_school):
                for _attempt in range(100):
                    name = Name(f"{_pick(rl, PLACES)} {_pick(rl, SCHOOL_KINDS)}", "", "school", heading_index(EDUCATION))
                    if norm_key(name.full) not in taken:
                        break
                taken.add(norm_key(name.full))
                schools.append(name)
            self.entities[cid] = self._entity(councils[cid], local, schools)
        self.collabs: list[Collab] = []
        for cid in councils:  # config order: deterministic
            if councils[cid].kind == "shared_service":
                self.collabs.extend(self._collaborative(cid))

    # -- one entity's suppliers
    def _entity(self, cc: CouncilConfig, names: list[Name], schools: list[Name]) -> Entity:
        rng = entity_rng(self.seed, cc.id, 1)
        r = py_rng(rng)
        upper = r.random() < 0.4
        vat = _vat_numbers(rng, 1)[0]
        ns = len(self.shared_names)
        used = np.flatnonzero(rng.random(ns) < self.shared_use)
        nl, nsch = len(names), len(schools)
        kinds = [n.kind for n in names]
        canon = [self.shared_names[i] for i in used] + names + schools
        n = len(canon)
        shared = np.zeros(n, bool)
        shared[: len(used)] = True
        school = np.zeros(n, bool)
        school[n - nsch :] = True
        gid = np.concatenate([used, 10_000_000 * (1 + zlib.crc32(cc.id.encode()) % 97) + np.arange(nl + nsch)])
        heading = np.array([c.heading for c in canon])
        l2 = np.concatenate(
            [self.shared_l2[used], [rng.integers(len(proclass()[c.heading].level2)) for c in names], np.zeros(nsch, int)]
        ).astype(int)
        local_w = rng.lognormal(0.0, 1.7, nl) * self.value_factor[heading[len(used) : len(used) + nl]]
        regonly = rng.random(nl) < 0.025
        local_w[regonly] = 0.0
        weight = np.concatenate([self.shared_weight[used] * rng.lognormal(0, 0.3, len(used)), local_w, np.zeros(nsch)])
        school_share = 0.01
        for _ in range(3):  # no single supplier takes more than ~3.5% of addressable spend
            weight = np.minimum(weight, 0.035 * weight.sum())
        share = weight / weight.sum() * (1 - school_share)
        share[n - nsch :] = school_share / max(nsch, 1)
        pop = cc.population or REFERENCE_POPULATION
        v_year = GBP_PER_HEAD * pop * self.scale
        lines_year = LINES_PER_YEAR * pop / REFERENCE_POPULATION * self.scale
        annual = share * v_year * SHARE_ADDRESSABLE
        # size follows value for local suppliers, with noise
        rank = np.argsort(np.argsort(-(local_w * rng.lognormal(0, 0.6, nl)))) / max(nl, 1)
        local_size = np.select([rank < 0.05, rank < 0.2, rank < 0.5], [3, 2, 1], 0)
        local_size[np.isin(kinds, ["charity", "cic"])] = np.minimum(local_size[np.isin(kinds, ["charity", "cic"])], 2)
        size = np.concatenate([self.shared_size[used], local_size, np.full(nsch, -1)])
        kinds_all = [c.kind for c in canon]
        vcse = np.isin(kinds_all, ["charity", "cic"])
        company = [self.shared_company[i] for i in used] + _company_numbers(rng, kinds) + [""] * nsch
        local_vat = _vat_numbers(rng, nl)
        vat_p = np.select([np.isin(kinds, ["sole"]), np.isin(kinds, ["charity", "cic"])], [0.3, 0.15], 0.65)
        has_vat = rng.random(nl) < vat_p
        vats = (
            [self.shared_vat[i] for i in used] + [v if h else "" for v, h in zip(local_vat, has_vat, strict=True)] + [vat] * nsch
        )  # maintained schools share the council's VAT number
        charity = (
            [self.shared_charity[i] for i in used]
            + [f"{c}" if k == "charity" else "" for c, k in zip(rng.integers(500_000, 1_200_000, nl), kinds, strict=True)]
            + [""] * nsch
        )
        postcode = [self.shared_postcode[i] for i in used] + _postcodes(rng, nl + nsch, 0.58)
        ref = rng.choice(90_000, n, replace=False) + 10_000
        ids_known = rng.random(n) < 0.7
        # names as this entity's ledger and register write them
        ledger, register = [], []
        for i, c in enumerate(canon):
            u = r.random()
            if shared[i]:
                name = c.full if u < 0.4 else _easy_variant(r, c) if u < 0.94 else _hard_variant(r, c)
            else:
                name = c.full if u < 0.85 else _easy_variant(r, c)
            ledger.append(name.upper() if upper else name)
            register.append(ledger[-1] if r.random() < 0.75 else _easy_variant(r, c))
        sup = Suppliers(
            gid=gid,
            canon=canon,
            ledger=ledger,
            register=register,
            heading=heading,
            l2=l2,
            share=share,
            annual=annual,
            company=company,
            charity=charity,
            vat=vats,
            postcode=postcode,
            size=size,
            vcse=vcse,
            shared=shared,
            school=school,
            ref=ref,
            ids_known=ids_known,
        )
        return Entity(cc=cc, suppliers=sup, upper=upper, vat=vat, v_year=v_year, lines_year=lines_year)

    # -- collaborative contracts of one shared service
    def _collaborative(self, owner: str) -> list[Collab]:
        rng = entity_rng(self.seed, owner, 2)
        members = [c for c in self.councils.values() if c.kind == "council"]
        # addressable £ a year per shared supplier per member council
        per_council: dict[str, dict[int, float]] = {}
        for c in members:
            s = self.entities[c.id].suppliers
            per_council[c.id] = {int(g): float(a) for g, a, sh in zip(s.gid, s.annual, s.shared, strict=True) if sh}
        total = np.array([sum(pc_.get(i, 0.0) for pc_ in per_council.values()) for i in range(len(self.shared_names))])
        users = np.array([sum(i in pc_ for pc_ in per_council.values()) for i in range(len(total))])
        n = max(10, round(40 * self.g**0.5))
        candidates = np.flatnonzero(users >= min(2, max(len(members), 1))) if members else np.arange(len(total))
        if len(candidates) < n:
            candidates = np.arange(len(total))
        weight = np.maximum(total[candidates], 1.0) ** 0.7 if members else np.ones(len(candidates))
        chosen = rng.choice(candidates, min(n, len(candidates)), replace=False, p=weight / weight.sum())
        out = []
        lo = self.first - 60
        for gid in sorted(int(x) for x in chosen):
            start_m = lo + int(rng.integers(0, (self.last - lo).astype(int) - 6))
            start = start_m.astype("datetime64[D]") + int(rng.integers(0, 28))
            covered = [
                c.id
                for c in members
                if gid in per_council[c.id]
                and np.datetime64(c.joined, "D") <= start
                and (c.left is None or np.datetime64(c.left, "D") > start)
            ]
            if not covered and members:
                users_ = [c for c in members if gid in per_council[c.id]]
                if users_:
                    start = max(start, max(np.datetime64(c.joined, "D") for c in users_))
                    covered = [c.id for c in users_ if c.left is None or np.datetime64(c.left, "D") > start]
            annual = sum(per_council[c].get(gid, 0.0) for c in covered) or float(self.shared_weight[gid] * 20_000 * self.scale)
            out.append(Collab(owner, gid, self.shared_names[gid], start, covered, annual))
        return out
