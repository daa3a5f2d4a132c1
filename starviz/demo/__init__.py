"""Synthetic demo extracts, written in each partner's own published format.

``generate`` invents one plausible STAR world (suppliers shared across councils under name variants,
Pareto-shaped spend with a March peak, levies and redacted payments, contracts registers, social
value, KPIs) and writes it the way each council's configuration says that council publishes it:
headers, file type, encoding, date and amount styles, quirks. Nothing here names a council: a new
TOML file in ``data/councils/`` is picked up as it is.

Determinism: every random draw comes from ``numpy.random.default_rng([seed, crc32(council id), k])``
streams (or Python ``random.Random`` seeded from them), never from the clock, so the same seed and
scale give byte-identical files.

Stages, one module each: ``vocabulary`` (words and shares; ProClass headings and GM postcode districts
from ``data/reference/``) -> ``world`` (suppliers and collaborative contracts) -> ``datasets`` (each
dataset as canonical columns, a ``Table``) -> ``render`` (a council's text) -> ``writers`` (file bytes
by extension). A new output format is a writer.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import pickle
import queue
import subprocess
import sys
import threading
import traceback
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import numpy as np

from starviz import config
from starviz.config import CouncilConfig, DatasetConfig, DemoStyle
from starviz.demo import notices as demo_notices
from starviz.demo.datasets import Contracts, Table, contracts_table, kpis_table, maturity_table, social_value_table, spend_table
from starviz.demo.render import render, with_quirks
from starviz.demo.vocabulary import MISSING_PENCE
from starviz.demo.world import World, entity_rng, month_end, strftime
from starviz.demo.writers import file_bytes
from starviz.models import DATASETS, Dataset

__all__ = ["generate", "strftime"]

Progress = Callable[[float, str], None]


def demo_style(cc: CouncilConfig, dataset: str, ds: DatasetConfig) -> DemoStyle:
    """The council's demo style, or one derived from its first supported file pattern."""
    if ds.demo is not None:
        style = ds.demo
    else:
        name = None
        for pattern in ds.patterns:
            if Path(pattern).suffix.lower() in (".csv", ".xlsx", ".zip", ".txt", ".tsv"):
                stem = pattern.replace("*", "%Y-%m", 1).replace("*", "").replace("?", "x")
                name = stem if "%" in stem else f"{cc.id}-{dataset}-%Y-%m{Path(pattern).suffix}"
                break
        if name is None:
            raise config.ConfigError(
                f"{cc.id}: datasets.{dataset}: no demo.file_name and no .csv/.xlsx/.zip pattern to derive one from"
            )
        style = DemoStyle(file_name=name)
    suffix = Path(style.file_name).suffix.lower()
    if suffix not in (".csv", ".xlsx", ".zip", ".txt", ".tsv"):
        raise config.ConfigError(
            f"{cc.id}: datasets.{dataset}.demo.file_name: the demo writes .csv, .xlsx or "
            f".zip files, not {suffix or 'files without an extension'}"
        )
    return style


# --------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------


