"""User scope, financial calendar and the URL filters shared by every page."""

from __future__ import annotations

import datetime as dt

import pytest

from starviz import config
from starviz.scope import (
    Filters,
    User,
    add_months,
    financial_year,
    fiscal_quarter,
    fy_bounds,
    parse_filters,
    quarter_bounds,
)

CONFIGURED = config.load_councils()  # every partner and STAR, as the app lists them
COUNCILS = tuple(CONFIGURED)
NAMES = {cid: cc.short_name for cid, cc in CONFIGURED.items()}
# Data from April 2022 to September 2025: 2025-26 is the latest year, Q1 and Q2 only.
MONTHS = [add_months(dt.date(2022, 4, 1), i) for i in range(42)]

DIRECTOR = User("director", "STAR Director", "admin")
BOARD = User("board", "Board Member", "viewer")
TRAFFORD = User("trafford.officer", "Trafford Officer", "analyst", ("trafford",))


def parse(params, user=DIRECTOR, months=MONTHS):
    """Filters and notices; the notices as they read on screen (values from the link are Markdown-escaped)."""
    filters, notices = parse_filters(params, user=user, council_ids=COUNCILS, months=months, names=NAMES)
    return filters, [n.replace("\\", "") for n in notices]


# ------------------------------------------------------------------------------------ users
def test_roles_grant_actions_viewer_only_exports():
    assert BOARD.can("export")
    assert not any(BOARD.can(a) for a in ("import", "rebuild", "line_detail", "redacted_detail"))
    assert all(DIRECTOR.can(a) for a in ("import", "rebuild", "line_detail", "redacted_detail", "export"))
    # analysts drill to lines and export, but only admins import and rebuild
    assert all(TRAFFORD.can(a) for a in ("line_detail", "redacted_detail", "export"))
    assert not any(TRAFFORD.can(a) for a in ("import", "rebuild"))


def test_unknown_action_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown action"):
        DIRECTOR.can("delete_everything")


def test_user_rejects_unknown_role_and_empty_scope():
    with pytest.raises(ValueError, match="role"):
        User("x", "X", "superuser")
    with pytest.raises(ValueError, match="at least one council"):
        User("x", "X", "viewer", ())


def test_allowed_intersects_scope_and_keeps_given_order():
    assert DIRECTOR.allowed(["trafford", "stockport"]) == ("trafford", "stockport")
    assert TRAFFORD.allowed(COUNCILS) == ("trafford",)
    assert TRAFFORD.allowed(["stockport"]) == ()


# ------------------------------------------------------------------------- financial calendar
def test_financial_year_turns_on_first_of_april():
    assert financial_year(dt.date(2026, 3, 31)) == "2025-26"
    assert financial_year(dt.date(2026, 4, 1)) == "2026-27"
    assert financial_year(dt.date(1999, 12, 31)) == "1999-00"


def test_fy_bounds_run_from_april_to_march_inclusive():
    assert fy_bounds("2025-26") == (dt.date(2025, 4, 1), dt.date(2026, 3, 31))
    assert fy_bounds("2023-24")[1] == dt.date(2024, 3, 31)
    with pytest.raises(ValueError):
        fy_bounds("2025-27")


def test_quarters_follow_the_financial_year():
    assert quarter_bounds("2025-26", 1) == (dt.date(2025, 4, 1), dt.date(2025, 6, 30))
    assert quarter_bounds("2025-26", 3) == (dt.date(2025, 10, 1), dt.date(2025, 12, 31))
    assert quarter_bounds("2023-24", 4) == (dt.date(2024, 1, 1), dt.date(2024, 3, 31))  # leap year
    assert [fiscal_quarter(dt.date(2025, m, 15)) for m in (4, 6, 7, 10, 12, 1, 3)] == [1, 1, 2, 3, 3, 4, 4]


def test_filter_dates_are_inclusive_period_bounds():
    q3 = Filters(councils=("stockport",), period="quarter", fy="2025-26", quarter=3)
    assert (q3.date_from, q3.date_to) == (dt.date(2025, 10, 1), dt.date(2025, 12, 31))
    feb = Filters(councils=("stockport",), period="months", month_from=dt.date(2024, 2, 1), month_to=dt.date(2024, 2, 1))
    assert (feb.date_from, feb.date_to) == (dt.date(2024, 2, 1), dt.date(2024, 2, 29))


# ------------------------------------------------------------------------------- defaults & labels
def test_defaults_are_latest_year_with_data_every_visible_council_and_addressable_spend():
    filters, notices = parse({})
    assert notices == []
    assert filters.councils == COUNCILS and filters.all_councils
    assert (filters.period, filters.fy) == ("fy", "2025-26")
    assert filters.addressable_only


def test_explicit_empty_council_selection_means_all():
    filters, notices = parse({"councils": ""})
    assert notices == [] and filters.all_councils and filters.councils == COUNCILS


