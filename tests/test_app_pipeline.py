"""The collaboration and pipeline pages through AppTest, per role, on the pipeline fixture build."""

from __future__ import annotations

import pytest

from tests.conftest import run_app

COLLAB, PIPELINE = "pages/collaboration.py", "pages/pipeline.py"
CARE, PAPER = "Sfc2388b612", "S3cdd114256"


def _frames(at) -> list:
    return [d.value for d in at.dataframe]


def _warnings(at) -> str:
    return " ".join(w.value for w in at.warning)


@pytest.mark.parametrize("username", ["director", "category.manager", "board"])
def test_collaboration_page_shows_the_four_lists_with_links(pipeline_env, username):
    at = run_app(username, page=COLLAB, fy="2025-26")
    assert not at.exception, at.exception
    assert at.title[0].value == "Collaborative opportunities"
    switch = at.get("button_group")[0]  # tabs in the address, only the open one computed
    assert switch.proto.options and [o.content for o in switch.proto.options] == [
        "Common suppliers",
        "Common categories",
        "Expiry alignment",
        "Partner-contract leakage",
    ]
    suppliers = _frames(at)[0]
    # the supplier name is a link back to this page on that supplier, the filters kept
    assert suppliers["supplier_name"].iloc[0].startswith(f"?fy=2025-26&supplier={CARE}#")
    tables = [b for b in at.get("download_button") if b.label in ("CSV", "Excel")]
    assert len(tables) == 2 * len(at.dataframe) >= 2  # CSV and Excel under the list shown


def test_a_council_scoped_user_is_told_collaboration_needs_two_councils(pipeline_env):
    at = run_app("trafford.officer", page=COLLAB, fy="2025-26")
    assert not at.exception
    assert any("two or more councils" in i.value for i in at.info)
    assert len(at.dataframe) == 0


def test_a_supplier_link_opens_its_detail(pipeline_env):
    at = run_app("director", page=COLLAB, fy="2025-26", supplier=CARE)
    assert not at.exception, at.exception
    assert at.header[0].value == "Long Name Care Services Northwest Ltd"
    assert at.query_params["supplier"] == CARE and at.query_params["fy"] == "2025-26"
    by_council = _frames(at)[0]
    assert set(by_council["council"]) == {"Stockport", "Tameside", "Trafford"}


def test_viewers_get_no_payment_lines_in_a_supplier_detail(pipeline_env):
    board = run_app("board", page=COLLAB, fy="2025-26", supplier=CARE)
    assert not board.exception
    assert any("not individual payments" in i.value for i in board.info)
    director = run_app("director", page=COLLAB, fy="2025-26", supplier=CARE)
    assert any("payment_date" in f.columns for f in _frames(director))


def test_a_link_to_another_councils_supplier_is_ignored_with_a_notice(pipeline_env):
    at = run_app("trafford.officer", page=COLLAB, fy="2025-26", supplier=PAPER)
    assert not at.exception
    assert "Ignored supplier=" in _warnings(at)
    assert "supplier" not in at.query_params


def test_a_malformed_detail_link_is_ignored_with_a_notice(pipeline_env):
    at = run_app("director", page=PIPELINE, contract="not a contract")
    assert not at.exception
    assert "Ignored contract=" in _warnings(at)
    assert at.title[0].value == "Contract pipeline" and len(at.get("button_group")[0].proto.options) == 6


@pytest.mark.parametrize("username", ["director", "category.manager", "board", "trafford.officer"])
def test_pipeline_page_renders_for_every_role(pipeline_env, username):
    at = run_app(username, page=PIPELINE)
    assert not at.exception, at.exception
    assert at.title[0].value == "Contract pipeline"
    assert [o.content for o in at.get("button_group")[0].proto.options] == [
        "Timeline",
        "Start-by dates",
        "Work planning",
        "Procurement Act pipeline notice",
        "Procurement Act notices",
        "Exception reports",
    ]
    assert len(at.metric) >= 5  # one card per bucket
    assert not at.get("selectbox") or "exceptions-month" not in [b.key for b in at.selectbox]  # only the open view runs
    at = run_app(username, page=PIPELINE, tab="Exception reports")  # a view opened from the address
    assert not at.exception, at.exception
    assert at.selectbox(key="exceptions-month").value.isoformat() == "2025-05-01"  # the latest month loaded


def test_a_trafford_officer_sees_only_trafford_and_star_contracts(pipeline_env):
    covers = set()
    for view in [
        "Timeline",
        "Start-by dates",
        "Work planning",
        "Procurement Act pipeline notice",
        "Procurement Act notices",
        "Exception reports",
    ]:
        at = run_app("trafford.officer", page=PIPELINE, tab=view)
        assert not at.exception
        for frame in _frames(at):
            if "council" in frame.columns:
                assert set(frame["council"]) <= {"Trafford", "STAR"}
            if "covers" in frame.columns:
                covers |= set(frame["covers"])
    assert covers == {"", "Trafford"}  # STAR-001 also covers Stockport; blank for contracts that are not STAR's


def test_exception_reports_switch_and_viewers_do_not_get_split_order_lines(pipeline_env):
    director = run_app("director", page=PIPELINE, tab="Exception reports")
    director.radio(key="exceptions-report").set_value("split").run()
    assert not director.exception
    assert any("Possible split orders" in s.value for s in director.subheader)
    assert len(director.expander) == 1  # the payments behind them
    board = run_app("board", page=PIPELINE, tab="Exception reports")
    board.radio(key="exceptions-report").set_value("split").run()
    assert not board.exception
    assert len(board.expander) == 0
    for report in ("off", "unused", "fields", "expired"):
        board.radio(key="exceptions-report").set_value(report).run()
        assert not board.exception, report


def test_a_contract_link_opens_its_detail_on_the_pipeline_page(pipeline_env):
    at = run_app("director", page=PIPELINE, contract="trafford:TC-001")
    assert not at.exception, at.exception
    assert at.header[0].value == "Building repairs"
    assert at.button(key="close-contract")
