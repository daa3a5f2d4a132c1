"""OCDS notices (Find a Tender / Contracts Finder): reading, compiling, buyers, bad input."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from starviz import config, fts, ingest
from starviz.notices import loader, merge, packages
from starviz.notices import rows as notice_rows
from tests.conftest import sample

D = dt.date


def _council(**extra) -> config.CouncilConfig:
    base = {
        "id": "barnet",
        "name": "London Borough of Barnet",
        "short_name": "Barnet",
        "gss_code": "E09000003",
        "population": 400000,
        "colour": "#000000",
        "joined": D(2014, 1, 1),
    }
    return config.CouncilConfig(**(base | extra))


def _load(paths: list[Path], councils: dict) -> tuple[duckdb.DuckDBPyConnection, list[ingest.FileResult]]:
    con = duckdb.connect()
    ingest.create_tables(con)
    notice_rows.create_tables(con)
    notice_loader = loader.Loader(councils)
    for n, path in enumerate(paths, start=1):
        notice_loader.read(path, n, path.name)
    return con, notice_loader.finish(con)


def _write(path: Path, doc) -> Path:
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


TRAFFORD = fts.Org("Trafford Council", "GB-PPON", "PTRF-1234-ABCD")
SUPPLIER = fts.Org("Acme Care Ltd", "GB-COH", "1234567", "M33 7AA")
OTHER_BUYER = fts.Org("Borsetshire County Council", "GB-PPON", "PBOR-9999-ZZZZ")


def _procurement(buyer=TRAFFORD, ocid="ocds-h6vhtk-00a001", value=2_500_000.0) -> fts.Procurement:
    return fts.Procurement(
        ocid, buyer, "Home care", value, "85000000", SUPPLIER, D(2025, 7, 1), D(2028, 6, 30), D(2030, 6, 30), "TC-HC-01"
    )


def test_fictional_example_compiles_to_the_record_it_ships():
    example = sample("ocds", "fictional-example")
    releases = json.loads((example / "ocds-213czf-000-00001.json").read_text())["releases"]
    shipped = json.loads((example / "record" / "ocds-213czf-000-00001.json").read_text())
    compiled = shipped["records"][0]["compiledRelease"]
    assert merge.compile_releases([merge.prune(r) for r in releases]) == merge.prune(compiled)


MERGE_CASES = [
    # ids 1 and "1" differ; elements without an id never merge; null removes a value
    [
        {"ocid": "o", "id": "1", "date": "1", "tender": {"title": "a", "items": [{"id": 1, "x": 1}, {"y": 2}]}},
        {"ocid": "o", "id": "2", "date": "2", "tender": {"title": None, "items": [{"id": "1", "z": 3}, {"y": 4}]}},
    ],
    # null on an object leaves it; releases out of date order are sorted
    [
        {"ocid": "o", "id": "2", "date": "2", "tender": None, "awards": []},
        {"ocid": "o", "id": "1", "date": "1", "tender": {"title": "a"}, "awards": [{"id": "a", "suppliers": [{"id": "s"}]}]},
    ],
    # wholeListMerge arrays are replaced whole, even by an empty one; empty objects set nothing
    [
        {"ocid": "o", "id": "1", "date": "1", "parties": [{"id": "p", "roles": ["buyer"], "additionalIdentifiers": [{"id": 1}]}]},
        {
            "ocid": "o",
            "id": "2",
            "date": "2",
            "parties": [{"id": "p", "roles": ["payer"], "additionalIdentifiers": []}],
            "tender": {},
        },
    ],
    [
        {"ocid": "o", "id": "1", "date": "1", "tender": {"value": {"amount": 1}}},
        {"ocid": "o", "id": "2", "date": "2", "tender": {"value": {"amount": None, "currency": "GBP"}}},
    ],
]


def test_compiling_agrees_with_the_reference_implementation():
    import ocdsmerge

    reference = ocdsmerge.Merger(merge_rules=merge.MERGE_RULES)
    example = sample("ocds", "fictional-example")
    releases = json.loads((example / "ocds-213czf-000-00001.json").read_text())["releases"]
    for case in [releases, *MERGE_CASES]:
        assert merge.compile_releases(case) == reference.create_compiled_release(case)


def test_releases_that_cannot_be_compiled_name_the_field_by_its_path():
    # tender.items is an array of objects in the first release and an object in the second
    first = {"ocid": "ocds-x-1", "date": "2025-01-01", "tender": {"items": [{"id": "1"}]}}
    second = {"ocid": "ocds-x-1", "date": "2025-02-01", "tender": {"items": {"id": "1"}}}
    with pytest.raises(merge.MergeError) as exc:
        merge.compile_releases([first, second])
    assert str(exc.value) == "field tender.items: an array in one release, an object in another"
    # awards[].value is an object, then an array of objects
    a = {"ocid": "ocds-x-2", "date": "2025-01-01", "awards": [{"id": "1", "value": {"amount": 1}}]}
    b = {"ocid": "ocds-x-2", "date": "2025-02-01", "awards": [{"id": "1", "value": [{"amount": 2}]}]}
    with pytest.raises(merge.MergeError) as exc:
        merge.compile_releases([a, b])
    assert str(exc.value) == "field awards.value: an object in one release, an array in another"


def test_json_is_read_as_the_standard_library_reads_it(tmp_path):
    # msgspec reads most files; what it refuses (NaN, a number out of range) is read as json reads it
    rel = fts.release(_procurement(), "UK4", "000501-2025", D(2025, 5, 1))
    text = json.dumps(fts.package([rel], D(2025, 5, 1)))
    text = text.replace('"amount": 2500000.0', '"amount": NaN', 1)
    assert "NaN" in text
    path = tmp_path / "nan.json"
    path.write_text(text)
    council = _council(id="trafford", name="Trafford Council", short_name="Trafford", ppon="PTRF-1234-ABCD")
    con, results = _load([path], {"trafford": council})
    assert results[0].rows_loaded == 1
    assert con.execute("select value_amount from raw_notices").fetchone() == (None,)  # NaN is no amount


def test_merge_rules_are_the_ocds_1_1_rules_on_the_fields_we_keep():
    from ocdsmerge.rules import get_merge_rules

    schema = json.loads(sample("ocds", "schema", "release-schema.json").read_text())
    rules = get_merge_rules(schema)
    kept = {path for path in rules if path[0] in merge.KEEP}

    def is_kept(path: tuple[str, ...]) -> bool:
        keep = merge.KEEP
        for part in path:
            if not isinstance(keep, dict) or part not in keep:
                return False
            keep = keep[part]
            if keep is None:
                return True
        return True

    assert {p: rules[p] for p in kept if is_kept(p)} == {p: r for p, r in merge.MERGE_RULES.items() if is_kept(p)}


def test_fictional_example_loads_one_row_per_release_and_its_contract(tmp_path):
    example = sample("ocds", "fictional-example")
    con, results = _load([example / "ocds-213czf-000-00001.json"], {"barnet": _council()})
    assert (results[0].rows_read, results[0].rows_loaded, results[0].rows_rejected) == (6, 6, 0)
    rows = con.execute("select release_id, council_id, cpv_code from raw_notices order by release_date").fetchall()
    assert [r[0].rsplit("-", 1)[-1] for r in rows] == [
        "planning",
        "tender",
        "tenderAmendment",
        "award",
        "contract",
        "implementation",
    ]
    assert {r[1] for r in rows} == {"barnet"}
    contract = con.execute(
        "select supplier_name, company_number, value_amount, start_date, end_date, status from raw_notice_contracts"
    ).fetchall()
    assert contract == [("AnyCorp Cycle Provision", "11111111", 11_000_000, D(2010, 7, 1), D(2011, 6, 30), "active")]


def test_record_package_with_linked_releases_gives_the_same_contract(tmp_path):
    example = sample("ocds", "fictional-example")
    councils = {"barnet": _council()}
    con_r, _ = _load([example / "ocds-213czf-000-00001.json"], councils)
    con_rec, results = _load([example / "record" / "ocds-213czf-000-00001.json"], councils)
    assert results[0].rows_loaded == 1  # its releases are links; the compiled release stands for them
    q = "select * exclude (file_id, source_file, source_row) from raw_notice_contracts"
    assert con_r.execute(q).fetchall() == con_rec.execute(q).fetchall()


def test_find_a_tender_notice_type_and_ppon_buyer_are_read(tmp_path):
    p = _procurement()
    rels = [
        fts.release(p, "UK4", "000101-2025", D(2025, 4, 10)),
        fts.release(p, "UK6", "000102-2025", D(2025, 6, 1)),
        fts.release(p, "UK7", "000103-2025", D(2025, 7, 2)),
    ]
    path = _write(tmp_path / "fts.json", fts.package(rels, D(2025, 7, 2)))
    council = _council(id="trafford", name="Trafford Council", short_name="Trafford", gss_code="E08000009", ppon="PTRF-1234-ABCD")
    con, results = _load([path], {"trafford": council})
    assert results[0].rows_loaded == 3
    assert con.execute("select notice_type, published_date from raw_notices order by release_id").fetchall() == [
        ("UK4", D(2025, 4, 10)),
        ("UK6", D(2025, 6, 1)),
        ("UK7", D(2025, 7, 2)),
    ]
    assert con.execute("select contract_ref, company_number, supplier_postcode from raw_notice_contracts").fetchall() == [
        ("TC-HC-01", "01234567", "M33 7AA")
    ]


def test_buyer_is_matched_by_name_when_no_identifier_is_configured(tmp_path):
    buyer = fts.Org("TRAFFORD MBC", "GB-PPON", "PXXX-0000-XXXX")
    path = _write(
        tmp_path / "fts.json", fts.package([fts.release(_procurement(buyer), "UK4", "1-2025", D(2025, 5, 1))], D(2025, 5, 1))
    )
    council = _council(id="trafford", name="Trafford Council", short_name="Trafford", name_aliases=["Trafford MBC"])
    con, _ = _load([path], {"trafford": council})
    assert con.execute("select council_id from raw_notices").fetchall() == [("trafford",)]


def test_json_lines_and_zips_are_read(tmp_path):
    rels = [fts.release(_procurement(ocid=f"ocds-h6vhtk-00b00{i}"), "UK4", f"00020{i}-2025", D(2025, 5, i + 1)) for i in range(3)]
    lines = tmp_path / "daily.jsonl"
    lines.write_text("\n".join(json.dumps(fts.package([r], D(2025, 5, 3))) for r in rels) + "\n")
    archive = tmp_path / "notices.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("2025/records.json", json.dumps(fts.record_package(rels, D(2025, 5, 3))))
    council = _council(id="trafford", name="Trafford Council", short_name="Trafford", ppon="PTRF-1234-ABCD")
    con, results = _load([lines, archive], {"trafford": council})
    assert [(r.source_file, r.rows_read) for r in results] == [("daily.jsonl", 3), ("notices.zip!records.json", 3)]
    # the same releases in both files load once
    assert con.execute("select count(*) from raw_notices").fetchone() == (3,)


def test_bad_input_is_reported_with_file_release_and_field(tmp_path):
    good = fts.release(_procurement(), "UK4", "000301-2025", D(2025, 5, 1))
    no_ocid = dict(good, id="000302-2025")
    del no_ocid["ocid"]
    odd_type = fts.release(_procurement(ocid="ocds-h6vhtk-00c002"), "UK4", "000303-2025", D(2025, 5, 2))
    odd_type["tender"]["documents"][0]["noticeType"] = "UK99"
    elsewhere = fts.release(_procurement(OTHER_BUYER, "ocds-h6vhtk-00c003"), "UK4", "000304-2025", D(2025, 5, 3))
    path = _write(tmp_path / "mixed.json", fts.package([good, no_ocid, odd_type, elsewhere], D(2025, 5, 3)))
    council = _council(id="trafford", name="Trafford Council", short_name="Trafford", ppon="PTRF-1234-ABCD")
    con, results = _load([path], {"trafford": council})
    r = results[0]
    assert (r.rows_read, r.rows_loaded, r.rows_rejected) == (4, 2, 2)
    assert "releases of 1 buyer that is no configured council not loaded" in r.message
    problems = con.execute("select source_row, column_name, value, reason, severity from rejects order by source_row").fetchall()
    assert problems == [
        (2, "ocid", None, "release 000302-2025: release has no OCID", "rejected"),
        (
            3,
            "noticeType",
            "UK99",
            "release ocds-h6vhtk-00c002 / 000303-2025: unknown notice type (expected UK1 to UK17)",
            "warning",
        ),
        (
            4,
            "buyer",
            "Borsetshire County Council",
            "release ocds-h6vhtk-00c003 / 000304-2025: buyer is no configured council"
            " (GB-PPON-PBOR-9999-ZZZZ): 1 release not loaded",
            "skipped",
        ),
    ]
    # the release with an unknown notice type is still loaded, with no type
    assert con.execute("select notice_type from raw_notices where release_id = '000303-2025'").fetchone() == (None,)


def test_a_file_that_is_no_ocds_package_fails_with_its_reason(tmp_path):
    council = {"trafford": _council(id="trafford", name="Trafford Council", short_name="Trafford")}
    for name, text, reason in [
        ("broken.json", "{not json", "broken.json: not valid JSON (line 1, column 2"),
        ("list.json", "[1, 2]", "list.json: not an OCDS package"),
        ("other.json", '{"data": []}', "other.json: not an OCDS release or record package"),
        ("notes.txt", "hello", "notes.txt: file type .txt is not allowed"),
    ]:
        path = tmp_path / name
        path.write_text(text)
        with pytest.raises(ingest.IngestError, match=reason.replace("(", r"\(")):
            loader.Loader(council).read(path, 1, name)


def test_a_bad_line_in_json_lines_is_a_reject_and_the_rest_loads(tmp_path):
    rel = fts.release(_procurement(), "UK4", "000401-2025", D(2025, 5, 1))
    path = tmp_path / "daily.jsonl"
    path.write_text(json.dumps(fts.package([rel], D(2025, 5, 1))) + "\n{oops\n")
    council = _council(id="trafford", name="Trafford Council", short_name="Trafford", ppon="PTRF-1234-ABCD")
    con, results = _load([path], {"trafford": council})
    assert (results[0].rows_read, results[0].rows_loaded) == (2, 1)
    assert con.execute("select source_row, column_name, severity from rejects").fetchall() == [(2, "(line)", "rejected")]


def test_company_numbers_are_eight_characters():
    assert packages.company_number({"identifier": {"scheme": "GB-COH", "id": "11111111.0"}}) == "11111111"
    assert packages.company_number({"identifier": {"scheme": "GB-COH", "id": "1234567"}}) == "01234567"
    assert packages.company_number({"additionalIdentifiers": [{"scheme": "GB-COH", "id": "sc123456"}]}) == "SC123456"
    assert packages.company_number({"identifier": {"scheme": "GB-CHC", "id": "1234567"}}) is None


# --- a build with notices: registers and notices reconciled ----------------------------------------


@pytest.fixture(scope="module")
def notices_build(tmp_path_factory) -> Path:
    from starviz import build
    from tests.fixtures.extracts import write_raw

    raw = write_raw(tmp_path_factory.mktemp("raw"))
    folder = raw / "notices"
    folder.mkdir()
    trafford = fts.Org("Trafford Council", "GB-PPON", "PTRF-1234-ABCD")  # matched by name (no ppon configured)
    abc = fts.Org("ABC Limited", "GB-COH", "7654321")
    widget = fts.Org("Widget Supplies Ltd", "GB-COH", "1111111")
    newco = fts.Org("Newco Care Ltd", "GB-COH", "2222222")
    by_reference = fts.Procurement(
        "ocds-h6vhtk-0000a1", trafford, "Repairs", 50_000, "45000000", abc, D(2024, 4, 1), D(2025, 4, 12), reference="TC-001"
    )
    by_supplier = fts.Procurement(
        "ocds-h6vhtk-0000a2", trafford, "Paper", 10_100, "30190000", widget, D(2020, 1, 10), D(2021, 1, 5)
    )
    only_notices = fts.Procurement(
        "ocds-h6vhtk-0000a3", trafford, "Home care", 3_000_000, "85000000", newco, D(2025, 6, 1), D(2028, 5, 31)
    )
    big = fts.Procurement("ocds-h6vhtk-0000a5", trafford, "Waste", 6_000_000, "90500000", newco, D(2025, 3, 1), D(2030, 2, 28))
    short = fts.Procurement("ocds-h6vhtk-0000a6", trafford, "Survey", 40_000, "79300000", newco, D(2025, 4, 1), D(2025, 9, 30))
    rels = [
        fts.release(big, "UK7", "000906-2025", D(2025, 3, 10)),
        fts.release(big, "UK9", "000907-2026", D(2026, 2, 1)),
        fts.release(short, "UK7", "000908-2025", D(2025, 5, 15)),
        fts.release(by_reference, "UK7", "000901-2025", D(2025, 3, 1)),
        fts.release(by_supplier, "UK7", "000902-2025", D(2025, 3, 2)),
        fts.release(only_notices, "UK4", "000903-2025", D(2025, 3, 3)),
        fts.release(only_notices, "UK7", "000904-2025", D(2025, 6, 2)),
        fts.release(_procurement(OTHER_BUYER, "ocds-h6vhtk-0000a4"), "UK4", "000905-2025", D(2025, 3, 4)),
    ]
    _write(folder / "fts-2025.json", fts.package(rels, D(2025, 6, 2)))
    db = tmp_path_factory.mktemp("db") / "star.duckdb"
    build.build(raw_dir=raw, db_path=db)
    return db


@pytest.fixture()
def notices_db(notices_build):
    con = duckdb.connect(str(notices_build), read_only=True)
    yield con
    con.close()


def test_notices_of_a_council_are_in_fct_notices_and_other_buyers_are_not(notices_db):
    rows = notices_db.execute(
        "select council_id, release_id, notice_type, notice_name from fct_notices order by release_id"
    ).fetchall()
    assert [r[1] for r in rows] == [f"00090{n}-202{5 + (n == 7)}" for n in (1, 2, 3, 4, 6, 7, 8)]
    assert {r[0] for r in rows} == {"trafford"}
    assert rows[3][2:] == ("UK7", "Contract details notice")
    assert rows[5][2:] == ("UK9", "Contract performance notice")
    ledger = notices_db.execute(
        "select rows_read, rows_loaded, rows_rejected, message from file_ledger where dataset = 'notices'"
    ).fetchone()
    assert ledger[:3] == (8, 7, 1)


def test_the_same_contract_in_register_and_notices_is_one_contract(notices_db):
    rows = notices_db.execute(
        "select contract_ref, source, ocid, company_number from fct_contracts where council_id = 'trafford' order by contract_ref"
    ).fetchall()
    assert rows == [
        ("TC-001", "both", "ocds-h6vhtk-0000a1", "07654321"),
        ("TC-002", "both", "ocds-h6vhtk-0000a2", "01111111"),
        ("ocds-h6vhtk-0000a3-contract-1", "notices", "ocds-h6vhtk-0000a3", "02222222"),
        ("ocds-h6vhtk-0000a5-contract-1", "notices", "ocds-h6vhtk-0000a5", "02222222"),
        ("ocds-h6vhtk-0000a6-contract-1", "notices", "ocds-h6vhtk-0000a6", "02222222"),
    ]
    how = notices_db.execute("select contract_id, match_rule from map_contract_notices order by contract_id").fetchall()
    assert how == [("trafford:TC-001", "reference"), ("trafford:TC-002", "supplier, value and dates")]


def test_data_quality_counts_contracts_by_source(notices_db):
    rows = notices_db.execute(
        "select council_id, count_register_only, count_notices_only, count_both from mart_contract_sources_by_council "
        "where council_id in ('trafford', 'stockport') order by council_id"
    ).fetchall()
    assert rows == [("stockport", 2, 0, 0), ("trafford", 0, 3, 2)]


def test_company_numbers_from_notices_feed_supplier_matching(notices_db):
    row = notices_db.execute(
        "select supplier_group from map_supplier_names where council_id = 'trafford' and supplier_name = 'Newco Care Ltd'"
    ).fetchone()
    assert row == ("CO:02222222",)


def _act_scope():
    from starviz import queries
    from starviz.scope import Filters, User

    return queries.Scope(Filters(councils=("trafford",), period="fy", fy="2025-26"), User("director", "Director", "admin"))


@pytest.fixture()
def act_env(notices_build, monkeypatch):
    monkeypatch.setenv("STARVIZ_DB", str(notices_build))
    config.settings.cache_clear()
    yield
    config.settings.cache_clear()


def test_procurement_act_duties_are_judged_against_the_notices_published(act_env):
    from starviz import queries

    duties = queries.act_notice_duties(_act_scope(), today=D(2026, 6, 1))
    got = list(duties[["notice_type", "financial_year", "contract_title", "due_date", "notice_status"]].itertuples(index=False))
    assert [(t, fy, title, due.date(), status) for t, fy, title, due, status in got] == [
        ("UK7", "2024-25", "Waste", D(2025, 3, 30), "on time"),  # 30 days beginning with the start
        ("UK11", "2025-26", "Survey", D(2025, 10, 29), "missing"),  # ended 30 September, no notice
        ("UK7", "2025-26", "Survey", D(2025, 4, 30), "late"),  # published 15 May
        ("UK7", "2025-26", "Home care", D(2025, 6, 30), "on time"),
        ("UK9", "2025-26", "Waste", D(2026, 3, 1), "on time"),  # over £5m: every 12 months
        ("UK9", "2026-27", "Waste", D(2027, 3, 1), "not yet due"),
    ]
    # contracts entered into before the Act (TC-001, TC-002) owe none of its notices
    assert not duties["contract_ref"].isin(["TC-001", "TC-002"]).any()


def test_a_council_over_the_spend_threshold_owes_a_pipeline_notice_by_26_may(act_env, monkeypatch):
    from starviz import queries

    real = config.settings()
    low = real.model_copy(update={"pipeline": real.pipeline.model_copy(update={"procurement_act_annual_spend_gbp": 0})})
    patched = lambda: low  # noqa: E731
    patched.cache_clear = lambda: None
    monkeypatch.setattr(config, "settings", patched)
    duties = queries.act_notice_duties(_act_scope(), today=D(2026, 6, 1))
    pipeline = duties[duties["notice_type"] == "UK1"]
    assert [
        (fy, due.date(), status)
        for fy, due, status in pipeline[["financial_year", "due_date", "notice_status"]].itertuples(index=False)
    ] == [
        ("2025-26", D(2025, 5, 26), "missing"),
    ]


def test_compliance_summary_counts_per_council_year_and_notice_type(act_env):
    from starviz import queries

    summary = queries.act_compliance(_act_scope(), today=D(2026, 6, 1))
    row = summary[(summary["financial_year"] == "2025-26") & (summary["notice_type"] == "UK7")].iloc[0]
    assert (row["count_expected"], row["count_published"], row["count_on_time"], row["count_late"], row["count_missing"]) == (
        2,
        2,
        1,
        1,
        0,
    )


def _mixed_package(tmp_path: Path) -> Path:
    """Four releases: one good (Trafford, by name), one without an OCID, one of notice type UK99,
    one of a buyer that is no configured council."""
    buyer = fts.Org("Trafford Council", "GB-PPON", "PXXX-1234-ABCD")  # a PPON no council has: matched by name
    good = fts.release(_procurement(buyer), "UK4", "000601-2025", D(2025, 5, 1))
    no_ocid = dict(good, id="000602-2025")
    del no_ocid["ocid"]
    odd_type = fts.release(_procurement(buyer, "ocds-h6vhtk-00d002"), "UK4", "000603-2025", D(2025, 5, 2))
    odd_type["tender"]["documents"][0]["noticeType"] = "UK99"
    elsewhere = fts.release(_procurement(OTHER_BUYER, "ocds-h6vhtk-00d003"), "UK4", "000604-2025", D(2025, 5, 3))
    return _write(tmp_path / "mixed.json", fts.package([good, no_ocid, odd_type, elsewhere], D(2025, 5, 3)))


def test_check_reads_a_notice_file_as_the_build_does(tmp_path):
    path = _mixed_package(tmp_path)
    summary, rejects = loader.check_file(path, config.load_councils())
    assert (summary.dataset, summary.status, summary.rows_read, summary.rows_loaded, summary.rows_rejected) == (
        "notices",
        "loaded",
        4,
        2,
        2,
    )
    assert summary.problems == 3
    assert rejects == [
        ("mixed.json", 2, "ocid", None, "release 000602-2025: release has no OCID", "rejected"),
        (
            "mixed.json",
            3,
            "noticeType",
            "UK99",
            "release ocds-h6vhtk-00d002 / 000603-2025: unknown notice type (expected UK1 to UK17)",
            "warning",
        ),
        (
            "mixed.json",
            4,
            "buyer",
            "Borsetshire County Council",
            "release ocds-h6vhtk-00d003 / 000604-2025: buyer is no configured council (GB-PPON-PBOR-9999-ZZZZ):"
            " 1 release not loaded",
            "skipped",
        ),
    ]
    # a ZIP of two copies: each member is read (and the second repeats the first's releases)
    archive = tmp_path / "two.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(path, "a.json")
        zf.write(path, "b.json")
    summary, _ = loader.check_file(archive, config.load_councils(), limit=1)
    assert (summary.rows_read, summary.rows_loaded) == (8, 2)  # the two loadable releases, once, from b.json
    # a file that is no package fails with its reason, nothing raised
    bad = tmp_path / "bad.json"
    bad.write_text('{"releases": 3}')
    summary, rejects = loader.check_file(bad, config.load_councils())
    assert (summary.status, summary.message, rejects) == ("failed", "bad.json: field releases: not a list of releases", [])


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "starviz", *args], cwd=config.ROOT, capture_output=True, text=True, timeout=120)


def test_check_command_reports_notice_problems_one_line_each(tmp_path):
    path = _mixed_package(tmp_path)
    done = _cli("check", str(path), "--dataset", "notices")
    assert done.returncode == 0 and done.stderr == ""
    assert done.stdout.splitlines() == [
        "mixed.json: 2 of 4 releases loaded; releases of 1 buyer that is no configured council not loaded",
        "  mixed.json (#2) field 'ocid': release 000602-2025: release has no OCID (rejected)",
        "  mixed.json (#3) field 'noticeType' value 'UK99': release ocds-h6vhtk-00d002 / 000603-2025:"
        " unknown notice type (expected UK1 to UK17) (warning)",
        "  mixed.json (#4) field 'buyer' value 'Borsetshire County Council': release ocds-h6vhtk-00d003 / 000604-2025:"
        " buyer is no configured council (GB-PPON-PBOR-9999-ZZZZ): 1 release not loaded (skipped)",
    ]
    out = json.loads(_cli("check", str(path), "--dataset", "notices", "--council", "trafford", "--json").stdout)
    assert (out["council_id"], out["rows_read"], out["rows_loaded"]) == ("trafford", 4, 2)
    assert [(r["row"], r["column"], r["severity"]) for r in out["rejects"]] == [
        (2, "ocid", "rejected"),
        (3, "noticeType", "warning"),
        (4, "buyer", "skipped"),
    ]
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    done = _cli("check", str(bad), "--dataset", "notices")
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr == "bad.json: not valid JSON (line 1, column 2: Expecting property name enclosed in double quotes)\n"
    done = _cli("check", str(bad), "--dataset", "spend")
    assert (done.returncode, done.stderr) == (2, "--council is required for spend (a notice file names its buyers itself)\n")


def test_freshness_has_each_councils_notices_by_their_latest_publication(act_env):
    from starviz import queries
    from starviz.scope import Filters, User

    df = queries.freshness(_act_scope(), today=D(2026, 3, 3)).set_index(["council", "dataset"])
    row = df.loc[("Trafford", "notices")]
    # Trafford's seven notices came in one file; the latest published is the UK9 of 1 Feb 2026
    assert (row["latest_file"], row["last_date"], row["count_files"], row["rows_loaded"], row["count_failed"]) == (
        "fts-2025.json",
        pd.Timestamp("2026-02-01"),
        1,
        7,
        0,
    )
    # 1 February to 3 March 2026: 28 + 2 days, within the 45 configured
    assert (row["days_old"], row["age"], row["is_stale"]) == (30, "30 days", False)
    later = queries.freshness(_act_scope(), today=D(2026, 3, 19)).set_index(["council", "dataset"])
    assert (later.loc[("Trafford", "notices"), "days_old"], later.loc[("Trafford", "notices"), "is_stale"]) == (46, True)
    # the notices of a council a user may not see are not in the user's table
    stockport = queries.Scope(
        Filters(councils=("stockport",), period="fy", fy="2025-26"), User("analyst", "Analyst", "analyst", ("stockport",))
    )
    assert "notices" not in set(queries.freshness(stockport, today=D(2026, 3, 3))["dataset"])
