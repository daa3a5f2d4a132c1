"""The notice loader: reads every file, matches buyers to councils, compiles each process, writes the tables."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path

import duckdb

from starviz import fmt
from starviz.config import CouncilConfig
from starviz.ingest import FileResult, IngestError
from starviz.notices.merge import MergeError, compile_releases
from starviz.notices.packages import (
    DATASET,
    SUFFIXES,
    File,
    Problem,
    Release,
    buyer_keys,
    members,
    no_gc,
    normalise_name,
    read_member,
    thaw,
)
from starviz.notices.rows import CONTRACT_COLUMNS, NOTICE_COLUMNS, contract_rows_of, create_tables, insert, notice_row


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
        self.files: list[File] = []
        self._files_by_label: dict[str, File] = {}
        self.releases: dict[tuple[str, str], Release] = {}

    # reading ------------------------------------------------------------------------------------
    def read(self, path: Path, file_id: int, label: str, council_id: str | None = None) -> list[FileResult]:
        """Read one file (each ZIP member is a file of its own). Raises IngestError when the file
        cannot be read at all; nothing of it is kept then."""
        if path.suffix.lower() not in SUFFIXES:
            raise IngestError(f"{label}: file type {path.suffix or '(none)'} is not allowed; use JSON, JSON Lines or ZIP")
        if path.stat().st_size == 0:
            raise IngestError(f"{label}: empty file (0 bytes)")
        staged: list[tuple[File, list[Release]]] = []
        with no_gc():
            for member_label, suffix, data in members(path, label):
                f = File(FileResult(council_id or "", DATASET, member_label), file_id, folder_council=council_id)
                staged.append((f, list(read_member(f, suffix, data))))
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

    # loading ------------------------------------------------------------------------------------
    def _council_of(self, releases: list[Release]) -> str | None:
        for r in sorted(releases, key=lambda r: r.date, reverse=True):
            for key in r.buyer_keys:
                if key in self.by_key:
                    return self.by_key[key]
            if r.buyer_name and normalise_name(r.buyer_name) in self.by_name:
                return self.by_name[normalise_name(r.buyer_name)]
        return None

    def finish(self, con: duckdb.DuckDBPyConnection) -> list[FileResult]:
        """Resolve buyers, compile each process, write raw_notices, raw_notice_contracts, rejects."""
        try:
            with no_gc():
                return self._finish(con)
        finally:
            self.releases.clear()  # loaded: drop them before the collector takes over again
            thaw()

    def _finish(self, con: duckdb.DuckDBPyConnection) -> list[FileResult]:
        by_ocid: dict[str, list[Release]] = defaultdict(list)
        for r in self.releases.values():
            by_ocid[r.ocid].append(r)
        files = {f.result.source_file: f for f in self.files}
        published: dict[str, list[dt.date]] = defaultdict(list)
        for r in self.releases.values():
            if r.published:
                published[r.label].append(r.published)
        loaded: dict[str, int] = defaultdict(int)
        unknown: dict[tuple[str, str], list[Release]] = defaultdict(list)
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
                    Problem(latest.row, ocid, latest.release_id, "(releases)", None, f"releases cannot be compiled: {exc}")
                )
                continue
            for r in releases:
                loaded[r.label] += 1
                notice_rows.append(notice_row(r, council_id))
            latest = max(releases, key=lambda r: r.date)
            contract_rows += contract_rows_of(compiled, council_id, latest.file_id, latest.label, latest.row)
        for (label, buyer), rs in unknown.items():
            first = min(rs, key=lambda r: r.row)
            keys = ", ".join(first.buyer_keys[:2])
            files[label].problems.append(
                Problem(
                    first.row, first.ocid, first.release_id, "buyer", buyer,
                    f"buyer is no configured council{f' ({keys})' if keys else ''}: {fmt.count(len(rs), 'release')} not loaded",
                    "skipped",
                )
            )  # fmt: skip
        insert(con, "raw_notices", NOTICE_COLUMNS, notice_rows)
        insert(con, "raw_notice_contracts", CONTRACT_COLUMNS, contract_rows)
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


def _release_name(p: Problem) -> str:
    if p.ocid and p.release_id:
        return f"release {p.ocid} / {p.release_id}"
    if p.ocid or p.release_id:
        return f"release {p.ocid or p.release_id}"
    return f"release {p.row}"


def _summary(res: FileResult, skipped: int, superseded: int) -> str:
    parts = [f"{res.rows_loaded:,} of {fmt.count(res.rows_read, 'release')} loaded"]
    if skipped:
        parts.append(
            f"releases of {fmt.count(skipped, 'buyer')} that {'is' if skipped == 1 else 'are'} no configured council not loaded"
        )
    if superseded:
        parts.append(f"{fmt.count(superseded, 'release')} repeated in a later file, loaded from there")
    return "; ".join(parts)


def discover(raw_dir: Path, councils: dict[str, CouncilConfig]) -> list[tuple[str | None, Path]]:
    """Notice files: ``raw/notices/`` (any buyer) and ``raw/<council>/notices/``, in name order."""
    found: list[tuple[str | None, Path]] = []
    folders: list[tuple[str | None, Path]] = [(None, raw_dir / DATASET)]
    folders += [(c, raw_dir / c / DATASET) for c in councils]
    for council_id, folder in folders:
        if folder.is_dir():
            found += [(council_id, p) for p in sorted(folder.iterdir()) if p.is_file() and p.suffix.lower() in SUFFIXES]
    return found


def check_file(
    path: Path,
    councils: dict[str, CouncilConfig],
    label: str | None = None,
    council_id: str | None = None,
    limit: int | None = None,
) -> tuple[FileResult, list[tuple]]:
    """Read one notice file in memory exactly as the build would (the same :class:`Loader`, so the
    same checks: package, OCID, date, notice type, buyer): its summary (every ZIP member added up)
    and its problems (file, release number, field, value, reason naming the release, severity; the
    first ``limit`` of them when given, ``summary.problems`` counts them all). A file that cannot be
    read comes back with status ``failed`` and its reason."""
    from starviz import ingest

    label = label or path.name
    summary = FileResult(council_id or "", DATASET, label, sha256=ingest.sha256_of(path), size_bytes=path.stat().st_size)
    with duckdb.connect() as con:
        ingest.create_tables(con)
        create_tables(con)
        loader = Loader(councils)
        try:
            loader.read(path, 1, label, council_id)
        except IngestError as exc:
            summary.status, summary.message = "failed", str(exc)
            return summary, []
        parts = loader.finish(con)
        summary.rows_read = sum(p.rows_read for p in parts)
        summary.rows_loaded = sum(p.rows_loaded for p in parts)
        summary.rows_rejected = sum(p.rows_rejected for p in parts)
        summary.problems = sum(p.problems for p in parts)
        for part in parts:
            for k, v in part.reasons.items():
                summary.reasons[k] = summary.reasons.get(k, 0) + v
        dates = [d for p in parts for d in (p.first_date, p.last_date) if d]
        summary.first_date, summary.last_date = (min(dates), max(dates)) if dates else (None, None)
        summary.message = parts[0].message if len(parts) == 1 else "; ".join(f"{p.source_file}: {p.message}" for p in parts)
        rejects = con.execute(
            "select source_file, source_row, column_name, value, reason, severity from rejects "
            "order by source_file, source_row limit ?",
            [limit if limit is not None else summary.problems],
        ).fetchall()
    return summary, rejects
