"""The memory of starviz.queries (its db module). The answer cache: a question asked again of the same database file
is answered without DuckDB, each caller gets its own copy, and a new file (a rebuild) retires every
answer. The parsed statements: each SQL text is parsed once, whatever its parameters."""

from __future__ import annotations

import os
import shutil

import duckdb
import pytest

from starviz import config, queries
from starviz.queries import db as database
from starviz.scope import Filters, User
from tests.conftest import ALL

DIRECTOR = User("director", "Director", "admin")
PARSED: list[str] = []  # the SQL texts DuckDB was asked to parse, in the test that is running


@pytest.fixture()
def served(fixture_build, monkeypatch, tmp_path):
    """A copy of the fixture database the app serves, and a list noting each question that reached
    DuckDB; the texts DuckDB is asked to parse go to PARSED."""
    db = tmp_path / "star.duckdb"
    shutil.copy(fixture_build.db_path, db)
    monkeypatch.setenv("STARVIZ_DB", str(db))
    config.settings.cache_clear()
    queries.cache_answers(True)
    opened, parsed = [], PARSED
    parsed.clear()

    class CountingParser:
        def __init__(self):
            self._con = duckdb.connect()

        def extract_statements(self, sql):
            parsed.append(sql)
            return self._con.extract_statements(sql)

    database._parsed.cache_clear()
    monkeypatch.setattr(database, "_parser", [CountingParser()])
    real_ask = database._Served.ask

    def counting_ask(self, run):
        opened.append(1)
        return real_ask(self, run)

    monkeypatch.setattr(database._Served, "ask", counting_ask)
    yield db, opened
    queries.cache_answers(True)
    database.release(db)
    database._parsed.cache_clear()
    config.settings.cache_clear()


def _settings(monkeypatch, **changes) -> None:
    patched = config.settings().model_copy(update=changes)

    def settings():
        return patched

    settings.cache_clear = lambda: None
    monkeypatch.setattr(config, "settings", settings)


def _scope(councils=ALL, fy="2025-26"):
    return queries.Scope(Filters(councils=councils, addressable_only=False, period="fy", fy=fy), DIRECTOR)


def test_the_same_question_twice_asks_duckdb_once_and_a_different_one_asks_again(served):
    _, opened = served
    first = queries.spend_by_council_month(_scope())
    asked = len(opened)
    again = queries.spend_by_council_month(_scope())
    assert len(opened) == asked and asked > 0
    assert again.equals(first)
    queries.spend_by_council_month(_scope(("trafford",)))
    assert len(opened) > asked


def test_each_caller_gets_its_own_copy_of_an_answer(served):
    first = queries.spend_by_council_month(_scope())
    total = first["spend_gbp"].sum()
    first["spend_gbp"] = 0.0
    assert queries.spend_by_council_month(_scope())["spend_gbp"].sum() == pytest.approx(total)


def test_a_rebuilt_file_swapped_in_retires_every_answer(served, tmp_path):
    db, _ = served
    before = queries.spend_by_council_month(_scope())
    assert "Rochdale" in set(before["council"])
    rebuilt = tmp_path / "rebuilt.duckdb"
    shutil.copy(db, rebuilt)
    with duckdb.connect(str(rebuilt)) as con:
        con.execute("delete from mart_spend_by_council_month where council_id = 'rochdale'")
    os.replace(rebuilt, db)  # as the build swaps in a new file
    after = queries.spend_by_council_month(_scope())
    assert "Rochdale" not in set(after["council"])
    assert after["spend_gbp"].sum() < before["spend_gbp"].sum()


def test_the_cache_keeps_at_most_its_configured_number_of_answers(served, monkeypatch):
    _, opened = served
    _settings(monkeypatch, query_cache_entries=2)
    one, two, three = _scope(("rochdale",)), _scope(("stockport",)), _scope(("tameside",))
    for scope in (one, two, three):
        queries.spend_by_council_month(scope)
    asked = len(opened)
    queries.spend_by_council_month(three)
    assert len(opened) == asked  # the newest is kept
    queries.spend_by_council_month(one)
    assert len(opened) > asked  # the oldest was let go
    assert len(database._answers[0]) <= 2


def test_the_cache_keeps_at_most_its_configured_number_of_rows_in_all(served, monkeypatch):
    _, opened = served
    one, two = _scope(("rochdale",)), _scope(("stockport",))
    rows = len(queries.spend_by_council_month(one))
    _settings(monkeypatch, query_cache_total_rows=rows + 1)  # room for one monthly answer, not two
    queries.cache_answers(True)
    queries.spend_by_council_month(one)
    queries.spend_by_council_month(two)
    assert database._answers[0].currsize <= rows + 1
    asked = len(opened)
    queries.spend_by_council_month(two)
    assert len(opened) == asked  # the newest is kept
    queries.spend_by_council_month(one)
    assert len(opened) > asked  # the oldest made room for it


def test_answers_over_the_row_limit_are_not_kept(served, monkeypatch):
    _, opened = served
    _settings(monkeypatch, query_cache_max_rows=1)
    queries.spend_by_council_month(_scope())
    asked = len(opened)
    queries.spend_by_council_month(_scope())
    assert len(opened) > asked


