"""starviz.rules: pipeline buckets, configuration tables and the expiry-alignment grouping."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from starviz import config, rules


def _contracts(*rows):
    return pd.DataFrame(rows, columns=["contract_id", "category", "council_id", "due_date"])


def test_bucket_labels_follow_the_configured_edges():
    assert rules.bucket_labels([3, 6, 12, 18]) == ["0–3 months", "3–6 months", "6–12 months", "12–18 months", "18+ months"]


def test_lead_time_table_has_a_row_per_route_and_band():
    settings = config.settings()
    routes, bands, months = rules.lead_time_table(settings)
    assert len(routes) == len(bands) == len(months) == len(settings.pipeline.lead_time_months) * 4
    row = routes.index("Open tender") + 3  # the £1m-and-over band
    assert (routes[row], bands[row], months[row]) == ("Open tender", 3, 12)


def test_quarters_are_financial_year_quarters():
    assert rules.quarter_label(dt.date(2025, 6, 15)) == "2025-26 Q1"
    assert rules.quarter_label(dt.date(2026, 1, 1)) == "2025-26 Q4"
    assert rules.quarter_start(dt.date(2025, 8, 30)) == dt.date(2025, 7, 1)
    assert rules.quarter_start(dt.date(2026, 3, 31)) == dt.date(2026, 1, 1)


def test_contracts_of_two_councils_ending_within_the_window_are_one_opportunity():
    out = rules.expiry_windows(
        _contracts(
            ("a", "Works", "stockport", dt.date(2026, 1, 31)),
            ("b", "Works", "trafford", dt.date(2026, 3, 31)),
            ("c", "Works", "rochdale", dt.date(2027, 6, 30)),  # 17 months after a
        ),
        12,
    )
    assert out["contract_id"].tolist() == ["a", "b"]
    assert out["opportunity"].tolist() == [1, 1]


def test_the_window_includes_its_last_day():
    out = rules.expiry_windows(
        _contracts(
            ("a", "Works", "stockport", dt.date(2025, 1, 31)),
            ("b", "Works", "trafford", dt.date(2026, 1, 31)),
        ),
        12,
    )
    assert len(out) == 2
    assert rules.expiry_windows(
        _contracts(
            ("a", "Works", "stockport", dt.date(2025, 1, 31)),
            ("b", "Works", "trafford", dt.date(2026, 2, 1)),
        ),
        12,
    ).empty


def test_one_councils_contracts_alone_are_no_opportunity_but_do_not_hide_a_later_pair():
    # a and b are both Stockport's; b and c (Trafford, three months later) can be let together
    out = rules.expiry_windows(
        _contracts(
            ("a", "Works", "stockport", dt.date(2026, 1, 31)),
            ("b", "Works", "stockport", dt.date(2026, 11, 30)),
            ("c", "Works", "trafford", dt.date(2027, 2, 28)),
        ),
        12,
    )
    assert out["contract_id"].tolist() == ["b", "c"]


def test_categories_never_mix_and_each_contract_is_in_one_opportunity():
    out = rules.expiry_windows(
        _contracts(
            ("a", "Works", "stockport", dt.date(2026, 1, 1)),
            ("b", "Catering", "trafford", dt.date(2026, 1, 2)),
            ("c", "Works", "trafford", dt.date(2026, 2, 1)),
            ("d", "Works", "rochdale", dt.date(2026, 12, 1)),
            ("e", "Works", "tameside", dt.date(2027, 3, 1)),
        ),
        12,
    )
    assert out.groupby("opportunity")["contract_id"].apply(list).tolist() == [["a", "c", "d"]]
    assert out["contract_id"].is_unique


def test_no_contracts_no_opportunities():
    assert rules.expiry_windows(_contracts(), 12).empty


def test_settings_reject_a_lead_time_row_without_one_value_per_band():
    pipeline = config.settings().pipeline.model_dump()
    with pytest.raises(ValueError, match="one per value band"):
        config.PipelineSettings.model_validate(pipeline | {"lead_time_months": {"default": [1, 2, 3]}})
    with pytest.raises(ValueError, match="default"):
        config.PipelineSettings.model_validate(pipeline | {"effort_weight_by_route": {"Open tender": 3.0}})
    with pytest.raises(ValueError, match="pipeline"):  # the error names the table and key
        config.Settings.model_validate(config.settings().model_dump() | {"pipeline": pipeline | {"bucket_months": [6, 3]}})
