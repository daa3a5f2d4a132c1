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


def test_the_overview_data_loaded_table_can_be_exported(app_env):
    import io

    from openpyxl import load_workbook

    from starviz import export

    at = run_app("director")
    assert not at.exception
    assert {"csv-data-loaded", "xlsx-data-loaded"} <= {b.key for b in at.get("download_button")}
    loaded = at.dataframe[-1].value  # the Data loaded table as shown, exported as the button does
    sheet = load_workbook(io.BytesIO(export.to_xlsx(loaded, "data-loaded", {})))["Data"]
    assert [c.value for c in sheet[1]][:2] == ["Council", "Months loaded"]
    assert sheet.max_row == len(loaded) + 1