@pytest.mark.parametrize("how", ["setting", "switch"])
def test_with_the_cache_off_every_question_goes_to_duckdb(served, monkeypatch, how):
    _, opened = served
    if how == "setting":
        monkeypatch.setenv("STARVIZ_QUERY_CACHE_ENTRIES", "0")
        config.settings.cache_clear()
    else:
        queries.cache_answers(False)
    queries.spend_by_council_month(_scope())
    asked = len(opened)
    queries.spend_by_council_month(_scope())
    assert len(opened) == 2 * asked


def test_parameters_are_keys_exactly_never_abbreviated():
    import numpy as np

    long_a, long_b = np.arange(5000), np.arange(5000)
    long_b[2500] = -1  # numpy's repr would print both as "[0 1 2 ... 4997 4998 4999]"
    assert database._frozen([long_a]) != database._frozen([long_b])
    assert database._frozen([["a", "b"], 1]) == database._frozen([("a", "b"), 1])
    assert database._frozen([1]) != database._frozen([True])


def test_a_sql_text_is_parsed_once_and_answers_each_set_of_parameters(served):
    queries.cache_answers(False)  # every question goes to DuckDB
    trafford = queries.spend_by_council_month(_scope(("trafford",)))
    parses = len(PARSED)
    assert parses > 0
    stockport = queries.spend_by_council_month(_scope(("stockport",)))
    assert len(PARSED) == parses  # the same texts, not parsed again
    assert set(trafford["council"]) == {"Trafford"} and set(stockport["council"]) == {"Stockport"}
    sql = "select sum(spend_gbp) from mart_spend_by_council_month where council_id = ?"
    for council in ALL:
        assert database.scalar(sql, [council]) == pytest.approx(
            database.scalar(f"select sum(spend_gbp) from mart_spend_by_council_month where council_id = '{council}'")
        )
    assert PARSED.count(sql) == 1


def test_parsed_statements_are_kept_up_to_their_bound(served):
    queries.cache_answers(False)
    texts = [f"select {n} as n" for n in range(database.STATEMENTS_KEPT + 2)]
    for sql in texts:
        assert database.scalar(sql) == int(sql.split()[1])
    assert database._parsed.cache_info().currsize == database.STATEMENTS_KEPT
    assert database.scalar(texts[-1]) == len(texts) - 1 and PARSED.count(texts[-1]) == 1  # kept
    assert database.scalar(texts[0]) == 0 and PARSED.count(texts[0]) == 2  # the least recent: let go


def test_sql_that_is_not_one_statement_is_left_to_duckdb(served):
    with pytest.raises(duckdb.ParserException):
        database.scalar("select from where")
    assert database.rows("select 1; select 2") == [(2,)]  # as DuckDB itself answers it
    assert database.rows("select 1; select 2") == [(2,)]


def test_a_statement_parsed_before_a_rebuild_answers_from_the_new_file(served, tmp_path):
    db, _ = served
    queries.cache_answers(False)
    sql = "select count(*) from mart_spend_by_council_month where council_id = ?"
    assert database.scalar(sql, ["rochdale"]) > 0
    rebuilt = tmp_path / "rebuilt.duckdb"
    shutil.copy(db, rebuilt)
    with duckdb.connect(str(rebuilt)) as con:
        con.execute("delete from mart_spend_by_council_month where council_id = 'rochdale'")
    os.replace(rebuilt, db)
    assert database.scalar(sql, ["rochdale"]) == 0
    assert PARSED.count(sql) == 1


def test_readers_never_see_a_closed_connection_while_rebuilds_swap_files_in(served, tmp_path):
    """Six threads keep asking (the cache off, so every question reaches DuckDB) while the file is
    swapped 30 times: no question fails, each answer is of one whole file, and the last file swapped
    in is the one served afterwards; files swapped out are closed once their questions end."""
    import threading

    db, _ = served
    queries.cache_answers(False)
    full = tmp_path / "full.duckdb"
    shutil.copy(db, full)
    cut = tmp_path / "cut.duckdb"
    shutil.copy(db, cut)
    with duckdb.connect(str(cut)) as con:
        con.execute("delete from mart_spend_by_council_month where council_id = 'rochdale'")
    sql = "select count(*) from mart_spend_by_council_month where council_id = ?"
    expected = {database.scalar(sql, ["rochdale"]), 0}
    failures, answers, stop = [], [], threading.Event()

    def reader():
        while not stop.is_set():
            try:
                answers.append(database.scalar(sql, ["rochdale"]))
                queries.spend_by_council_month(_scope())
            except Exception as exc:  # any failure is the test's finding
                failures.append(repr(exc))

    threads = [threading.Thread(target=reader) for _ in range(6)]
    for thread in threads:
        thread.start()
    try:
        for swap in range(30):
            staged = tmp_path / f"swap-{swap}.duckdb"
            shutil.copy(cut if swap % 2 == 0 else full, staged)
            os.replace(staged, db)  # as the build swaps in a new file
            answers_before = len(answers)
            while len(answers) < answers_before + 3 and not failures:  # let readers reach the new file
                stop.wait(0.01)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert failures == []
    assert set(answers) <= expected and len(answers) > 60
    assert database.scalar(sql, ["rochdale"]) > 0  # the last swap (29, odd) put the full file in
    assert not database._serving[str(db)].retired
