"""Like with like (issue 18): the overview's changes compare the same months in both periods, only
months every council in scope has loaded in full, whatever lands first; a partial latest month is
flagged and left out of the comparison; a council awaiting its first file holds nothing back.

The figures are over a stand-in database holding only what the overview reads (the marts, the
councils, build_info), so each expected value is worked out by hand from the rows written here."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from starviz import build, config, integrity, queries
from starviz.scope import Filters, User, add_months
from tests.test_share_credits import SHARE_MACROS

DIRECTOR = User("director", "Director", "admin")
D = dt.date


def _months(first: dt.date, last: dt.date) -> list[dt.date]:
    out = [first]
    while out[-1] < last:
        out.append(add_months(out[-1], 1))
    return out


def _stand_in(path: Path, spend: dict[str, dict[dt.date, float]], partial: dict[str, dt.date] | None = None) -> Path:
    """A database with the overview's marts: ``spend`` council -> month -> £ (addressable, nothing
    on contract); ``partial`` council -> its partial latest month (last payment on the 12th). Every
    council is configured for spend, so one with no month is awaiting its first file."""
    partial = partial or {}
    con = duckdb.connect(str(path))
    con.execute("create table build_info as select ? as sql_version", [integrity.sql_version()])
    con.execute("create table dim_councils (council_id varchar, short_name varchar, sort_order integer)")
    con.execute("create table cfg_datasets (council_id varchar, dataset varchar)")
    con.execute("create table ref_dataset_cadence as select 'spend' as dataset, 'true' as expected_monthly")
    con.execute(
        "create table mart_spend_by_council_month (council_id varchar, month date, spend_gbp double, is_addressable boolean, "
        "is_on_contract boolean, is_local boolean, is_sme boolean, is_vcse boolean)"
    )
    con.execute(
        "create table mart_coverage_by_council_month (council_id varchar, dataset varchar, month date, count_rows bigint, "
        "last_date date, is_partial boolean)"
    )
    con.execute(
        "create table mart_social_value_by_contract (covered_council_ids varchar[], start_date date, committed_gbp double, "
        "delivered_gbp double, value_gbp double)"
    )
    con.execute("create table mart_kpis_by_month (kpi_code varchar, council_id varchar, month date, value double, target double)")
    for order, (council, months) in enumerate(spend.items()):
        con.execute("insert into dim_councils values (?, ?, ?)", [council, council.title(), order])
        con.execute("insert into cfg_datasets values (?, 'spend')", [council])
        for month, gbp in months.items():
            con.execute(
                "insert into mart_spend_by_council_month values (?, ?, ?, true, false, null, null, null)", [council, month, gbp]
            )
            is_partial = partial.get(council) == month
            con.execute(
                "insert into mart_coverage_by_council_month values (?, 'spend', ?, 10, ?, ?)",
                [council, month, month.replace(day=12) if is_partial else None, is_partial],
            )
    con.execute((config.SQL_DIR / "30_marts" / "mart_loaded_by_council_dataset.sql").read_text())
    con.execute(  # what the shares are of: one (redacted) payee per council and month
        "create table mart_share_basis_by_supplier_month as "
        "select *, null::varchar as supplier_id from mart_spend_by_council_month"
    )
    build.create_sql(con, build.functions(*SHARE_MACROS))  # the measures' macros, as the build creates them
    con.close()
    return path


@pytest.fixture()
def serve(tmp_path, monkeypatch):
    """Serve a stand-in database built from the arguments; returns the scope's comparison helpers."""

    def _serve(spend, partial=None, name="star.duckdb"):
        monkeypatch.setenv("STARVIZ_DB", str(_stand_in(tmp_path / name, spend, partial)))
        config.settings.cache_clear()

    yield _serve
    config.settings.cache_clear()


def _scope(councils=("a", "b"), **period):
    period = period or {"period": "fy", "fy": "2025-26"}
    return queries.Scope(Filters(councils=councils, addressable_only=True, **period), DIRECTOR)


def _change(scope) -> tuple[float, float]:
    """(now, before) of addressable spend over the compared months."""
    now, before = queries.compared_measures(scope, queries.comparison_windows(scope))
    return now["addressable_gbp"], before["addressable_gbp"]


LAST_YEAR = _months(D(2024, 4, 1), D(2025, 3, 1))


def test_a_year_with_data_from_september_is_compared_with_september_onwards_of_the_year_before(serve):
    # Broken before: the window started at September but the previous one at April, so "Sep - Mar"
    # was compared with "Apr - Oct". A: £100 a month in 2024-25; £120 a month from September 2025.
    spend = {"a": {m: 100.0 for m in LAST_YEAR} | {m: 120.0 for m in _months(D(2025, 9, 1), D(2026, 3, 1))}}
    serve(spend)
    scope = _scope(("a",))
    cmp = queries.comparison_windows(scope)
    assert cmp.window == (D(2025, 9, 1), D(2026, 3, 31))
    assert cmp.months == tuple(_months(D(2025, 9, 1), D(2026, 3, 1)))
    assert cmp.previous_months == tuple(_months(D(2024, 9, 1), D(2025, 3, 1)))
    assert _change(scope) == (7 * 120.0, 7 * 100.0)  # +20%


