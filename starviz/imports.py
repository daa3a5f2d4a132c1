"""An admin's import of council extracts, up to the decision: refuse, stage, detect, preview.

No Streamlit here, and nothing written but the staging copy. An upload is *staged* (name sanitised,
size, type and content checked, copied to a staging folder under its hash), its council and dataset
are *detected* from its headers with a confidence, and it is *previewed* exactly as the build will
read it (``ingest.check_file``). Storing a previewed file and rebuilding is ``import_store``.

Nothing uploaded is ever executed: files are only read as data (CSV text, Excel cell values, ZIP
members copied to fixed names by ``ingest``, never extracted to their own paths).
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import functools
import hashlib
import os
import re
import shutil
import time
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from starviz import config, fmt, ingest, queries, reader
from starviz.config import CouncilConfig
from starviz.models import DATASETS

_NAME_OK = re.compile(r"[^\w .,()&+'£-]", re.UNICODE)
_MAX_NAME = 150


class ImportRefused(ValueError):
    """An upload that must not be stored; the message says why, naming the file."""


# --- names, limits and content checks -----------------------------------------------------------


def allowed_types() -> list[str]:
    """File extensions the uploader accepts (without the dot)."""
    return sorted(s.lstrip(".") for s in ingest.ALLOWED_SUFFIXES)


def limits_text() -> str:
    s = config.settings()
    return (
        f"Up to {s.import_max_upload_mb} MB a file; {', '.join(t.upper() for t in allowed_types())}. "
        f"A ZIP may unpack to {s.reader.max_unzipped_mb:,} MB at most."
    )


def sanitise_name(name: str) -> str:
    """A safe file name for storing an upload, or ImportRefused.

    Names that try to leave the folder (``../``, ``/abs``, ``C:\\``, ``a/b``), hidden names, control
    characters and types the ingest cannot read are refused; other odd characters become ``_``.
    """
    shown = "`" + repr(name)[:80].replace("`", "'") + "`"  # shown as code: a name is never rendered as markup
    if not isinstance(name, str) or not name.strip():
        raise ImportRefused("A file without a name cannot be imported.")
    if any(ch in name for ch in "/\\:"):
        raise ImportRefused(f"{shown}: file names may not contain folders or drive letters (no '/', '\\', ':' or '..').")
    if any(unicodedata.category(ch).startswith("C") for ch in name):
        raise ImportRefused(f"{shown}: the file name contains control characters.")
    clean = unicodedata.normalize("NFC", name).strip()
    if clean.startswith((".", "~")):
        raise ImportRefused(f"{shown}: hidden and temporary files (starting with '.' or '~') are not imported.")
    suffix = Path(clean).suffix.lower()
    if suffix not in ingest.ALLOWED_SUFFIXES:
        raise ImportRefused(
            f"{shown}: file type {suffix or '(none)'} is not allowed; use {', '.join(t.upper() for t in allowed_types())}."
        )
    stem = re.sub(r"\s+", " ", _NAME_OK.sub("_", clean[: -len(suffix)])).strip(" .") or "extract"
    return stem[: _MAX_NAME - len(suffix)] + suffix


def check_content(name: str, data: bytes) -> None:
    """Size, type by content (not only by name) and ZIP limits; ImportRefused when wrong."""
    s = config.settings()
    limit = s.import_max_upload_mb * 1024 * 1024
    if len(data) > limit:
        raise ImportRefused(f"{name}: {len(data) / 1048576:,.1f} MB is over the {s.import_max_upload_mb} MB limit.")
    if not data:
        raise ImportRefused(f"{name}: the file is empty (0 bytes).")
    suffix = Path(name).suffix.lower()
    head = data[:4096]
    text = reader.looks_like_text(head)
    if text and (why := reader.not_a_table(head, name)):
        raise ImportRefused(f"{why}.")
    if suffix in (".xlsx", ".xlsm", ".ods", ".zip") and not data.startswith(reader.ZIP_MAGIC) and not text:
        kind = {".zip": "a ZIP archive", ".ods": "an OpenDocument spreadsheet (.ods)"}.get(suffix, "an Excel workbook (.xlsx)")
        raise ImportRefused(f"{name}: the content is not {kind}; check the file or its extension.")
    if suffix == ".xls" and not data.startswith(reader.OLE_MAGIC) and not text and not data.startswith(reader.ZIP_MAGIC):
        raise ImportRefused(f"{name}: the content is not an Excel workbook or CSV text; check the file or its extension.")
    if data.startswith(reader.ZIP_MAGIC) and suffix in (".zip", ".xlsx", ".xlsm", ".xls", ".ods"):
        # The same archive limits as the build and `check` (reader.check_archive).
        import io

        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:  # a workbook is measured when staged or read
                is_workbook = "xl/workbook.xml" in archive.namelist() or reader.is_ods(archive, suffix)
        except (zipfile.BadZipFile, ValueError, EOFError, zlib.error) as exc:
            raise ImportRefused(f"{name}: not a valid ZIP archive.") from exc
        if not is_workbook:
            try:
                reader.check_archive(io.BytesIO(data), name)
            except ingest.IngestError as exc:
                raise ImportRefused(f"{exc}.") from exc


# --- staging ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Staged:
    """An upload checked and copied to the staging folder (or refused, with the reason)."""

    original_name: str
    name: str = ""
    path: Path | None = None
    sha256: str = ""
    size_bytes: int = 0
    refusal: str | None = None


def staging_dir() -> Path:
    return config.settings().db_path.parent / "import-staging"


def stage(name: str, data: bytes) -> Staged:
    """Check an upload and copy it to ``staging/<sha256>/<safe name>``; never raises for bad input."""
    try:
        safe = sanitise_name(name)
        check_content(safe, data)
    except ImportRefused as exc:
        return Staged(original_name=name, refusal=str(exc))
    except Exception as exc:  # an input nobody foresaw: refused in one line, never a traceback
        return Staged(original_name=name, refusal=f"`{name[:80]}`: the file could not be checked ({type(exc).__name__}).")
    digest = hashlib.sha256(data).hexdigest()
    folder = staging_dir() / digest
    path = folder / safe
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        part = folder / f".{digest}.part"
        part.write_bytes(data)
        part.chmod(config.PRIVATE_FILE)
        os.replace(part, path)
    _tidy_staging()
    try:  # every sheet of an .ods measured on upload (kept for the unchanged file): a hostile one goes now
        if reader.sniff(path) == "ods":
            reader.ods_extent(path, 0, safe)
    except ingest.IngestError as exc:
        return Staged(original_name=name, refusal=f"{exc}.")
    except Exception as exc:
        return Staged(original_name=name, refusal=f"`{name[:80]}`: the file could not be checked ({type(exc).__name__}).")
    return Staged(original_name=name, name=safe, path=path, sha256=digest, size_bytes=len(data))


def _tidy_staging(max_age_hours: float = 24) -> None:
    """Staged copies older than a day are forgotten (a commit stores its own copy under raw/)."""
    cutoff = time.time() - max_age_hours * 3600
    root = staging_dir()
    for folder in root.glob("*") if root.exists() else []:
        if folder.is_dir() and folder.stat().st_mtime < cutoff:
            shutil.rmtree(folder, ignore_errors=True)


# --- detection ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    council_id: str
    dataset: str
    confidence: float
    matched: tuple[str, ...]
    missing_required: tuple[str, ...]
    note: str = ""


@dataclass(frozen=True)
class Detection:
    candidates: tuple[Candidate, ...]
    headers: tuple[str, ...] = ()
    best: Candidate | None = None

    @property
    def text(self) -> str:
        """One sentence for the screen: what was detected and how sure, or why nothing was."""
        viable = [c for c in self.candidates if c.confidence > 0]
        if not viable:
            return "No configured council and dataset has every required column in these headers; choose them yourself."
        top = viable[0]
        others = ", ".join(f"{c.council_id}/{c.dataset} {c.confidence:.0%}" for c in viable[1:3])
        if self.best is None:
            return (
                f"Not sure: {top.council_id}/{top.dataset} fits {top.confidence:.0%}"
                + (f", also {others}" if others else "")
                + ". Choose the council and dataset."
            )
        return f"Detected from the headers: {top.council_id}/{top.dataset}, {top.confidence:.0%} sure" + (
            f" (next: {others})." if others else "."
        )


def _fingerprint(councils: dict[str, CouncilConfig]) -> str:
    return hashlib.sha256("".join(c.model_dump_json() for c in councils.values()).encode()).hexdigest()


def detect(staged: Staged, councils: dict[str, CouncilConfig] | None = None) -> Detection:
    """Which council and dataset the file's headers fit, best first, each with a confidence 0-1.

    Confidence: half the share of the dataset's configured fields found, half the share of the
    file's headers recognised; zero when a required field is missing; halved when the council's
    file patterns do not read this type of file; a small bonus when the council's name is in the
    file name. The best is picked only when it is sure enough and clearly ahead of the next.
    """
    councils = councils or config.load_councils()
    return _detect(str(staged.path), staged.sha256, staged.name, _fingerprint(councils), _Frozen(councils))


class _Frozen:
    """Councils carried through the cache without taking part in its key (the fingerprint does)."""

    def __init__(self, councils: dict[str, CouncilConfig]) -> None:
        self.councils = councils

    def __hash__(self) -> int:
        return 0

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Frozen)


@functools.lru_cache(maxsize=32)
def _detect(path_text: str, _sha: str, name: str, _fp: str, frozen: _Frozen) -> Detection:
    s = config.settings()
    path = Path(path_text)
    rows_by_reading: dict[tuple, list[list[str]]] = {}
    candidates: list[Candidate] = []
    seen_headers: list[str] = []
    best_confidence = 0.0
    for council in frozen.councils.values():
        for dataset, ds in council.datasets.items():
            key = (ds.encoding, ds.delimiter, ds.header_row, ds.sheet)
            if key not in rows_by_reading:
                try:  # the configured header row first, then the rows a header may really be on
                    rows_by_reading[key] = ingest.header_rows(path, ds, name)
                except Exception:  # unreadable this way (IngestError) or at all: no candidate from it
                    rows_by_reading[key] = []
            rows = rows_by_reading[key]
            if not rows:
                continue
            scored = [(_score(row, council, dataset, name), row) for row in rows if any(str(h or "").strip() for h in row)]
            if not scored:
                continue
            candidate, headers = max(scored, key=lambda item: item[0].confidence)  # the first of the best
            if candidate.confidence > best_confidence:
                best_confidence, seen_headers = candidate.confidence, headers
            candidates.append(candidate)
    candidates.sort(key=lambda c: (-c.confidence, c.council_id, c.dataset))
    best = None
    if candidates and candidates[0].confidence >= s.import_detect_min_confidence:
        runner_up = candidates[1].confidence if len(candidates) > 1 else 0.0
        if candidates[0].confidence - runner_up >= s.import_detect_margin:
            best = candidates[0]
    if not seen_headers:
        seen_headers = next((rows[0] for rows in rows_by_reading.values() if rows), [])
    return Detection(tuple(candidates), tuple(h for h in seen_headers if h), best)


def _score(headers: list[str], council: CouncilConfig, dataset: str, name: str) -> Candidate:
    ds = council.datasets[dataset]
    model = DATASETS[dataset]
    found = {ingest._loose_header(h) for h in headers if ingest._loose_header(h)}
    variants = {field: {ingest._loose_header(v) for v in names} for field, names in ds.fields.items()}
    matched = tuple(f for f, names in variants.items() if names & found)
    recognised = {h for h in found if any(h in names for names in variants.values())}
    missing = tuple(f for f in model.required_fields() if f not in matched and f not in ds.constants)
    if missing or not found:
        return Candidate(council.id, dataset, 0.0, matched, missing, "required columns missing")
    confidence = 0.5 * len(matched) / max(len(ds.fields), 1) + 0.5 * len(recognised) / len(found)
    note = ""
    if not any(fnmatch.fnmatch(name.lower(), _suffix_glob(p)) for p in ds.patterns):
        confidence *= 0.5
        note = f"{council.short_name} {dataset} files are {', '.join(ds.patterns)}"
    words = re.sub(r"[^a-z0-9]+", " ", name.lower())
    if any(re.search(rf"\b{re.escape(w)}\b", words) for w in {council.id.replace("_", " "), council.short_name.lower()}):
        confidence += 0.05
    return Candidate(council.id, dataset, round(min(confidence, 1.0), 3), matched, (), note)


def _suffix_glob(pattern: str) -> str:
    """The file-type part of a pattern: detection ignores how files happen to be named."""
    suffix = Path(pattern).suffix.lower()
    return f"*{suffix}" if suffix and "*" not in suffix else pattern.lower()


# --- preview ------------------------------------------------------------------------------------


@dataclass
class Preview:
    """A staged file read exactly as the build would read it for one council and dataset."""

    staged: Staged
    council_id: str
    dataset: str
    target_name: str = ""
    refusal: str | None = None
    summary: ingest.FileResult | None = None
    mapping: pd.DataFrame = field(default_factory=pd.DataFrame)
    unused_headers: list[str] = field(default_factory=list)
    rows: pd.DataFrame = field(default_factory=pd.DataFrame)
    problems: pd.DataFrame = field(default_factory=pd.DataFrame)
    count_problems: int = 0
    overlaps: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def can_commit(self) -> bool:
        return self.refusal is None and self.summary is not None and self.summary.rows_loaded > 0

    @property
    def label(self) -> str:
        return f"{self.council_id}/{self.dataset}/{self.target_name or self.staged.name}"


def find_duplicate(scope: queries.Scope, staged: Staged) -> str | None:
    """Where this content already is: a file the live database loaded, or one stored under raw/."""
    if config.settings().db_path.exists():
        try:
            hit = queries.ledger_file_with_hash(scope, staged.sha256)
        except queries.DatabaseUnavailable:
            hit = None
        if hit:
            return f"already loaded from {hit}"
    raw = config.settings().raw_dir
    for path in raw.glob("*/*/*") if raw.exists() else []:
        if not scope.user.sees(path.relative_to(raw).parts[0]):
            continue  # another council's files are not this admin's to know about
        # only a file of the same size can hold the same bytes: hashing stays rare
        same_size = not path.name.startswith(".") and path.is_file() and path.stat().st_size == staged.size_bytes
        if same_size and ingest.sha256_of(path) == staged.sha256:
            return f"already stored as {path.relative_to(raw)} (not yet in the database)"
    return None


def target_name(staged: Staged, council_id: str, dataset: str) -> str:
    """The stored file's name: the upload's own, or with part of its hash when that name is taken."""
    folder = config.settings().raw_dir / council_id / dataset
    if not (folder / staged.name).exists():
        return staged.name
    stem, suffix = staged.name[: -len(Path(staged.name).suffix)], Path(staged.name).suffix
    return f"{stem}-{staged.sha256[:8]}{suffix}"


def preview(
    staged: Staged, council_id: str, dataset: str, scope: queries.Scope, councils: dict[str, CouncilConfig] | None = None
) -> Preview:
    """Everything an admin needs to decide: refusal (duplicate, wrong type), the column mapping,
    the first rows as parsed, every row-level problem, and files already loaded for the same dates."""
    councils = councils or config.load_councils()
    out = Preview(staged, council_id, dataset)
    if staged.refusal:
        out.refusal = staged.refusal
        return out
    council = councils.get(council_id)
    if council is None or dataset not in council.datasets:
        out.refusal = f"{staged.name}: {council_id} has no configuration for the {dataset} dataset."
        return out
    if not scope.user.sees(council_id):
        out.refusal = f"{staged.name}: you can import only for your own councils; {council.short_name} is not one of them."
        return out
    ds = council.datasets[dataset]
    out.target_name = target_name(staged, council_id, dataset)
    if not any(fnmatch.fnmatch(out.target_name, p) or fnmatch.fnmatch(out.target_name.lower(), p.lower()) for p in ds.patterns):
        out.refusal = (
            f"{staged.name}: {council.short_name}'s {dataset} configuration reads files matching "
            f"{', '.join(ds.patterns)}; the build would never read this file. Upload it in that form, "
            f"or add its pattern to {council_id}.toml."
        )
        return out
    duplicate = find_duplicate(scope, staged)
    if duplicate:
        out.refusal = f"{staged.name}: the same file was imported before ({duplicate}); it is not imported twice."
        return out
    s = config.settings()
    summary, rejects = _checked(
        str(staged.path),
        staged.sha256,
        council_id,
        dataset,
        council.model_dump_json(),
        s.import_preview_rows,
        _Frozen({council_id: council}),
    )
    out.summary = summary
    if summary.status == "failed":
        out.refusal = summary.message
        return out
    model = DATASETS[dataset]
    out.mapping = pd.DataFrame(
        [
            {
                "field": f,
                "required": f in model.required_fields(),
                "column in the file": summary.mapping.get(f),
                "meaning": model.model_fields[f].description,
            }
            for f in model.field_names()
            if f in summary.mapping or f in model.required_fields() or f in ds.constants
        ]
    )
    used = set(summary.mapping.values())
    out.unused_headers = [h for h in summary.headers if h and h not in used]
    out.rows = pd.DataFrame(summary.preview).drop(columns=["source_file"], errors="ignore")
    out.count_problems = summary.problems
    out.problems = pd.DataFrame(
        rejects[: s.import_preview_max_problems], columns=["file", "row", "column", "value", "reason", "severity"]
    )
    if summary.rows_loaded == 0:
        out.refusal = f"{staged.name}: no row can be loaded ({summary.rows_rejected:,} rejected); see the problems below."
    if dataset in s.import_additive_datasets and summary.first_date and config.settings().db_path.exists():
        if summary.months:
            out.overlaps = _overlapping_months(scope, council_id, summary.months)
        else:
            out.overlaps = _overlaps(scope, council_id, dataset, summary.first_date, summary.last_date)
    return out


@functools.lru_cache(maxsize=16)
def _checked(
    path_text: str, _sha: str, council_id: str, dataset: str, _config_json: str, rows: int, frozen: _Frozen
) -> tuple[ingest.FileResult, list[tuple]]:
    """One read per file, council configuration and dataset, however often the page reruns."""
    return ingest.check_file(
        Path(path_text),
        frozen.councils[council_id],
        dataset,
        preview_limit=rows,
        limit=config.settings().import_preview_max_problems,
    )


def _overlapping_months(scope: queries.Scope, council_id: str, months: list[dt.date]) -> pd.DataFrame:
    """Spend files already loaded with lines in this file's months: per file, the months, lines and
    £ that would be counted twice, and its lines in other months (which replacing it also removes)."""
    try:
        files = queries.overlapping_files(scope, council_id, months)
    except queries.DatabaseUnavailable:
        return pd.DataFrame()
    return files.rename(columns={"count_lines": "rows_loaded"})[
        ["source_file", "months", "rows_loaded", "amount_gbp", "count_other_lines", "count_other_months"]
    ].reset_index(drop=True)


def overlap_text(previews: list[Preview]) -> str:
    """What replacing would do, in a sentence: the files moved aside, and what they hold beyond the
    new files' months."""
    frames = [p.overlaps for p in previews if not p.overlaps.empty]
    if not frames:
        return ""
    files = pd.concat(frames).drop_duplicates("source_file")
    one = len(files) == 1
    text = (
        f"{fmt.count(len(files), 'loaded file')} {'holds' if one else 'hold'} "
        f"{fmt.count(int(files['rows_loaded'].sum()), 'line')} in the same months; by default "
        f"{'it is' if one else 'they are'} replaced (moved aside to raw/_replaced/, not deleted) so nothing is counted twice."
    )
    if "count_other_lines" in files and (other := int(files["count_other_lines"].sum())):
        text += (
            f" {'It also holds' if one else 'They also hold'} {fmt.count(other, 'line')} in other months, "
            f"which replacing {'it' if one else 'them'} removes too."
        )
    return text


