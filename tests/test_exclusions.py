"""The reviewed exclusion list (data/reference/exclusions.csv): one test per spelling class, with
the spellings found in the real Stockport and Trafford ledgers, and the look-alikes that must stay
addressable."""

from __future__ import annotations

import duckdb
import pytest

from starviz import build, config, exclusions


@pytest.fixture(scope="module")
def con():
    con = duckdb.connect()
    build.create_sql(con, build.functions("supplier_key", "supplier_abbreviations", "supplier_initials", "supplier_text"))
    for statement in exclusions.macro_sql(exclusions.rules(config.ROOT / "data" / "reference")):
        con.execute(statement)
    return con


def reason(con, name: str, line_text: str | None = None) -> str | None:
    return con.execute("select exclusion_reason(supplier_key(?), ?)", [name, line_text]).fetchone()[0]


def test_every_rule_classifies_its_own_example(con):
    for rule in exclusions.rules(config.ROOT / "data" / "reference"):
        line_text = "FLOOD DEFENCE" if rule.purpose_pattern else None
        expected = None if rule.reason == exclusions.KEPT else rule.reason
        assert reason(con, rule.example, line_text) == expected, rule


@pytest.mark.parametrize(
    "name",
    [
        "GREATER MANCHESTER SUPERANN FUND",
        "Greater Manchester Pension Fund",
        "GMPF",
        "Tameside MBC Pension Fund",
        "Lancashire County Pension Fund",
        "TEACHERS PENSIONS",
        "NHS Pension Scheme",
        "PRUDENTIAL LIFE & PENSIONS",
    ],
)
def test_pension_funds_and_schemes_are_pensions(con, name):
    assert reason(con, name) == "pensions"


@pytest.mark.parametrize("name", ["HMRC CUMBERNAULD", "HMRC", "H.M. Revenue & Customs", "HM Revenue and Customs"])
def test_hmrc_spellings_are_hmrc(con, name):
    assert reason(con, name) == "HMRC"


@pytest.mark.parametrize(
    "name",
    [
        "Greater Manchester Combined Authori",
        "GREATER MANCHESTER COMBINED AUTHORITY",
        "Gtr Manchester Combined Authority",
        "GMCA",
        "G.M.C.A.",
        "GM Combined Authority",
    ],
)
def test_combined_authority_spellings_are_levies(con, name):
    assert reason(con, name) == "levies"


@pytest.mark.parametrize(
    "name", ["GREATER MANCHESTER WASTE DISPOSAL AUTHORITY", "Greater M/cr Waste Disposal Auth", "GMWDA", "GM Waste Ltd"]
)
def test_waste_disposal_spellings_are_levies(con, name):
    assert reason(con, name) == "levies"


@pytest.mark.parametrize("name", ["Transport for Greater Manchester Levy", "GMPTE", "GMCA Transport Levy"])
def test_transport_levies_are_levies(con, name):
    assert reason(con, name) == "levies"


def test_the_environment_agency_is_a_levy_only_for_flood_defence(con):
    assert reason(con, "Environment Agency", "FI:FLOOD DEFENCE LEV | FLOOD DEFENCE") == "levies"
    assert reason(con, "Environment Agency", "EXT ENG HIGHWAY | Design Support") is None
    assert reason(con, "Environment Agency") is None


def test_the_port_health_authority_precept_is_a_levy(con):
    assert reason(con, "Manchester Port Health Authority") == "levies"


@pytest.mark.parametrize(
    "name",
    [
        "Stockport Metropolitan Borough Council",
        "Knowsley Metropolitan Borough Counc",
        "Manchester City Council",
        "Bolton Metropolitan Borough Council",
        "Wigan Borough Council",
        "City of Salford",
        "Metropolitan Borough of Bury",
    ],
)
def test_gm_councils_by_designation_are_inter_authority(con, name):
    assert reason(con, name) == "inter-authority"


@pytest.mark.parametrize(
    "name", ["Rochdale M B C", "Tameside MBC", "Stockport Mbc", "Trafford M.B.C.", "Oldham BC", "Manchester CC", "SMBC"]
)
def test_gm_councils_by_initials_are_inter_authority(con, name):
    assert reason(con, name) == "inter-authority"


@pytest.mark.parametrize("name", ["Bolton Council", "Bury Council", "Oldham Council", "Wigan Council"])
def test_gm_councils_by_short_name_are_inter_authority(con, name):
    assert reason(con, name) == "inter-authority"


@pytest.mark.parametrize(
    "name", ["Stockport MBC (Accts Receiveable)", "Stockport MBC (Accts Receivable)", "Wigan Council (Accts Receivable)"]
)
def test_gm_councils_income_accounts_are_inter_authority(con, name):
    assert reason(con, name) == "inter-authority"


@pytest.mark.parametrize(
    "name",
    [
        "Greater Manchester Fire & Rescue Se",
        "GREATER MANCHESTER POLICE",
        "PCC for Greater Manchester",
        "GMCA GMUTC Other Work",
        "Transport for Greater Manchester",
        "TfGM T/A DriveSafe",
        "NHS Greater Manchester ICB",
        "NHS Trafford CCG",
    ],
)
def test_gm_public_bodies_are_inter_authority(con, name):
    assert reason(con, name) == "inter-authority"


@pytest.mark.parametrize(
    "name",
    [
        "Darlington Borough Council",
        "Lancashire County Council",
        "Barnsley MBC",
        "Sefton Council",
        "St Helens Metropolitan Borough",
        "Partington Parish Council",
        "Staffordshire CC (Highways Lab)",
        "Cheshire West & Chester Council",
    ],
)
def test_other_authorities_are_inter_authority(con, name):
    assert reason(con, name) == "inter-authority"


@pytest.mark.parametrize(
    "name",
    [
        "Pensions Management Institute",
        "Department For Work & Pensions",
        "Borough Care Ltd",
        "CC Childcare Limited",
        "Salford City College",
        "TRAFFORD METROPOLITAN UNISON",
        "Greater Manchester Mental Health NH",
        "Greater Manchester Travelcards Ltd",
        "Greater Manchester Youth Federation",
        "GM Poverty Action",
        "Manchester University NHS FT",
        "STOCKPORT HOMES LTD",
        "Council for Learning Outside Classr",
        "British Council",
        "Institute Of Revenues Rating & Valu",
        "Fresh Start Waste Services Ltd",
        "Connect Care Patient Transport Ltd",
        "The Financial Reporting Council",
    ],
)
def test_look_alikes_stay_addressable(con, name):
    assert reason(con, name) is None


def test_a_rule_that_does_not_compile_names_its_row_and_column(tmp_path):
    (tmp_path / exclusions.FILE).write_text(
        "pattern,reason,purpose_pattern,spelling_class,example,note\n^OK$,levies,,,,\n^(BROKEN,HMRC,,,,\n"
    )
    with pytest.raises(ValueError, match=r"exclusions.csv: row 3, column pattern"):
        exclusions.rules(tmp_path)
