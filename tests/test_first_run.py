"""The first run (no database: generate the demo extracts, build them) at the scale the app uses
(``demo_scale_first_run``), and every page of the app on what it built: each page, each of its views,
shows data, never "Nothing to show" or a "No ..." notice. A smaller first-run scale makes the first
start faster; this is what keeps it honest."""

from __future__ import annotations

import json

import pytest

from starviz import build, config
from tests.conftest import app_on, run_app

# page -> the views (?tab= / ?report= ...) to open; each a separate run of the page as the director.
VIEWS = {
    "pages/overview.py": [{}],
    "pages/spend.py": [{"tab": t} for t in ("Explore", "Supplier profile", "Excluded spend")],
    "pages/benchmarking.py": [{"tab": t} for t in ("Each measure ranked", "Category mix", "All figures and coverage")],
    "pages/collaboration.py": [
        {"tab": "Common suppliers"},
        {"tab": "Common categories"},
        {"tab": "Expiry alignment"},
        {"tab": "Partner-contract leakage", "match": "supplier"},
        {"tab": "Partner-contract leakage", "match": "category"},
    ],
    "pages/pipeline.py": [
        {"tab": t}
        for t in ("Timeline", "Start-by dates", "Work planning", "Procurement Act pipeline notice", "Procurement Act notices")
    ]
    + [{"tab": "Exception reports", "report": r} for r in ("expired", "off", "split", "unused", "fields")],
    "pages/social_value.py": [{}],
    "pages/kpis.py": [{}],
    "pages/maturity.py": [{}],
    "pages/data_quality.py": [
        {"tab": t} for t in ("Coverage and freshness", "Rejected rows", "Classification and exclusions", "Supplier matching")
    ],
}
EMPTY = ("Nothing to show", "No data loaded yet", "no data loaded")


@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    """What `make run` does on a fresh clone: no database, so the demo is generated at the first-run
    scale and built (build.ensure_database, the app's own first-run path)."""
    work = tmp_path_factory.mktemp("first-run")
    mp = pytest.MonkeyPatch()
    mp.setenv("STARVIZ_DB", str(work / "star.duckdb"))
    mp.setenv("STARVIZ_RAW", str(work / "raw"))
    mp.delenv("STARVIZ_DEMO_SCALE", raising=False)
    config.settings.cache_clear()
    try:
        seen: list[tuple[float, str]] = []
        assert build.ensure_database(progress=lambda f, m: seen.append((f, m)))
        assert build.ensure_database() is False  # built once; the second call finds it
        yield work, seen
    finally:
        mp.undo()
        config.settings.cache_clear()


def test_first_run_builds_the_demo_at_the_configured_scale_with_progress(first_run):
    work, seen = first_run
    record = json.loads((work / "raw" / "demo.json").read_text())
    assert record["scale"] == config.settings().demo_scale_first_run
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0  # the bar only moves forward, to the end
    assert len({m for _, m in seen}) > 10  # it says what it is doing as it goes


def shown(at) -> tuple[list[str], list[str]]:
    """(what says the page has nothing, what shows data): texts of notices and charts, counted."""
    empty = [
        e.value
        for kind in ("info", "warning", "caption", "markdown")
        for e in at.get(kind)
        if any(word.lower() in str(e.value).lower() for word in EMPTY) or (kind == "info" and str(e.value).startswith("No "))
    ]
    for chart in at.get("plotly_chart"):
        if "Nothing to show" in chart.proto.spec:
            empty.append(f"chart: {json.loads(chart.proto.spec)['layout'].get('title', {}).get('text', '')}")
    data = [*("metric" for _ in at.metric), *("chart" for _ in at.get("plotly_chart")), *("table" for _ in at.dataframe)]
    return empty, data


@pytest.mark.parametrize(
    ("page", "params"), [(page, params) for page, views in VIEWS.items() for params in views], ids=lambda v: str(v)
)
def test_every_page_and_view_shows_data_at_the_first_run_scale(first_run, monkeypatch, tmp_path, page, params):
    work, _ = first_run
    with app_on(work / "star.duckdb", monkeypatch, tmp_path):
        monkeypatch.setenv("STARVIZ_RAW", str(work / "raw"))
        at = run_app("director", page, **params)
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    empty, data = shown(at)
    assert not empty, f"{page} {params}: {empty}"
    assert data, f"{page} {params} shows no metric, chart or table"


