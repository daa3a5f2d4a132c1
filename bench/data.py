"""Data in: ingest against DuckDB's plain read_csv, the demo build, supplier matching, categorisation
of the real samples, Find a Tender notices."""

from __future__ import annotations

import tempfile
import time
import zipfile
from pathlib import Path

from bench.core import _result, _run_child, _target
from starviz import config


def ingest_vs_read_csv() -> list[dict]:
    """Our ingest of the two real Trafford zips against DuckDB's plain read_csv of the same CSVs."""
    import duckdb

    from starviz import ingest, reader

    sample = config.settings().bench_ingest_sample
    zips = sorted(config.ROOT.glob(sample["files"]))
    if not zips:
        return []
    council = config.load_councils()[sample["council"]]
    with tempfile.TemporaryDirectory() as tmp:
        csvs = []
        for z in zips:
            with zipfile.ZipFile(z) as archive:
                csvs += [Path(archive.extract(n, tmp)) for n in archive.namelist() if n.endswith(".csv")]
        ours, base, ours_cpu, base_cpu, unzip_cpu = [], [], [], [], []
        rows = 0
        for _ in range(5):
            con = duckdb.connect()
            started, cpu = time.perf_counter(), time.process_time()
            con.execute("create table t as select * from read_csv(?)", [[str(p) for p in csvs]])
            base.append(time.perf_counter() - started)
            base_cpu.append(time.process_time() - cpu)
            con.close()
            con = duckdb.connect()
            ingest.create_tables(con)
            jobs = [ingest.Job(z, council, "spend", n, z.name) for n, z in enumerate(zips, start=1)]
            # as a build reads them: build_ingest_workers files at once
            started, cpu = time.perf_counter(), time.process_time()
            loaded = ingest.load_files(con, jobs, config.settings().build_ingest_workers)
            ours.append(time.perf_counter() - started)
            ours_cpu.append(time.process_time() - cpu)
            rows = sum(r.rows_loaded for results in loaded for r in results)
            con.close()
            # Where ingest's time goes beyond reading the CSV: unpacking and checking the members.
            cpu = time.process_time()
            for z in zips:
                with tempfile.TemporaryDirectory(dir=tmp) as scratch:
                    list(reader.unzip_members(z, Path(scratch), z.name, blank_lines={}))
            unzip_cpu.append(time.process_time() - cpu)
    ours_s, base_s = min(ours), min(base)
    return [
        _result(f"ingest {sample['label']} ({rows:,} rows, from zip)", ours_s, "s", None, "lower"),
        _result("DuckDB plain read_csv of the same files", base_s, "s", None, "lower"),
        _result("ingest time / read_csv time", ours_s / base_s, "ratio", _target("ingest_vs_read_csv_ratio"), "lower"),
        _result("ingest rows per second", rows / ours_s, "rows/s", None, "higher"),
        # CPU seconds (every thread) read steadier than wall time on a shared machine.
        _result("ingest CPU / read_csv CPU", min(ours_cpu) / min(base_cpu), "ratio", None, "lower"),
        _result("ingest: ZIP members unpacked and checked (CPU, of the ingest)", min(unzip_cpu), "s", None, "lower"),
    ]


def demo_build(scale: float, work: Path) -> list[dict]:
    raw, db = work / "raw", work / "star.duckdb"
    gen_s, _, _ = _run_child(f"from starviz import demo; demo.generate({str(raw)!r}, scale={scale})")
    build_s, peak_mb, out = _run_child(
        f"from starviz import build; s = build.build(raw_dir={str(raw)!r}, db_path={str(db)!r}); "
        "print(sum(f.rows_loaded for f in s.files if f.dataset == 'spend'))"
    )
    lines = int(out.strip().splitlines()[-1])
    return [
        _result(f"demo generate @scale {scale:g}", gen_s, "s", None, "lower"),
        _result(
            f"demo build @scale {scale:g} ({lines:,} spend lines)",
            build_s,
            "s",
            _target("demo_build_s") if scale == 1 else None,
            "lower",
        ),
        _result(
            f"demo build peak memory @scale {scale:g}",
            peak_mb,
            "MB",
            _target("demo_build_memory_mb") if scale == 1 else None,
            "lower",
        ),
    ]


def quiet_demo_build(scale: float, work: Path) -> list[dict]:
    """The demo database the other suites need, when the build itself is not being measured."""
    demo_build(scale, work)
    return []


def matching_suite(work: Path) -> list[dict]:
    """Supplier matching on the labelled real pairs: merge precision, recall (merged or proposed)."""
    from bench import matching

    f = matching.figures(matching.outcomes())
    label = f"({f['pairs']} labelled pairs, {f['same']} same)"
    return [
        _result(
            f"supplier matching: merge precision {label}",
            f["merge_precision"],
            "share",
            _target("matching_merge_precision"),
            "higher",
        ),
        _result(
            f"supplier matching: recall, merged or proposed {label}", f["recall"], "share", _target("matching_recall"), "higher"
        ),
        _result(f"supplier matching: merged without review {label}", f["merge_recall"], "share", None, "higher"),
    ]


def categorisation_suite(work: Path) -> list[dict]:
    """Share of the real 2014 samples' addressable spend given a ProClass heading, by tier. All the
    real samples are built (a supplier's heading comes from any council's categorised lines)."""
    import duckdb

    from starviz import build

    samples = config.ROOT.parent / "shared" / "samples"
    files = {
        "trafford": [
            "trafford-current/trafford-supplier-spend-2024-25.zip",
            "trafford-current/trafford-supplier-spend-2025-26.zip",
            "trafford-2014/Trafford September 2014.csv",
        ],
        "stockport": ["stockport-2014/Stockport September 2014.xls"],
    }
    raw = work / "samples-raw"
    for council, names in files.items():
        folder = raw / council / "spend"
        folder.mkdir(parents=True, exist_ok=True)
        for name in names:
            if not (samples / name).exists():
                return []
            (folder / Path(name).name).symlink_to(samples / name)
    db = work / "samples.duckdb"
    build.build(raw_dir=raw, db_path=db)
    con = duckdb.connect(str(db), read_only=True)
    tiers = dict(
        con.execute(
            "select category_source, sum(abs(amount_gbp)) / sum(sum(abs(amount_gbp))) over () from fct_spend "
            "where financial_year = '2014-15' and is_addressable group by all"
        ).fetchall()
    )
    con.close()
    out = [
        _result(
            "categorised share of addressable spend, real 2014 samples",
            1 - tiers.get("none", 0.0),
            "share",
            _target("categorised_share"),
            "higher",
        )
    ]
    out += [_result(f"categorised by tier: {tier}", share, "share", None, "higher") for tier, share in sorted(tiers.items())]
    return out


def notices_suite(work: Path, releases: int = 100_000) -> list[dict]:
    """Find a Tender notices: 100,000 OCDS releases read, compiled per OCID and loaded (best of two)."""
    from bench import notices

    paths = notices.write_releases(work / "notices", releases)
    runs = [notices.load_seconds(paths) for _ in range(2)]
    seconds, loaded, contracts = min(runs)
    label = f"notices: load {releases:,} releases ({loaded:,} of configured councils, {contracts:,} contracts)"
    return [_result(label, seconds, "s", _target("notices_load_100k_s"), "lower")]
