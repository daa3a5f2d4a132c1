"""OCDS notices (Find a Tender, Contracts Finder) -> ``raw_notices`` and ``raw_notice_contracts``.

Find a Tender and Contracts Finder publish every notice as an Open Contracting Data Standard
(OCDS 1.1) release: release packages (``ocdsReleasePackages``), record packages
(``ocdsRecordPackages``), one JSON document or JSON Lines, often zipped. A file holds any buyer's
notices, so each release's buyer is matched to a configured council by its identifiers (the
council's PPON, org-ids, ``GB-LAC-<GSS code>``) or its name; releases of any other buyer are
counted and reported, never loaded as someone's.

Every release of a contracting process (OCID) is compiled into the latest state by the OCDS merge
rules, after cutting each release down to the fields we keep; the compiled awards and contracts become one row per
contract and supplier. Each release also stays as one row of ``raw_notices`` (notice type
UK1..UK17 where Find a Tender gives it, publication date, value, CPV, title).

Bad input loses nothing: a file that is no OCDS package fails with its reason; a release without
an OCID or a date, a line that is not JSON, a notice type we do not know, a buyer that is no
configured council are written to ``rejects`` with the file, the release (OCID/id) and the field.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import json
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from starviz import reader
from starviz.config import CouncilConfig
from starviz.ingest import FileResult, IngestError

DATASET = "notices"
SUFFIXES = {".json", ".jsonl", ".ndjson", ".zip"}
LINES_SUFFIXES = {".jsonl", ".ndjson"}
NOTICE_TYPES = tuple(f"UK{n}" for n in range(1, 18))

# The OCDS 1.1 merge rules on the fields we keep, as the Open Contracting Partnership's reference
# implementation (``ocdsmerge.rules.get_merge_rules``) derives them from the 1.1 release schema; a
# test checks them against the schema.
MERGE_RULES: dict[tuple[str, ...], str] = {
    ("id",): "omitWhenMerged",
    ("date",): "omitWhenMerged",
    ("tag",): "omitWhenMerged",
    ("parties", "additionalIdentifiers"): "wholeListMerge",
    ("parties", "roles"): "wholeListMerge",
    ("buyer", "additionalIdentifiers"): "wholeListMerge",
    ("tender", "identifiers"): "wholeListMerge",
    ("tender", "items", "additionalClassifications"): "wholeListMerge",
    ("awards", "suppliers", "additionalIdentifiers"): "wholeListMerge",
    ("awards", "items", "additionalClassifications"): "wholeListMerge",
    ("contracts", "identifiers"): "wholeListMerge",
    ("contracts", "items", "additionalClassifications"): "wholeListMerge",
}

# The fields kept from each release (everything else is dropped before merging, so compiling 100,000
# releases takes seconds): key -> None (keep whole) or the keys kept inside (of each element of a list).
_ITEM = {"id": None, "classification": None, "additionalClassifications": None}
KEEP: dict[str, Any] = {
    "ocid": None,
    "id": None,
    "date": None,
    "tag": None,
    "initiationType": None,
    "buyer": None,
    "parties": {"id": None, "name": None, "identifier": None, "additionalIdentifiers": None, "roles": None,
                "address": {"postalCode": None}},
    "planning": {"budget": {"amount": None}},
    "tender": {"id": None, "title": None, "description": None, "status": None, "value": None, "classification": None,
               "procurementMethod": None, "procurementMethodDetails": None, "mainProcurementCategory": None,
               "items": _ITEM},
    "awards": {"id": None, "title": None, "status": None, "date": None, "value": None, "suppliers": None,
               "contractPeriod": None, "items": _ITEM},
    "contracts": {"id": None, "awardID": None, "title": None, "status": None, "value": None, "period": None,
                  "dateSigned": None, "items": _ITEM},
}  # fmt: skip


def prune(value: Any, keep: dict[str, Any] | None = None) -> Any:
    """The release (or compiled release) cut down to the fields in ``KEEP``."""
    keep = KEEP if keep is None else keep
    if isinstance(value, list):
        return [prune(v, keep) for v in value]
    if not isinstance(value, dict):
        return value
    return {key: value[key] if inner is None else prune(value[key], inner) for key, inner in keep.items() if key in value}


class MergeError(ValueError):
    """A process's releases cannot be compiled (an array in one release is an object in another)."""


