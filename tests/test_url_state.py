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
    assert at.query_params[param] == default
    _widget(at, kind, key).set_value(value).run()
    assert at.query_params[param] == value
    # The shared filters rewrite the whole address on every run (the sidebar is out of AppTest's reach
    # here; tests/test_spend_pages.py flips the addressable filter): the choice stays beside them.
    at.run()
    assert not at.exception, at.exception
    assert at.query_params["fy"] == "all"
    assert at.query_params[param] == value
    assert _widget(at, kind, key).value == value


@pytest.mark.parametrize(("page", "param", "kind", "key", "value", "default", "other"), CASES)
def test_a_garbage_choice_in_the_address_falls_back_to_the_default(app_env, page, param, kind, key, value, default, other):
    at = run_app("director", page=page, fy="all", **{param: "<b>nonsense"})
    assert not at.exception, at.exception
    assert _widget(at, kind, key).value == default
    assert at.query_params[param] == default


def test_the_kpi_trend_group_is_in_the_address(app_env):
    at = run_app("board", page="pages/kpis.py", by="objective", group="Partnership")
    assert not at.exception, at.exception
    assert at.segmented_control(key="kpi_trend_objective").value == "Partnership"
    at = run_app("board", page="pages/kpis.py", by="objective", group="Nope")
    assert at.segmented_control(key="kpi_trend_objective").value == "Prosperity"
    assert at.query_params["group"] == "Prosperity"


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