def test_a_month_landing_for_one_council_first_moves_no_comparison(serve):
    # 2024-25: A and B £100 a month each. 2025-26 April-August: A £110, B £96 a month:
    # 5 x 206 = £1,030 against 5 x 200 = £1,000, +3.0%. Then A's September (£110) lands before B's.
    # Broken before: the window ran to September for everyone, £1,140 against £1,200: -5.0%.
    this_year = _months(D(2025, 4, 1), D(2025, 8, 1))
    spend = {
        "a": {m: 100.0 for m in LAST_YEAR} | {m: 110.0 for m in this_year},
        "b": {m: 100.0 for m in LAST_YEAR} | {m: 96.0 for m in this_year},
    }
    serve(spend, name="before.duckdb")
    assert _change(_scope()) == (1030.0, 1000.0)

    spend["a"][D(2025, 9, 1)] = 110.0
    serve(spend, name="after.duckdb")
    cmp = queries.comparison_windows(_scope())
    assert cmp.window == (D(2025, 4, 1), D(2025, 9, 30))  # the headline figure has A's September
    assert cmp.months == tuple(this_year)
    assert _change(_scope()) == (1030.0, 1000.0)  # still +3.0%
    assert queries.overview_measures(_scope(), cmp.window)["addressable_gbp"] == 1140.0
    assert [(c.council, c.complete_through) for c in cmp.councils] == [("A", D(2025, 9, 1)), ("B", D(2025, 8, 1))]


def test_a_partial_latest_month_is_in_the_figures_flagged_and_not_compared(serve):
    # B's August is partial (payments to the 12th): the figures hold it, the changes compare April-July.
    this_year = _months(D(2025, 4, 1), D(2025, 8, 1))
    spend = {"a": {m: 100.0 for m in LAST_YEAR + this_year}, "b": {m: 100.0 for m in LAST_YEAR + this_year}}
    spend["b"][D(2025, 8, 1)] = 40.0
    serve(spend, partial={"b": D(2025, 8, 1)})
    cmp = queries.comparison_windows(_scope())
    assert cmp.months == tuple(_months(D(2025, 4, 1), D(2025, 7, 1)))
    assert [(c.council, c.partial_month, c.partial_last_date, c.complete_through) for c in cmp.partial] == [
        ("B", D(2025, 8, 1), D(2025, 8, 12), D(2025, 7, 1))
    ]
    assert _change(_scope()) == (800.0, 800.0)


def test_a_month_one_council_lacks_in_either_year_is_not_compared(serve):
    # A gap in B's June 2024 keeps June out of both sides for both councils.
    this_year = _months(D(2025, 4, 1), D(2025, 7, 1))
    spend = {"a": {m: 100.0 for m in LAST_YEAR + this_year}, "b": {m: 50.0 for m in LAST_YEAR + this_year}}
    del spend["b"][D(2024, 6, 1)]
    serve(spend)
    cmp = queries.comparison_windows(_scope())
    assert cmp.months == (D(2025, 4, 1), D(2025, 5, 1), D(2025, 7, 1))
    assert cmp.previous_months == (D(2024, 4, 1), D(2024, 5, 1), D(2024, 7, 1))
    assert _change(_scope()) == (450.0, 450.0)


def test_a_council_awaiting_its_first_file_holds_nothing_back_and_is_named(serve):
    spend = {"a": {m: 100.0 for m in LAST_YEAR + _months(D(2025, 4, 1), D(2025, 5, 1))}, "c": {}}
    serve(spend)
    cmp = queries.comparison_windows(_scope(("a", "c")))
    assert cmp.months == (D(2025, 4, 1), D(2025, 5, 1))
    assert cmp.awaiting == ("C",)


def test_a_council_with_spend_only_in_other_years_holds_nothing_back(serve):
    # Stockport's real sample is September 2014 alone: nothing of it in 2025-26 or 2024-25
    spend = {"a": {m: 100.0 for m in LAST_YEAR + _months(D(2025, 4, 1), D(2025, 5, 1))}, "s": {D(2014, 9, 1): 5.0}}
    serve(spend)
    cmp = queries.comparison_windows(_scope(("a", "s")))
    assert cmp.months == (D(2025, 4, 1), D(2025, 5, 1))
    assert [(c.council, c.complete_through) for c in cmp.councils] == [("A", D(2025, 5, 1)), ("S", D(2014, 9, 1))]


