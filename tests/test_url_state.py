"""Page choices kept in the address (issue 17 item 7): a link reopens the same view. Per page: opening with
?key=value shows that view, choosing a value puts it in the address (and a filter change keeps it), and a value
that is not an option falls back to the default without an error."""

from __future__ import annotations

import pytest

from tests.conftest import run_app

# page, address key, widget kind, widget key, a value that is not the default, the default, another value
CASES = [
    ("pages/social_value.py", "by", "segmented_control", "sv_by", "theme", "council", "supplier"),
    ("pages/maturity.py", "council", "segmented_control", "maturity_council", "trafford", "stockport", "rochdale"),
    ("pages/kpis.py", "by", "segmented_control", "kpi_group_by", "objective", "perspective", "objective"),
]


def _widget(at, kind: str, key: str):
    return getattr(at, kind)(key=key)


@pytest.mark.parametrize(("page", "param", "kind", "key", "value", "default", "other"), CASES)
def test_a_choice_in_the_address_opens_that_view(app_env, page, param, kind, key, value, default, other):
    at = run_app("director", page=page, fy="all", **{param: value})
    assert not at.exception, at.exception
    assert _widget(at, kind, key).value == value
    assert at.query_params[param] == value


@pytest.mark.parametrize(("page", "param", "kind", "key", "value", "default", "other"), CASES)
def test_a_choice_made_goes_into_the_address_and_stays_beside_the_filters(app_env, page, param, kind, key, value, default, other):
    at = run_app("director", page=page, fy="all")
    assert param not in at.query_params  # the default is left out of the link, as ui.url_value does
    _widget(at, kind, key).set_value(value).run()
    assert at.query_params[param] == value
    # The shared filters rewrite the whole address on every run (the sidebar is out of AppTest's reach
    # here; tests/test_spend_pages.py flips the addressable filter): the choice stays beside them.
    at.run()
    assert not at.exception, at.exception
    assert at.query_params["fy"] == "all"
    assert at.query_params[param] == value
    assert _widget(at, kind, key).value == value
    _widget(at, kind, key).set_value(default).run()  # back to the default: out of the link again
    assert param not in at.query_params and at.query_params["fy"] == "all"


@pytest.mark.parametrize(("page", "param", "kind", "key", "value", "default", "other"), CASES)
def test_a_garbage_choice_in_the_address_falls_back_to_the_default(app_env, page, param, kind, key, value, default, other):
    at = run_app("director", page=page, fy="all", **{param: "<b>nonsense"})
    assert not at.exception, at.exception
    assert _widget(at, kind, key).value == default
    assert param not in at.query_params


def test_the_kpi_trend_group_is_in_the_address(app_env):
    at = run_app("board", page="pages/kpis.py", by="objective", group="Partnership")
    assert not at.exception, at.exception
    assert at.segmented_control(key="kpi_trend_objective").value == "Partnership"
    at = run_app("board", page="pages/kpis.py", by="objective", group="Nope")
    assert at.segmented_control(key="kpi_trend_objective").value == "Prosperity"
    assert "group" not in at.query_params  # the default, left out of the link


def test_the_exception_report_month_and_workload_measure_are_in_the_address(pipeline_env):
    page = "pages/pipeline.py"
    at = run_app("director", page=page, tab="Exception reports", report="split", month="2025-04-01")
    assert not at.exception, at.exception
    assert at.radio(key="exceptions-report").value == "split"
    assert at.selectbox(key="exceptions-month").value.isoformat() == "2025-04-01"
    at.radio(key="exceptions-report").set_value("off").run()
    assert at.query_params["report"] == "off"
    at = run_app("director", page=page, tab="Exception reports", report="zzz", month="1999-13-01")
    assert not at.exception, at.exception
    assert at.radio(key="exceptions-report").value == "expired"
    assert at.selectbox(key="exceptions-month").value.isoformat() == "2025-05-01"  # the latest month loaded
    at = run_app("director", page=page, tab="Work planning", load="effort")
    assert not at.exception, at.exception
    assert at.radio(key="workload-measure").value == "effort"
    at.radio(key="workload-measure").set_value("value_gbp").run()
    assert at.query_params["load"] == "value_gbp"


# page, tab, widget kind, widget key, address key, value set, its text in the address
WIDGETS = [
    ("pages/social_value.py", None, "toggle", "sv_all", "every", True, "1"),
    ("pages/data_quality.py", "Rejected rows", "multiselect", "dq_sev", "severity", ["skipped"], "skipped"),
    ("pages/data_quality.py", "Coverage and freshness", "segmented_control", "dq_dataset", "dataset", "contracts", "contracts"),
    ("pages/collaboration.py", "Expiry alignment", "toggle", "align-sub", "by_sub", True, "1"),
    ("pages/collaboration.py", "Expiry alignment", "slider", "align-window", "within", 7, "7"),
    ("pages/collaboration.py", "Partner-contract leakage", "radio", "leak-match", "match", "category", "category"),
    (
        "pages/collaboration.py",
        "Common suppliers",
        "text_input",
        "common-suppliers-search",
        "common_suppliers_search",
        "ltd",
        "ltd",
    ),
    ("pages/pipeline.py", "Timeline", "slider", "gantt-n", "top", 12, "12"),
    ("pages/pipeline.py", "Start-by dates", "multiselect", "rag-filter", "status", ["late", "due"], ["late", "due"]),
    (
        "pages/collaboration.py",
        "Common suppliers",
        "number_input",
        "common-suppliers-min",
        "common_suppliers_min",
        10000,
        "10000",
    ),
]


@pytest.mark.parametrize(("page", "tab", "kind", "key", "param", "value", "text"), WIDGETS)
def test_every_view_choice_goes_into_the_address_and_a_link_reopens_it(app_env, page, tab, kind, key, param, value, text):
    tab_param = {"tab": tab} if tab else {}
    at = run_app("director", page=page, fy="all", **tab_param)
    assert not at.exception, at.exception
    assert at.query_params.get(param) != text  # not yet chosen
    _widget(at, kind, key).set_value(value).run()
    assert not at.exception, at.exception
    assert at.query_params[param] == text
    again = run_app("director", page=page, fy="all", **tab_param, **{param: text})
    assert not again.exception, again.exception
    assert _widget(again, kind, key).value == value
    bad = run_app("director", page=page, fy="all", **tab_param, **{param: "<b>x"})
    assert not bad.exception, bad.exception


def _many_script():
    import streamlit as st

    from starviz import ui

    chosen = ui.url_value(
        st.multiselect, "Categories", "cats", key="cats", default=[], many=True, options=["Care | Support", "Other", "Waste"]
    )
    st.write(repr(chosen))


def test_many_values_in_the_address_may_hold_any_character():
    # A category named "Care | Support" was split in two when values were joined with "|" in one
    # parameter, so a shared link reopened the list unfiltered; each value is now a parameter of its own.
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(_many_script)
    at.run()
    at.multiselect(key="cats").set_value(["Care | Support", "Waste"]).run()
    assert at.query_params["cats"] == ["Care | Support", "Waste"]
    again = AppTest.from_function(_many_script)
    again.query_params["cats"] = ["Care | Support", "Waste"]
    again.run()
    assert not again.exception, again.exception
    assert again.multiselect(key="cats").value == ["Care | Support", "Waste"]
