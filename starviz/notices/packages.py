"""Reading OCDS packages: files and ZIP members -> releases, each checked, its notice type and buyer read."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import gc
import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from starviz import reader
from starviz.config import CouncilConfig
from starviz.ingest import FileResult, IngestError
from starviz.notices.merge import prune

DATASET = "notices"
SUFFIXES = {".json", ".jsonl", ".ndjson", ".zip"}
LINES_SUFFIXES = {".jsonl", ".ndjson"}
NOTICE_TYPES = tuple(f"UK{n}" for n in range(1, 18))


@dataclass
class Problem:
    row: int
    ocid: str | None
    release_id: str | None
    field: str
    value: str | None
    reason: str
    severity: str = "rejected"


@dataclass
class Release:
    file_id: int
    label: str
    row: int
    ocid: str
    release_id: str
    date: str
    pruned: dict
    notice_type: str | None
    published: dt.date | None
    buyer_keys: list[str]
    buyer_name: str | None
    package_kind: str


@dataclass
class File:
    result: FileResult
    file_id: int
    problems: list[Problem] = field(default_factory=list)
    releases: int = 0
    superseded: int = 0
    folder_council: str | None = None


def text_of(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def date_of(value: Any) -> dt.date | None:
    text = text_of(value)
    if not text or len(text) < 10:
        return None
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        return None


def amount_of(value: Any) -> float | None:
    """An amount as a float (the raw tables store it as DECIMAL(18,2), DuckDB rounding it)."""
    kind = type(value)
    if kind is float or kind is int:
        amount = float(value)
    elif kind is str:
        try:
            amount = float(value.replace(",", "").strip())
        except ValueError:
            return None
    else:
        return None
    return amount if math.isfinite(amount) and abs(amount) < 1e16 else None


def _documents(release: dict) -> Iterator[dict]:
    for section in ("planning", "tender"):
        part = release.get(section)
        if isinstance(part, dict):
            yield from (d for d in part.get("documents") or [] if isinstance(d, dict))
    for section in ("awards", "contracts"):
        for part in release.get(section) or []:
            if isinstance(part, dict):
                yield from (d for d in part.get("documents") or [] if isinstance(d, dict))
                impl = part.get("implementation")
                if isinstance(impl, dict):
                    yield from (d for d in impl.get("documents") or [] if isinstance(d, dict))


def notice_of(release: dict) -> tuple[str | None, dt.date | None]:
    """The Find a Tender notice type (``UK4``) and publication date of a release: from the document
    that is the notice itself (its id is the release id, as Find a Tender publishes them), else the
    first document that names a notice type. Contracts Finder and older notices give none."""
    found = None
    rid = release.get("id")
    for doc in _documents(release):
        if doc.get("noticeType"):
            if doc.get("id") == rid:
                found = doc
                break
            found = found or doc
    if not found:
        return None, None
    return text_of(found.get("noticeType")), date_of(found.get("datePublished"))


def _identifier_keys(org: dict | None) -> list[str]:
    """``SCHEME-ID`` keys of an organisation (identifier, additional identifiers, its party id)."""
    if not isinstance(org, dict):
        return []
    keys = []
    ids = [org.get("identifier"), *list(org.get("additionalIdentifiers") or [])]
    for ident in ids:
        if isinstance(ident, dict) and ident.get("scheme") and ident.get("id"):
            keys.append(norm_id(f"{ident['scheme']}-{ident['id']}"))
    if org.get("id"):
        keys.append(norm_id(str(org["id"])))
    return keys


def norm_id(text: str) -> str:
    return "".join(text.split()).upper()


@functools.lru_cache(maxsize=65_536)  # buyers' names repeat: a handful of councils across 100,000 releases
def normalise_name(name: str | None) -> str:
    """A buyer's name as compared with a council's: case, '&'/AND, punctuation and spacing."""
    text = (name or "").upper().replace("&", " AND ")
    text = re.sub(r"[^A-Z0-9 ]+", " ", text)
    text = re.sub(r"^THE ", "", " ".join(text.split()))
    return text


def company_number(org: dict | None) -> str | None:
    """The Companies House number (``GB-COH``) of a party, as 8 characters (``01234567``, ``SC123456``)."""
    if not isinstance(org, dict):
        return None
    ids = [org.get("identifier"), *list(org.get("additionalIdentifiers") or [])]
    for ident in ids:
        if isinstance(ident, dict) and str(ident.get("scheme") or "").upper() == "GB-COH" and ident.get("id") is not None:
            raw = re.sub(r"\.0+$", "", str(ident["id"]).strip().upper())  # spreadsheets write 1234567.0
            raw = re.sub(r"[^A-Z0-9]", "", raw)
            if raw and raw.strip("0"):
                return raw.zfill(8) if raw.isdigit() else raw
    return None


def ppon(org: dict | None) -> str | None:
    if not isinstance(org, dict):
        return None
    ids = [org.get("identifier"), *list(org.get("additionalIdentifiers") or [])]
    for ident in ids:
        if isinstance(ident, dict) and str(ident.get("scheme") or "").upper() == "GB-PPON" and ident.get("id"):
            return norm_id(str(ident["id"]))
    return None


def buyer_of(release: dict) -> tuple[list[str], str | None]:
    """Identifier keys and name of the release's buyer (the ``buyer`` reference and its party)."""
    buyer = release.get("buyer") if isinstance(release.get("buyer"), dict) else None
    parties = [p for p in release.get("parties") or [] if isinstance(p, dict)]
    party = None
    if buyer and buyer.get("id") is not None:
        party = next((p for p in parties if p.get("id") == buyer["id"]), None)
    if party is None:
        party = next((p for p in parties if "buyer" in (p.get("roles") or [])), None)
    keys = _identifier_keys(buyer) + _identifier_keys(party)
    name = text_of((buyer or {}).get("name")) or text_of((party or {}).get("name"))
    return list(dict.fromkeys(keys)), name


