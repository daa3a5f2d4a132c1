"""The admin import: refusals, detection, preview, commit, duplicates, a failed build, one build at a time."""

from __future__ import annotations

import io
import shutil
import tomllib
import zipfile
from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from starviz import build, config, import_store, imports, queries
from starviz.scope import Filters, User
from tests.conftest import ALL
from tests.fixtures.extracts import TAMESIDE_SPEND, write_csv, write_raw, write_xlsx

DIRECTOR = User("director", "Director", "admin")
ANALYST = User("category.manager", "Category Manager", "analyst")
TAMESIDE_APRIL = "tameside/spend/Tameside Spend April 2025.csv"
TRAFFORD_APRIL = "trafford/spend/trafford-supplier-spend-2025-04.csv"

# A new month for Tameside in its own style: rows 2-4 load (1,500.00 + 820.00 - 80.00 = 2,240.00),
# row 5 has a date that does not exist; "New Garden Services Ltd" is a supplier nobody has paid yet.
TAMESIDE_MAY = [
    TAMESIDE_SPEND[0],
    ["T10", "ABC LTD", "Place", "Repairs", "Business Payment", "06/05/25", " 1,500.00 "],
    ["T11", "New Garden Services Ltd", "Place", "Grounds", "Business Payment", "13/05/25", " 820.00 "],
    ["T12", "New Garden Services Ltd", "Place", "Grounds", "Business Payment", "20/05/25", " 80.00- "],
    ["T13", "ABC LTD", "Place", "Repairs", "Business Payment", "32/05/25", " 99.00 "],
]


@pytest.fixture(autouse=True)
def _staging_in_tmp(staging_in_tmp):
    """Staged uploads live beside the database, away from the repository (conftest)."""


def _scope(user: User = DIRECTOR) -> queries.Scope:
    return queries.Scope(Filters(councils=ALL, all_councils=True, period="all"), user)


def _csv_bytes(tmp_path: Path, rows: list[list], name: str = "upload.csv") -> bytes:
    return write_csv(tmp_path / "made" / name, rows).read_bytes()


@pytest.fixture()
def live(tmp_path, monkeypatch):
    """A live database built from the fixture extracts, with the two April files held back so they
    can be uploaded; raw/ and the database in a temporary folder."""
    raw = write_raw(tmp_path / "raw")
    held = tmp_path / "held"
    held.mkdir()
    for rel in (TAMESIDE_APRIL, TRAFFORD_APRIL):
        shutil.move(raw / rel, held / Path(rel).name)
    monkeypatch.setenv("STARVIZ_DB", str(tmp_path / "star.duckdb"))
    monkeypatch.setenv("STARVIZ_RAW", str(raw))
    config.settings.cache_clear()
    build.build()
    yield tmp_path
    config.settings.cache_clear()


def _upload(name: str, data: bytes, council: str | None = None, dataset: str | None = None) -> imports.Preview:
    staged = imports.stage(name, data)
    if council is None:
        best = imports.detect(staged).best
        council, dataset = best.council_id, best.dataset
    return imports.preview(staged, council, dataset, _scope())


def _db_total(council: str) -> tuple[int, Decimal]:
    con = duckdb.connect(str(config.settings().db_path), read_only=True)
    try:
        return con.execute(
            "select count(*), coalesce(sum(amount_gbp), 0) from fct_spend where council_id = ?", [council]
        ).fetchone()
    finally:
        con.close()


# --- names, limits, content --------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "../../etc/passwd.csv",
        "..\\..\\windows\\spend.csv",
        "/etc/spend.csv",
        "C:\\data\\spend.csv",
        "raw/trafford/x.csv",
        ".hidden.csv",
        "~$spend.xlsx",
        "spend\x00.csv",
        "spend\n.csv",
        "..",
        "",
        "   ",
        "spend.exe",
        "spend.csv.sh",
        "report.py",
        "spend",
    ],
)
def test_path_traversal_hidden_and_disallowed_names_are_refused(name):
    with pytest.raises(imports.ImportRefused):
        imports.sanitise_name(name)
    staged = imports.stage(name, b"a,b\n1,2\n")
    assert staged.refusal and staged.path is None


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("Spend <April> 2025?.csv", "Spend _April_ 2025_.csv"),
        ("Rochdale_Spend_Apr25.CSV", "Rochdale_Spend_Apr25.csv"),  # patterns like *.csv are case-sensitive
        ("  Trafford   spend £ 2025-04.csv ", "Trafford spend £ 2025-04.csv"),
        ("x" * 300 + ".xlsx", "x" * 145 + ".xlsx"),
    ],
)
def test_odd_characters_are_replaced_extensions_lowered_and_long_names_cut(name, safe):
    assert imports.sanitise_name(name) == safe