class _Array(dict):
    """An array of objects being merged: element id -> element (objects without an id never merge)."""


def compile_releases(releases: list[dict]) -> dict:
    """One contracting process's releases merged into its latest state (the OCDS compiled release).

    The OCDS 1.1 merge routine (https://standard.open-contracting.org/1.1/en/schema/merging/) as
    the reference implementation ``ocdsmerge`` applies it, which the tests hold this to, release by
    release: releases in date order; each field takes the latest value set; objects merge field by
    field; arrays of objects merge element by element on ``id`` (an element without one is new);
    other arrays, and ``wholeListMerge`` ones, are replaced whole; ``null`` removes a value (but not
    an object or array already there); empty objects and arrays set nothing; ``id``, ``date`` and
    ``tag`` are not merged. Written here rather than called from ``ocdsmerge`` because ocdsmerge
    flattens every release into paths and back, which took 55 µs a release, over half the time of
    loading 100,000 releases; this direct merge takes a few.
    """
    ordered = sorted(releases, key=lambda r: r["date"])
    compiled: dict = {"tag": ["compiled"]}
    for release in ordered:
        compiled["id"] = f"{release.get('ocid')}-{release['date']}"
        compiled["date"] = release["date"]
        compiled["ocid"] = release.get("ocid")
        _merge_object(compiled, release, _RULES_TREE)
    return _finish(compiled)


def _rules_tree(rules: dict[tuple[str, ...], str]) -> dict:
    """The merge rules as nested dicts (field -> rule, or field -> the rules inside it)."""
    tree: dict = {}
    for path, rule in rules.items():
        node = tree
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = rule
    return tree


_RULES_TREE = _rules_tree(MERGE_RULES)
_NO_RULES: dict = {}


def _merge_object(node: dict, obj: dict, rules: dict, path: str = "") -> None:
    for key, value in obj.items():
        kind = type(value)
        rule = rules.get(key, _NO_RULES) if rules else _NO_RULES
        if rule == "omitWhenMerged":
            continue
        if kind is dict:
            if not value:
                continue  # an empty object sets nothing
            child = node.get(key)
            if type(child) is not dict:
                if type(child) is _Array:
                    raise MergeError(f"field {path}{key}: an array in one release, an object in another")
                child = node[key] = {}
            _merge_object(child, value, rule if type(rule) is dict else _NO_RULES, f"{path}{key}.")
        elif kind is list and value and rule != "wholeListMerge" and all(type(item) is dict for item in value):
            array = node.get(key)
            if type(array) is not _Array:
                if type(array) is dict:
                    raise MergeError(f"field {path}{key}: an object in one release, an array in another")
                array = node[key] = _Array()
            inner = rule if type(rule) is dict else _NO_RULES
            for item in value:
                if not item:
                    continue
                ident = item["id"] if "id" in item else object()  # 1 and "1" are different ids, as in ocdsmerge
                if type(ident) in (list, dict):
                    ident = json.dumps(ident, sort_keys=True)
                element = array.get(ident)
                if element is None:
                    element = array[ident] = {} if item.get("id") is None else {"id": item["id"]}
                _merge_object(element, item, inner, f"{path}{key}.")
        elif kind is list and not value and rule != "wholeListMerge":
            continue  # an empty array sets nothing
        elif type(node.get(key)) not in (dict, _Array):  # a value on an object's path leaves the object be
            node[key] = value


