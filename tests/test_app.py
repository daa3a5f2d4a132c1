"""The app shell through Streamlit's AppTest: login gate, roles, council scope, URL filters."""

from __future__ import annotations

import pytest

from tests.conftest import run_app


def _as(username: str | None, **params: str):
    return run_app(username, **params)


def test_nothing_but_the_login_form_before_login(app_env):
    at = _as(None)
    assert not at.exception
    assert [t.value for t in at.title] == []
    assert len(at.text_input) == 2  # username and password
    assert at.metric.len == 0 and len(at.sidebar.multiselect) == 0


@pytest.mark.parametrize("username", ["director", "category.manager", "board", "trafford.officer"])
def test_each_role_reaches_the_overview(app_env, username):
    at = _as(username)
    assert not at.exception, at.exception
    assert at.title[0].value == "Overview"
    assert len(at.metric) == 9


def test_trafford_officer_asking_for_stockport_sees_only_trafford(app_env):
    at = _as("trafford.officer", councils="stockport")
    assert not at.exception
    assert at.session_state["starviz_filters"].councils == ("trafford",)
    assert any("stockport" in w.value for w in at.warning)
    councils_shown = at.dataframe[0].value["council"].tolist()
    assert councils_shown == ["Trafford"]


def test_filters_round_trip_through_query_params(app_env):
    at = _as("director", councils="trafford,rochdale", fy="2025-26", q="1", addressable="0")
    assert not at.exception
    f = at.session_state["starviz_filters"]
    # councils come back in display order: the same view, one canonical link
    assert f.councils == ("rochdale", "trafford")
    assert (f.period, f.fy, f.quarter, f.addressable_only) == ("quarter", "2025-26", 1, False)
    assert at.query_params["councils"] == "rochdale,trafford"
    assert at.query_params["q"] == "1" and at.query_params["addressable"] == "0"


def test_invalid_parameter_is_ignored_with_a_notice_not_an_exception(app_env):
    at = _as("director", fy="1999-00", q="9")
    assert not at.exception
    assert len(at.warning) >= 1
    assert at.title[0].value == "Overview"


def test_non_admins_cannot_open_import(app_env):
    at = _as("category.manager")
    assert not at.exception
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("pages/import_data.py")


def test_admin_opens_import(app_env):
    at = _as("director")
    at.switch_page("pages/import_data.py").run()
    assert not at.exception and not at.error
    assert at.title[0].value == "Import"
