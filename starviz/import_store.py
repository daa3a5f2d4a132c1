"""An admin's import, from the decision on: store the previewed files, rebuild, report what changed.

No Streamlit here. A *commit* stores each previewed file (``imports.Preview``) under
``raw/<council>/<dataset>/``, records it with its hash in ``raw/import_log.csv`` and rebuilds, all
under the one build lock; when the build fails the stored files are taken back out, so the raw
folder and the live database never disagree, and the live database is untouched (``build.build``
swaps a new file in only when it is good). Afterwards the old and new databases are compared: rows
per council, dataset and month, new suppliers and new contracts. A status file beside the database
tells a second admin who is building and how far along.
"""

from __future__ import annotations

import csv
import datetime as dt
import fcntl
import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from starviz import build, config, fmt, queries
from starviz.imports import ImportRefused, Preview, find_duplicate, target_name

Progress = Callable[[float, str], None]

IMPORT_LOG = "import_log.csv"
LOG_FIELDS = [
    "stored_at",
    "council_id",
    "dataset",
    "file",
    "sha256",
    "size_bytes",
    "original_name",
    "imported_by",
    "status",
    "message",
]
REPLACED_DIR = "_replaced"  # under raw/: never a council id (ids start with a letter), so never read


# what the import snapshot keeps of each file in the ledger, after its council
_FILE_COLUMNS = [
    "dataset",
    "source_file",
    "status",
    "message",
    "rows_read",
    "rows_loaded",
    "rows_rejected",
    "first_date",
    "last_date",
]


@dataclass
class Changes:
    rows: pd.DataFrame
    new_suppliers: pd.DataFrame
    merged_suppliers: pd.DataFrame
    new_contracts: pd.DataFrame
    files: pd.DataFrame

    @property
    def rows_added(self) -> int:
        return int(self.rows["rows_added"].sum()) if len(self.rows) else 0


@dataclass
class Outcome:
    status: str  # done | busy | failed | refused
    message: str
    stored: list[str] = field(default_factory=list)
    changes: Changes | None = None
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)


def _status_path() -> Path:
    db = config.settings().db_path
    return db.with_name(db.name + ".import.json")


def build_status() -> dict | None:
    """Who is building and how far along, while a build (an import or any other) holds the lock."""
    if not build.is_building():
        return None
    try:
        return json.loads(_status_path().read_text())
    except (OSError, ValueError):
        return {"user": "someone", "started_at": None, "progress": None, "message": "building"}


def _write_status(info: dict) -> None:
    path = _status_path()
    part = path.with_name(path.name + ".part")
    part.write_text(json.dumps(info, default=str))
    os.replace(part, path)


def _log(rows: list[dict]) -> None:
    path = config.settings().raw_dir / IMPORT_LOG
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", newline="", encoding="utf-8") as fh:
        path.chmod(config.PRIVATE_FILE)
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            writer = csv.DictWriter(fh, LOG_FIELDS)
            if fh.tell() == 0:
                writer.writeheader()
            writer.writerows(rows)
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def import_log(user=None) -> pd.DataFrame:
    """The import history; only the user's own councils' imports when ``user`` is given."""
    path = config.settings().raw_dir / IMPORT_LOG
    if not path.exists():
        return pd.DataFrame(columns=LOG_FIELDS)
    log = pd.read_csv(path, dtype=str, keep_default_na=False)
    return log if user is None else log[log["council_id"].map(user.sees)].reset_index(drop=True)


def _empty_snapshot() -> dict[str, pd.DataFrame]:
    return {
        "rows": pd.DataFrame(columns=["council_id", "dataset", "month", "count_rows"]),
        "suppliers": pd.DataFrame(columns=["supplier_id", "supplier_name", "council_ids"]),
        "contracts": pd.DataFrame(
            columns=["contract_id", "council_id", "contract_title", "supplier_name", "value_gbp", "start_date", "end_date"]
        ),
        "files": pd.DataFrame(columns=["council_id", *_FILE_COLUMNS]),
        "councils": pd.DataFrame(columns=["council_id", "short_name"]),
    }


def _snapshot(scope: queries.Scope) -> dict[str, pd.DataFrame]:
    if not config.settings().db_path.exists():
        return _empty_snapshot()
    try:
        return queries.import_snapshot(scope)
    except queries.DatabaseUnavailable:
        return _empty_snapshot()