def _finish(node: dict) -> dict:
    out = {}
    for key, value in node.items():
        if value is None:
            continue
        if isinstance(value, _Array):
            out[key] = [_finish(v) for v in value.values()]
        elif isinstance(value, dict):
            out[key] = _finish(value)
        else:
            out[key] = value
    return out


# --- reading packages --------------------------------------------------------------------------


@dataclass
class _Problem:
    row: int
    ocid: str | None
    release_id: str | None
    field: str
    value: str | None
    reason: str
    severity: str = "rejected"


@dataclass
class _Release:
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
class _File:
    result: FileResult
    file_id: int
    problems: list[_Problem] = field(default_factory=list)
    releases: int = 0
    superseded: int = 0
    folder_council: str | None = None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _date(value: Any) -> dt.date | None:
    text = _text(value)
    if not text or len(text) < 10:
        return None
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        return None


def _amount(value: Any) -> float | None:
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
    return _text(found.get("noticeType")), _date(found.get("datePublished"))


def _identifier_keys(org: dict | None) -> list[str]:
    """``SCHEME-ID`` keys of an organisation (identifier, additional identifiers, its party id)."""
    if not isinstance(org, dict):
        return []
    keys = []
    ids = [org.get("identifier"), *list(org.get("additionalIdentifiers") or [])]
    for ident in ids:
        if isinstance(ident, dict) and ident.get("scheme") and ident.get("id"):
            keys.append(_norm_id(f"{ident['scheme']}-{ident['id']}"))
    if org.get("id"):
        keys.append(_norm_id(str(org["id"])))
    return keys


def _norm_id(text: str) -> str:
    return re.sub(r"\s+", "", text).upper()


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
            return _norm_id(str(ident["id"]))
    return None


def _buyer(release: dict) -> tuple[list[str], str | None]:
    """Identifier keys and name of the release's buyer (the ``buyer`` reference and its party)."""
    buyer = release.get("buyer") if isinstance(release.get("buyer"), dict) else None
    parties = [p for p in release.get("parties") or [] if isinstance(p, dict)]
    party = None
    if buyer and buyer.get("id") is not None:
        party = next((p for p in parties if p.get("id") == buyer["id"]), None)
    if party is None:
        party = next((p for p in parties if "buyer" in (p.get("roles") or [])), None)
    keys = _identifier_keys(buyer) + _identifier_keys(party)
    name = _text((buyer or {}).get("name")) or _text((party or {}).get("name"))
    return list(dict.fromkeys(keys)), name


def _package_releases(package: Any, label: str, where: str) -> tuple[str, list[Any]]:
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


def _members(path: Path, label: str) -> Iterator[tuple[str, str, bytes]]:
    """(label, suffix, bytes) of the file, or of each JSON / JSON Lines member of a ZIP (through the
    guarded reader: the same archive limits as every other extract)."""
    if path.suffix.lower() != ".zip":
        yield label, path.suffix.lower(), path.read_bytes()
        return
    yield from reader.member_bytes(path, label, SUFFIXES - {".zip"})