def test_label_reads_like_a_chart_subtitle():
    filters, _ = parse({"councils": "trafford,stockport", "fy": "2025-26", "q": "2"})
    assert filters.councils == ("stockport", "trafford")  # display order, not URL order
    assert filters.label == "Stockport, Trafford · 2025-26 Q2 · addressable spend"
    everything, _ = parse({"fy": "all", "addressable": "0"})
    assert everything.label == "All councils · all years · all spend"
    months, _ = parse({"from": "2024-11", "to": "2025-02"})
    assert months.label == "All councils · Nov 2024 – Feb 2025 · addressable spend"


# ---------------------------------------------------------------------------------- round trip
ROUND_TRIP = [
    {},
    {"councils": "stockport,trafford", "fy": "2024-25", "q": "3"},
    {"councils": "star", "fy": "2022-23"},
    {"from": "2024-11", "to": "2025-02", "addressable": "0"},
    {"from": "2025-09", "to": "2025-09"},
    {"fy": "all"},
    {"councils": "rochdale", "fy": "all", "addressable": "0"},
]


@pytest.mark.parametrize("params", ROUND_TRIP)
def test_to_params_round_trips_exactly(params):
    filters, notices = parse(params)
    assert notices == []
    again, notices_again = parse(filters.to_params())
    assert again == filters and notices_again == []


def test_round_trip_of_a_filter_built_in_code():
    built = Filters(councils=("stockport", "tameside"), period="quarter", fy="2023-24", quarter=4, addressable_only=False)
    assert built.to_params() == {"councils": "stockport,tameside", "fy": "2023-24", "q": "4", "addressable": "0"}
    assert parse(built.to_params()) == (built, [])


def test_round_trip_keeps_the_scoped_users_view():
    filters, _ = parse({"fy": "2023-24"}, user=TRAFFORD)
    assert "councils" not in filters.to_params()
    assert parse(filters.to_params(), user=TRAFFORD) == (filters, [])


def test_repeated_council_keys_are_merged():
    filters, notices = parse({"councils": ["stockport", "trafford"]})
    assert notices == [] and filters.councils == ("stockport", "trafford")


def test_selecting_every_visible_council_is_the_same_as_all():
    filters, _ = parse({"councils": ",".join(COUNCILS)})
    assert filters.all_councils and "councils" not in filters.to_params()


# ------------------------------------------------------------------------------- scope in links
def test_trafford_officer_asking_for_stockport_gets_trafford_and_a_notice():
    filters, notices = parse({"councils": "stockport"}, user=TRAFFORD)
    assert filters.councils == ("trafford",)
    assert notices == ["Ignored councils=stockport: not a council you can see"]


def test_scoped_user_keeps_only_the_councils_in_scope():
    filters, notices = parse({"councils": "stockport,trafford"}, user=TRAFFORD)
    assert filters.councils == ("trafford",)
    assert len(notices) == 1 and "stockport" in notices[0]


# -------------------------------------------------------------------------------- bad input
BAD = [
    ({"councils": "stockport';drop table x--"}, "councils="),
    ({"councils": "xyz"}, "Ignored councils=xyz: not a council you can see"),
    ({"fy": "abc"}, "Ignored fy=abc"),
    ({"fy": "1999-00"}, "Ignored fy=1999-00: no data for that year"),
    ({"fy": "2025-27"}, "Ignored fy=2025-27"),
    ({"fy": "9999-00"}, "Ignored fy=9999-00"),
    ({"q": "9"}, "Ignored q=9"),
    ({"q": "three"}, "Ignored q=three"),
    ({"q": "4"}, "Ignored q=4: no data for 2025-26 Q4"),
    ({"from": "2025-13"}, "Ignored from=2025-13"),
    ({"to": "2025-02-30"}, "Ignored to=2025-02-30"),
    ({"from": "2025-06", "to": "2025-01"}, "ends before it starts"),
    ({"from": "2010-01", "to": "2010-12"}, "no data between"),
    ({"addressable": "maybe"}, "Ignored addressable=maybe"),
    ({"fy": ["2023-24", "2024-25"]}, "fy was given more than once"),
    ({"q": ["1", "2"]}, "q was given more than once"),
]


@pytest.mark.parametrize(("params", "expected"), BAD)
def test_each_invalid_parameter_is_ignored_with_a_notice(params, expected):
    filters, notices = parse(params)
    assert any(expected in n for n in notices), notices
    assert filters.councils  # still a usable selection
    assert filters.date_from <= filters.date_to


def test_injection_looking_councils_select_nothing_extra():
    filters, notices = parse({"councils": "stockport';drop table x--"})
    assert filters.all_councils and filters.councils == COUNCILS
    assert len(notices) == 1


