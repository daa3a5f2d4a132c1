"""Social value coverage with an owner that has sent no social value returns: no data, not 0%.

Coverage is the share of contracts over £50,000 starting in the period that carry social value
measures. A council whose contracts register is loaded but which has sent no social value returns
had every one of its contracts counted "without measures" (demo data without Tameside's returns,
all councils, 2025-26: 25.0%, against 34.4% for the councils that report; Tameside alone 3.8%).

The fixture build with Stockport's returns taken out; figures by hand from its contracts
(tests/fixtures/extracts.py): STAR-001 (£900,000, from April 2024, with measures), SC-001 (£120,000,
January 2025, Stockport's only contract with measures), SC-002 (£80,000, May 2025), TC-001 (£50,000:
not over the threshold)."""

from __future__ import annotations

import shutil

import duckdb
import pytest

from starviz import build, config, nodata, queries
from starviz.scope import Filters, User
from tests.conftest import ALL

DIRECTOR = User("director", "Director", "admin")


def _fixture_without(fixture_build, tmp_path, monkeypatch, table: str):
    """The fixture database with Stockport's rows of `table` taken out, every view and mart built
    again (as a build without the file), served to the queries."""
    path = tmp_path / "star.duckdb"
    shutil.copy(fixture_build.db_path, path)
    con = duckdb.connect(str(path))
    con.execute(f"delete from {table} where council_id = 'stockport'")
    build.create_sql(con, build.sql_files())
    con.close()
    monkeypatch.setenv("STARVIZ_DB", str(path))
    config.settings.cache_clear()
    yield
    config.settings.cache_clear()


@pytest.fixture()
def without_stockport_returns(fixture_build, tmp_path, monkeypatch):
    yield from _fixture_without(fixture_build, tmp_path, monkeypatch, "raw_social_value")


def _summary(fy: str) -> dict:
    return queries.social_value_summary(queries.Scope(Filters(councils=ALL, fy=fy, all_councils=True), DIRECTOR))


def test_a_council_without_returns_is_left_out_of_coverage_and_named(without_stockport_returns):
    # 2024-25: STAR-001 with measures; SC-001's owner sent no returns: 1 of 1 = 100% (was 1 of 2 = 50%)
    s = _summary("2024-25")
    assert (s["count_with_measures"], s["count_over_threshold"]) == (1, 1)
    assert s["coverage_share"] == 1.0
    assert s["coverage_not_reporting"] == ["Stockport"]
    # 2025-26: only SC-002 is over the threshold, and its owner sent no returns: no data (was 0 of 1 = 0%)
    s = _summary("2025-26")
    assert s["count_over_threshold"] == 0 and s["coverage_share"] is None
    assert s["coverage_not_reporting"] == ["Stockport"]
    assert nodata.coverage_left_out(s["coverage_not_reporting"]) == (
        " Coverage leaves out the contracts of Stockport: no social value returns of its own loaded "
        "(no data, not contracts without measures)."
    )


def test_a_council_with_returns_keeps_its_contracts_without_measures(fixture_build, monkeypatch):
    # Stockport reports (SC-001): SC-002 counts as a contract without measures, 0 of 1 = 0% in 2025-26
    monkeypatch.setenv("STARVIZ_DB", str(fixture_build.db_path))
    config.settings.cache_clear()
    try:
        s = _summary("2025-26")
        assert (s["count_with_measures"], s["count_over_threshold"], s["coverage_share"]) == (0, 1, 0.0)
        assert s["coverage_not_reporting"] == []
    finally:
        config.settings.cache_clear()


@pytest.fixture()
def without_stockport_register(fixture_build, tmp_path, monkeypatch):
    yield from _fixture_without(fixture_build, tmp_path, monkeypatch, "raw_contracts")


def test_returns_naming_contracts_in_no_register_are_named_not_dropped(without_stockport_register):
    # Stockport's returns commit 2 x £12,000 on SC-001; with its register not loaded, SC-001 is in no
    # figure (a share of contract value needs the contract) and the page said nothing: Stockport looked
    # like a council that committed nothing. By hand: 1 contract, £24,000 committed.
    s = _summary("2024-25")
    unmatched = s["unmatched_returns"]
    assert unmatched.to_dict("records") == [{"council": "Stockport", "count_contracts": 1, "committed_gbp": 24000.0}]
    assert nodata.unmatched_returns(unmatched) == (
        "Not counted: Stockport's social value returns name 1 contract in no contracts register loaded "
        "(£24k committed): no data for them until the register is loaded."
    )
    # a one-council user of another council is told nothing of Stockport's
    trafford = User("trafford.officer", "Officer", "analyst", ("trafford",))
    scope = queries.Scope(Filters(councils=("trafford",), fy="2024-25"), trafford)
    assert queries.social_value_summary(scope)["unmatched_returns"].empty