@contextlib.contextmanager
def _no_gc() -> Iterator[None]:
    """Python's cyclic garbage collector off while millions of small dicts are made (none is ever
    part of a cycle): with it on, reading 100,000 releases took 2.6 times as long."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class Loader:
    """Reads notice files one by one, then compiles and loads everything at :meth:`finish`.

    Compiling needs every release of a process, and a process's releases can sit in several files
    (daily packages), so nothing is written until all files are read.
    """

    def __init__(self, councils: dict[str, CouncilConfig]):
        self.councils = councils
        self.by_key: dict[str, str] = {}
        self.by_name: dict[str, str] = {}
        for c in councils.values():
            for key in buyer_keys(c):
                self.by_key.setdefault(key, c.id)
            for name in [c.name, c.short_name, *c.name_aliases]:
                self.by_name.setdefault(normalise_name(name), c.id)
        self.files: list[_File] = []
        self._files_by_label: dict[str, _File] = {}
        self.releases: dict[tuple[str, str], _Release] = {}

    # reading ------------------------------------------------------------------------------------
    def read(self, path: Path, file_id: int, label: str, council_id: str | None = None) -> list[FileResult]:
        """Read one file (each ZIP member is a file of its own). Raises IngestError when the file
        cannot be read at all; nothing of it is kept then."""
        if path.suffix.lower() not in SUFFIXES:
            raise IngestError(f"{label}: file type {path.suffix or '(none)'} is not allowed; use JSON, JSON Lines or ZIP")
        if path.stat().st_size == 0:
            raise IngestError(f"{label}: empty file (0 bytes)")
        staged: list[tuple[_File, list[_Release]]] = []
        with _no_gc():
            for member_label, suffix, data in _members(path, label):
                f = _File(FileResult(council_id or "", DATASET, member_label), file_id, folder_council=council_id)
                staged.append((f, list(self._read_member(f, suffix, data))))
        results = []
        for f, releases in staged:  # only a wholly readable file is kept
            self._files_by_label[f.result.source_file] = f
            for r in releases:
                earlier = self.releases.get((r.ocid, r.release_id))
                if earlier is not None:
                    self._files_by_label[earlier.label].superseded += 1
                self.releases[(r.ocid, r.release_id)] = r
            self.files.append(f)
            results.append(f.result)
        return results

    def _read_member(self, f: _File, suffix: str, data: bytes) -> Iterator[_Release]:
        label = f.result.source_file
        text = data.decode("utf-8-sig", errors="replace")
        if suffix in LINES_SUFFIXES:
            for n, line in enumerate(text.splitlines(), start=1):
                if not line.strip():
                    continue
                try:
                    doc = json.loads(line)
                except json.JSONDecodeError as exc:
                    f.releases += 1
                    f.problems.append(_Problem(n, None, None, "(line)", line[:200], f"not valid JSON: {exc.msg}"))
                    continue
                try:
                    kind, releases = _package_releases(doc, label, f" line {n}")
                except IngestError as exc:
                    f.releases += 1
                    f.problems.append(_Problem(n, None, None, "(line)", line[:200], str(exc).split(": ", 1)[-1]))
                    continue
                for release in releases:
                    yield from self._release(f, n, release, kind)
            if f.releases == 0:
                raise IngestError(f"{label}: no releases in the file")
            return
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise IngestError(f"{label}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from exc
        kind, releases = _package_releases(doc, label, "")
        for n, release in enumerate(releases, start=1):
            yield from self._release(f, n, release, kind)
        if f.releases == 0:
            raise IngestError(f"{label}: the package holds no releases")

    def _release(self, f: _File, row: int, release: Any, kind: str) -> Iterator[_Release]:
        f.releases += 1
        if not isinstance(release, dict):
            f.problems.append(_Problem(row, None, None, "(release)", str(release)[:200], "not a release (a JSON object)"))
            return
        ocid, rid = _text(release.get("ocid")), _text(release.get("id"))
        date = release.get("date")
        if not ocid:
            f.problems.append(_Problem(row, None, rid, "ocid", None, "release has no OCID"))
            return
        if not isinstance(date, str) or _date(date) is None:
            f.problems.append(_Problem(row, ocid, rid, "date", _text(date), "release has no readable date"))
            return
        rid = rid or f"{ocid}-{date}"
        notice_type, published = notice_of(release)
        if notice_type is not None and notice_type.upper() not in NOTICE_TYPES:
            f.problems.append(
                _Problem(row, ocid, rid, "noticeType", notice_type, "unknown notice type (expected UK1 to UK17)", "warning")
            )
            notice_type = None
        keys, name = _buyer(release)
        yield _Release(
            f.file_id, f.result.source_file, row, ocid, rid, date, prune(release),
            notice_type.upper() if notice_type else None, published or _date(date), keys, name, kind,
        )  # fmt: skip

    # loading ------------------------------------------------------------------------------------
    def _council_of(self, releases: list[_Release]) -> str | None:
        for r in sorted(releases, key=lambda r: r.date, reverse=True):
            for key in r.buyer_keys:
                if key in self.by_key:
                    return self.by_key[key]
            if r.buyer_name and normalise_name(r.buyer_name) in self.by_name:
                return self.by_name[normalise_name(r.buyer_name)]
        return None

    def finish(self, con: duckdb.DuckDBPyConnection) -> list[FileResult]:
        """Resolve buyers, compile each process, write raw_notices, raw_notice_contracts, rejects."""
        with _no_gc():
            return self._finish(con)

    def _finish(self, con: duckdb.DuckDBPyConnection) -> list[FileResult]:
        by_ocid: dict[str, list[_Release]] = defaultdict(list)
        for r in self.releases.values():
            by_ocid[r.ocid].append(r)
        files = {f.result.source_file: f for f in self.files}
        published: dict[str, list[dt.date]] = defaultdict(list)
        for r in self.releases.values():
            if r.published:
                published[r.label].append(r.published)
        loaded: dict[str, int] = defaultdict(int)
        unknown: dict[tuple[str, str], list[_Release]] = defaultdict(list)
        notice_rows: list[dict] = []
        contract_rows: list[dict] = []
        for ocid, releases in by_ocid.items():
            council_id = self._council_of(releases)
            if council_id is None:
                for r in releases:
                    buyer = r.buyer_name or (r.buyer_keys[0] if r.buyer_keys else "(no buyer named)")
                    unknown[(r.label, buyer)].append(r)
                continue
            try:
                # one release is its own latest state (compiling would only drop id, date and tag)
                compiled = releases[0].pruned if len(releases) == 1 else compile_releases([r.pruned for r in releases])
            except MergeError as exc:
                latest = max(releases, key=lambda r: r.date)
                files[latest.label].problems.append(
                    _Problem(latest.row, ocid, latest.release_id, "(releases)", None, f"releases cannot be compiled: {exc}")
                )
                continue
            for r in releases:
                loaded[r.label] += 1
                notice_rows.append(_notice_row(r, council_id))
            latest = max(releases, key=lambda r: r.date)
            contract_rows += contract_rows_of(compiled, council_id, latest.file_id, latest.label, latest.row)
        for (label, buyer), rs in unknown.items():
            first = min(rs, key=lambda r: r.row)
            keys = ", ".join(first.buyer_keys[:2])
            files[label].problems.append(
                _Problem(
                    first.row, first.ocid, first.release_id, "buyer", buyer,
                    f"buyer is no configured council{f' ({keys})' if keys else ''}: {len(rs):,} release(s) not loaded",
                    "skipped",
                )
            )  # fmt: skip
        _insert(con, "raw_notices", NOTICE_COLUMNS, notice_rows)
        _insert(con, "raw_notice_contracts", CONTRACT_COLUMNS, contract_rows)
        results = []
        for f in self.files:
            res = f.result
            res.rows_read = f.releases
            res.rows_loaded = loaded.get(res.source_file, 0)
            # Not loaded: rejected, of a buyer we do not know, or repeated by a later file (loaded once, there).
            res.rows_rejected = res.rows_read - res.rows_loaded
            reasons: dict[str, int] = defaultdict(int)
            for p in f.problems:
                if p.severity != "warning":
                    reasons[p.reason.split(":")[0]] += 1
            res.reasons = dict(reasons)
            dates = published.get(res.source_file, [])
            res.first_date, res.last_date = (min(dates), max(dates)) if dates else (None, None)
            res.problems = len(f.problems)
            skipped = sum(1 for p in f.problems if p.severity == "skipped")
            res.message = _summary(res, skipped, f.superseded)
            if f.problems:
                con.executemany(
                    "insert into rejects values (?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        [
                            f.folder_council,
                            DATASET,
                            res.source_file,
                            p.row,
                            p.field,
                            p.value,
                            f"{_release_name(p)}: {p.reason}",
                            p.severity,
                        ]
                        for p in f.problems
                    ],
                )
            results.append(res)
        return results


def _release_name(p: _Problem) -> str:
    if p.ocid and p.release_id:
        return f"release {p.ocid} / {p.release_id}"
    if p.ocid or p.release_id:
        return f"release {p.ocid or p.release_id}"
    return f"release {p.row}"


def _summary(res: FileResult, skipped: int, superseded: int) -> str:
    parts = [f"{res.rows_loaded:,} of {res.rows_read:,} release(s) loaded"]
    if skipped:
        parts.append(f"releases of {skipped:,} buyer(s) that are no configured council not loaded")
    if superseded:
        parts.append(f"{superseded:,} release(s) repeated in a later file, loaded from there")
    return "; ".join(parts)


def buyer_keys(council: CouncilConfig) -> list[str]:
    """Identifier keys a council's notices name it by: its PPON, its org-ids, GB-LAC-<GSS code>."""
    keys = [_norm_id(k) for k in council.org_ids]
    if council.ppon:
        keys += [_norm_id(f"GB-PPON-{council.ppon}")]
    if council.gss_code:
        keys.append(f"GB-LAC-{council.gss_code}")
    return keys