def compare(before: dict[str, pd.DataFrame], after: dict[str, pd.DataFrame], stored: list[str]) -> Changes:
    """What a build changed: rows per council, dataset and month; suppliers new or merged away;
    contracts new; and how each stored file loaded."""
    names = dict(zip(after["councils"]["council_id"], after["councils"]["short_name"], strict=True))
    keys = ["council_id", "dataset", "month"]
    for snap in (before, after):
        snap["rows"] = snap["rows"].assign(month=pd.to_datetime(snap["rows"]["month"]))
    rows = before["rows"].merge(after["rows"], on=keys, how="outer", suffixes=("_before", "_after"))
    rows = rows.fillna({"count_rows_before": 0, "count_rows_after": 0})
    rows["rows_added"] = rows["count_rows_after"] - rows["count_rows_before"]
    rows = rows[rows["rows_added"] != 0].sort_values(keys)
    rows.insert(0, "council", rows["council_id"].map(names))
    rows = rows.rename(columns={"count_rows_before": "rows_before", "count_rows_after": "rows_after"})
    rows = (
        rows[["council", "dataset", "month", "rows_before", "rows_after", "rows_added"]]
        .astype({"rows_before": "int64", "rows_after": "int64", "rows_added": "int64"})
        .reset_index(drop=True)
    )

    def councils_text(ids) -> str:
        return ", ".join(names.get(c, c) for c in (list(ids) if ids is not None else []))

    new = after["suppliers"][~after["suppliers"]["supplier_id"].isin(before["suppliers"]["supplier_id"])].copy()
    new["councils"] = new["council_ids"].map(councils_text)
    gone = before["suppliers"][~before["suppliers"]["supplier_id"].isin(after["suppliers"]["supplier_id"])].copy()
    gone["councils"] = gone["council_ids"].map(councils_text)
    contracts = after["contracts"][~after["contracts"]["contract_id"].isin(before["contracts"]["contract_id"])].copy()
    contracts.insert(0, "council", contracts["council_id"].map(names))
    files = after["files"][
        after["files"]["source_file"].map(lambda f: any(f == s or f.startswith(s + "!") for s in stored))
    ].copy()
    files.insert(0, "council", files["council_id"].map(names))
    return Changes(
        rows=rows,
        new_suppliers=new[["supplier_name", "councils", "supplier_id"]].sort_values("supplier_name").reset_index(drop=True),
        merged_suppliers=gone[["supplier_name", "councils", "supplier_id"]].sort_values("supplier_name").reset_index(drop=True),
        new_contracts=contracts[
            ["council", "contract_id", "contract_title", "supplier_name", "value_gbp", "start_date", "end_date"]
        ]
        .sort_values(["council", "contract_id"])
        .reset_index(drop=True),
        files=files[["council", *_FILE_COLUMNS]].reset_index(drop=True),
    )


def commit(
    previews: list[Preview], scope: queries.Scope, progress: Progress | None = None, replace: bool | None = None
) -> Outcome:
    """Store the previewed files and rebuild, under the build lock; report what changed.

    ``replace`` (the default, unless the admin explicitly chose to add): files already loaded for
    the same months (``Preview.overlaps``) are moved aside to ``raw/_replaced/<time>/`` instead of
    being added to, so a year-to-date file never counts its earlier months twice. Nothing is ever deleted: when the build
    fails the stored files are removed again (the upload stays with the admin) and moved files
    are put back, and the live database is untouched.
    """
    progress = progress or (lambda _f, _m: None)
    if not scope.user.can("import"):
        return Outcome("refused", "Your role does not allow importing data.")
    replace = True if replace is None else replace
    foreign = [p for p in previews if not scope.user.sees(p.council_id)]
    if foreign:
        return Outcome("refused", f"Nothing was stored: you can import only for your own councils ({foreign[0].council_id}).")
    blocked = [p for p in previews if not p.can_commit]
    if blocked:
        return Outcome(
            "refused", "Nothing was stored: " + " ".join(p.refusal or f"{p.staged.name}: no rows to load." for p in blocked)
        )
    s = config.settings()
    started = time.perf_counter()
    who = scope.user.name or scope.user.username
    try:
        with build.build_lock(s.db_path):
            status = {
                "user": who,
                "started_at": dt.datetime.now().isoformat(timespec="seconds"),
                "files": [p.label for p in previews],
                "progress": 0.0,
                "message": "Starting",
            }
            _write_status(status)
            try:
                outcome = _commit_locked(previews, scope, progress, replace, status, started)
            finally:
                _status_path().unlink(missing_ok=True)
            _audit(previews, outcome, replace, scope.user.username)
            return outcome
    except build.BuildInProgress:
        current = build_status() or {}
        by = f" (started by {current['user']} at {current['started_at']})" if current.get("started_at") else ""
        return Outcome("busy", f"A build is in progress{by}. Nothing was stored; commit again when it has finished.")


def _audit(previews: list[Preview], outcome: Outcome, replace: bool, username: str) -> None:
    from starviz import auth

    if previews:
        files = "; ".join(p.label for p in previews)
        auth.audit("import", f"{outcome.status}{' (replacing)' if replace else ''}: {files}", username)
    else:
        auth.audit("rebuild", outcome.status, username)


def rebuild(scope: queries.Scope, progress: Progress | None = None) -> Outcome:
    """Rebuild from the stored extracts (e.g. to apply supplier decisions); report what changed."""
    if not scope.user.can("rebuild"):
        return Outcome("refused", "Your role does not allow rebuilding the database.")
    return commit([], scope, progress)


