"""The spend and benchmarking pages through Streamlit's AppTest, for each role, on the fixture build."""

from __future__ import annotations

import pytest

from starviz import config, cube, queries, spend_view
from starviz.scope import Filters, User
from tests.conftest import ALL, partners_without_files, run_app

ROLES = ["director", "category.manager", "board", "trafford.officer"]
USERS = {
    "category.manager": User("category.manager", "Category Manager", "analyst"),
    "board": User("board", "Board Member", "viewer"),
}


def _frames(at) -> list:
    return [d.value for d in at.dataframe]


@pytest.mark.parametrize("username", ROLES)
def test_each_role_opens_the_spend_page(app_env, username):
    at = run_app(username, page="pages/spend.py")
    assert not at.exception, at.exception
    assert at.title[0].value == "Spend"
    assert [m.label for m in at.metric] == ["Addressable spend", "Lines", "Suppliers", "Average line value"]
    pivot = _frames(at)[0]
    assert pivot.columns[0] == "Category (ProClass level 1)" and pivot.iloc[-1, 0] == "Total"
    councils = [c for c in pivot.columns[1:] if c != "Total"]
    assert councils == (["Trafford"] if username == "trafford.officer" else ["Rochdale", "Stockport", "Tameside", "Trafford"])


@pytest.mark.parametrize("username", ROLES)
def test_each_role_opens_the_benchmarking_page(app_env, fixture_raw, username):
    at = run_app(username, page="pages/benchmarking.py")
    assert not at.exception, at.exception
    assert at.title[0].value == "Benchmarking"
    # the page opens on the ranking alone; coverage warnings stay above every view
    assert [s.value for s in at.subheader] == ["Each measure ranked"]
    if username == "trafford.officer":
        assert any("two or more councils" in i.value for i in at.info)
    else:  # the fixture councils have loaded different months: the page says so
        assert any("Months of spend loaded differ" in w.value for w in at.warning)
    at = run_app(username, page="pages/benchmarking.py", tab="All figures and coverage")
    assert not at.exception, at.exception
    assert [s.value for s in at.subheader] == ["Data coverage", "All figures"]
    coverage = _frames(at)[0]
    # every partner in scope, in configuration order, those with no data loaded too
    partners = [cc.short_name for cid, cc in config.load_councils().items() if cid in ALL]
    expected = ["Trafford"] if username == "trafford.officer" else partners
    assert coverage["council"].tolist() == expected
    figures = _frames(at)[1]  # the councils with spend to compare: none from a partner without a file yet
    assert set(figures["council"]) == set(expected) - {cc.short_name for cc in partners_without_files(fixture_raw).values()}


def test_the_view_is_read_from_the_link_and_written_back(app_env):
    at = run_app("director", page="pages/spend.py", rows="council", cols="contract", measure="count_lines")
    assert not at.exception
    pivot = _frames(at)[0]
    # Rochdale and Tameside have no contracts of their own loaded: their lines are neither on nor off
    assert pivot.columns.tolist() == ["Council", "On contract", "Off contract", "Unknown (no contracts loaded)", "Total"]
    assert pivot["Total"].iloc[-1] == 10  # addressable lines in 2025-26
    assert at.query_params["rows"] == "council" and at.query_params["measure"] == "count_lines"


def test_a_selection_in_the_link_filters_the_whole_page(app_env):
    at = run_app("director", page="pages/spend.py", sel_category="Works - Construction, Repair & Maintenance")
    assert not at.exception
    assert at.metric[0].value == "£5,500"
    # the selection, as a button that removes it (its label is Markdown-escaped text: shown without the backslashes)
    assert any("Works - Construction" in b.label.replace("\\", "") for b in at.button)
    lines = _frames(at)[1]  # no cell clicked: the lines behind the selection itself
    assert lines["amount_gbp"].sum() == pytest.approx(5500.5) and len(lines) == 6


def _select_cell(username: str, row: int, column: str, **params):
    """Open the spend page, then click one cell of its pivot (as the browser would report it)."""
    at = run_app(username, page="pages/spend.py", **params)
    filters = at.session_state["starviz_filters"]
    user = USERS.get(username) or User(username, username, "admin")
    pivot = queries.spend_pivot(queries.Scope(Filters(**{**filters.__dict__}), user), at.session_state["starviz_spend_view"])
    at.session_state[spend_view.pivot_key(pivot)] = {"selection": {"rows": [], "columns": [], "cells": [[row, column]]}}
    return at.run(), pivot


def test_an_analyst_drills_from_a_cell_to_its_lines(app_env):
    at, pivot = _select_cell("category.manager", 0, "Trafford")
    assert not at.exception, at.exception
    lines = _frames(at)[1]
    assert {"source_file", "source_row"} <= set(lines.columns)
    assert lines["amount_gbp"].sum() == pytest.approx(pivot.table["Trafford"].iloc[0])