# --- flattening --------------------------------------------------------------------------------

NOTICE_COLUMNS: dict[str, pa.DataType] = {
    "council_id": pa.string(),
    "file_id": pa.int32(),
    "source_file": pa.string(),
    "source_row": pa.int64(),
    "ocid": pa.string(),
    "release_id": pa.string(),
    "release_date": pa.date32(),
    "published_date": pa.date32(),
    "tags": pa.string(),
    "notice_type": pa.string(),
    "package_kind": pa.string(),
    "buyer_name": pa.string(),
    "title": pa.string(),
    "value_amount": pa.float64(),
    "currency": pa.string(),
    "cpv_code": pa.string(),
    "procurement_method": pa.string(),
    "contract_status": pa.string(),
}

CONTRACT_COLUMNS: dict[str, pa.DataType] = {
    "council_id": pa.string(),
    "file_id": pa.int32(),
    "source_file": pa.string(),
    "source_row": pa.int64(),
    "ocid": pa.string(),
    "award_id": pa.string(),
    "contract_ref": pa.string(),
    "tender_ref": pa.string(),
    "contract_title": pa.string(),
    "description": pa.string(),
    "status": pa.string(),
    "supplier_name": pa.string(),
    "supplier_party_id": pa.string(),
    "company_number": pa.string(),
    "supplier_ppon": pa.string(),
    "supplier_postcode": pa.string(),
    "supplier_count": pa.int32(),
    "value_amount": pa.float64(),
    "currency": pa.string(),
    "start_date": pa.date32(),
    "end_date": pa.date32(),
    "max_end_date": pa.date32(),
    "award_date": pa.date32(),
    "date_signed": pa.date32(),
    "cpv_code": pa.string(),
    "procurement_method": pa.string(),
}


