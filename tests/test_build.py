"""The layered SQL, checked through one fixture build."""

from __future__ import annotations

import os
import shutil

import duckdb
import pytest

from starviz import build, config
from tests.fixtures.extracts import write_raw


def test_fct_spend_reconciles_to_the_penny_with_loaded_rows(db, fixture_build):
    loaded = sum(f.amount_total for f in fixture_build.files if f.dataset == "spend")
    assert db.execute("select sum(amount_gbp) from fct_spend").fetchone()[0] == loaded


def test_every_line_keeps_its_source_file_and_row(db):
    row = db.execute(
        "select source_file, source_row from fct_spend where council_id = 'trafford' and amount_gbp = -200"
    ).fetchone()
    assert row == ("trafford/spend/trafford-supplier-spend-2025-04.csv", 5)


def test_same_supplier_spelled_four_ways_is_one_supplier(db):
    ids = db.execute(
        "select distinct supplier_id from fct_spend where supplier_name in "
        "('ABC Ltd', 'A.B.C. LIMITED', 'ABC Limited', 'ABC LTD')"
    ).fetchall()
    assert len(ids) == 1
    assert db.execute("select count_councils from dim_suppliers where supplier_id = ?", [ids[0][0]]).fetchone()[0] == 4


def test_name_cut_at_35_characters_joins_the_full_name(db):
    ids = db.execute("select distinct supplier_id from fct_spend where supplier_name ilike 'long name care%'").fetchall()
    assert len(ids) == 1


def test_redacted_payments_are_not_addressable(db):
    rows = db.execute("select distinct is_addressable, exclusion_reason from fct_spend where is_redacted").fetchall()
    assert rows == [(False, "redacted personal data")]


@pytest.mark.parametrize(
    ("supplier", "reason"),
    [
        ("Greater Manchester Combined Authori", "levies"),
        ("HM Revenue & Customs", "HMRC"),
        ("Teachers Pensions", "pensions"),
        ("Stockport Metropolitan Borough Council", "inter-authority"),
    ],
)
def test_exclusions_apply_with_their_reason(db, supplier, reason):
    assert db.execute("select exclusion_reason from fct_spend where supplier_name = ?", [supplier]).fetchone() == (reason,)


def test_credit_notes_are_kept_and_netted(db):
    net = db.execute("select sum(amount_gbp) from fct_spend where supplier_name = 'ABC Ltd'").fetchone()[0]
    assert net == 1300


def test_spend_inside_an_extension_is_on_contract(db):
    # TC-001 ends 2025-04-12 with an extension option to 2026-03-31; the line of 2025-04-15 is covered.
    assert db.execute(
        "select is_on_contract, contract_id from fct_spend where council_id = 'trafford' and source_row = 5"
    ).fetchone() == (True, "trafford:TC-001")


def test_spend_with_an_expired_contract_is_off_contract(db):
    assert db.execute("select bool_or(is_on_contract) from fct_spend where supplier_name ilike 'widget%'").fetchone()[0] is False


def test_star_collaborative_contract_covers_the_councils_it_names(db):
    rows = db.execute(
        "select council_id, contract_id from fct_spend where supplier_name ilike 'long name%' order by 1"
    ).fetchall()
    assert rows == [("stockport", "star:STAR-001"), ("trafford", "star:STAR-001")]


def test_local_sme_and_unknown_come_from_the_register(db):
    rows = dict(db.execute("select supplier_name, is_local from dim_suppliers").fetchall())
    assert rows["Widget Supplies Ltd"] is False  # LS1: outside Greater Manchester
    assert rows["HM Revenue & Customs"] is None  # no postcode: unknown, not false


def test_unclassified_spend_takes_the_suppliers_category_from_elsewhere(db):
    assert db.execute(
        "select category, category_source from fct_spend where council_id = 'tameside' and source_row = 2"
    ).fetchone() == ("Works - Construction, Repair & Maintenance", "supplier")


