"""raw extracts + sql/ -> data/star.duckdb, atomically.

The new database is written beside the live one and swapped in with ``os.replace`` only when
every file was read, every view in ``sql/`` was created and the checks passed; a failed build
leaves the last good database in place. One build runs at a time (a lock file).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import graphlib
import json
import os
import re
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import duckdb

from starviz import config, exclusions, ingest, integrity, reader
from starviz.config import CouncilConfig
from starviz.notices import loader as notice_loader
from starviz.notices import packages as notice_packages
from starviz.notices import rows as notice_rows

Progress = Callable[[float, str], None]


class BuildError(RuntimeError):
    """The build failed; the live database was not touched."""


class BuildInProgress(BuildError):
    """Another build holds the lock."""


@dataclass
class BuildSummary:
    db_path: Path
    seconds: float = 0.0
    files: list[ingest.FileResult] = field(default_factory=list)
    is_demo: bool = False
    imported: list[str] = field(default_factory=list)  # in a demo build: "<council> <dataset>" of the real files
    steps: dict[str, float] = field(default_factory=dict)  # seconds per step: ingest, each SQL file, check

    def slowest(self, n: int = 5) -> list[tuple[str, float]]:
        return sorted(self.steps.items(), key=lambda kv: -kv[1])[:n]

    @property
    def loaded(self) -> list[ingest.FileResult]:
        return [f for f in self.files if f.status == "loaded"]

    def table(self) -> list[tuple[str, str, int, int, int, int]]:
        """(council, dataset, files, rows read, rows loaded, rows rejected) per council and dataset."""
        agg: dict[tuple[str, str], list[int]] = {}
        for f in self.files:
            row = agg.setdefault((f.council_id, f.dataset), [0, 0, 0, 0])
            row[0] += 1
            row[1] += f.rows_read
            row[2] += f.rows_loaded
            row[3] += f.rows_rejected
        return [(c, d, *v) for (c, d), v in sorted(agg.items())]


def sql_files() -> list[Path]:
    """Every view definition, in the order the folders (then files) sort."""
    return sorted(config.SQL_DIR.glob("*/*.sql"))


def discover(raw_dir: Path, councils: dict[str, CouncilConfig]) -> list[tuple[CouncilConfig, str, Path]]:
    """Files under raw/<council>/<dataset>/ matching that council's patterns, in name order."""
    found = []
    for council in councils.values():
        for dataset, ds in council.datasets.items():
            folder = raw_dir / council.id / dataset
            if not folder.is_dir():
                continue
            paths = {p for pattern in ds.patterns for p in folder.glob(pattern) if p.is_file()}
            found += [(council, dataset, p) for p in sorted(paths)]
    return found