_SQL_TYPES = {pa.string(): "varchar", pa.int32(): "integer", pa.int64(): "bigint", pa.date32(): "date"}


def create_tables(con: duckdb.DuckDBPyConnection) -> None:
    for name, columns in (("raw_notices", NOTICE_COLUMNS), ("raw_notice_contracts", CONTRACT_COLUMNS)):
        # money is DECIMAL(18,2) in the table; rows arrive as floats and DuckDB rounds them
        ddl = ", ".join(f"{col} {_SQL_TYPES.get(kind, 'decimal(18,2)')}" for col, kind in columns.items())
        con.execute(f"create table if not exists {name} ({ddl})")


def _insert(con: duckdb.DuckDBPyConnection, table: str, columns: dict[str, pa.DataType], rows: list[dict]) -> None:
    if not rows:
        return
    arrow = pa.Table.from_pylist(rows, schema=pa.schema(list(columns.items())))
    con.register("_batch", arrow)
    con.execute(f"insert into {table} select * from _batch")
    con.unregister("_batch")


def _cpv(section: dict | None) -> str | None:
    if not isinstance(section, dict):
        return None
    cls = section.get("classification")
    if isinstance(cls, dict) and str(cls.get("scheme") or "").upper() == "CPV" and cls.get("id"):
        return _text(cls["id"])
    for item in section.get("items") or []:
        if not isinstance(item, dict):
            continue
        for cls in [item.get("classification"), *(item.get("additionalClassifications") or [])]:
            if isinstance(cls, dict) and str(cls.get("scheme") or "").upper() == "CPV" and cls.get("id"):
                return _text(cls["id"])
    return None