def package_releases(package: Any, label: str, where: str) -> tuple[str, list[Any]]:
    """(kind, releases) of a release package, a record package or a bare release."""
    if not isinstance(package, dict):
        raise IngestError(f"{label}{where}: not an OCDS package (a JSON object with releases or records)")
    if "releases" in package:
        if not isinstance(package["releases"], list):
            raise IngestError(f"{label}{where}: field releases: not a list of releases")
        return "release", package["releases"]
    if "records" in package:
        if not isinstance(package["records"], list):
            raise IngestError(f"{label}{where}: field records: not a list of records")
        releases: list[Any] = []
        for record in package["records"]:
            if not isinstance(record, dict):
                releases.append(record)
                continue
            embedded = [r for r in record.get("releases") or [] if isinstance(r, dict) and "ocid" in r]
            if embedded:
                releases += embedded
            elif isinstance(record.get("compiledRelease"), dict):
                # Linked releases only: the compiled release stands for the process's latest state.
                compiled = dict(record["compiledRelease"])
                compiled.setdefault("ocid", record.get("ocid"))
                releases.append(compiled)
            else:
                releases.append({"ocid": record.get("ocid")})
        return "record", releases
    if "ocid" in package:
        return "release", [package]
    raise IngestError(f"{label}{where}: not an OCDS release or record package (no releases or records array)")


def members(path: Path, label: str) -> Iterator[tuple[str, str, bytes]]:
    """(label, suffix, bytes) of the file, or of each JSON / JSON Lines member of a ZIP (through the
    guarded reader: the same archive limits as every other extract)."""
    if path.suffix.lower() != ".zip":
        yield label, path.suffix.lower(), path.read_bytes()
        return
    yield from reader.member_bytes(path, label, SUFFIXES - {".zip"})