def _overlaps(scope: queries.Scope, council_id: str, dataset: str, first: dt.date, last: dt.date) -> pd.DataFrame:
    """Files already loaded whose dates meet this file's: their rows would add up with the new ones."""
    try:
        files = queries.loaded_files(scope, council_id, dataset)
    except queries.DatabaseUnavailable:
        return pd.DataFrame()
    hit = files[
        (files["status"] == "loaded")
        & files["first_date"].notna()
        & (pd.to_datetime(files["first_date"]) <= pd.Timestamp(last))
        & (pd.to_datetime(files["last_date"]) >= pd.Timestamp(first))
    ]
    return hit[["source_file", "rows_loaded", "first_date", "last_date"]].reset_index(drop=True)


def choices(councils: dict[str, CouncilConfig] | None = None, user=None) -> dict[str, list[str]]:
    """Council id -> the datasets configured for it, in configuration order (for the pickers); only
    the user's own councils when ``user`` is given (a scoped admin imports only for those)."""
    councils = councils or config.load_councils()
    return {c.id: list(c.datasets) for c in councils.values() if c.datasets and (user is None or user.sees(c.id))}


def council_names(councils: dict[str, CouncilConfig] | None = None) -> dict[str, str]:
    councils = councils or config.load_councils()
    return {c.id: c.short_name for c in councils.values()}


def stage_all(uploads: list[tuple[str, bytes]]) -> list[Staged]:
    """Stage a batch; the second copy of the same content in one batch is refused."""
    out, seen = [], {}
    for name, data in uploads:
        staged = stage(name, data)
        if staged.sha256 and staged.sha256 in seen:
            staged = Staged(
                original_name=name,
                name=staged.name,
                refusal=f"{staged.name}: the same content as {seen[staged.sha256]} in this upload; it is imported once.",
            )
        elif staged.sha256:
            seen[staged.sha256] = staged.name
        out.append(staged)
    return out


def dates_text(summary: ingest.FileResult) -> str:
    """The dates a previewed file covers, as one line."""
    if not summary.first_date:
        return "No dated rows."
    first, last = summary.first_date, summary.last_date
    months = (last.year - first.year) * 12 + last.month - first.month + 1
    return f"Dates {first:%-d %b %Y} to {last:%-d %b %Y} ({months} month{'s' if months > 1 else ''})."