def _value(obj: Any) -> tuple[float | None, str | None]:
    if not isinstance(obj, dict):
        return None, None
    value = obj.get("value")
    if not isinstance(value, dict):
        return None, None
    return _amount(value.get("amount")), _text(value.get("currency"))


def _sum_values(parts: Iterable[Any]) -> tuple[float | None, str | None]:
    total, currency = None, None
    for part in parts:
        amount, cur = _value(part)
        if amount is not None:
            total = (total or 0.0) + amount
            currency = currency or cur
    return total, currency


def _notice_row(r: _Release, council_id: str) -> dict:
    rel = r.pruned
    tender = rel.get("tender") if isinstance(rel.get("tender"), dict) else {}
    awards = [a for a in rel.get("awards") or [] if isinstance(a, dict)]
    contracts = [c for c in rel.get("contracts") or [] if isinstance(c, dict)]
    # The value the notice is about: its contracts', else its awards', else the tender's, else the budget.
    amount, currency = _sum_values(contracts)
    if amount is None:
        amount, currency = _sum_values(awards)
    if amount is None:
        amount, currency = _value(tender)
    if amount is None:
        budget = (rel.get("planning") or {}).get("budget") if isinstance(rel.get("planning"), dict) else None
        amount, currency = _value({"value": (budget or {}).get("amount")}) if isinstance(budget, dict) else (None, None)
    title = _text(tender.get("title")) or next((_text(x.get("title")) for x in contracts + awards if x.get("title")), None)
    cpv = _cpv(tender) or next((_cpv(x) for x in contracts + awards if _cpv(x)), None)
    tags = rel.get("tag") if isinstance(rel.get("tag"), list) else []
    return {
        "council_id": council_id,
        "file_id": r.file_id,
        "source_file": r.label,
        "source_row": r.row,
        "ocid": r.ocid,
        "release_id": r.release_id,
        "release_date": _date(r.date),
        "published_date": r.published,
        "tags": ";".join(str(t) for t in tags),
        "notice_type": r.notice_type,
        "package_kind": r.package_kind,
        "buyer_name": r.buyer_name,
        "title": title,
        "value_amount": _clip(amount),
        "currency": currency,
        "cpv_code": cpv,
        "procurement_method": _text(tender.get("procurementMethod")),
        "contract_status": next((_text(c.get("status")) for c in contracts if c.get("status")), None),
    }


def _clip(amount: float | None) -> float | None:
    return None if amount is None or abs(amount) >= 1e16 else amount


def _period(obj: dict, key: str) -> tuple[dt.date | None, dt.date | None, dt.date | None]:
    period = obj.get(key) if isinstance(obj.get(key), dict) else {}
    return _date(period.get("startDate")), _date(period.get("endDate")), _date(period.get("maxExtentDate"))