def test_no_month_compares_when_one_council_has_none_of_the_year_before(serve):
    # B joined this year: no month has both councils in both years, so no change is shown.
    this_year = _months(D(2025, 4, 1), D(2025, 5, 1))
    serve({"a": {m: 100.0 for m in LAST_YEAR + this_year}, "b": {m: 100.0 for m in this_year}})
    cmp = queries.comparison_windows(_scope())
    assert cmp.months == ()
    assert queries.compared_measures(_scope(), cmp) == ({}, {})


def test_a_quarter_is_compared_month_by_month_with_the_quarter_before(serve):
    # Q2 (Jul-Sep 2025) against Q1 (Apr-Jun): A sent July and August so far.
    serve({"a": {m: 100.0 for m in _months(D(2025, 4, 1), D(2025, 8, 1))}})
    cmp = queries.comparison_windows(_scope(("a",), period="quarter", fy="2025-26", quarter=2))
    assert cmp.months == (D(2025, 7, 1), D(2025, 8, 1))
    assert cmp.previous_months == (D(2025, 4, 1), D(2025, 5, 1))


def test_all_years_compare_nothing(serve):
    serve({"a": {m: 100.0 for m in LAST_YEAR}})
    cmp = queries.comparison_windows(_scope(("a",), period="all"))
    assert cmp.window == (D(2024, 4, 1), D(2025, 3, 31)) and cmp.months == ()


def test_the_overview_says_what_it_compares_and_flags_a_partial_month():
    from starviz import ui

    c = queries.CouncilLoaded
    cmp = queries.Comparison(
        (D(2025, 4, 1), D(2025, 9, 30)),
        tuple(_months(D(2025, 4, 1), D(2025, 7, 1))),
        tuple(_months(D(2024, 4, 1), D(2024, 7, 1))),
        (
            c("Stockport", frozenset(_months(D(2024, 4, 1), D(2025, 9, 1))), D(2025, 9, 1)),
            c("Trafford", frozenset(_months(D(2024, 4, 1), D(2025, 8, 1))), D(2025, 7, 1), D(2025, 8, 1), D(2025, 8, 12)),
            c("Bolton", frozenset(), None),
        ),
        12,
    )
    assert ui.comparison_notes(cmp, Filters(councils=("a",), fy="2025-26")) == [
        "Showing Apr – Sep 2025 as loaded.",
        "Changes compare Apr – Jul 2025 with Apr – Jul 2024: the months every council shown has loaded in full in both years.",
        "Complete through: Stockport Sep 2025 · Trafford Jul 2025 · Bolton: no data loaded yet.",
        ":material/warning: No spend loaded for Trafford in Sep 2025: the figures hold only the other councils' spend "
        "for those months.",
        ":material/warning: Aug 2025 is partial for Trafford (payments to 12 Aug 2025): in the figures, not in the changes.",
    ]
    none = queries.Comparison((D(2025, 4, 1), D(2025, 5, 31)), councils=cmp.councils[:1], shift=12)
    assert ui.comparison_notes(none, Filters(councils=("a",), fy="2025-26"))[1] == (
        "No change shown: no month of this year has every council's spend loaded in full, both in it and in the same "
        "month of the year before."
    )


def test_a_council_with_no_spend_in_some_months_of_the_period_is_named_not_counted_as_nothing(serve):
    # The real Trafford files run April 2024 to March 2026; the other partners' to October 2026. All
    # councils, 2026-27: the headline (£118.2m) held three councils' spend under "All councils", and
    # nothing on the Overview said Trafford had none loaded (Benchmarking did). Here: A £100 a month
    # April-October 2026, B £50 a month to March 2026 only, C (joining) £10 a month from July 2026.
    from starviz import ui

    spend = {
        "a": {m: 100.0 for m in _months(D(2025, 4, 1), D(2026, 10, 1))},
        "b": {m: 50.0 for m in _months(D(2025, 4, 1), D(2026, 3, 1))},
        "c": {m: 10.0 for m in _months(D(2026, 7, 1), D(2026, 10, 1))},
    }
    serve(spend)
    scope = _scope(("a", "b", "c"), period="fy", fy="2026-27")
    cmp = queries.comparison_windows(scope)
    assert cmp.window == (D(2026, 4, 1), D(2026, 10, 31))
    assert queries.overview_measures(scope, cmp.window)["addressable_gbp"] == 7 * 100 + 4 * 10  # £740: A and C only
    assert cmp.not_loaded == (
        ("B", tuple(_months(D(2026, 4, 1), D(2026, 10, 1)))),
        ("C", tuple(_months(D(2026, 4, 1), D(2026, 6, 1)))),
    )
    assert (
        ":material/warning: No spend loaded for B in Apr – Oct 2026; C in Apr – Jun 2026: the figures hold only the "
        "other councils' spend for those months."
    ) in ui.comparison_notes(cmp, scope.filters)
    # every council loaded for every month of the period: nothing to say
    full = queries.comparison_windows(_scope(("a", "b"), period="fy", fy="2025-26"))
    assert full.not_loaded == ()
