"""The one path from the app to DuckDB: the file opened read-only, one cached execution path
(answers and parsed statements), and a trace hook for whoever wants to see the questions asked
(the bench).

Page-area modules call ``db.query``, ``db.rows`` and ``db.scalar`` with SQL and parameters only.
"""

from __future__ import annotations

import contextlib
import copy
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import pandas as pd

from starviz import config


class DatabaseUnavailable(RuntimeError):
    """The database file is missing or cannot be opened."""


_lock = threading.Lock()
_current: dict[str, tuple[tuple[int, int], duckdb.DuckDBPyConnection]] = {}


def _open() -> tuple[tuple, duckdb.DuckDBPyConnection]:
    """One read-only connection per process, reopened when a rebuild swaps a new file in; with the
    file's identity (path, inode, modification time).

    DuckDB shares one instance per path inside a process, so the old connection must be closed
    before the new file can be seen: a cache keyed on the file's identity would keep the old one.
    """
    path = str(config.settings().db_path)
    try:
        stat = os.stat(path)
    except FileNotFoundError as exc:
        raise DatabaseUnavailable(f"No database at {path}. An admin can build it from the raw extracts.") from exc
    stamp = (stat.st_ino, stat.st_mtime_ns)
    with _lock:
        held = _current.get(path)
        if held and held[0] == stamp:
            return (path, *stamp), held[1]
        if held:
            held[1].close()
        try:
            con = duckdb.connect(path, read_only=True)
        except duckdb.Error as exc:
            _current.pop(path, None)
            raise DatabaseUnavailable(f"The database {path} cannot be opened: {exc}") from exc
        _current[path] = (stamp, con)
        return (path, *stamp), con


# Answers already given for the file being served. Streamlit reruns a page's script on every click,
# and several people often look at the same view (the Board's shared link), so the same SQL with the
# same parameters comes back again and again. An answer is only valid for one database file: a new
# file empties the cache. Parameters carry everything else an answer depends on (the user's councils,
# the period, "today").
_answers: OrderedDict[tuple, tuple[object, int]] = OrderedDict()  # key -> (answer, its rows)
_answers_rows = [0]  # rows held, all answers together
_answers_file: list[tuple] = []
_answers_lock = threading.Lock()
_answers_on = [True]


def _frozen(value):
    """A hashable, exact stand-in for a parameter (lists and arrays as tuples, never abbreviated)."""
    if isinstance(value, (list, tuple)):
        return tuple(_frozen(v) for v in value)
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        return _frozen(value.tolist())
    hash(value)
    return type(value).__name__, value


def _answer(kind: str, sql: str, params: list | None, run):
    """``run(cursor)``'s answer to this SQL and these parameters, from the cache when it was asked
    before of the same file. The caller gets its own copy to change as it likes."""
    for note in _tracers:
        note(sql, params)
    settings = config.settings()
    file, con = _open()
    try:
        key = (kind, sql, _frozen(params or []))
    except TypeError:  # a parameter that cannot be a key: ask DuckDB
        key = None
    if settings.query_cache_entries <= 0 or not _answers_on[0] or key is None:
        with con.cursor() as cursor:  # connections are not thread-safe; cursors are cheap
            return run(cursor)
    with _answers_lock:
        if _answers_file != [file]:
            _forget_answers()
            _answers_file[:] = [file]
        held = _answers.get(key)
        if held is not None:
            _answers.move_to_end(key)
    if held is not None:
        answer = held[0]
    else:
        with con.cursor() as cursor:
            answer = run(cursor)
        rows = len(answer) if isinstance(answer, (pd.DataFrame, list)) else 1
        if rows <= settings.query_cache_max_rows:
            with _answers_lock:
                if _answers_file == [file] and key not in _answers:
                    _answers[key] = (answer, rows)
                    _answers_rows[0] += rows
                    while _answers and (
                        len(_answers) > settings.query_cache_entries or _answers_rows[0] > settings.query_cache_total_rows
                    ):
                        _answers_rows[0] -= _answers.popitem(last=False)[1][1]
    return answer.copy() if isinstance(answer, pd.DataFrame) else copy.deepcopy(answer)


def _forget_answers() -> None:
    _answers.clear()
    _answers_rows[0] = 0


def cache_answers(on: bool) -> None:
    """Turn the answer cache on or off for this process (the bench times DuckDB itself, not the
    cache); turning it off forgets every answer."""
    with _answers_lock:
        _answers_on[0] = on
        _forget_answers()


# DuckDB's parse of each SQL text the app has run. Parsing costs about as much as running a small
# query of the cube (a third of a spend pivot's time at 1M lines), and the app asks the same texts
# again and again with other parameters. A parsed statement is plain syntax, valid on any cursor of
# any file; DuckDB copies it for each execution, so threads can share it.
_statements: OrderedDict[str, duckdb.Statement] = OrderedDict()
_statements_lock = threading.Lock()
STATEMENTS_KEPT = 1024


def _execute(cursor: duckdb.DuckDBPyConnection, sql: str, params: list | None) -> duckdb.DuckDBPyConnection:
    with _statements_lock:
        statement = _statements.get(sql)
        if statement is not None:
            _statements.move_to_end(sql)  # the least recently asked go first
    if statement is None:
        parsed = cursor.extract_statements(sql)
        if len(parsed) != 1:  # not one statement: let DuckDB say what is wrong
            return cursor.execute(sql, params or [])
        statement = parsed[0]
        with _statements_lock:
            _statements[sql] = statement
            while len(_statements) > STATEMENTS_KEPT:
                _statements.popitem(last=False)
    return cursor.execute(statement, params or [])


def query(sql: str, params: list | dict | None = None) -> pd.DataFrame:
    """The answer as a DataFrame (``params``: positional ``?`` or named ``$name``)."""
    return _answer("frame", sql, params, lambda cursor: _execute(cursor, sql, params).df())


def rows(sql: str, params: list | dict | None = None) -> list[tuple]:
    return _answer("rows", sql, params, lambda cursor: _execute(cursor, sql, params).fetchall())


def scalar(sql: str, params: list | dict | None = None):
    return _answer("scalar", sql, params, lambda cursor: _execute(cursor, sql, params).fetchone()[0])


def db_path() -> Path:
    return config.settings().db_path


# Whoever wants to see the questions asked (the bench reads the SQL a page function puts to DuckDB):
# each tracer is called with the SQL and parameters of every question, cached or not, before it is
# answered.
_tracers: list[Callable[[str, object], None]] = []


@contextlib.contextmanager
def traced(note: Callable[[str, object], None]) -> Iterator[None]:
    """Within the block, ``note(sql, params)`` is called for every question asked, in this process."""
    _tracers.append(note)
    try:
        yield
    finally:
        _tracers.remove(note)


def release(path: Path | str | None = None) -> None:
    """Close the connection to a file (default: the configured one), so it can be removed."""
    with _lock:
        held = _current.pop(str(path or config.settings().db_path), None)
    if held:
        held[1].close()


_reference_cache: dict[tuple, object] = {}


def reference(name: str, fetch):
    """A small lookup (councils' names and order) kept until the database file is replaced, even
    with the answer cache off."""
    key = (_open()[0], name)
    if key not in _reference_cache:
        if len(_reference_cache) > 32:  # old databases' entries
            _reference_cache.clear()
        _reference_cache[key] = fetch()
    return _reference_cache[key]