def contract_rows_of(compiled: dict, council_id: str, file_id: int, label: str, row: int) -> list[dict]:
    """One row per contract (or award with no contract yet) and supplier of a compiled release.

    A contract with several suppliers (a framework) is shared evenly among them, so totals add up.
    """
    parties = {p.get("id"): p for p in compiled.get("parties") or [] if isinstance(p, dict)}
    tender = compiled.get("tender") if isinstance(compiled.get("tender"), dict) else {}
    awards = {a.get("id"): a for a in compiled.get("awards") or [] if isinstance(a, dict)}
    contracts = [c for c in compiled.get("contracts") or [] if isinstance(c, dict)]
    pairs: list[tuple[dict | None, dict | None]] = []
    for c in contracts:
        pairs.append((awards.get(c.get("awardID")), c))
    awarded = {c.get("awardID") for c in contracts}
    for aid, a in awards.items():
        if aid not in awarded and a.get("status") not in ("cancelled", "unsuccessful"):
            pairs.append((a, None))
    rows = []
    for award, contract in pairs:
        award = award or {}
        contract = contract or {}
        amount, currency = _value(contract)
        if amount is None:
            amount, currency = _value(award)
        start, end, max_end = _period(contract, "period")
        a_start, a_end, a_max = _period(award, "contractPeriod")
        start, end, max_end = start or a_start, end or a_end, max_end or a_max
        suppliers = [s for s in award.get("suppliers") or [] if isinstance(s, dict)] or [{}]
        share = None if amount is None else amount / len(suppliers)
        for supplier in suppliers:
            party = parties.get(supplier.get("id")) or supplier
            address = party.get("address") if isinstance(party.get("address"), dict) else {}
            rows.append(
                {
                    "council_id": council_id,
                    "file_id": file_id,
                    "source_file": label,
                    "source_row": row,
                    "ocid": compiled.get("ocid"),
                    "award_id": _text(award.get("id")),
                    "contract_ref": _text(contract.get("id")) or _text(award.get("id")),
                    "tender_ref": _text(tender.get("id")),
                    "contract_title": _text(contract.get("title")) or _text(award.get("title")) or _text(tender.get("title")),
                    "description": _text(tender.get("description")),
                    "status": _text(contract.get("status")) or _text(award.get("status")),
                    "supplier_name": _text(party.get("name")) or _text(supplier.get("name")),
                    "supplier_party_id": _text(supplier.get("id")),
                    "company_number": company_number(party),
                    "supplier_ppon": ppon(party),
                    "supplier_postcode": _text(address.get("postalCode")),
                    "supplier_count": len(suppliers) if suppliers != [{}] else 0,
                    "value_amount": _clip(share),
                    "currency": currency,
                    "start_date": start,
                    "end_date": end,
                    "max_end_date": max_end,
                    "award_date": _date(award.get("date")),
                    "date_signed": _date(contract.get("dateSigned")),
                    "cpv_code": _cpv(contract) or _cpv(award) or _cpv(tender),
                    "procurement_method": _text(tender.get("procurementMethod")),
                }
            )
    return rows


def discover(raw_dir: Path, councils: dict[str, CouncilConfig]) -> list[tuple[str | None, Path]]:
    """Notice files: ``raw/notices/`` (any buyer) and ``raw/<council>/notices/``, in name order."""
    found: list[tuple[str | None, Path]] = []
    folders: list[tuple[str | None, Path]] = [(None, raw_dir / DATASET)]
    folders += [(c, raw_dir / c / DATASET) for c in councils]
    for council_id, folder in folders:
        if folder.is_dir():
            found += [(council_id, p) for p in sorted(folder.iterdir()) if p.is_file() and p.suffix.lower() in SUFFIXES]
    return found


def check_file(path: Path, councils: dict[str, CouncilConfig], label: str | None = None) -> tuple[FileResult, list[tuple]]:
    """Read one notice file in memory exactly as the build would: its summary and its problems
    (file, release, field, value, reason, severity). A file that cannot be read raises IngestError."""
    from starviz import ingest

    with duckdb.connect() as con:
        ingest.create_tables(con)
        create_tables(con)
        loader = Loader(councils)
        loader.read(path, 1, label or path.name)
        results = loader.finish(con)
        rejects = con.execute(
            "select source_file, source_row, column_name, value, reason, severity from rejects order by source_row"
        ).fetchall()
    return results[0], rejects