def test_upload_over_the_size_limit_is_refused(monkeypatch):
    small = config.settings().model_copy(update={"import_max_upload_mb": 1})
    monkeypatch.setattr(config, "settings", lambda: small)
    staged = imports.stage("big.csv", b"a,b\n" + b"1,2\n" * 300_000)  # 1.2 MB
    assert "over the 1 MB limit" in staged.refusal


def test_content_that_is_neither_text_nor_what_its_extension_says_is_refused():
    assert "not an Excel workbook" in imports.stage("spend.xlsx", b"MZ\x90\x00 an executable").refusal
    assert "not an Excel workbook or CSV text" in imports.stage("spend.xls", b"MZ\x90\x00 an executable").refusal
    assert "not a ZIP archive" in imports.stage("spend.zip", b"MZ\x90\x00 an executable").refusal
    # text is read as CSV whatever its name (the preview notes it)
    assert imports.stage("spend.xls", b"Body Name,Amount\nSMBC,12\n").refusal is None


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_zip_that_unpacks_too_large_or_holds_no_extract_is_refused(monkeypatch):
    small = config.settings().model_copy(update={"reader": config.ReaderSettings(max_unzipped_mb=1)})
    monkeypatch.setattr(config, "settings", lambda: small)
    bomb = _zip({"spend.csv": b"a,b\n" + b"0" * (3 << 20)})  # 3 MB of zeros compress to a few KB
    assert len(bomb) < 100_000
    assert "unpacks to 3 MB, over the 1 MB limit" in imports.stage("spend.zip", bomb).refusal
    assert "[reader] max_unzipped_mb in data/settings.toml" in imports.stage("spend.zip", bomb).refusal
    assert "holds no CSV or Excel" in imports.stage("tools.zip", _zip({"run.sh": b"rm -rf /"})).refusal


def test_zip_member_names_are_never_used_as_paths(live):
    data = _zip({"../../../outside.csv": (live / "held" / "trafford-supplier-spend-2025-04.csv").read_bytes()})
    preview = _upload("trafford-supplier-spend-2025-04.zip", data, "trafford", "spend")
    assert preview.refusal is None and preview.summary.rows_loaded == 8
    assert not list(live.parent.glob("outside.csv")) and not list(live.rglob("outside.csv"))


def test_upload_limit_is_the_same_in_settings_and_streamlit_config():
    streamlit = tomllib.loads((config.ROOT / ".streamlit" / "config.toml").read_text())
    assert streamlit["server"]["maxUploadSize"] == config.settings().import_max_upload_mb


# --- detection --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "council", "dataset"),
    [
        ("trafford/spend/trafford-supplier-spend-2025-04.csv", "trafford", "spend"),
        ("stockport/spend/Stockport April 2025.xlsx", "stockport", "spend"),
        ("rochdale/spend/Rochdale_Spend_Apr25.csv", "rochdale", "spend"),
        ("tameside/spend/Tameside Spend April 2025.csv", "tameside", "spend"),
        ("trafford/contracts/trafford-contracts-register-2025-05.csv", "trafford", "contracts"),
        ("star/contracts/STAR Collaborative Contracts 2025-05.xlsx", "star", "contracts"),
        ("trafford/social_value/trafford-social-value-2025-05.csv", "trafford", "social_value"),
        ("star/kpis/star-kpis-2025-05.csv", "star", "kpis"),
    ],
)
def test_council_and_dataset_are_detected_from_the_headers(fixture_raw, tmp_path, monkeypatch, path, council, dataset):
    monkeypatch.setenv("STARVIZ_DB", str(tmp_path / "none.duckdb"))
    config.settings.cache_clear()
    source = fixture_raw / path
    # renamed, so the file name cannot give the answer away
    detection = imports.detect(imports.stage("upload" + source.suffix, source.read_bytes()))
    assert (detection.best.council_id, detection.best.dataset) == (council, dataset)
    assert detection.best.confidence >= config.settings().import_detect_min_confidence
    assert "sure" in detection.text
    config.settings.cache_clear()


