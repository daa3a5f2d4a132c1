"""The demo generator writes each council's extracts in that council's own published format.

Files are re-read here with plain Python (csv, python-calamine, openpyxl), independently of the
generator, so what the generator claims in demo.json is checked against what it wrote.
"""

from __future__ import annotations

import csv
import datetime as dt
import fnmatch
import io
import json
import os
import re
import subprocess
import sys
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from starviz import config, demo
from starviz.config import CouncilConfig, DatasetConfig

SCALE = 0.01
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def councils() -> dict[str, CouncilConfig]:
    return config.load_councils(ROOT / "data" / "councils")


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory, councils: dict[str, CouncilConfig]) -> Path:
    out = tmp_path_factory.mktemp("demo")
    demo.generate(out, seed=7, scale=SCALE, councils=councils)
    return out


# -- independent readers ------------------------------------------------------------------------


def read_rows(path: Path, ds: DatasetConfig) -> tuple[list[str], list[list[object]]]:
    """Header and data rows of one written file, as the council's configuration describes it."""
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        book = CalamineWorkbook.from_path(str(path))
        sheet = book.get_sheet_by_name(ds.sheet) if isinstance(ds.sheet, str) else book.get_sheet_by_index(ds.sheet)
        rows = sheet.to_python(skip_empty_area=False)
        rows = rows[ds.header_row - 1 :]
        width = len(rows[0])
        return [str(h) for h in rows[0]], [list(r) + [""] * (width - len(r)) for r in rows[1:]]
    raw = path.read_bytes()
    if suffix == ".zip":
        with zipfile.ZipFile(io.BytesIO(raw)) as zf:
            (inner,) = zf.namelist()
            raw = zf.read(inner)
    text = raw.decode(ds.encoding)
    text = text.removeprefix("\ufeff")
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=ds.delimiter))
    rows = rows[ds.header_row - 1 :]
    return rows[0], rows[1:]


def parse_amount(value: object) -> Decimal:
    """The ingest's rule: strip spaces, drop currency symbols and separators; (x) or -x is negative."""
    if isinstance(value, float | int):
        return Decimal(repr(value)).quantize(Decimal("0.01"))
    text = str(value).strip().replace("£", "").replace(",", "").replace(" ", "")
    negative = (text.startswith("(") and text.endswith(")")) or text.startswith("-")
    text = text.strip("()").lstrip("-")
    return -Decimal(text) if negative else Decimal(text)


def is_data_row(row: list[object], header: list[str], ds: DatasetConfig) -> bool:
    if all(str(v).strip() == "" for v in row):
        return False
    for fld, pattern in ds.skip_rows_where.items():
        value = str(row[header.index(ds.fields[fld][0])])
        if re.search(pattern, value):
            return False
    return True


def files_of(demo_dir: Path, council: str, dataset: str) -> list[Path]:
    return sorted((demo_dir / council / dataset).iterdir())


def column(header: list[str], rows: list[list[object]], ds: DatasetConfig, fld: str) -> list[object]:
    j = header.index(ds.fields[fld][0])
    return [r[j] for r in rows if is_data_row(r, header, ds)]


def all_files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# -- determinism ---------------------------------------------------------------------------------


