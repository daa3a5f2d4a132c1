"""Every chart on every page can be exported: the charts that filter their page too."""

from __future__ import annotations

from tests.conftest import run_app


def test_the_treemap_and_the_trend_can_be_exported_like_every_chart(app_env):
    at = run_app("director", page="pages/spend.py")
    assert not at.exception
    keys = {b.key for b in at.get("download_button")}
    assert {"img-spend-treemap", "img-spend-trend", "alt-spend-treemap", "alt-spend-trend"} <= keys, keys


def test_the_overview_chart_can_be_exported(app_env):
    at = run_app("director")
    assert not at.exception
    assert any(k.startswith("img-") for k in {b.key for b in at.get("download_button")})