def test_a_first_run_stopped_while_generating_leaves_no_half_set_of_extracts(tmp_path, monkeypatch):
    from starviz import demo

    monkeypatch.setenv("STARVIZ_DB", str(tmp_path / "star.duckdb"))
    monkeypatch.setenv("STARVIZ_RAW", str(tmp_path / "raw"))
    config.settings.cache_clear()
    built = []

    def stopped(out_dir, **_):
        (out_dir / "trafford" / "spend").mkdir(parents=True)
        (out_dir / "trafford" / "spend" / "2024-04.csv").write_text("half\n")
        raise KeyboardInterrupt  # the server stopped half way

    def complete(out_dir, **_):
        for council in ("trafford", "stockport"):
            (out_dir / council / "spend").mkdir(parents=True)
            (out_dir / council / "spend" / "2024-04.csv").write_text("all\n")
        (out_dir / "demo.json").write_text("{}")

    monkeypatch.setattr(build, "build", lambda **_: built.append(1) or (tmp_path / "star.duckdb").write_bytes(b"db"))
    try:
        monkeypatch.setattr(demo, "generate", stopped)
        with pytest.raises(KeyboardInterrupt):
            build.ensure_database()
        assert not list((tmp_path / "raw").rglob("*.csv")) and not built  # nothing a later run would take as data
        monkeypatch.setattr(demo, "generate", complete)
        assert build.ensure_database()
    finally:
        config.settings.cache_clear()
    assert sorted(str(p.relative_to(tmp_path / "raw")) for p in (tmp_path / "raw").rglob("*.csv")) == [
        "stockport/spend/2024-04.csv",
        "trafford/spend/2024-04.csv",
    ]
    assert (tmp_path / "raw" / "demo.json").exists() and not (tmp_path / ".raw.generating").exists() and built == [1]


def test_the_first_run_runs_once_in_the_background_whoever_watches(monkeypatch):
    import threading

    release, calls = threading.Event(), []

    def slow(progress=None, **_):
        calls.append(1)
        progress(0.4, "Read trafford/spend/2024-04.csv")
        release.wait(10)
        if len(calls) == 1:
            raise build.BuildError("disk full")
        return True

    monkeypatch.setattr(build, "ensure_database", slow)
    monkeypatch.setattr(build, "_first_run", None)
    first = build.first_run_in_background()
    assert build.first_run_in_background() is first and build.first_run_running()  # a second visitor watches it
    while first.fraction < 0.4:
        threading.Event().wait(0.01)
    assert first.message == "Read trafford/spend/2024-04.csv"
    release.set()
    assert first.finished.wait(10) and first.error == "disk full" and not build.first_run_running()
    again = build.first_run_in_background()  # the next visit tries again
    assert again is not first and again.finished.wait(10) and again.error is None and len(calls) == 2


def test_the_app_on_a_fresh_clone_builds_behind_its_progress_bar_then_shows_the_sign_in_form(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("STARVIZ_DB", str(tmp_path / "star.duckdb"))
    monkeypatch.setenv("STARVIZ_RAW", str(tmp_path / "raw"))
    monkeypatch.setenv("STARVIZ_AUTH_DIR", str(tmp_path / "auth"))
    monkeypatch.setenv("STARVIZ_DEMO_SCALE", "0.01")  # the path, not the scale, is tested here
    monkeypatch.setattr(build, "_first_run", None)
    config.settings.cache_clear()
    try:
        at = AppTest.from_file(str(config.ROOT / "app.py"), default_timeout=120).run()
    finally:
        config.settings.cache_clear()
    assert not at.exception, at.exception
    assert (tmp_path / "star.duckdb").exists() and (tmp_path / "raw" / "demo.json").exists()
    assert [t.label for t in at.text_input] == ["Username", "Password"]  # the run after the build
