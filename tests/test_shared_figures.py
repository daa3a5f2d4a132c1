"""Figures built once per answer (``charts.style.shared_per_answer``): the same data gives the same
figure object to every rerun and session, other data a figure of its own, and sharing changes nothing
the figure shows."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from starviz import charts
from tests.test_pipeline_charts import BUCKETS, TODAY, _pipeline


def _contracts(n: int) -> pd.DataFrame:
    end = pd.Timestamp("2026-04-01")
    return _pipeline(*((f"C{i}", "Trafford", f"T-{i}", 1_000.0 * (i + 1), end, end, end, end, BUCKETS[2]) for i in range(n)))


def _trends(value: float) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "kpi_code": ["SAV"] * 2,
            "is_shared_service": [False] * 2,
            "kpi_name": ["Savings"] * 2,
            "month": [dt.date(2025, 4, 1), dt.date(2025, 5, 1)],
            "value": [value, value + 1],
            "target": [5.0, 5.0],
            "unit": ["%"] * 2,
            "rag": ["Green", "Amber"],
        }
    )


def test_the_pipeline_timeline_is_built_once_per_answer():
    first = charts.contract_timeline(_contracts(3), TODAY, BUCKETS, top_n=30)
    again = charts.contract_timeline(_contracts(3), TODAY, BUCKETS, top_n=30)  # equal content, another frame
    other = charts.contract_timeline(_contracts(4), TODAY, BUCKETS, top_n=30)
    later = charts.contract_timeline(_contracts(3), dt.date(2025, 7, 1), BUCKETS, top_n=30)
    assert again is first
    assert other is not first
    assert later is not first  # "today" is part of the answer


def test_the_kpi_trends_are_built_once_per_answer():
    first = charts.kpi_trends(_trends(4.0), "Savings")
    assert charts.kpi_trends(_trends(4.0), "Savings") is first
    assert charts.kpi_trends(_trends(6.0), "Savings") is not first
    assert charts.kpi_trends(_trends(4.0), "Savings to May") is not first


def test_the_category_mix_is_built_once_per_answer():
    mix = pd.DataFrame(
        {"category": ["Care", "Works"] * 2, "council": ["Bolton"] * 2 + ["Bury"] * 2, "spend_share": [0.6, 0.4, 0.3, 0.7]}
    )
    first = charts.category_mix(mix)
    assert charts.category_mix(mix.copy()) is first
    assert charts.category_mix(mix.assign(spend_share=[0.5, 0.5, 0.3, 0.7])) is not first