@contextlib.contextmanager
def build_lock(db_path: Path) -> Iterator[None]:
    db_path.parent.mkdir(parents=True, exist_ok=True)
    lock_path = db_path.with_name(db_path.name + ".lock")
    with lock_path.open("w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise BuildInProgress("A build is already in progress; try again when it has finished.") from exc
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def is_building(db_path: Path | None = None) -> bool:
    db_path = db_path or config.settings().db_path
    lock_path = db_path.with_name(db_path.name + ".lock")
    if not lock_path.exists():
        return False
    with lock_path.open("w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(fh, fcntl.LOCK_UN)
    return False


def _load_config_tables(con: duckdb.DuckDBPyConnection, councils: dict[str, CouncilConfig], ref_dir: Path) -> None:
    con.execute(
        "create table cfg_councils (council_id varchar primary key, name varchar, short_name varchar, "
        "kind varchar, gss_code varchar, population integer, colour varchar, joined_date date, "
        "left_date date, name_aliases varchar[], sort_order integer)"
    )
    con.execute(
        "create table cfg_datasets (council_id varchar, dataset varchar, truncates_names_at integer, "
        "redaction_markers varchar[], redaction_column_values varchar[], publishes_lines_from_gbp decimal(18, 2))"
    )
    for order, c in enumerate(councils.values()):
        con.execute(
            "insert into cfg_councils values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                c.id,
                c.name,
                c.short_name,
                c.kind,
                c.gss_code,
                c.population,
                c.colour,
                c.joined,
                c.left,
                [c.name, *c.name_aliases],
                order,
            ],
        )
        for name, ds in c.datasets.items():
            con.execute(
                "insert into cfg_datasets values (?, ?, ?, ?, ?, ?)",
                [
                    c.id,
                    name,
                    ds.truncates_names_at,
                    ds.redaction_markers,
                    ds.redaction_column_values,
                    ds.publishes_lines_from_gbp,
                ],
            )
    s = config.settings()
    con.execute("create table cfg_targets (name varchar, financial_year varchar, value double)")
    con.execute("insert into cfg_targets values ('social_value_share', null, ?)", [s.social_value_target_share])
    for fy, value in s.social_value_target_by_year.items():
        con.execute("insert into cfg_targets values ('social_value_share', ?, ?)", [fy, value])
    # thresholds the SQL applies (RAG status of KPIs)
    con.execute("create table cfg_thresholds (name varchar primary key, value double)")
    con.execute("insert into cfg_thresholds values ('kpi_rag_amber_tolerance', ?)", [s.kpi_rag_amber_tolerance])
    con.execute("insert into cfg_thresholds values ('notice_match_value_share', ?)", [s.notices.match_value_share])
    con.execute("insert into cfg_thresholds values ('notice_match_days', ?)", [s.notices.match_days])
    con.execute("insert into cfg_thresholds values ('partial_month_days', ?)", [s.quality_partial_month_days])
    con.execute("insert into cfg_thresholds values ('spend_publication_gbp', ?)", [s.spend_publication_threshold_gbp])
    for path in sorted(ref_dir.glob("*.csv")):
        con.execute(
            f"create table ref_{path.stem} as select * from read_csv(?, header=true, all_varchar=true)",
            [str(path)],
        )
    for statement in exclusions.macro_sql(exclusions.rules(ref_dir)):
        con.execute(statement)


def _ingest_all(con, files, progress: Progress, summary: BuildSummary, raw_dir: Path) -> None:
    """Every file into the raw tables (a few at a time) and the ledger (in file order). A file
    whose content was already seen is recorded as a duplicate and loaded once."""
    seen: dict[str, str] = {}
    bases: list[ingest.FileResult] = []
    jobs: list[ingest.Job] = []
    for n, (council, dataset, path) in enumerate(files, start=1):
        label = str(path.relative_to(raw_dir)) if path.is_relative_to(raw_dir) else path.name
        digest = ingest.sha256_of(path)
        base = ingest.FileResult(council.id, dataset, label, sha256=digest, size_bytes=path.stat().st_size)
        if digest in seen:
            base.status, base.message = "duplicate", f"same content as {seen[digest]}; loaded once"
        else:
            seen[digest] = label
            jobs.append(ingest.Job(path, council, dataset, n, label))
        bases.append(base)
    done = 0

    def report(job: ingest.Job) -> None:
        nonlocal done
        done += 1
        progress(0.05 + 0.75 * done / max(len(jobs), 1), f"Read {job.label}")

    loaded = dict(
        zip(
            (job.file_id for job in jobs),
            ingest.load_files(con, jobs, config.settings().build_ingest_workers, report),
            strict=True,
        )
    )
    ingest.finish_tables(con)
    for n, ((_council, _dataset, path), base) in enumerate(zip(files, bases, strict=True), start=1):
        outcome = loaded.get(n, [base])
        if isinstance(outcome, ingest.IngestError):
            base.status, base.message = "failed", str(outcome)
            outcome = [base]
        received = dt.datetime.fromtimestamp(path.stat().st_mtime)
        for p in outcome:
            p.sha256, p.size_bytes = base.sha256, base.size_bytes
            _ledger(con, n, p, received)
        summary.files += outcome


def _ingest_notices(con, raw_dir: Path, councils: dict[str, CouncilConfig], summary: BuildSummary, first_id: int) -> None:
    """OCDS notice files (raw/notices/ and raw/<council>/notices/): read them all, then compile each
    contracting process and load it (a process's releases can sit in several files)."""
    loader = notice_loader.Loader(councils)
    entries: list[tuple[int, Path, ingest.FileResult, list[ingest.FileResult]]] = []
    seen: dict[str, str] = {}
    try:
        for n, (council_id, path) in enumerate(notice_loader.discover(raw_dir, councils), start=first_id):
            label = str(path.relative_to(raw_dir))
            digest = ingest.sha256_of(path)
            size = path.stat().st_size
            base = ingest.FileResult(council_id or "", notice_loader.DATASET, label, sha256=digest, size_bytes=size)
            outcome = [base]
            if digest in seen:
                base.status, base.message = "duplicate", f"same content as {seen[digest]}; loaded once"
            else:
                seen[digest] = label
                try:
                    outcome = loader.read(path, n, label, council_id)
                except ingest.IngestError as exc:
                    base.status, base.message = "failed", str(exc)
            entries.append((n, path, base, outcome))
        loader.finish(con)  # fills in the results read above
    finally:
        notice_packages.thaw()  # whatever happened, the collector gets back what reading froze
    for n, path, base, outcome in entries:
        received = dt.datetime.fromtimestamp(path.stat().st_mtime)
        for p in outcome:
            p.sha256, p.size_bytes = base.sha256, base.size_bytes
            _ledger(con, n, p, received)
        summary.files += outcome


def _ledger(con, n: int, p: ingest.FileResult, received: dt.datetime) -> None:
    con.execute(
        "insert into file_ledger values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            n,
            p.council_id or None,
            p.dataset,
            p.source_file,
            p.sha256,
            p.size_bytes,
            p.status,
            p.message,
            p.rows_read,
            p.rows_loaded,
            p.rows_rejected,
            p.amount_total,
            p.first_date,
            p.last_date,
            dt.datetime.now(),
            received,
        ],
    )