@contextlib.contextmanager
def no_gc() -> Iterator[None]:
    """Python's cyclic garbage collector off while millions of small dicts are made (none is ever
    part of a cycle): with it on, reading 100,000 releases took 2.6 times as long. On the way out
    what is alive is frozen (``gc.freeze``: the collector skips it, reference counting still frees
    it) until :func:`thaw`, so the collector does not walk the releases read so far after each file
    (2 of 13 s at 100,000 releases)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
        gc.freeze()  # not when the block failed: nothing of a file that cannot be read is kept
    finally:
        if enabled:
            gc.enable()


def thaw() -> None:
    """Hand the objects :func:`no_gc` froze back to the collector (called once the releases are
    loaded and dropped, and by the build whatever happens; a no-op when nothing is frozen)."""
    gc.unfreeze()


def buyer_keys(council: CouncilConfig) -> list[str]:
    """Identifier keys a council's notices name it by: its PPON, its org-ids, GB-LAC-<GSS code>."""
    keys = [norm_id(k) for k in council.org_ids]
    if council.ppon:
        keys += [norm_id(f"GB-PPON-{council.ppon}")]
    if council.gss_code:
        keys.append(f"GB-LAC-{council.gss_code}")
    return keys


def _decode(text: str) -> Any:
    """JSON as the standard library reads it, by msgspec (three times as fast) where it can: msgspec
    refuses what it reads otherwise (NaN, numbers out of range), and the standard library then reads
    it, or raises its error with line and column."""
    try:
        return msgspec.json.decode(text)
    except msgspec.DecodeError:
        return json.loads(text)


def read_member(f: File, suffix: str, data: bytes) -> Iterator[Release]:
    """The releases of one file (or ZIP member), each checked; problems go to ``f.problems``. Raises
    IngestError when the file cannot be read at all."""
    label = f.result.source_file
    text = data.decode("utf-8-sig", errors="replace")
    if suffix in LINES_SUFFIXES:
        for n, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                doc = _decode(line)
            except json.JSONDecodeError as exc:
                f.releases += 1
                f.problems.append(Problem(n, None, None, "(line)", line[:200], f"not valid JSON: {exc.msg}"))
                continue
            try:
                kind, releases = package_releases(doc, label, f" line {n}")
            except IngestError as exc:
                f.releases += 1
                f.problems.append(Problem(n, None, None, "(line)", line[:200], str(exc).split(": ", 1)[-1]))
                continue
            for release in releases:
                yield from release_of(f, n, release, kind)
        if f.releases == 0:
            raise IngestError(f"{label}: no releases in the file")
        return
    try:
        doc = _decode(text)
    except json.JSONDecodeError as exc:
        raise IngestError(f"{label}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from exc
    kind, releases = package_releases(doc, label, "")
    for n, release in enumerate(releases, start=1):
        yield from release_of(f, n, release, kind)
    if f.releases == 0:
        raise IngestError(f"{label}: the package holds no releases")


def release_of(f: File, row: int, release: Any, kind: str) -> Iterator[Release]:
    f.releases += 1
    if not isinstance(release, dict):
        f.problems.append(Problem(row, None, None, "(release)", str(release)[:200], "not a release (a JSON object)"))
        return
    ocid, rid = text_of(release.get("ocid")), text_of(release.get("id"))
    date = release.get("date")
    if not ocid:
        f.problems.append(Problem(row, None, rid, "ocid", None, "release has no OCID"))
        return
    if not isinstance(date, str) or date_of(date) is None:
        f.problems.append(Problem(row, ocid, rid, "date", text_of(date), "release has no readable date"))
        return
    rid = rid or f"{ocid}-{date}"
    notice_type, published = notice_of(release)
    if notice_type is not None and notice_type.upper() not in NOTICE_TYPES:
        f.problems.append(
            Problem(row, ocid, rid, "noticeType", notice_type, "unknown notice type (expected UK1 to UK17)", "warning")
        )
        notice_type = None
    keys, name = buyer_of(release)
    yield Release(
        f.file_id, f.result.source_file, row, ocid, rid, date, prune(release),
        notice_type.upper() if notice_type else None, published or date_of(date), keys, name, kind,
    )  # fmt: skip
