"""Random bytes inside the database file are caught when it is served, not in a later drill-down."""

from __future__ import annotations

import shutil

import pytest

from starviz import build, config, integrity, queries
from starviz.queries import db as served
from tests.conftest import run_app


@pytest.fixture()
def live(fixture_build, tmp_path, monkeypatch):
    db = tmp_path / "star.duckdb"
    shutil.copy(fixture_build.db_path, db)
    shutil.copy(integrity.record_path(fixture_build.db_path), integrity.record_path(db))
    monkeypatch.setenv("STARVIZ_DB", str(db))
    monkeypatch.setenv("STARVIZ_AUTH_DIR", str(tmp_path / "auth"))
    config.settings.cache_clear()
    yield db
    served.release(db)
    config.settings.cache_clear()


def test_a_build_records_the_checksum_of_the_file_it_swaps_in(fixture_build):
    assert integrity.problem(fixture_build.db_path) is None
    assert integrity.checksum(fixture_build.db_path) in integrity.record_path(fixture_build.db_path).read_text()


def test_random_bytes_inside_the_file_show_the_unavailable_page_with_rebuild(live, fixture_raw, monkeypatch):
    data = bytearray(live.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 64] = bytes(range(64))  # the file still opens: DuckDB checks blocks only when read
    live.write_bytes(bytes(data))
    with pytest.raises(queries.DatabaseUnavailable, match="damaged"):
        queries.council_names()
    at = run_app("director")
    assert not at.exception
    assert at.title[0].value == "The database cannot be opened"
    assert "the checksum recorded when it was built" in at.error[0].value and str(live.parent) not in at.error[0].value
    assert [b for b in at.button if b.label == "Rebuild the database"]
    monkeypatch.setenv("STARVIZ_RAW", str(fixture_raw))
    config.settings.cache_clear()
    build.build()
    assert integrity.problem(live) is None and queries.council_names()


def test_a_file_built_by_another_version_of_the_sql_shows_the_unavailable_page_not_a_broken_page(live):
    import duckdb

    with duckdb.connect(str(live)) as con:  # as if an earlier release had built it
        con.execute("update build_info set sql_version = 'older'")
    integrity.record(live, live)  # its checksum is sound: only the version differs
    with pytest.raises(queries.DatabaseUnavailable, match="another version of starviz"):
        queries.council_names()
    at = run_app("director")
    assert not at.exception
    assert at.title[0].value == "The database cannot be opened"
    assert [b for b in at.button if b.label == "Rebuild the database"]


def test_a_file_from_before_versions_were_recorded_is_outdated_too(live):
    import duckdb

    with duckdb.connect(str(live)) as con:
        con.execute("alter table build_info drop column sql_version")
    integrity.record(live, live)
    with pytest.raises(queries.DatabaseUnavailable, match="another version of starviz"):
        queries.council_names()


def test_the_sql_version_changes_with_a_view_and_not_with_a_query_file(tmp_path, monkeypatch):
    (tmp_path / "20_core").mkdir(parents=True)
    (tmp_path / "queries" / "area").mkdir(parents=True)
    (tmp_path / "20_core" / "v.sql").write_text("create or replace view v as select 1 as x")
    (tmp_path / "queries" / "area" / "q.sql").write_text("select 1")
    monkeypatch.setattr(config, "SQL_DIR", tmp_path)
    integrity.sql_version.cache_clear()
    try:
        first = integrity.sql_version()
        (tmp_path / "queries" / "area" / "q.sql").write_text("select 2")
        integrity.sql_version.cache_clear()
        assert integrity.sql_version() == first
        (tmp_path / "20_core" / "v.sql").write_text("create or replace view v as select 2 as x")
        integrity.sql_version.cache_clear()
        assert integrity.sql_version() != first
    finally:
        integrity.sql_version.cache_clear()