def _shown(path: Path) -> str:
    return str(path.relative_to(config.ROOT)) if path.is_relative_to(config.ROOT) else str(path)


def view_order(paths: list[Path]) -> list[Path]:
    """SQL files folder by folder (the layers); within a folder, each file after the files of that
    folder it reads (a file creates the view, table or macro named after it), so file names need no
    ordering prefixes. A cycle is an error naming the files in it."""
    ordered: list[Path] = []
    for folder in sorted({p.parent.name for p in paths}):
        layer = {p.stem.lower(): p for p in paths if p.parent.name == folder}
        word = re.compile(r"\b(" + "|".join(map(re.escape, sorted(layer, key=len, reverse=True))) + r")\b", re.IGNORECASE)
        sorter: graphlib.TopologicalSorter[str] = graphlib.TopologicalSorter()
        for name in sorted(layer):
            sql = re.sub(r"--[^\n]*", "", layer[name].read_text(encoding="utf-8"))  # comments name views too
            sorter.add(name, *sorted({m.lower() for m in word.findall(sql)} - {name}))
        try:
            ordered += [layer[name] for name in sorter.static_order()]
        except graphlib.CycleError as exc:
            raise BuildError(
                f"these SQL files read each other in a circle: {', '.join(_shown(layer[n]) for n in exc.args[1])}"
            ) from exc
    return ordered


def create_sql(
    con: duckdb.DuckDBPyConnection, paths: list[Path], on_created: Callable[[Path, float], None] | None = None
) -> None:
    """Create the objects of ``paths`` (views, tables, macros) in ``view_order``, so a definition may
    use another of its folder whatever their names (DuckDB binds a view or macro when it is created).
    The build and any test that creates some of them go through here. A file that fails stops it with
    one line naming the file (DuckDB's own message, without the copy of the SQL it points into)."""
    for path in view_order(paths):
        step = time.perf_counter()
        try:
            con.execute(path.read_text(encoding="utf-8"))
        except duckdb.Error as exc:
            raise BuildError(f"{_shown(path)}: {str(exc).strip().splitlines()[0]}") from exc
        if on_created:
            on_created(path, time.perf_counter() - step)


def functions(*names: str) -> list[Path]:
    """The macro files of sql/00_functions with these names (for create_sql)."""
    return [config.SQL_DIR / "00_functions" / f"{name}.sql" for name in names]


def _run_sql(con: duckdb.DuckDBPyConnection, progress: Progress, steps: dict[str, float]) -> None:
    """Create every view, in dependency order (``view_order``)."""
    paths = sql_files()
    done = 0

    def created(path: Path, seconds: float) -> None:
        nonlocal done
        done += 1
        steps[f"{path.parent.name}/{path.stem}"] = seconds
        progress(0.8 + 0.15 * done / len(paths), f"Created {path.stem}")

    create_sql(con, paths, created)