def test_social_value_share_is_proxy_times_quantity_over_contract_value(db):
    row = db.execute(
        "select committed_gbp / value_gbp, delivered_gbp / value_gbp from mart_social_value_by_contract "
        "where contract_id = 'trafford:TC-001'"
    ).fetchone()
    assert (float(row[0]), float(row[1])) == (0.2, 0.1)


def test_same_file_imported_twice_loads_once(tmp_path):
    raw = write_raw(tmp_path / "raw")
    src = raw / "trafford/spend/trafford-supplier-spend-2025-04.csv"
    shutil.copy(src, src.with_name("copy-of-april.csv"))
    summary = build.build(raw_dir=raw, db_path=tmp_path / "x.duckdb")
    statuses = {f.source_file.split("/")[-1]: f.status for f in summary.files if f.council_id == "trafford"}
    assert sorted(statuses.values()).count("duplicate") == 1
    con = duckdb.connect(str(tmp_path / "x.duckdb"), read_only=True)
    assert con.execute("select count(*) from fct_spend where council_id = 'trafford'").fetchone()[0] == 8


def test_failed_build_leaves_the_previous_database_untouched(tmp_path, monkeypatch):
    raw = write_raw(tmp_path / "raw")
    db_path = tmp_path / "star.duckdb"
    build.build(raw_dir=raw, db_path=db_path)
    before = db_path.read_bytes()
    bad_sql = tmp_path / "sql" / "30_marts"
    bad_sql.mkdir(parents=True)
    (bad_sql / "mart_broken.sql").write_text("create or replace view mart_broken as select no_such_column from fct_spend")
    monkeypatch.setattr(build, "sql_files", lambda: [*build.config.SQL_DIR.glob("*/*.sql"), bad_sql / "mart_broken.sql"])
    with pytest.raises(build.BuildError, match="mart_broken"):
        build.build(raw_dir=raw, db_path=db_path)
    assert db_path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if "building" in p.name] == []


def test_a_macro_may_call_one_whose_file_sorts_after_it_and_a_broken_file_fails_naming_itself(tmp_path, monkeypatch):
    # DuckDB binds a macro when it is created: "aa_doubled_plus_one" (first by name) calls "zz_doubled"
    # (last); created in name order, the build would fail on the first.
    raw = write_raw(tmp_path / "raw")
    db_path = tmp_path / "star.duckdb"
    functions = tmp_path / "sql" / "00_functions"
    functions.mkdir(parents=True)
    (functions / "aa_doubled_plus_one.sql").write_text("create or replace macro aa_doubled_plus_one(x) as (zz_doubled(x) + 1);")
    (functions / "zz_doubled.sql").write_text("create or replace macro zz_doubled(x) as (x * 2);")
    ours = [functions / "aa_doubled_plus_one.sql", functions / "zz_doubled.sql"]
    monkeypatch.setattr(build, "sql_files", lambda: sorted([*build.config.SQL_DIR.glob("*/*.sql"), *ours]))
    build.build(raw_dir=raw, db_path=db_path)
    con = duckdb.connect(str(db_path), read_only=True)
    assert con.execute(
        "select aa_doubled_plus_one(20), known_share(flag, x) from (values (true, 3), (false, 1)) t(flag, x)"
    ).fetchone() == (41, 0.75)
    con.close()
    good = db_path.read_bytes()
    # a real error (a function nothing defines) is still an error, in one line naming its file
    (functions / "mm_broken.sql").write_text("create or replace macro mm_broken(x) as (no_such_function(x));")
    ours.append(functions / "mm_broken.sql")
    with pytest.raises(build.BuildError) as failed:
        build.build(raw_dir=raw, db_path=db_path)
    message = str(failed.value)
    assert message.startswith(f"{functions / 'mm_broken.sql'}: Catalog Error:") and "no_such_function" in message
    assert "\n" not in message
    assert db_path.read_bytes() == good  # the last good database stays live