def test_the_drilled_cell_goes_into_the_link_and_a_link_reopens_it(app_env):
    at, pivot = _select_cell("category.manager", 0, "Trafford")
    row, column = pivot.cell_params(0, "Trafford")
    assert (at.query_params["cell_row"], at.query_params["cell_col"]) == (row, column) == (pivot.rows[0].value, "trafford")
    clicked = _frames(at)[1]
    # the link opened afresh: the same lines, without a click
    again = run_app("category.manager", page="pages/spend.py", cell_row=row, cell_col=column)
    assert not again.exception, again.exception
    assert _frames(again)[1].equals(clicked)
    assert (again.query_params["cell_row"], again.query_params["cell_col"]) == (row, column)
    # a cell this table does not have: said, and out of the link
    gone = run_app("category.manager", page="pages/spend.py", cell_row="No such category", cell_col="trafford")
    assert not gone.exception, gone.exception
    assert "cell_row" not in gone.query_params
    assert any("cell the link named" in c.value for c in gone.caption)
    # another measure is another table: the cell goes from the link
    again.selectbox(key="cube_measure").set_value("count_lines").run()
    assert "cell_row" not in again.query_params


def test_a_board_viewer_drills_to_totals_per_supplier_not_to_lines(app_env):
    at, pivot = _select_cell("board", 0, "Trafford", addressable="0")
    assert not at.exception, at.exception
    assert pivot.table.iloc[0, 0] == "Not classified"  # the levy, HMRC, a redacted payment...
    detail = _frames(at)[1]
    assert "source_file" not in detail.columns
    assert "Redacted payments (shown only as a total)" in detail["supplier"].tolist()
    assert detail["spend_gbp"].sum() == pytest.approx(pivot.table["Trafford"].iloc[0])


@pytest.mark.parametrize("username", ROLES)
def test_each_role_opens_the_supplier_profile(app_env, username):
    at = run_app(username, page="pages/spend.py", profile="Sabd86ca311")
    at.session_state["tab"] = "Supplier profile"
    at.run()
    assert not at.exception, at.exception
    assert any(s.value == "ABC LTD" for s in at.subheader)
    variants = next(f for f in _frames(at) if "name_as_published" in f.columns)
    councils = set(variants["council"])
    assert councils == ({"Trafford"} if username == "trafford.officer" else {"Rochdale", "Stockport", "Tameside", "Trafford"})
    flags = {m.label: m.value for m in at.metric}
    assert (flags["Local (GM)"], flags["SME"], flags["VCSE"]) == ("Yes", "Yes", "No")


def test_the_excluded_spend_tab_breaks_the_exclusions_down_by_reason(app_env):
    at = run_app("director", page="pages/spend.py")
    at.session_state["tab"] = "Excluded spend"
    at.run()
    assert not at.exception, at.exception
    gone = _frames(at)[0]
    assert set(gone["exclusion_reason"]) == {"levies", "HMRC", "inter-authority", "pensions", "redacted personal data"}


def test_the_page_toggle_is_the_shared_addressable_filter(app_env):
    at = run_app("director", page="pages/spend.py")
    at.toggle(key="page_addressable").set_value(False).run()
    assert not at.exception
    assert at.session_state["starviz_filters"].addressable_only is False
    assert at.metric[0].label == "Spend"
    at.run()  # and it stays so on the next run
    assert at.session_state["starviz_filters"].addressable_only is False


def test_a_view_built_from_a_bad_link_shows_notices(app_env):
    at = run_app("director", page="pages/spend.py", rows="nonsense", measure="x")
    assert not at.exception
    assert sum("Ignored" in w.value for w in at.warning) == 2
    assert cube.View() == at.session_state["starviz_spend_view"]


def test_the_spend_view_is_in_the_address_and_survives_a_filter_change(app_env):
    at = run_app("director", page="pages/spend.py", tab="Excluded spend")
    assert not at.exception, at.exception
    assert at.segmented_control(key="tab").value == "Excluded spend"
    at.segmented_control(key="tab").set_value("Supplier profile").run()
    assert at.query_params["tab"] == "Supplier profile"
    at.toggle(key="page_addressable").set_value(not at.toggle(key="page_addressable").value).run()  # rewrites the filters
    assert not at.exception, at.exception
    assert at.query_params["tab"] == "Supplier profile"


def test_a_garbage_spend_view_in_the_address_falls_back_to_explore(app_env):
    at = run_app("director", page="pages/spend.py", tab="nonsense")
    assert not at.exception, at.exception
    assert at.segmented_control(key="tab").value == "Explore"
    assert "tab" not in at.query_params  # the default, left out of the link