def _check(con: duckdb.DuckDBPyConnection) -> None:
    """The numbers must reconcile to the penny before the database goes live."""
    raw = con.execute("select count(*), coalesce(sum(amount_gbp), 0) from raw_spend").fetchone()
    fct = con.execute("select count(*), coalesce(sum(amount_gbp), 0) from fct_spend").fetchone()
    if raw != fct:
        raise BuildError(f"fct_spend does not reconcile with raw_spend: {fct} vs {raw}")
    ledger = con.execute(
        "select coalesce(sum(rows_loaded), 0) from file_ledger where status = 'loaded' and dataset = 'spend'"
    ).fetchone()[0]
    if ledger != raw[0]:
        raise BuildError(f"ledger says {ledger} spend rows loaded but raw_spend holds {raw[0]}")
    bad = con.execute(
        "select count(*) from file_ledger where status = 'loaded' and rows_read <> rows_loaded + rows_rejected"
    ).fetchone()[0]
    if bad:
        raise BuildError(f"{bad} file(s) where rows read <> rows loaded + rows rejected")
    for (name,) in con.execute("select view_name from duckdb_views() where not internal and view_name like 'mart_%'").fetchall():
        con.execute(f'select * from "{name}" limit 1')


def build(
    raw_dir: Path | None = None,
    db_path: Path | None = None,
    councils: dict[str, CouncilConfig] | None = None,
    progress: Progress | None = None,
    locked: bool = False,
) -> BuildSummary:
    """Build the database from every extract under ``raw_dir``; swap it in only if it is good.

    ``locked``: the caller already holds ``build_lock`` (an import stores files and builds under one lock).
    """
    s = config.settings()
    raw_dir = Path(raw_dir or s.raw_dir)
    db_path = Path(db_path or s.db_path)
    councils = councils or config.load_councils()
    progress = progress or (lambda _f, _m: None)
    started = time.perf_counter()
    summary = BuildSummary(db_path=db_path)
    demo_marker = raw_dir / "demo.json"
    summary.is_demo = demo_marker.exists()
    reader.remove_stale_scratch()  # scratch folders left by a killed build or app
    with contextlib.nullcontext() if locked else build_lock(db_path):
        # Holding the lock, any other half-written build file is left by a build that was killed.
        for stale in db_path.parent.glob(f"{db_path.name}.building-*"):
            stale.unlink(missing_ok=True)
        tmp_path = db_path.with_name(f"{db_path.name}.building-{os.getpid()}")
        try:
            # A memory cap keeps the build's footprint bounded; DuckDB spills to disk beyond it.
            con = duckdb.connect(str(tmp_path), config={"memory_limit": s.build_memory_limit})
            con.execute("set enable_progress_bar = false")  # the CLI and the app draw their own
            try:
                progress(0.01, "Reading configuration")
                ingest.create_tables(con)
                notice_rows.create_tables(con)
                _load_config_tables(con, councils, s.reference_dir)
                files = discover(raw_dir, councils)
                if summary.is_demo:
                    summary.imported = imported_beside_demo(raw_dir, files)
                step = time.perf_counter()
                _ingest_all(con, files, progress, summary, raw_dir)
                summary.steps["ingest"] = time.perf_counter() - step
                step = time.perf_counter()
                _ingest_notices(con, raw_dir, councils, summary, first_id=len(files) + 1)
                summary.steps["ingest notices"] = time.perf_counter() - step
                if not any(f.rows_loaded for f in summary.files):
                    problems = "\n".join(f"  {f.source_file}: {f.message}" for f in summary.files if f.message)
                    raise BuildError(f"nothing could be loaded from {raw_dir}" + (f":\n{problems}" if problems else ""))
                _run_sql(con, progress, summary.steps)
                progress(0.96, "Checking totals")
                step = time.perf_counter()
                _check(con)
                summary.steps["check"] = time.perf_counter() - step
                summary.seconds = time.perf_counter() - started
                con.execute(
                    "create table build_info as select ?::timestamp as built_at, ?::boolean as is_demo, "
                    "?::varchar as demo_info, ?::varchar[] as imported, ?::double as build_seconds, "
                    "?::varchar as duckdb_version, ?::varchar as sql_version",
                    [
                        dt.datetime.now(),
                        summary.is_demo,
                        demo_marker.read_text() if summary.is_demo else None,
                        summary.imported,
                        summary.seconds,
                        duckdb.__version__,
                        integrity.sql_version(),
                    ],
                )
                step = time.perf_counter()
                con.execute("checkpoint")
                summary.steps["checkpoint"] = time.perf_counter() - step
            finally:
                with contextlib.suppress(duckdb.Error):  # after a fatal error the instance is already gone
                    con.close()
            tmp_path.chmod(config.PRIVATE_FILE)  # payment data: not world-readable, whatever the umask
            integrity.record(tmp_path, db_path)  # the app checks the file it serves against this
            os.replace(tmp_path, db_path)
        except (OSError, duckdb.IOException, duckdb.FatalException) as exc:
            # A full disk or a failed write: the half-written file goes, the live one stays.
            raise BuildError(f"could not write the new database beside {db_path}: {exc}") from exc
        finally:
            tmp_path.unlink(missing_ok=True)
            tmp_path.with_name(tmp_path.name + ".wal").unlink(missing_ok=True)
    progress(1.0, "Done")
    return summary


