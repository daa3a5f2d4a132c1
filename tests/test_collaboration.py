"""Collaboration questions on the pipeline fixture build (see tests/fixtures/extracts.py), today
pinned to 15 June 2025. Every expected number is worked out by hand from the fixture rows."""

from __future__ import annotations

import datetime as dt

import pytest

from starviz import queries
from starviz.scope import Filters, User
from tests.conftest import ALL

TODAY = dt.date(2025, 6, 15)
DIRECTOR = User("director", "Director", "admin")
BOARD = User("board", "Board", "viewer")
TRAFFORD = User("trafford.officer", "Officer", "analyst", ("trafford",))
ABC, CARE, PAPER = "Sabd86ca311", "Sfc2388b612", "S3cdd114256"


@pytest.fixture(autouse=True)
def _db(pipeline_env):
    yield


def _scope(user=DIRECTOR, councils=ALL):
    return queries.Scope(Filters(councils=councils, period="fy", fy="2025-26", all_councils=councils == ALL), user)


def test_common_suppliers_are_paid_by_two_councils_and_say_who_holds_a_contract():
    df = queries.common_suppliers(_scope(), today=TODAY).set_index("supplier_id")
    # Long Name Care: Tameside 7,000, Stockport 3,000, Trafford 2,000; ABC: 1,000 + 1,200.50 + 2,000 + 1,300
    # Widget Supplies is paid by Trafford (750) and credited by Tameside (-120): one council, not common
    assert df.index.tolist() == [CARE, ABC]
    assert df.loc[CARE, "spend_gbp"] == pytest.approx(12_000)
    assert df.loc[ABC, "spend_gbp"] == pytest.approx(5_500.5)
    assert df.loc[ABC, "count_councils"] == 4 and df.loc[CARE, "count_councils"] == 3
    # the STAR framework covers Trafford and Stockport: a collaborative contract counts for them;
    # Tameside has no contracts register loaded, so whether it holds one is not known: not "none"
    assert df.loc[CARE, ["trafford_contract", "stockport_contract", "tameside_contract"]].tolist() == [
        "STAR, to Mar 2027",
        "STAR, to Mar 2027",
        "no data",
    ]
    # TC-001 ended in April 2025 but runs in its extension to March 2026
    assert df.loc[ABC, "trafford_contract"] == "to Mar 2026"
    assert df.loc[ABC, "count_councils_with_contract"] == 1
    assert df.loc[CARE, "rochdale_spend_gbp"] == 0  # Rochdale's spend is loaded: it paid them nothing
    assert df.loc[ABC, "rochdale_contract"] == "none"  # and its register is loaded: it holds none


def test_common_suppliers_narrow_by_name_and_minimum():
    assert queries.common_suppliers(_scope(), queries.ListFilter(search="abc"), today=TODAY)["supplier_id"].tolist() == [ABC]
    assert queries.common_suppliers(_scope(), queries.ListFilter(min_gbp=6_000), today=TODAY)["supplier_id"].tolist() == [CARE]


def test_a_single_council_scope_has_no_common_suppliers():
    assert queries.common_suppliers(_scope(TRAFFORD, ("trafford",)), today=TODAY).empty


def test_common_categories_need_two_councils_and_two_suppliers():
    df = queries.common_categories(_scope())
    # Works: ABC at all four and Bolt Builders at Rochdale. Care has one supplier; Stationery one council.
    assert df["category"].tolist() == ["Works - Construction, Repair & Maintenance"]
    row = df.iloc[0]
    assert row["spend_gbp"] == pytest.approx(65_500.5)
    assert (row["count_councils"], row["count_suppliers"], row["count_shared_suppliers"]) == (4, 2, 1)
    assert (row["rochdale_spend_gbp"], row["rochdale_suppliers"]) == (pytest.approx(61_000), 2)


def test_expiry_alignment_groups_contracts_of_different_councils_due_within_the_window():
    df = queries.expiry_alignment(_scope(), today=TODAY)
    # Works: Stockport SC-101 due Jan 2026; Trafford TC-001 in its extension, due Mar 2026;
    # Rochdale RC-001 due Jun 2027, 17 months after SC-101
    assert len(df) == 1
    row = df.iloc[0]
    assert row["contract_id"] == "stockport:SC-101"
    assert (row["count_owners"], row["count_contracts"], row["owners"]) == (2, 2, "Stockport, Trafford")
    assert row["value_gbp"] == pytest.approx(130_000)
    assert row["saving_gbp"] == pytest.approx(130_000 * 0.05)
    assert (row["first_due_date"], row["last_due_date"]) == (dt.date(2026, 1, 31), dt.date(2026, 3, 31))