def test_star_kpis_are_told_apart_from_a_councils_by_one_header(fixture_raw):
    detection = imports.detect(imports.stage("kpis.csv", (fixture_raw / "star/kpis/star-kpis-2025-05.csv").read_bytes()))
    scores = {(c.council_id, c.dataset): c.confidence for c in detection.candidates}
    # STAR says "Name" where Trafford says "KPIName": 8 of 8 headers against 7 of 8
    assert scores[("star", "kpis")] == 1.0
    assert scores[("trafford", "kpis")] == pytest.approx(0.5 * 7 / 8 + 0.5 * 7 / 8)


def test_headers_no_council_uses_detect_nothing_and_ask(tmp_path):
    staged = imports.stage("mystery.csv", _csv_bytes(tmp_path, [["When", "Who", "How much"], ["1/4/25", "X", "1"]]))
    detection = imports.detect(staged)
    assert detection.best is None
    assert "choose" in detection.text.lower()
    assert detection.headers == ("When", "Who", "How much")


# --- preview ----------------------------------------------------------------------------------


def test_preview_lists_every_row_error_with_file_row_column_value_and_reason(live):
    preview = _upload("trafford-supplier-spend-2025-04.csv", (live / "held/trafford-supplier-spend-2025-04.csv").read_bytes())
    assert (preview.council_id, preview.dataset) == ("trafford", "spend")
    assert preview.refusal is None and preview.can_commit
    problems = preview.problems[["file", "row", "column", "value", "severity"]].values.tolist()
    # fixture rows T6 (31 April) and T7 (N/A) are spreadsheet rows 7 and 8
    assert problems == [
        ["trafford-supplier-spend-2025-04.csv", 7, "PaymentDate", "31/04/2025", "rejected"],
        ["trafford-supplier-spend-2025-04.csv", 8, "Amount", "N/A", "rejected"],
    ]
    assert preview.problems["reason"].str.startswith(("cannot read date", "no amount given")).all()
    s = preview.summary
    assert (s.rows_read, s.rows_loaded, s.rows_rejected) == (10, 8, 2)
    assert s.amount_total == Decimal("1500") + 800 + 100000 - 200 + 750 + 5000 + 20000 + 2000


def test_preview_shows_the_column_mapping_and_the_first_rows_as_parsed(live):
    preview = _upload("april.csv", (live / "held/trafford-supplier-spend-2025-04.csv").read_bytes(), "trafford", "spend")
    mapping = dict(zip(preview.mapping["field"], preview.mapping["column in the file"], strict=True))
    assert mapping["payment_date"] == "PaymentDate" and mapping["amount_gbp"] == "Amount"
    assert mapping["supplier_name"] == "BeneficiaryName"
    assert preview.unused_headers == ["OrganisationLabel"]
    first = preview.rows.iloc[0]
    assert (str(first["payment_date"]), first["supplier_name"], float(first["amount_gbp"]), first["source_row"]) == (
        "2025-04-10",
        "ABC Ltd",
        1500.0,
        2,
    )
    assert len(preview.rows) == 8  # loaded rows only, at most import_preview_rows (20)


def test_a_file_type_the_council_does_not_publish_is_refused_with_the_pattern(live, tmp_path):
    data = write_xlsx(tmp_path / "x.xlsx", TAMESIDE_MAY).read_bytes()
    preview = _upload("Tameside May 2025.xlsx", data, "tameside", "spend")
    assert "*.csv" in preview.refusal and "tameside.toml" in preview.refusal
    assert not preview.can_commit


def test_a_file_with_no_loadable_row_cannot_be_committed(live, tmp_path):
    data = _csv_bytes(tmp_path, [TAMESIDE_SPEND[0], ["T1", "X", "", "", "", "99/99/99", "1.00"]])
    preview = _upload("bad.csv", data, "tameside", "spend")
    assert preview.summary.rows_loaded == 0 and not preview.can_commit
    assert "no row can be loaded" in preview.refusal


# --- commit -----------------------------------------------------------------------------------