def ensure_database(progress: Progress | None = None, scale: float | None = None) -> bool:
    """On a machine with no database, generate the demo extracts and build them. True if it built."""
    s = config.settings()
    if s.db_path.exists():
        return False
    progress = progress or (lambda _f, _m: None)
    s.db_path.parent.mkdir(parents=True, exist_ok=True)
    # Everyone who opens the app during the first run waits for the one first build instead of
    # generating and building again behind it (the build's own lock is taken only once generation ends).
    with s.db_path.with_name(s.db_path.name + ".first-run.lock").open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        if s.db_path.exists():
            return False
        if not (s.raw_dir / "demo.json").exists() and not any(s.raw_dir.glob("*/*/*")):
            from starviz import demo

            # Written beside raw/ and moved in when complete (demo.json last): a first run stopped half
            # way (the server stopped) leaves no half set of extracts that a later run would build.
            staging = s.raw_dir.with_name(f".{s.raw_dir.name}.generating")
            shutil.rmtree(staging, ignore_errors=True)
            demo.generate(staging, scale=scale or s.demo_scale_first_run, progress=lambda f, m: progress(0.5 * f, m))
            s.raw_dir.mkdir(parents=True, exist_ok=True)
            for part in sorted(staging.iterdir(), key=lambda p: p.name == "demo.json"):
                if (s.raw_dir / part.name).exists():  # an empty folder someone made: fill it
                    shutil.copytree(part, s.raw_dir / part.name, dirs_exist_ok=True)
                    shutil.rmtree(part)
                else:
                    os.replace(part, s.raw_dir / part.name)
            staging.rmdir()
        build(progress=lambda f, m: progress(0.5 + 0.5 * f, m))
    return True


@dataclass
class FirstRun:
    """The first run, in a thread of the server's own: what it is doing and how far it has got."""

    fraction: float = 0.0
    message: str = "Starting"
    error: str | None = None
    finished: threading.Event = field(default_factory=threading.Event)

    def update(self, fraction: float, message: str) -> None:
        self.fraction, self.message = min(max(fraction, self.fraction), 1.0), message


_first_run: FirstRun | None = None
_first_run_lock = threading.Lock()


def first_run_running() -> bool:
    """This process's first run has started and not finished (its build holds the build lock)."""
    return _first_run is not None and not _first_run.finished.is_set()


def first_run_in_background() -> FirstRun:
    """Start ``ensure_database`` in a background thread unless one is running, and return its progress.
    Every visitor watches the same run, and closing or reloading the page does not stop it (a session's
    own script would be stopped with the session)."""
    global _first_run
    with _first_run_lock:
        if _first_run is None or _first_run.finished.is_set():  # finished and asked again: the database is missing
            job = FirstRun()

            def run() -> None:
                try:
                    ensure_database(progress=job.update)
                except Exception as exc:  # shown on the setup page; the next visit tries again
                    job.error = str(exc) or type(exc).__name__
                finally:
                    job.finished.set()

            threading.Thread(target=run, name="starviz-first-run", daemon=True).start()
            _first_run = job
        return _first_run


def imported_beside_demo(raw_dir: Path, files: list[tuple[CouncilConfig, str, Path]]) -> list[str]:
    """In a demo's raw folder, the council and dataset of each file the demo did not write (a real
    file imported or copied in beside the synthetic ones), e.g. "Trafford Council spend", once each."""
    generated = set(json.loads((raw_dir / "demo.json").read_text()).get("files", []))
    found = [
        f"{council.name} {dataset.replace('_', ' ')}"
        for council, dataset, path in files
        if path.relative_to(raw_dir).as_posix() not in generated
    ]
    return list(dict.fromkeys(found))


def demo_expected(raw_dir: Path) -> dict:
    path = raw_dir / "demo.json"
    return json.loads(path.read_text())["expected"] if path.exists() else {}


def money(value: Decimal | float | None) -> str:
    return "" if value is None else f"£{value:,.2f}"
