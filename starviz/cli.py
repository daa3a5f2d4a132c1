"""python -m starviz demo | build | check | board-pack | bench"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from starviz import config, fmt


class TerminalProgress:
    """A one-line progress bar on stderr (plain lines when not a terminal)."""

    def __init__(self, width: int = 30) -> None:
        self.width = width
        self.tty = sys.stderr.isatty()
        self.last = ""

    def __call__(self, fraction: float, message: str) -> None:
        filled = int(self.width * max(0.0, min(1.0, fraction)))
        bar = "#" * filled + "-" * (self.width - filled)
        line = f"[{bar}] {fraction:4.0%} {message}"
        if self.tty:
            sys.stderr.write("\r" + line[:120].ljust(120))
            if fraction >= 1:
                sys.stderr.write("\n")
        elif message.split(" ")[0] != self.last:
            sys.stderr.write(line + "\n")
            self.last = message.split(" ")[0]
        sys.stderr.flush()


def _cmd_demo(args: argparse.Namespace) -> int:
    from starviz import demo

    out = Path(args.out or config.settings().raw_dir)
    started = time.perf_counter()
    info = demo.generate(out, seed=args.seed, scale=args.scale, progress=TerminalProgress())
    rows = sum(d.get("rows", 0) for c in info["expected"].values() for d in c.values())
    print(f"Demo extracts written to {out}: {rows:,} rows in {time.perf_counter() - started:.1f} s")
    return 0


def _cmd_build(args: argparse.Namespace) -> int:
    from starviz import build

    try:
        summary = build.build(raw_dir=args.raw, db_path=args.db, progress=TerminalProgress())
    except build.BuildError as exc:
        print(f"Build failed; the previous database is untouched.\n{exc}", file=sys.stderr)
        return 1
    from starviz import auth

    auth.audit("rebuild", f"{summary.db_path} from the command line" + (" (demo data)" if summary.is_demo else ""))
    print(f"\nBuilt {summary.db_path} in {summary.seconds:.1f} s" + (" (demo data)" if summary.is_demo else ""))
    print("Slowest steps: " + ", ".join(f"{name} {sec:.1f} s" for name, sec in summary.slowest()))
    print(f"{'council':<12}{'dataset':<14}{'files':>6}{'read':>12}{'loaded':>12}{'rejected':>10}")
    for council, dataset, files, read, loaded, rejected in summary.table():
        print(f"{council:<12}{dataset:<14}{files:>6}{read:>12,}{loaded:>12,}{rejected:>10,}")
    for f in summary.files:
        if f.status != "loaded" or f.message:
            print(f"  {f.status}: {f.message if f.message.startswith(f.source_file) else f'{f.source_file}: {f.message}'}")
    failed = [f for f in summary.files if f.status == "failed"]
    if failed and not args.keep_going:
        print(
            f"{fmt.count(len(failed), 'file')} failed (listed above); the database was built from the rest. "
            "Exit status 1 (use --keep-going to exit 0 when some files fail).",
            file=sys.stderr,
        )
        return 1
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    from starviz import ingest
    from starviz.notices import loader as notice_loader

    councils = config.load_councils()
    notices = args.dataset == notice_loader.DATASET
    if args.council is None and not notices:
        print(f"--council is required for {args.dataset} (a notice file names its buyers itself)", file=sys.stderr)
        return 2
    if args.council is not None and args.council not in councils:
        print(f"Unknown council {args.council!r}; configured: {', '.join(councils)}", file=sys.stderr)
        return 2
    path = Path(args.file)
    if not path.is_file():
        print(f"{path.name}: no such file", file=sys.stderr)
        return 2
    if notices:  # any buyer's notices, matched to every configured council as the build does
        summary, rejects = notice_loader.check_file(path, councils, council_id=args.council, limit=args.limit)
    else:
        summary, rejects = ingest.check_file(path, councils[args.council], args.dataset, limit=args.limit)
    if args.json:
        out = summary.as_json()
        out["rejects"] = [
            {"file": f, "row": r, "column": c, "value": v, "reason": why, "severity": sev}
            for f, r, c, v, why, sev in rejects[: args.limit]
        ]
        print(json.dumps(out, indent=2, default=str))
    else:
        if summary.status == "failed":
            print(summary.message, file=sys.stderr)
        elif notices:
            print(f"{summary.source_file}: {summary.message}")
            for f, r, c, v, why, sev in rejects[: args.limit]:
                print(f"  {f} (#{r}) field {c!r}" + (f" value {v!r}" if v is not None else "") + f": {why} ({sev})")
        else:
            for note in summary.notes:
                print(f"Note: {note}")
            print(
                f"{summary.source_file}: {summary.rows_read:,} rows read, {summary.rows_loaded:,} loaded, "
                f"{summary.rows_rejected:,} rejected"
                + (f"; amount total £{summary.amount_total:,.2f}" if summary.amount_total is not None else "")
            )
            for f, r, c, v, why, sev in rejects[: args.limit]:
                print(f"  {f} row {r} column {c!r} value {v!r}: {why} ({sev})")
    return 1 if summary.rows_loaded == 0 else 0


def _cmd_bench(args: argparse.Namespace) -> int:
    if str(config.ROOT) not in sys.path:  # the suites live beside the product, in bench/
        sys.path.insert(0, str(config.ROOT))
    from bench import suites

    return suites.main(as_json=args.json, sizes=args.sizes, only=args.only)


def _cmd_hash_password(args: argparse.Namespace) -> int:
    import getpass

    from starviz import passwords

    password = getpass.getpass("Password: ")
    if password != getpass.getpass("Again: "):
        print("The two passwords differ; nothing hashed.", file=sys.stderr)
        return 1
    if len(password) < 12:
        print("Use at least 12 characters.", file=sys.stderr)
        return 1
    print(passwords.hash_password(password))
    return 0


def _cmd_board_pack(args: argparse.Namespace) -> int:
    """The Board pack PDF (and, with --charts-dir, every Board chart at every preset), without a
    browser or a signed-in user: for cron."""
    from starviz import board, export, queries

    started = time.perf_counter()
    export.warm()  # Chromium starts while the questions are asked
    try:
        scope, as_at = board.scheduled_scope(args.as_at)
    except (ValueError, queries.DatabaseUnavailable) as exc:
        print(f"board-pack: {exc}", file=sys.stderr)
        return 2
    try:
        pdf = board.pack_pdf(scope, as_at)
    except export.ExportUnavailable as exc:
        print(f"board-pack: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(pdf)
    took = time.perf_counter() - started
    print(f"Board pack as at {as_at:%d %B %Y} written to {out} ({len(board.sequence()) + 1} pages) in {took:.1f} s")
    if args.charts_dir:
        files = board.write_charts(scope, args.charts_dir, as_at)
        print(f"{len(files)} chart files (PNG, SVG and alt text) written to {args.charts_dir}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m starviz", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("demo", help="write synthetic extracts in each council's own format")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--scale", type=float, default=1.0, help="1.0 = about 150k spend lines per council-year")
    p.add_argument("--out", help="folder (default data/raw)")
    p.set_defaults(func=_cmd_demo)
    p = sub.add_parser("build", help="build data/star.duckdb from data/raw, atomically")
    p.add_argument("--raw", type=Path)
    p.add_argument("--db", type=Path)
    p.add_argument(
        "--keep-going", action="store_true", help="exit 0 even when some files failed (they are listed in the summary)"
    )
    p.set_defaults(func=_cmd_build)
    p = sub.add_parser("check", help="read one file exactly as the build would and report")
    p.add_argument("file")
    p.add_argument("--council", help="the council the file is for (optional for notices: they name their buyers)")
    p.add_argument("--dataset", required=True, choices=["spend", "contracts", "social_value", "kpis", "notices"])
    p.add_argument("--json", action="store_true")
    p.add_argument("--limit", type=int, default=50, help="rejects to list")
    p.set_defaults(func=_cmd_check)
    p = sub.add_parser("board-pack", help="write the Board pack PDF (and every Board chart) without a browser")
    p.add_argument("--out", required=True, help="the PDF to write, e.g. packs/board-2026-03.pdf")
    p.add_argument("--as-at", dest="as_at", help="the month the pack is as at, YYYY-MM (default: the latest loaded)")
    p.add_argument("--charts-dir", dest="charts_dir", help="also write every Board chart at every preset (PNG, SVG, alt text)")
    p.set_defaults(func=_cmd_board_pack)
    p = sub.add_parser("bench", help="run the benchmarks")
    p.add_argument("--json", action="store_true")
    p.add_argument("--sizes", default="", help="comma-separated extra scales, e.g. 7,70")
    p.add_argument(
        "--only",
        default="",
        help="comma-separated suites to run (the rest of bench/results.json is "
        "kept), e.g. ingest,demo_build,cube_suite,scale_suite,concurrency",
    )
    p.set_defaults(func=_cmd_bench)
    p = sub.add_parser(
        "hash-password",
        help="ask for a password and print its Argon2id hash (OWASP's parameters) for the credentials file",
    )
    p.set_defaults(func=_cmd_hash_password)
    args = parser.parse_args(argv)
    config.keep_files_private()
    try:
        return args.func(args)
    except config.ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # no traceback or server path for any input: one line, and a status
        from starviz.ingest import _without_paths

        print(f"starviz {args.command} failed: {type(exc).__name__}: {_without_paths(str(exc), '(path)')}", file=sys.stderr)
        return 3