def test_build_with_nothing_loadable_fails_and_says_why(tmp_path):
    raw = tmp_path / "raw"
    (raw / "trafford" / "spend").mkdir(parents=True)
    (raw / "trafford" / "spend" / "empty.csv").write_text("")
    with pytest.raises(build.BuildError, match=r"empty\.csv"):
        build.build(raw_dir=raw, db_path=tmp_path / "x.duckdb")
    assert not (tmp_path / "x.duckdb").exists()


def test_a_second_build_at_the_same_time_is_told_one_is_in_progress(tmp_path):
    db_path = tmp_path / "star.duckdb"
    with build.build_lock(db_path):
        assert build.is_building(db_path)
        with pytest.raises(build.BuildInProgress):
            build.build(raw_dir=write_raw(tmp_path / "raw"), db_path=db_path)
    assert not build.is_building(db_path)


def test_build_cli_exits_1_when_nothing_loads(tmp_path):
    from starviz import cli

    raw = tmp_path / "raw"
    (raw / "trafford" / "spend").mkdir(parents=True)
    (raw / "trafford" / "spend" / "h.csv").write_text("PaymentDate,Amount,BeneficiaryName\n")
    assert cli.main(["build", "--raw", str(raw), "--db", str(tmp_path / "x.duckdb")]) == 1
    assert os.path.exists(tmp_path / "x.duckdb") is False


def test_views_are_created_after_the_views_they_read_whatever_their_names(tmp_path):
    marts = tmp_path / "30_marts"
    marts.mkdir()
    (marts / "mart_a.sql").write_text(
        "-- One row per x (reads nothing named mart_c).\ncreate view mart_a as select * from mart_b"
    )
    (marts / "mart_b.sql").write_text("create view mart_b as select * from fct_spend")
    (marts / "mart_c.sql").write_text("create view mart_c as select * from mart_a join mart_b using (x)")
    staging = tmp_path / "10_staging"
    staging.mkdir()
    (staging / "stg_z.sql").write_text("create view stg_z as select 1")
    order = [p.stem for p in build.view_order(sorted(tmp_path.glob("*/*.sql"), reverse=True))]
    assert order == ["stg_z", "mart_b", "mart_a", "mart_c"]


def test_views_reading_each_other_in_a_circle_fail_naming_the_files(tmp_path):
    marts = tmp_path / "30_marts"
    marts.mkdir()
    (marts / "mart_a.sql").write_text("create view mart_a as select * from mart_b")
    (marts / "mart_b.sql").write_text("create view mart_b as select * from mart_a")
    with pytest.raises(build.BuildError, match=r"circle: .*mart_[ab]\.sql.*mart_[ab]\.sql"):
        build.view_order(sorted(tmp_path.glob("*/*.sql")))


def test_visitors_during_the_first_run_wait_for_one_build_instead_of_each_building(tmp_path, monkeypatch):
    import threading

    from starviz import demo

    monkeypatch.setenv("STARVIZ_DB", str(tmp_path / "star.duckdb"))
    monkeypatch.setenv("STARVIZ_RAW", str(tmp_path / "raw"))
    config.settings.cache_clear()
    calls = []

    def generate(raw_dir, **_):
        calls.append("generate")
        threading.Event().wait(0.3)  # long enough for the other visitors to arrive
        (raw_dir / "x" / "spend").mkdir(parents=True)
        (raw_dir / "x" / "spend" / "f.csv").write_text("a\n")

    def fake_build(**_):
        calls.append("build")
        (tmp_path / "star.duckdb").write_bytes(b"built")

    monkeypatch.setattr(demo, "generate", generate)
    monkeypatch.setattr(build, "build", fake_build)
    try:
        visitors = [threading.Thread(target=build.ensure_database) for _ in range(3)]
        for v in visitors:
            v.start()
        for v in visitors:
            v.join()
    finally:
        config.settings.cache_clear()
    assert calls == ["generate", "build"]