def generate(
    out_dir: Path,
    seed: int = 7,
    scale: float = 1.0,
    councils: dict[str, CouncilConfig] | None = None,
    first_month: str = "2023-04",
    last_month: str = "2026-10",
    progress: Progress | None = None,
    workers: int | None = None,
) -> dict:
    """Write synthetic extracts for every configured council and dataset under ``out_dir``.

    Files go to ``out_dir/<council_id>/<dataset>/`` in the council's own published format; spend is
    one file a month (from the council's ``joined`` month), other datasets one snapshot named after
    ``last_month``. ``out_dir/demo.json`` records the parameters and, per council and dataset, the
    rows and amount total the build should load. Returns that record. ``workers``: processes writing
    councils side by side (default: one per core from about 100k spend lines; 1 writes them here).
    """
    if scale <= 0:
        raise ValueError(f"scale must be positive, got {scale}")
    first = np.datetime64(first_month, "M")
    last = np.datetime64(last_month, "M")
    if last < first:
        raise ValueError(f"last_month {last_month} is before first_month {first_month}")
    councils = config.load_councils() if councils is None else councils
    out_dir = Path(out_dir)
    report = progress or (lambda fraction, message: None)
    report(0.0, "inventing suppliers")
    world = World(councils, seed, scale, first, last)

    def weight(cid: str) -> float:  # spend dominates the work
        lines = world.entities[cid].lines_year * len(world.months) / 2_000 if "spend" in councils[cid].datasets else 0.0
        return len(councils[cid].datasets) + lines

    total_weight = sum(weight(cid) for cid in councils) or 1.0
    done = 0.0
    expected: dict[str, dict[str, dict[str, object]]] = {}
    written: list[str] = []
    registers: dict[str, Table] = {}  # the contracts registers, for the notices
    # Councils are independent (each draws from its own random streams), so with more than one core
    # worker processes write them side by side, largest first; the files are the same either way.
    order = sorted(councils, key=weight, reverse=True)
    if workers is None:  # a worker costs about a second to start: worth it from about 100k spend lines
        lines = sum(world.entities[cid].lines_year for cid in councils) * len(world.months) / 12
        workers = (os.cpu_count() or 1) if lines >= 100_000 else 1
    workers = min(workers, len(order))
    if workers > 1:
        report(0.01, f"writing {workers} councils at a time")
        results = _in_workers((out_dir, seed, scale, councils, first, last), order, workers)
    else:
        results = (
            (
                cid,
                _council(
                    world,
                    out_dir,
                    seed,
                    cid,
                    lambda name, c=cid: report(done / total_weight, f"{councils[c].short_name}: {name}"),
                ),
            )
            for cid in order
        )
    for cid, (files, entries, register) in results:
        done += weight(cid)
        report(done / total_weight, f"{councils[cid].short_name}: written")
        written += files
        expected[cid] = entries
        if register is not None:
            registers[cid] = register
    expected = {cid: expected[cid] for cid in councils}  # the configuration's order, whoever finished first
    registers = {cid: registers[cid] for cid in councils if cid in registers}
    report(done / total_weight, "Find a Tender notices")
    notice_files = demo_notices.write(
        out_dir / "notices",
        councils,
        registers,
        {cid: world.entities[cid].v_year for cid in registers},
        seed,
        month_end(world.last).astype(dt.date),
    )
    written.extend(f"notices/{f}" for f in notice_files)
    result = {
        "seed": seed,
        "scale": scale,
        "first_month": first_month,
        "last_month": last_month,
        "generated_by": "starviz demo",
        "expected": expected,
        "files": sorted(written),
    }
    _remove_stale(out_dir, set(written))
    (out_dir / "demo.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    report(1.0, "demo data written")
    return result


def _in_workers(args: tuple, order: list[str], workers: int) -> Iterator[tuple[str, tuple]]:
    """``_council`` for each council id in ``order``, in ``workers`` child processes (plain interpreters
    running ``_worker``: nothing of the caller, a threaded server or an unguarded script, is re-run or
    forked). Each worker takes the next council as it finishes one; results come back as they finish."""
    todo = list(order)
    lock = threading.Lock()
    done: queue.Queue = queue.Queue()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(config.ROOT), os.environ.get("PYTHONPATH")]))}

    def feed(proc: subprocess.Popen) -> None:
        try:
            pickle.dump(args, proc.stdin)
            while True:
                with lock:
                    if not todo:
                        break
                    cid = todo.pop(0)
                pickle.dump(cid, proc.stdin)
                proc.stdin.flush()
                done.put((cid, pickle.load(proc.stdout)))
        except Exception as exc:  # a worker that died: say which council and why
            done.put((None, exc))
        finally:
            with contextlib.suppress(OSError):
                proc.stdin.close()

    procs = [
        subprocess.Popen(
            [sys.executable, "-c", "from starviz.demo import _worker; _worker()"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
        )
        for _ in range(workers)
    ]
    threads = [threading.Thread(target=feed, args=(proc,), daemon=True) for proc in procs]
    try:
        for thread in threads:
            thread.start()
        for _ in order:
            cid, result = done.get()
            if cid is None or isinstance(result, (BaseException, str)):
                raise RuntimeError(f"writing the demo extracts failed in a worker process: {result}")
            yield cid, result
    finally:
        for proc in procs:
            with contextlib.suppress(OSError):
                proc.stdin.close()
            proc.wait()


def _worker() -> None:
    """A child of ``_in_workers``: reads the world's parameters, then council ids, from stdin; writes each
    council's files and sends back its ``_council`` result (or the error's text) on stdout."""
    out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    sys.stdout = sys.stderr  # nothing printed by a library can corrupt the results
    source = sys.stdin.buffer
    out_dir, seed, scale, councils, first, last = pickle.load(source)
    world = World(councils, seed, scale, first, last)  # the same world: deterministic, a fraction of a second
    while True:
        try:
            cid = pickle.load(source)
        except EOFError:
            return
        try:
            result: object = _council(world, out_dir, seed, cid)
        except Exception:
            result = f"{cid}: {traceback.format_exc(limit=3)}"
        pickle.dump(result, out)
        out.flush()


def _council(
    world: World, out_dir: Path, seed: int, cid: str, step: Callable[[str], None] = lambda _name: None
) -> tuple[list[str], dict[str, dict[str, object]], Table | None]:
    """Every dataset of one council: (files written, rows and totals expected per dataset, its
    contracts register for the notices, if it publishes one)."""
    cc = world.councils[cid]
    ent = world.entities[cid]
    contracts: Contracts | None = None
    register: Table | None = None
    written: list[str] = []
    expected: dict[str, dict[str, object]] = {}
    for name in _dataset_order(cc):
        step(name)
        ds = cc.datasets[name]
        style = demo_style(cc, name, ds)
        if name == "spend":
            table = spend_table(world, ent, ds, style)
        elif name == "contracts":
            table, contracts = contracts_table(world, ent, style.file_name)
            register = table
        elif name == "social_value":
            if contracts is None:  # social value without a published register: measure unseen contracts
                contracts = contracts_table(world, ent, style.file_name)[1]
            table = social_value_table(world, ent, contracts, style)
        elif name == "maturity":
            table = maturity_table(world, ent, style)
        else:
            table = kpis_table(world, ent, style)
        files = _write_table(
            out_dir / cid / name, table, DATASETS[name], ds, style, entity_rng(seed, cid, 100 + list(DATASETS).index(name))
        )
        written.extend(f"{cid}/{name}/{f}" for f in files)
        entry: dict[str, object] = {"rows": table.n}
        if table.amount_field is not None:
            amounts = np.asarray(table.columns[table.amount_field])
            entry["amount_total"] = str(Decimal(int(amounts[amounts != MISSING_PENCE].sum())).scaleb(-2))
        expected[name] = entry
    return written, expected, register


def _dataset_order(cc: CouncilConfig) -> list[str]:
    """Contracts before social value (which is measured on them); otherwise the config's order."""
    names = list(cc.datasets)
    if "social_value" in names and "contracts" in names:
        names.remove("contracts")
        names.insert(names.index("social_value"), "contracts")
    return names


def _write_table(
    folder: Path, table: Table, model: type[Dataset], ds: DatasetConfig, style: DemoStyle, rng: np.random.Generator
) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    xlsx = any(Path(f).suffix.lower() == ".xlsx" for f in table.files)
    rendered = render(table, model, ds, style, xlsx, rng)
    order = np.argsort(table.file_of_row, kind="stable")
    bounds = np.searchsorted(table.file_of_row[order], np.arange(len(table.files) + 1))
    for k, name in enumerate(table.files):
        rows = order[bounds[k] : bounds[k + 1]]
        cols = with_quirks(rendered, rows, table, ds, style, rng)
        (folder / name).write_bytes(file_bytes(name, rendered, cols, ds, style))
    return list(table.files)


def _remove_stale(out_dir: Path, written: set[str]) -> None:
    """Delete files an earlier demo run wrote that this run did not (never anything else)."""
    previous = out_dir / "demo.json"
    if not previous.exists():
        return
    try:
        old = json.loads(previous.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    if old.get("generated_by") != "starviz demo":
        return
    for rel in old.get("files", []):
        if rel not in written and ".." not in Path(rel).parts:
            (out_dir / rel).unlink(missing_ok=True)