def test_notices_escape_markdown_in_user_text():
    _, notices = parse_filters(
        {"councils": "[click](http://x) `$y$`"}, user=DIRECTOR, council_ids=COUNCILS, months=MONTHS, names=NAMES
    )
    assert "\\[click\\]" in notices[0] and "\\`" in notices[0] and "\\$" in notices[0]


def test_notices_shorten_long_values():
    _, notices = parse({"fy": "x" * 5000})
    assert len(notices[0]) < 200


def test_valid_parts_survive_next_to_invalid_ones():
    filters, notices = parse({"councils": "stockport,nowhere", "fy": "2023-24", "q": "7", "addressable": "0"})
    assert filters.councils == ("stockport",)
    assert (filters.period, filters.fy, filters.addressable_only) == ("fy", "2023-24", False)
    assert len(notices) == 2


def test_a_month_range_wins_over_fy_and_says_so():
    filters, notices = parse({"fy": "2023-24", "from": "2024-01", "to": "2024-03"})
    assert filters.period == "months"
    assert notices == ["Ignored fy=2023-24: the link also gives a month range (from/to)"]


def test_half_open_month_range_runs_to_the_edge_of_the_data():
    filters, notices = parse({"from": "2025-07"})
    assert notices == []
    assert (filters.month_from, filters.month_to) == (dt.date(2025, 7, 1), dt.date(2025, 9, 1))


@pytest.mark.parametrize(
    "params",
    [
        None,
        42,
        "councils=stockport",
        {"councils": None},
        {"councils": 7, "fy": 2024, "q": 3.5},
        {"from": ["2025-01", None], "to": []},
        {"fy": "\x00\n\t", "q": "\u2163", "from": "０２０２５-04"},
        {"councils": ",,, ,"},
        {"unrelated": "left alone"},
    ],
)
def test_parse_filters_never_raises(params):
    filters, notices = parse(params)
    assert isinstance(filters, Filters) and isinstance(notices, list)
    assert all(isinstance(n, str) for n in notices)


def test_data_months_may_come_as_pandas_timestamps():
    pd = pytest.importorskip("pandas")
    months = pd.Series(pd.date_range("2023-04-01", "2024-03-01", freq="MS"))
    filters, notices = parse_filters({}, user=DIRECTOR, council_ids=pd.Series(COUNCILS), months=months)
    assert (filters.fy, filters.councils, notices) == ("2023-24", COUNCILS, [])


def test_unrelated_query_parameters_are_not_reported():
    assert parse({"page": "suppliers", "present": "1"})[1] == []


def test_no_data_at_all_defaults_to_the_current_year_and_accepts_well_formed_values():
    filters, notices = parse({}, months=[])
    assert filters.fy == financial_year(dt.date.today()) and notices == []
    assert parse({"fy": "2019-20"}, months=[])[0].fy == "2019-20"


def test_streamlit_query_params_style_mapping_uses_all_values():
    class QueryParams(dict):  # st.query_params: item access gives the last value, get_all all of them
        def get_all(self, key):
            return {"councils": ["stockport", "rochdale"]}.get(key, [])

    filters, _ = parse(QueryParams(councils="rochdale"))
    assert filters.councils == ("rochdale", "stockport")


# ------------------------------------------------------------------------------------ previous
def test_previous_of_a_financial_year():
    filters, _ = parse({"fy": "2024-25"})
    previous = filters.previous()
    assert previous.fy == "2023-24" and previous.councils == filters.councils
    assert (previous.date_from, previous.date_to) == (dt.date(2023, 4, 1), dt.date(2024, 3, 31))


def test_previous_quarter_crosses_into_the_previous_year_from_q1():
    q1, _ = parse({"fy": "2024-25", "q": "1"})
    assert (q1.previous().fy, q1.previous().quarter) == ("2023-24", 4)
    q3, _ = parse({"fy": "2024-25", "q": "3"})
    assert (q3.previous().fy, q3.previous().quarter) == ("2024-25", 2)


def test_previous_month_range_has_the_same_length_just_before():
    filters, _ = parse({"from": "2024-11", "to": "2025-02"})
    previous = filters.previous()
    assert (previous.month_from, previous.month_to) == (dt.date(2024, 7, 1), dt.date(2024, 10, 1))
    assert previous.date_to == dt.date(2024, 10, 31)


def test_all_years_has_no_previous_period():
    assert parse({"fy": "all"})[0].previous() is None


def test_filters_reject_inconsistent_construction():
    with pytest.raises(ValueError):
        Filters(councils=("stockport",), period="quarter", fy="2025-26")
    with pytest.raises(ValueError):
        Filters(councils=("stockport",), period="months", month_from=dt.date(2025, 5, 1), month_to=dt.date(2025, 4, 1))
    with pytest.raises(ValueError):
        Filters(councils=(), period="all")