def test_commit_stores_the_original_with_its_hash_and_reports_what_changed(live, tmp_path):
    data = _csv_bytes(tmp_path, TAMESIDE_MAY)
    before_rows, before_total = _db_total("tameside")
    preview = _upload("Tameside Spend May 2025.csv", data)
    assert (preview.council_id, preview.dataset) == ("tameside", "spend")
    outcome = import_store.commit([preview], _scope())
    assert outcome.status == "done", outcome.message
    stored = config.settings().raw_dir / "tameside/spend/Tameside Spend May 2025.csv"
    assert stored.read_bytes() == data
    log = import_store.import_log()
    assert log[["file", "sha256", "status", "imported_by"]].values.tolist() == [
        ["tameside/spend/Tameside Spend May 2025.csv", preview.staged.sha256, "loaded", "director"]
    ]
    assert _db_total("tameside") == (before_rows + 3, before_total + Decimal("2240.00"))
    rows = outcome.changes.rows
    assert rows[["council", "dataset", "rows_before", "rows_after", "rows_added"]].values.tolist() == [
        ["Tameside", "spend", 0, 3, 3]
    ]
    assert rows["month"].iloc[0] == pd.Timestamp("2025-05-01")
    assert outcome.changes.new_suppliers["supplier_name"].tolist() == ["New Garden Services Ltd"]
    assert outcome.changes.new_suppliers["councils"].tolist() == ["Tameside"]
    assert outcome.changes.new_contracts.empty
    assert outcome.changes.files[["rows_read", "rows_loaded", "rows_rejected"]].values.tolist() == [[4, 3, 1]]


def test_same_file_twice_is_refused_with_a_message(live, tmp_path):
    data = _csv_bytes(tmp_path, TAMESIDE_MAY)
    assert import_store.commit([_upload("may.csv", data)], _scope()).status == "done"
    again = _upload("a copy of may.csv", data, "tameside", "spend")
    assert not again.can_commit
    assert "imported before" in again.refusal and "tameside/spend/may.csv" in again.refusal
    assert import_store.commit([again], _scope()).status == "refused"


def test_a_file_already_stored_but_not_yet_built_is_refused_too(live, tmp_path):
    data = _csv_bytes(tmp_path, TAMESIDE_MAY)
    (config.settings().raw_dir / "tameside/spend/copied by hand.csv").write_bytes(data)
    preview = _upload("may.csv", data, "tameside", "spend")
    assert "not yet in the database" in preview.refusal


def test_the_same_content_twice_in_one_upload_is_imported_once(tmp_path):
    data = _csv_bytes(tmp_path, TAMESIDE_MAY)
    first, second = imports.stage_all([("may.csv", data), ("may (1).csv", data)])
    assert first.refusal is None and "same content as may.csv" in second.refusal


def test_a_name_already_taken_gets_part_of_the_hash(live, tmp_path):
    taken = config.settings().raw_dir / "tameside/spend/may.csv"
    taken.write_bytes(_csv_bytes(tmp_path, TAMESIDE_MAY[:2]))
    preview = _upload("may.csv", _csv_bytes(tmp_path, TAMESIDE_MAY), "tameside", "spend")
    assert preview.target_name == f"may-{preview.staged.sha256[:8]}.csv"


def test_failed_build_keeps_the_old_database_and_takes_the_file_back_out(live, tmp_path, monkeypatch):
    db = config.settings().db_path
    before = db.read_bytes()
    bad = tmp_path / "sql" / "30_marts" / "mart_broken.sql"
    bad.parent.mkdir(parents=True)
    bad.write_text("-- One row per nothing.\ncreate or replace view mart_broken as select no_such_column from fct_spend")
    monkeypatch.setattr(build, "sql_files", lambda: [*config.SQL_DIR.glob("*/*.sql"), bad])
    outcome = import_store.commit([_upload("may.csv", _csv_bytes(tmp_path, TAMESIDE_MAY))], _scope())
    assert outcome.status == "failed"
    assert "mart_broken" in outcome.message and "live database is as it was" in outcome.message
    assert db.read_bytes() == before
    assert not (config.settings().raw_dir / "tameside/spend/may.csv").exists()
    assert import_store.import_log()["status"].tolist() == ["build failed"]
    monkeypatch.undo()
    config.settings.cache_clear()


def test_a_second_admin_is_told_a_build_is_in_progress_and_nothing_is_stored(live, tmp_path):
    preview = _upload("may.csv", _csv_bytes(tmp_path, TAMESIDE_MAY), "tameside", "spend")
    with build.build_lock(config.settings().db_path):  # someone else's build
        assert import_store.build_status() is not None
        outcome = import_store.commit([preview], _scope())
    assert outcome.status == "busy" and "build is in progress" in outcome.message
    assert not (config.settings().raw_dir / "tameside/spend/may.csv").exists()
    assert import_store.build_status() is None