def _commit_locked(
    previews: list[Preview], scope: queries.Scope, progress: Progress, replace: bool, status: dict, started: float
) -> Outcome:
    s = config.settings()
    last = [0.0]

    def report(fraction: float, message: str) -> None:
        progress(fraction, message)
        if fraction - last[0] >= 0.02 or fraction >= 1:  # a second admin sees how far it is
            last[0] = fraction
            _write_status(status | {"progress": round(fraction, 3), "message": message})

    for p in previews:  # another admin may have stored the same content since the preview
        duplicate = find_duplicate(scope, p.staged)
        if duplicate:
            return Outcome("refused", f"{p.staged.name}: the same file was imported before ({duplicate}); nothing was stored.")
    report(0.01, "Reading the current database")
    before = _snapshot(scope)
    stamp = dt.datetime.now()
    stored: list[Path] = []
    moved: list[tuple[Path, Path]] = []
    log = []
    try:
        if replace:
            for p in previews:
                for source_file in p.overlaps.get("source_file", pd.Series(dtype=str)):
                    origin = s.raw_dir / source_file.split("!")[0]
                    if origin.exists() and origin not in [m[0] for m in moved]:
                        aside = s.raw_dir / REPLACED_DIR / stamp.strftime("%Y%m%dT%H%M%S") / origin.relative_to(s.raw_dir)
                        aside.parent.mkdir(parents=True, exist_ok=True)
                        os.replace(origin, aside)
                        moved.append((origin, aside))
        for p in previews:
            folder = s.raw_dir / p.council_id / p.dataset
            folder.mkdir(parents=True, exist_ok=True)
            target = folder / target_name(p.staged, p.council_id, p.dataset)
            _within(target, s.raw_dir)
            part = folder / f".{p.staged.sha256}.part"  # hidden and unmatched by any pattern until complete
            shutil.copyfile(p.staged.path, part)
            part.chmod(config.PRIVATE_FILE)
            os.replace(part, target)
            stored.append(target)
            log.append(
                {
                    "council_id": p.council_id,
                    "dataset": p.dataset,
                    "file": str(target.relative_to(s.raw_dir)),
                    "sha256": p.staged.sha256,
                    "size_bytes": p.staged.size_bytes,
                    "original_name": p.staged.original_name,
                    "imported_by": scope.user.username,
                }
            )
        report(0.05, "Building")
        summary = build.build(progress=lambda f, m: report(0.05 + 0.9 * f, m), locked=True)
    except Exception as exc:  # whatever failed (build, disk, a name), put raw/ back as it was
        for target in stored:
            target.unlink(missing_ok=True)
        for origin, aside in reversed(moved):
            os.replace(aside, origin)
        _log(
            [
                row
                | {
                    "stored_at": stamp.isoformat(timespec="seconds"),
                    "status": "build failed",
                    "message": str(exc).splitlines()[0][:300],
                }
                for row in log
            ]
        )
        return Outcome(
            "failed",
            f"The build failed, so nothing changed: the live database is as it was and the files were not kept. Why: {exc}",
            seconds=time.perf_counter() - started,
        )
    report(0.96, "Comparing with the previous database")
    labels = [str(t.relative_to(s.raw_dir)) for t in stored]
    changes = compare(before, _snapshot(scope), labels)
    _log(
        [row | {"stored_at": stamp.isoformat(timespec="seconds"), "status": "loaded", "message": ""} for row in log]
        + [
            {
                "stored_at": stamp.isoformat(timespec="seconds"),
                "council_id": str(origin.relative_to(s.raw_dir)).split("/")[0],
                "dataset": str(origin.relative_to(s.raw_dir)).split("/")[1],
                "file": str(aside.relative_to(s.raw_dir)),
                "sha256": "",
                "size_bytes": "",
                "original_name": origin.name,
                "imported_by": scope.user.username,
                "status": "replaced",
                "message": f"moved aside from {origin.relative_to(s.raw_dir)}",
            }
            for origin, aside in moved
        ]
    )
    warnings = [
        f"{f.source_file}: {f.status}: {f.message}"
        for f in summary.files
        if f.status != "loaded" and any(f.source_file == x or f.source_file.startswith(x + "!") for x in labels)
    ]
    report(1.0, "Done")
    what = f"Stored {fmt.count(len(stored), 'file')} and rebuilt" if stored else "Rebuilt"
    return Outcome(
        "done",
        f"{what} in {time.perf_counter() - started:.0f} s: {changes.rows_added:+,} rows, "
        f"{len(changes.new_suppliers):,} new suppliers, {len(changes.new_contracts):,} new contracts.",
        stored=labels,
        changes=changes,
        seconds=time.perf_counter() - started,
        warnings=warnings,
    )


def _within(path: Path, root: Path) -> None:
    """A last check that a path stays inside its folder, whatever produced its name."""
    if not path.resolve().is_relative_to(root.resolve()):
        raise ImportRefused(f"{path.name}: refusing to write outside {root}")


def status_text(status: dict) -> str:
    """A build in progress, as a second admin sees it."""
    done = f", {status['progress']:.0%} done ({status.get('message', '')})" if status.get("progress") is not None else ""
    when = f" at {status['started_at'][11:16]}" if status.get("started_at") else ""
    files = status.get("files") or []
    what = f", loading {', '.join(files)}" if files else ""
    return (
        f"Build in progress, started by {status.get('user', 'someone')}{when}{what}{done}. "
        "Imports wait until it has finished; nothing is lost meanwhile."
    )