def test_a_wider_alignment_window_brings_in_the_third_council():
    row = queries.expiry_alignment(_scope(), window_months=18, today=TODAY).iloc[0]
    assert (row["count_owners"], row["value_gbp"]) == (3, pytest.approx(330_000))


def test_aligned_contracts_of_a_contract_are_other_councils_within_the_window():
    df = queries.aligned_contracts(_scope(), "stockport:SC-101", today=TODAY)
    assert df["contract_id"].tolist() == ["trafford:TC-001"]
    assert df["months_apart"].tolist() == [2]


def test_leakage_by_supplier_is_off_contract_spend_where_a_partner_or_star_holds_a_live_contract():
    df = queries.partner_contract_leakage(_scope())
    # Stockport and Rochdale pay ABC off contract while Trafford's TC-001 runs in its extension. Trafford's
    # own expired contracts match nothing. Tameside (Long Name Care 7,000, ABC 2,000) has no contracts of its
    # own loaded: whether it pays them off contract is not known, so it is not listed as leakage.
    assert list(zip(df["council"], df["supplier_id"], df["off_contract_gbp"], strict=True)) == [
        ("Stockport", ABC, pytest.approx(1_200.5)),
        ("Rochdale", ABC, pytest.approx(1_000)),
    ]
    assert df.iloc[0]["partner_contracts"] == "Trafford TC-001"


def test_leakage_by_category_counts_each_months_spend_once():
    df = queries.partner_contract_leakage(_scope(), match="category")
    works = "Works - Construction, Repair & Maintenance"
    care = "Social Community Care Supplies & Services"
    assert list(zip(df["council"], df["category"], df["off_contract_gbp"], df["count_partner_contracts"], strict=True)) == [
        ("Rochdale", works, pytest.approx(61_000), 2),  # ABC 1,000 + Bolt 60,000; TC-001 and SC-101, not its own RC-001
        ("Stockport", works, pytest.approx(1_200.5), 2),
    ]  # Tameside's care and works spend: no contracts of its own loaded, so not known to be off contract
    assert care not in set(df["category"])


def test_leakage_never_shows_a_council_outside_the_users_scope():
    df = queries.partner_contract_leakage(_scope(TRAFFORD, ALL))
    assert df.empty  # Trafford's off-contract spend (Office Chairs, Widget) matches no partner contract it can see


def test_a_supplier_outside_the_users_councils_cannot_be_opened():
    assert queries.supplier_profile(_scope(TRAFFORD, ("trafford",)), PAPER) is None
    assert queries.supplier_profile(_scope(), PAPER)["supplier_name"] == "Paper Partners Ltd"
    assert queries.contract_profile(_scope(TRAFFORD, ("trafford",)), "rochdale:RC-001", TODAY) is None
    star = queries.contract_profile(_scope(TRAFFORD, ("trafford",)), "star:STAR-001", TODAY)
    # spend against the STAR contract counts only the councils the user sees (Trafford 2,000, not Stockport's 3,000)
    assert star["spend_to_date_gbp"] == pytest.approx(2_000)


def test_viewers_get_supplier_totals_but_no_payment_lines():
    assert queries.supplier_payments(_scope(BOARD), ABC) is None
    lines = queries.supplier_payments(_scope(), ABC)
    assert len(lines) == 6 and lines["amount_gbp"].sum() == pytest.approx(5_500.5)
    by_council = queries.supplier_spend_by_council(_scope(BOARD), ABC).set_index("council")
    assert by_council.loc["Trafford", "on_contract_gbp"] == pytest.approx(1_300)
    # Tameside's 2,000 with ABC: no contracts of its own loaded, so neither on nor off contract is known
    assert by_council.loc["Tameside", "spend_gbp"] == pytest.approx(2_000)
    assert by_council[["on_contract_gbp", "off_contract_gbp"]].loc["Tameside"].isna().all()


def test_category_suppliers_rank_the_categorys_suppliers():
    df = queries.category_suppliers(_scope(), "Works - Construction, Repair & Maintenance", TODAY)
    assert df["supplier_id"].tolist() == ["S00bd54903c", ABC]  # Bolt Builders 60,000; ABC 5,500.50
    assert df["spend_gbp"].tolist() == [pytest.approx(60_000), pytest.approx(5_500.5)]
    assert df.iloc[1]["count_councils"] == 4 and df.iloc[1]["trafford_contract"] == "to Mar 2026"
    assert df.iloc[0]["rochdale_contract"] == "none" and df.iloc[0]["stockport_spend_gbp"] == 0