def test_same_seed_writes_byte_identical_files_even_in_another_process(demo_dir: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    code = (
        f"from pathlib import Path; from starviz import demo, config; "
        f"demo.generate(Path({str(again)!r}), seed=7, scale={SCALE}, "
        f"councils=config.load_councils(Path({str(ROOT / 'data' / 'councils')!r})))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=ROOT)
    first, second = all_files(demo_dir), all_files(again)
    assert first.keys() == second.keys()
    assert [k for k in first if first[k] != second[k]] == []


def test_councils_written_side_by_side_are_the_files_written_one_after_another(
    demo_dir: Path, councils: dict[str, CouncilConfig], tmp_path: Path
) -> None:
    """Worker processes write councils in parallel, largest first; in one process, in turn, the files
    and the record are the same, byte for byte."""
    serial = tmp_path / "serial"
    record = demo.generate(serial, seed=7, scale=SCALE, councils=councils, workers=1)
    parallel = demo.generate(tmp_path / "parallel", seed=7, scale=SCALE, councils=councils, workers=2)
    assert record == parallel
    assert list(record["expected"]) == list(councils)  # the configuration's order, whoever finished first
    first, second = all_files(demo_dir), all_files(serial)
    assert first.keys() == second.keys()
    assert [k for k in first if first[k] != second[k]] == []


def test_different_seed_writes_different_data(councils: dict[str, CouncilConfig], tmp_path: Path) -> None:
    one = {"trafford": councils["trafford"]}
    a = demo.generate(tmp_path / "a", seed=1, scale=SCALE, councils=one)
    b = demo.generate(tmp_path / "b", seed=2, scale=SCALE, councils=one)
    assert a["expected"] != b["expected"]
    assert all_files(tmp_path / "a" / "trafford") != all_files(tmp_path / "b" / "trafford")


# -- what is written, where -----------------------------------------------------------------------


def test_every_configured_council_and_dataset_has_files_the_build_will_find(
    demo_dir: Path, councils: dict[str, CouncilConfig]
) -> None:
    for cid, cc in councils.items():
        for name, ds in cc.datasets.items():
            files = files_of(demo_dir, cid, name)
            assert files, f"{cid}/{name} has no files"
            for f in files:
                assert any(fnmatch.fnmatch(f.name, p) for p in ds.patterns), f"{f} matches no pattern"


def test_spend_is_one_file_a_month_named_by_the_template(demo_dir: Path, councils: dict[str, CouncilConfig]) -> None:
    for cid, cc in councils.items():
        ds = cc.datasets.get("spend")
        if ds is None:
            continue
        joined = max(dt.date(2023, 4, 1), cc.joined.replace(day=1))
        months = [
            dt.date(y, m, 1)
            for y in range(2023, 2027)
            for m in range(1, 13)
            if joined <= dt.date(y, m, 1) <= dt.date(2026, 10, 1)
        ]
        expected = sorted(demo.strftime(m, demo.demo_style(cc, "spend", ds).file_name) for m in months)
        assert sorted(p.name for p in files_of(demo_dir, cid, "spend")) == expected


def test_demo_json_records_parameters_and_expected_rows(demo_dir: Path, councils: dict[str, CouncilConfig]) -> None:
    record = json.loads((demo_dir / "demo.json").read_text(encoding="utf-8"))
    assert record["seed"] == 7 and record["scale"] == SCALE and record["generated_by"] == "starviz demo"
    assert (record["first_month"], record["last_month"]) == ("2023-04", "2026-10")
    for cid, cc in councils.items():
        assert set(record["expected"][cid]) == set(cc.datasets)
        for name, entry in record["expected"][cid].items():
            assert entry["rows"] > 0
            assert ("amount_total" in entry) == (name in ("spend", "contracts"))


def test_headers_are_the_first_configured_variants_after_the_extra_columns(
    demo_dir: Path, councils: dict[str, CouncilConfig]
) -> None:
    for cid, cc in councils.items():
        for name, ds in cc.datasets.items():
            header, _ = read_rows(files_of(demo_dir, cid, name)[0], ds)
            extra = list(ds.demo.extra_columns) if ds.demo else []
            assert header == extra + [variants[0] for variants in ds.fields.values()], f"{cid}/{name}"


def test_expected_totals_equal_an_independent_reparse_of_the_files(demo_dir: Path, councils: dict[str, CouncilConfig]) -> None:
    record = json.loads((demo_dir / "demo.json").read_text(encoding="utf-8"))
    for cid, cc in councils.items():
        for name, ds in cc.datasets.items():
            amount_field = {"spend": "amount_gbp", "contracts": "value_gbp"}.get(name)
            rows_total, amount_total = 0, Decimal("0.00")
            for path in files_of(demo_dir, cid, name):
                header, rows = read_rows(path, ds)
                data = [r for r in rows if is_data_row(r, header, ds)]
                rows_total += len(data)
                if amount_field:
                    amount_total += sum(parse_amount(v) for v in column(header, rows, ds, amount_field))
            entry = record["expected"][cid][name]
            assert rows_total == entry["rows"], f"{cid}/{name}"
            if amount_field:
                assert amount_total == Decimal(entry["amount_total"]), f"{cid}/{name}"


# -- each council's own style ---------------------------------------------------------------------


def test_windows_1252_files_decode_as_cp1252_with_a_pound_byte(demo_dir: Path, councils: dict[str, CouncilConfig]) -> None:
    checked = 0
    for cid, cc in councils.items():
        for name, ds in cc.datasets.items():
            if ds.encoding != "cp1252" or ds.demo is None or ds.demo.amount_format != "currency":
                continue
            raw = files_of(demo_dir, cid, name)[0].read_bytes()
            assert b"\xa3" in raw and b"\xc2\xa3" not in raw
            assert "£" in raw.decode("cp1252")
            with pytest.raises(UnicodeDecodeError):
                raw.decode("utf-8")
            checked += 1
    assert checked


def test_bom_is_written_only_where_configured(demo_dir: Path, councils: dict[str, CouncilConfig]) -> None:
    for cid, cc in councils.items():
        for name, ds in cc.datasets.items():
            path = files_of(demo_dir, cid, name)[0]
            if path.suffix == ".csv":
                assert path.read_bytes().startswith(b"\xef\xbb\xbf") == bool(ds.demo and ds.demo.bom), path


def test_dates_are_written_in_the_first_configured_format(demo_dir: Path, councils: dict[str, CouncilConfig]) -> None:
    date_fields = {
        "spend": "payment_date",
        "contracts": "start_date",
        "social_value": "period_date",
        "kpis": "period_date",
        "maturity": "period_date",
    }
    for cid, cc in councils.items():
        for name, ds in cc.datasets.items():
            header, rows = read_rows(files_of(demo_dir, cid, name)[-1], ds)
            values = column(header, rows, ds, date_fields[name])
            assert values
            for v in values[:200]:
                assert isinstance(v, str)
                dt.datetime.strptime(v, ds.date_formats[0])


def test_credits_are_written_in_the_configured_negative_style(demo_dir: Path, councils: dict[str, CouncilConfig]) -> None:
    for cid, cc in councils.items():
        ds = cc.datasets.get("spend")
        if ds is None:
            continue
        amounts = []
        for path in files_of(demo_dir, cid, "spend"):
            header, rows = read_rows(path, ds)
            amounts += column(header, rows, ds, "amount_gbp")
        negatives = [a for a in amounts if parse_amount(a) < 0]
        assert 0.01 < len(negatives) / len(amounts) < 0.08, cid
        style = demo.demo_style(cc, "spend", ds)  # a council without a demo section gets the default style
        if style.amount_format == "numeric":
            assert all(isinstance(a, float) for a in amounts)
        elif style.negative_format == "parentheses":
            assert all(re.fullmatch(r"\s*\(£?[\d,]+\.\d\d\)\s*", a) for a in negatives)
            assert not any("-" in a for a in amounts)
        else:
            assert all(re.fullmatch(r"\s*-£?[\d,]+\.\d\d\s*", a) for a in negatives)
        text = [a for a in amounts if isinstance(a, str)]
        assert all(re.search(r"\.\d\d\)?\s*$", a) for a in text)
        if style.amount_format == "currency":
            assert all("£" in a for a in text)
        if style.amount_format == "padded":
            assert all(a.startswith(" ") and a.endswith(" ") for a in text)


def test_supplier_names_are_cut_where_the_council_truncates(demo_dir: Path, councils: dict[str, CouncilConfig]) -> None:
    checked = 0
    for cid, cc in councils.items():
        for name, ds in cc.datasets.items():
            if not ds.truncates_names_at or "supplier_name" not in ds.fields:
                continue
            names = []
            for path in files_of(demo_dir, cid, name):
                header, rows = read_rows(path, ds)
                names += column(header, rows, ds, "supplier_name")
            assert max(len(n) for n in names) == ds.truncates_names_at
            checked += 1
    assert checked


def test_no_spend_before_a_council_joined(councils: dict[str, CouncilConfig], tmp_path: Path) -> None:
    late = {cid: cc for cid, cc in councils.items() if "spend" in cc.datasets and cc.joined > dt.date(2015, 1, 1)}
    assert late, "a council that joined after 2015 is configured"
    demo.generate(tmp_path, seed=3, scale=SCALE, councils=late, first_month="2015-01", last_month="2019-06")
    for cid, cc in late.items():
        ds = cc.datasets["spend"]
        files = files_of(tmp_path, cid, "spend")
        # a month a file from the month it joined to June 2019; none for a partner that joined later
        assert len(files) == max(0, (2019 - cc.joined.year) * 12 + 6 - cc.joined.month + 1), cid
        for path in files:
            header, rows = read_rows(path, ds)
            for value in column(header, rows, ds, "payment_date"):
                day = dt.datetime.strptime(value.strip(), ds.date_formats[0]).date()
                assert cc.joined.replace(day=1) <= day <= dt.date(2019, 6, 30)


def test_redaction_column_marks_redacted_payments(demo_dir: Path, councils: dict[str, CouncilConfig]) -> None:
    checked = 0
    for cid, cc in councils.items():
        ds = cc.datasets.get("spend")
        if ds is None or "redaction" not in ds.fields:
            continue
        header, rows = read_rows(files_of(demo_dir, cid, "spend")[0], ds)
        flags = [v.strip() for v in column(header, rows, ds, "redaction")]
        names = [v.strip() for v in column(header, rows, ds, "supplier_name")]
        assert set(flags) == set(ds.redaction_column_values) | {"Business Payment"}
        redacted_names = {n for n, f in zip(names, flags, strict=True) if f != "Business Payment"}
        assert redacted_names <= {"", *ds.redaction_markers}
        checked += 1
    assert checked


def test_redacted_and_non_addressable_payments_carry_realistic_value(demo_dir: Path, councils: dict[str, CouncilConfig]) -> None:
    for cid, cc in councils.items():
        ds = cc.datasets.get("spend")
        if ds is None or "redaction" in ds.fields:
            continue
        by_name: dict[str, Decimal] = {}
        for path in files_of(demo_dir, cid, "spend"):
            header, rows = read_rows(path, ds)
            for n, a in zip(column(header, rows, ds, "supplier_name"), column(header, rows, ds, "amount_gbp"), strict=True):
                by_name[n.strip().upper()] = by_name.get(n.strip().upper(), Decimal(0)) + parse_amount(a)
        total = sum(by_name.values())
        redacted = sum(v for k, v in by_name.items() if k in {m.upper() for m in ds.redaction_markers})
        assert 0.10 < redacted / total < 0.22, cid
        levy = sum(v for k, v in by_name.items() if k.startswith("GREATER MANCHESTER COMBINED AUTH"))
        assert 0.08 < levy / total < 0.16, cid


def test_quirk_rows_are_written_but_not_counted(demo_dir: Path, councils: dict[str, CouncilConfig]) -> None:
    checked = 0
    for cid, cc in councils.items():
        ds = cc.datasets.get("spend")
        if ds is None or not ds.demo or not {"blank_rows", "total_rows"} & set(ds.demo.quirks):
            continue
        header, rows = read_rows(files_of(demo_dir, cid, "spend")[0], ds)
        names = [str(r[header.index(ds.fields["supplier_name"][0])]) for r in rows]
        if "total_rows" in ds.demo.quirks:
            assert "Grand Total" in names and "Total" in names
        if "blank_rows" in ds.demo.quirks:
            assert any(all(str(v) == "" for v in r) for r in rows)
        checked += 1
    assert checked


def test_shared_suppliers_mostly_match_under_simple_name_normalising(demo_dir: Path, councils: dict[str, CouncilConfig]) -> None:
    def norm(name: str) -> str:
        s = re.sub(r"[^\w\s]", "", name.upper().replace("&", " AND ")).split()
        return " ".join(s[:-1] if len(s) > 1 and s[-1] in ("LTD", "LIMITED", "PLC", "LLP", "CIC") else s)

    def alike(group: set[str]) -> bool:  # equal, or a name cut short is a prefix of the others
        longest = max(group, key=len)
        return all(longest.startswith(n) for n in group)

    # company or VAT number -> council -> normalised names its spend and register use
    names: dict[tuple[str, str], dict[str, set[str]]] = {}
    for cid, cc in councils.items():
        for dataset in ("spend", "contracts"):
            ds = cc.datasets.get(dataset)
            if ds is None or cc.kind != "council":
                continue
            for path in files_of(demo_dir, cid, dataset):
                header, rows = read_rows(path, ds)
                suppliers = column(header, rows, ds, "supplier_name")
                for fld in ("company_number", "vat_number"):
                    if fld in ds.fields:
                        for n, key in zip(suppliers, column(header, rows, ds, fld), strict=True):
                            if key.strip():
                                names.setdefault((fld, key.strip()), {}).setdefault(cid, set()).add(norm(n))
    shared = [set().union(*by_council.values()) for by_council in names.values() if len(by_council) > 1]
    assert len(shared) >= 12
    share_alike = sum(alike(v) for v in shared) / len(shared)
    assert share_alike > 0.75


def test_xlsx_files_read_the_same_with_calamine_and_openpyxl(demo_dir: Path, councils: dict[str, CouncilConfig]) -> None:
    checked = 0
    for cid, cc in councils.items():
        for name, ds in cc.datasets.items():
            path = files_of(demo_dir, cid, name)[0]
            if path.suffix != ".xlsx":
                continue
            header, rows = read_rows(path, ds)
            book = openpyxl.load_workbook(path, read_only=True)
            values = [["" if v is None else v for v in r] for r in book.worksheets[0].iter_rows(values_only=True)]
            book.close()
            assert values[0] == header
            assert [list(r) + [""] * (len(header) - len(r)) for r in values[1:]] == rows
            checked += 1
    assert checked


def test_contracts_register_tells_a_plausible_story(demo_dir: Path, councils: dict[str, CouncilConfig]) -> None:
    for cid, cc in councils.items():
        ds = cc.datasets.get("contracts")
        if ds is None:
            continue
        header, rows = read_rows(files_of(demo_dir, cid, "contracts")[0], ds)
        refs = column(header, rows, ds, "contract_ref")
        assert len(refs) == len(set(refs))
        starts = [dt.datetime.strptime(v, ds.date_formats[0]).date() for v in column(header, rows, ds, "start_date")]
        ends = [dt.datetime.strptime(v, ds.date_formats[0]).date() for v in column(header, rows, ds, "end_date")]
        assert all(s < e for s, e in zip(starts, ends, strict=True))
        assert min(starts).year >= 2018 and max(ends).year <= 2031
        assert any(e < dt.date(2026, 10, 31) for e in ends) and any(e > dt.date(2026, 10, 31) for e in ends)
        if "covered_councils" in ds.fields:
            covered = [c for c in column(header, rows, ds, "covered_councils") if c]
            assert covered and all(set(c.split(";")) <= set(councils) for c in covered)


def test_a_new_council_needs_only_configuration(tmp_path: Path) -> None:
    newcomer = CouncilConfig.model_validate(
        {
            "id": "newtown",
            "name": "Newtown Borough Council",
            "short_name": "Newtown",
            "gss_code": "E08000099",
            "population": 120000,
            "colour": "#123456",
            "joined": dt.date(2026, 1, 1),
            "datasets": {
                "spend": {
                    "patterns": ["*.zip"],
                    "delimiter": ";",
                    "date_formats": ["%d.%m.%Y"],
                    "encoding": "utf-16",
                    "redaction_markers": ["Withheld"],
                    "fields": {"amount_gbp": ["Betrag", "Amount"], "payment_date": ["Datum"], "supplier_name": ["Empfänger"]},
                    "demo": {
                        "file_name": "newtown_%Y%m.zip",
                        "amount_format": "currency",
                        "quirks": ["blank_rows", "lower_than_500"],
                    },
                },
                "contracts": {
                    "patterns": ["*.xlsx"],
                    "header_row": 3,
                    "sheet": "Register",
                    "fields": {
                        "contract_ref": ["Ref"],
                        "contract_title": ["Title"],
                        "supplier_name": ["Supplier"],
                        "value_gbp": ["Value"],
                        "start_date": ["From"],
                        "end_date": ["To"],
                    },
                    "demo": {"file_name": "register.xlsx", "amount_format": "thousands"},
                },
            },
        }
    )
    record = demo.generate(
        tmp_path, seed=5, scale=SCALE, councils={"newtown": newcomer}, first_month="2025-11", last_month="2026-03"
    )
    spend = files_of(tmp_path, "newtown", "spend")
    assert [p.name for p in spend] == ["newtown_202601.zip", "newtown_202602.zip", "newtown_202603.zip"]
    ds = newcomer.datasets["spend"]
    header, rows = read_rows(spend[0], ds)
    assert header == ["Betrag", "Datum", "Empfänger"]
    data = [r for r in rows if is_data_row(r, header, ds)]
    assert len(data) < len(rows)  # blank rows were added
    assert any(0 < parse_amount(r[0]) < 500 for r in data)
    assert {r[2] for r in data} >= {"Withheld"}
    dt.datetime.strptime(data[0][1], "%d.%m.%Y")
    cds = newcomer.datasets["contracts"]
    header, rows = read_rows(files_of(tmp_path, "newtown", "contracts")[0], cds)
    assert header == ["Ref", "Title", "Supplier", "Value", "From", "To"]
    assert len(rows) == record["expected"]["newtown"]["contracts"]["rows"]
    assert all(re.fullmatch(r"[\d,]+\.\d\d", v) for v in column(header, rows, cds, "value_gbp"))
    assert all(r[0].startswith("NBC-C-") for r in rows)


def test_progress_is_reported_up_to_one(councils: dict[str, CouncilConfig], tmp_path: Path) -> None:
    seen: list[tuple[float, str]] = []
    demo.generate(tmp_path, scale=SCALE, councils={"trafford": councils["trafford"]}, progress=lambda f, m: seen.append((f, m)))
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and len(seen) > 3
    assert all(isinstance(m, str) and m for _, m in seen)


def test_rerun_removes_files_only_an_earlier_run_wrote(councils: dict[str, CouncilConfig], tmp_path: Path) -> None:
    one = {"trafford": councils["trafford"]}
    demo.generate(tmp_path, scale=SCALE, councils=one, first_month="2026-01", last_month="2026-03")
    keep = tmp_path / "trafford" / "spend" / "uploaded-by-hand.csv"
    keep.write_text("not the demo's\n")
    demo.generate(tmp_path, scale=SCALE, councils=one, first_month="2026-02", last_month="2026-04")
    names = sorted(p.name for p in (tmp_path / "trafford" / "spend").iterdir())
    assert names == [
        "trafford-supplier-spend-2026-02.csv",
        "trafford-supplier-spend-2026-03.csv",
        "trafford-supplier-spend-2026-04.csv",
        "uploaded-by-hand.csv",
    ]
    assert [p.name for p in (tmp_path / "trafford" / "kpis").iterdir()] == ["trafford-kpis-2026-04.csv"]


def test_a_real_file_imported_beside_the_demo_is_named_instead_of_called_synthetic(demo_dir, tmp_path, monkeypatch):
    # An import stores real files in the demo's raw folder; the banner said every extract was synthetic.
    import shutil

    from starviz import build
    from tests.conftest import app_on, run_app
    from tests.fixtures.extracts import TRAFFORD_SPEND, write_csv

    raw = tmp_path / "raw"
    shutil.copytree(demo_dir, raw)
    db = tmp_path / "star.duckdb"
    assert build.build(raw_dir=raw, db_path=db).imported == []
    with app_on(db, monkeypatch, tmp_path):
        banner = run_app("director").info
        assert any("Every council's extracts here are synthetic" in b.value for b in banner)

    write_csv(raw / "trafford" / "spend" / "trafford-spend-real-2025-04.csv", TRAFFORD_SPEND)
    assert build.build(raw_dir=raw, db_path=db).imported == ["Trafford Council spend"]
    with app_on(db, monkeypatch, tmp_path):
        at = run_app("director")
        assert not any("Every council's extracts here are synthetic" in b.value for b in at.info)
        assert any("real files loaded for Trafford Council spend" in w.value for w in at.warning)
