"""Procurement maturity (LGA National Procurement Strategy 2018): the extract each council publishes,
levels read as names or numbers, problems kept with their file and row, the latest assessment, gaps,
council scope, and the page as each role."""

from __future__ import annotations

import datetime as dt

import pytest

from starviz import config, demo, ingest, queries
from starviz.scope import Filters, User
from tests.conftest import ALL, run_app

DIRECTOR = User("director", "Director", "admin")
TRAFFORD = User("trafford.officer", "Officer", "analyst", ("trafford",))
TRAFFORD_FILE = "trafford/maturity/trafford-nps-maturity-2025-05.csv"


@pytest.fixture()
def fixture_db(fixture_build, monkeypatch):
    monkeypatch.setenv("STARVIZ_DB", str(fixture_build.db_path))
    config.settings.cache_clear()
    yield
    config.settings.cache_clear()


def _scope(user=DIRECTOR, councils=ALL, fy="2025-26"):
    return queries.Scope(Filters(councils=councils, period="fy", fy=fy), user)


# --- ingest -------------------------------------------------------------------------------------


def test_every_councils_demo_maturity_extract_reads_without_a_reject(councils, tmp_path):
    only_maturity = {
        cid: cc.model_copy(update={"datasets": {"maturity": cc.datasets["maturity"]}})
        for cid, cc in councils.items()
        if "maturity" in cc.datasets
    }
    assert len(only_maturity) == 4  # every partner council; STAR itself is not assessed
    record = demo.generate(tmp_path, seed=3, scale=0.01, councils=only_maturity)
    areas = len(config.DATA_DIR.joinpath("reference", "nps_maturity_areas.csv").read_text().splitlines()) - 1
    for cid, cc in only_maturity.items():
        (path,) = (tmp_path / cid / "maturity").iterdir()
        result, rejects = ingest.check_file(path, cc, "maturity")
        assert rejects == [] and result.rows_rejected == 0, cid
        assert result.rows_loaded == record["expected"][cid]["maturity"]["rows"]
        assert result.rows_loaded % areas == 0  # every area at every assessment


def test_an_impossible_assessment_date_is_rejected_with_file_row_and_column(db):
    assert db.execute("select source_file, source_row, value, severity from rejects where dataset = 'maturity'").fetchall() == [
        (TRAFFORD_FILE, 9, "2025-13-31", "rejected")
    ]


def test_levels_are_read_as_names_numbers_or_both_and_areas_by_any_spelling(db):
    rows = {
        (area, str(day)): (cur, tgt, gap)
        for area, day, cur, tgt, gap in db.execute(
            "select area_code, assessed_date, current_level, target_level, gap_levels from fct_maturity "
            "where council_id = 'trafford' and problem is null"
        ).fetchall()
    }
    assert rows[("LEAD1", "2024-03-31")] == (2, 3, 1)  # Developing -> Mature
    assert rows[("LEAD1", "2025-03-31")] == (3, 4, 1)  # "3" -> Leader
    assert rows[("COMM4", "2025-03-31")] == (2, 4, 2)  # "Level 2 - Developing" -> "4"
    assert rows[("COMM5", "2025-03-31")] == (3, 5, 2)  # "Engaging local SMEs & micro-businesses"
    assert rows[("ENAB1", "2025-03-31")] == (4, 3, -1)  # ahead of its target


def test_rows_that_cannot_be_read_are_kept_as_problems_naming_file_and_row(fixture_db):
    problems = queries.maturity_problems(_scope())
    assert list(zip(problems["area"], problems["source_row"], strict=True)) == [
        ("Thinking big", 7),
        ("Managing strategic risk", 8),
    ]
    assert problems["problem"].tolist() == [
        "key area not in the National Procurement Strategy 2018",
        "current level not readable: High",
    ]
    assert set(problems["source_file"]) == {TRAFFORD_FILE}


# --- queries ------------------------------------------------------------------------------------


def test_latest_assessment_up_to_the_end_of_the_period_with_the_level_before(fixture_db):
    now = queries.maturity_assessments(_scope(councils=("trafford",)))
    assert set(now["assessed_date"].dt.date) == {dt.date(2025, 3, 31)}
    assert now["area"].tolist() == [
        "Engaging councillors",
        "Obtaining social value",
        "Engaging local SMEs and micro-businesses",
        "Developing talent",
    ]
    councillors = now.set_index("area_code").loc["LEAD1"]
    assert (councillors["current_level_name"], councillors["target_level_name"], councillors["previous_level"]) == (
        "Mature",
        "Leader",
        2,
    )
    before = queries.maturity_assessments(_scope(councils=("trafford",), fy="2023-24"))
    assert before[["area_code", "current_level"]].values.tolist() == [["LEAD1", 2]]


def test_gaps_are_listed_largest_first_without_areas_at_or_past_their_target(fixture_db):
    gaps = queries.maturity_assessments(_scope(), "trafford", gaps_only=True)
    assert list(zip(gaps["area_code"], gaps["gap_levels"], strict=True)) == [("COMM4", 2), ("COMM5", 2), ("LEAD1", 1)]


def test_a_scoped_user_never_receives_another_councils_maturity(fixture_db):
    scope = _scope(TRAFFORD, ("stockport", "trafford"))
    assert set(queries.maturity_assessments(scope)["council"]) == {"Trafford"}
    assert queries.maturity_assessments(scope, "stockport").empty
    assert queries.maturity_councils(scope)["council_id"].tolist() == ["trafford"]
    assert queries.maturity_problems(_scope(TRAFFORD, ("stockport",))).empty


# --- the page, as each role ---------------------------------------------------------------------


@pytest.mark.parametrize("username", ["director", "category.manager", "board", "trafford.officer"])
def test_each_role_opens_the_maturity_page(app_env, username):
    at = run_app(username, page="pages/maturity.py")
    assert not at.exception, at.exception
    assert at.title[0].value == "Procurement maturity"
    charts = at.get("plotly_chart")
    assert len(charts) == (1 if username == "trafford.officer" else 2)  # the heatmap compares councils


def test_trafford_officer_sees_only_trafford_on_the_maturity_page(app_env):
    at = run_app("trafford.officer", page="pages/maturity.py", councils="stockport")
    assert not at.exception
    assert at.segmented_control(key="maturity_council").options == ["Trafford"]
    assert at.dataframe[0].value["area"].tolist() == [
        "Obtaining social value",
        "Engaging local SMEs and micro-businesses",
        "Engaging councillors",
    ]


def test_director_switches_council(app_env):
    at = run_app("director", page="pages/maturity.py")
    assert at.segmented_control(key="maturity_council").value == "stockport"
    at.segmented_control(key="maturity_council").set_value("trafford").run()
    assert not at.exception
    assert "Obtaining social value" in at.dataframe[0].value["area"].tolist()


def test_the_page_names_the_councils_with_no_assessment_loaded(app_env):
    # The fixture: Stockport and Trafford sent assessments, Rochdale and Tameside none; the council
    # picker offered Stockport and Trafford and nothing said why the other two were missing.
    from starviz import escape

    at = run_app("director", page="pages/maturity.py")
    assert not at.exception
    assert escape.md(
        "Maturity: Stockport and Trafford only (no data for Rochdale and Tameside: no maturity assessment loaded)."
    ) in [c.value for c in at.caption]