def test_an_analyst_cannot_commit(live, tmp_path):
    preview = _upload("may.csv", _csv_bytes(tmp_path, TAMESIDE_MAY), "tameside", "spend")
    assert import_store.commit([preview], _scope(ANALYST)).status == "refused"
    assert import_store.rebuild(_scope(ANALYST)).status == "refused"


def _corrected_april(tmp_path) -> bytes:
    # Tameside's April file with T1 restated: 2,100.00 instead of 2,000.00; the rest unchanged
    rows = [list(r) for r in TAMESIDE_SPEND]
    rows[1][6] = " 2,100.00 "
    return _csv_bytes(tmp_path, rows, "corrected.csv")


@pytest.fixture()
def april_loaded(live):
    shutil.copy(live / "held/Tameside Spend April 2025.csv", config.settings().raw_dir / TAMESIDE_APRIL)
    build.build()
    assert _db_total("tameside") == (3, Decimal("2530.00"))  # 2,000 + 650 - 120
    return live


def test_a_file_for_months_already_loaded_shows_the_overlap_and_replaces_by_default(april_loaded, tmp_path):
    preview = _upload("Tameside Spend April 2025 v2.csv", _corrected_april(tmp_path), "tameside", "spend")
    overlap = preview.overlaps.iloc[0]
    assert (overlap["source_file"], overlap["months"], overlap["rows_loaded"]) == (TAMESIDE_APRIL, "Apr 2025", 3)
    assert overlap["amount_gbp"] == Decimal("2530.00") and overlap["count_other_lines"] == 0
    assert "1 loaded file holds 3 lines in the same months; by default it is replaced" in imports.overlap_text([preview])
    assert import_store.commit([preview], _scope()).status == "done"
    assert _db_total("tameside") == (3, Decimal("2630.00"))  # replaced: nothing counted twice


def test_adding_over_loaded_months_happens_only_when_the_admin_chooses_it(april_loaded, tmp_path):
    preview = _upload("Tameside Spend April 2025 v2.csv", _corrected_april(tmp_path), "tameside", "spend")
    assert import_store.commit([preview], _scope(), replace=False).status == "done"
    assert _db_total("tameside") == (6, Decimal("2530.00") + Decimal("2630.00"))  # added, as asked
    duplicates = queries.duplicate_lines(_scope())
    # T2 and T3 are the same line in both files (T1 was restated, so it is not a duplicate)
    assert sorted(duplicates["transaction_number"]) == ["T2", "T3"]
    assert set(duplicates["count_files"]) == {2}


def test_a_year_to_date_file_after_its_first_month_counts_april_once(april_loaded, tmp_path):
    ytd = [list(r) for r in TAMESIDE_SPEND] + [list(r) for r in TAMESIDE_MAY[1:4]]
    preview = _upload("Tameside Spend May 2025 YTD.csv", _csv_bytes(tmp_path, ytd, "ytd.csv"), "tameside", "spend")
    assert preview.overlaps["months"].tolist() == ["Apr 2025"]
    assert import_store.commit([preview], _scope()).status == "done"
    assert _db_total("tameside") == (6, Decimal("2530.00") + Decimal("2240.00"))
    assert queries.duplicate_lines(_scope()).empty


def test_a_council_scoped_admin_imports_and_sees_only_their_councils(april_loaded, tmp_path):
    scoped = User("trafford.admin", "Trafford Admin", "admin", councils=("trafford",))
    assert list(imports.choices(user=scoped)) == ["trafford"]
    staged = imports.stage("Tameside Spend April 2025 v2.csv", _corrected_april(tmp_path))
    preview = imports.preview(staged, "tameside", "spend", _scope(scoped))
    assert preview.refusal == (
        "Tameside Spend April 2025 v2.csv: you can import only for your own councils; Tameside is not one of them."
    )
    forced = imports.preview(staged, "tameside", "spend", _scope())
    assert import_store.commit([forced], _scope(scoped)).status == "refused"
    assert _db_total("tameside") == (3, Decimal("2530.00"))


def test_replacing_moves_the_old_file_aside_and_loads_only_the_new_one(april_loaded, tmp_path):
    preview = _upload("Tameside Spend April 2025 v2.csv", _corrected_april(tmp_path), "tameside", "spend")
    outcome = import_store.commit([preview], _scope(), replace=True)
    assert outcome.status == "done"
    assert _db_total("tameside") == (3, Decimal("2630.00"))
    raw = config.settings().raw_dir
    assert not (raw / TAMESIDE_APRIL).exists()
    assert [p.relative_to(raw).parts[2:] for p in (raw / "_replaced").rglob("*.csv")] == [
        ("tameside", "spend", "Tameside Spend April 2025.csv")
    ]
    assert outcome.changes.rows.empty  # same number of rows in April, different amounts


def test_a_failed_replacement_puts_the_old_file_back(april_loaded, tmp_path, monkeypatch):
    preview = _upload("Tameside Spend April 2025 v2.csv", _corrected_april(tmp_path), "tameside", "spend")

    def failing_check(con):
        raise build.BuildError("totals do not reconcile")

    monkeypatch.setattr(build, "_check", failing_check)
    outcome = import_store.commit([preview], _scope(), replace=True)
    assert outcome.status == "failed" and "totals do not reconcile" in outcome.message
    assert (config.settings().raw_dir / TAMESIDE_APRIL).exists()
    assert not list((config.settings().raw_dir / "_replaced").rglob("*.csv"))
    assert _db_total("tameside") == (3, Decimal("2530.00"))


def test_rebuild_reports_no_change_when_nothing_changed(live):
    outcome = import_store.rebuild(_scope())
    assert outcome.status == "done" and outcome.changes.rows.empty and outcome.changes.new_suppliers.empty
    assert outcome.stored == []


# --- the page ---------------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["board", "trafford.officer"])
def test_non_admins_cannot_reach_import(app_env, username):
    from tests.conftest import run_app

    at = run_app(username)
    assert not at.exception
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("pages/import_data.py")


@pytest.fixture()
def page_env(live, monkeypatch):
    monkeypatch.setenv("STARVIZ_AUTH_DIR", str(live / "auth"))
    return live


def test_admin_uploads_sees_the_preview_and_commits_on_the_page(page_env, tmp_path):
    from tests.conftest import run_app

    at = run_app("director", page="pages/import_data.py")
    at.file_uploader[0].set_value(("Tameside Spend May 2025.csv", _csv_bytes(tmp_path, TAMESIDE_MAY), "text/csv")).run()
    assert not at.exception and not at.error
    assert any("tameside/spend" in s.value for s in at.success)  # detected, and how sure
    assert {m.label: m.value for m in at.metric}["Will load"] == "3"
    problems = next(d.value for d in at.dataframe if "reason" in d.value.columns)
    assert problems[["row", "column", "value"]].values.tolist() == [[5, "Paid Date", "32/05/25"]]
    store = next(b for b in at.button if b.label == "Store and rebuild")
    assert not store.disabled
    store.click().run()
    assert not at.exception
    assert at.success[0].value.startswith("Stored 1 file and rebuilt")
    assert len(at.file_uploader) == 1 and not at.file_uploader[0].value  # a fresh uploader for the next files
    assert (config.settings().raw_dir / "tameside/spend/Tameside Spend May 2025.csv").exists()


def test_a_duplicate_upload_is_refused_on_the_page(page_env):
    from tests.conftest import run_app

    data = (config.settings().raw_dir / "rochdale/spend/Rochdale_Spend_Apr25.csv").read_bytes()
    at = run_app("director", page="pages/import_data.py")
    at.file_uploader[0].set_value(("Rochdale_Spend_Apr25.csv", data, "text/csv")).run()
    assert any("imported before" in e.value for e in at.error)
    assert next(b for b in at.button if b.label == "Store and rebuild").disabled


def test_a_second_admin_sees_build_in_progress_not_an_error(page_env):
    from tests.conftest import run_app

    with build.build_lock(config.settings().db_path):
        import_store._write_status(
            {
                "user": "Director",
                "started_at": "2025-06-01T10:32:00",
                "files": ["tameside/spend/may.csv"],
                "progress": 0.4,
                "message": "Reading tameside/spend/may.csv",
            }
        )
        at = run_app("director", page="pages/import_data.py")
    assert not at.exception and not at.error
    assert "Build in progress, started by Director at 10:32, loading" in at.info[0].value and "40% done" in at.info[0].value
    assert len(at.file_uploader) == 0
