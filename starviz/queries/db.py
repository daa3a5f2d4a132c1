"""The one path from the app to DuckDB: the file opened read-only, one cached execution path
(answers and parsed statements), and a trace hook for whoever wants to see the questions asked
(the bench).

Page-area modules call ``db.query``, ``db.rows`` and ``db.scalar`` with SQL and parameters only.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import cachetools
import duckdb
import pandas as pd

from starviz import config, integrity


class DatabaseUnavailable(RuntimeError):
    """The database file is missing or cannot be opened."""


# --- the file being served ------------------------------------------------------------------------
# A rebuild swaps a new file in (os.replace) while people are reading the old one. Each file is
# served by its own DuckDB instance, an in-memory one with the file attached read-only (DuckDB keeps
# one instance per path inside a process, so a second plain connect to the path would return the old
# file). A question holds the file it started on until it ends; a file swapped out is closed when its
# last question ends, so nobody reads from a closed connection.

_ALIAS = "served"


class _Served:
    """One database file being served: its identity (path, inode, modification time), its DuckDB
    instance, cursors ready for the next question, and how many questions are using it."""

    def __init__(self, path: str, stamp: tuple[int, int]):
        self.file = (path, *stamp)
        self.users = 0
        self.retired = False
        self._idle: list[duckdb.DuckDBPyConnection] = []
        # spilled intermediate results go beside the file, as with a plain connect to it
        self._con = duckdb.connect(":memory:", config={"temp_directory": f"{path}.tmp"})
        try:
            self._con.execute(f"attach '{path.replace(chr(39), chr(39) * 2)}' as {_ALIAS} (read_only)")
            outdated = self._built_version() != integrity.sql_version()
        except duckdb.Error:
            self._con.close()
            raise
        if outdated:
            self._con.close()
            raise DatabaseUnavailable(integrity.OUTDATED)

    def _built_version(self) -> str | None:
        """The SQL version the build recorded (None for a file from before versions were recorded)."""
        try:
            row = self._con.execute(f"select sql_version from {_ALIAS}.build_info").fetchone()
        except duckdb.BinderException:  # no such column: built before versions were recorded
            return None
        except duckdb.CatalogException as exc:  # no build_info: not a complete starviz database
            raise DatabaseUnavailable(f"{_shown(self.file[0])} is not a complete starviz database") from exc
        return row[0] if row else None

    def ask(self, run: Callable[[duckdb.DuckDBPyConnection], object]):
        """``run(cursor)`` on a cursor of this file; cursors are not shared between threads, and one
        that saw an error is not used again."""
        with self.cursor() as cursor:
            return run(cursor)

    @contextlib.contextmanager
    def cursor(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor of this file for the block (a stream holds it until its last batch); one that
        saw an error, or was left before its answer was read to the end, is not used again."""
        with _lock:
            cursor = self._idle.pop() if self._idle else None
        if cursor is None:
            cursor = self._con.cursor()
            cursor.execute(f"use {_ALIAS}")  # each cursor is a connection of its own
            for macro in _scope_macros():
                cursor.execute(macro)
        try:
            yield cursor
        except BaseException:
            cursor.close()
            raise
        with _lock:
            self._idle.append(cursor)

    def close(self) -> None:
        for cursor in self._idle:
            cursor.close()
        self._idle.clear()
        self._con.close()


@functools.cache
def _scope_macros() -> tuple[str, ...]:
    """The council scope, written once in SQL (sql/queries/scope/): macros every question that reads
    council data filters through, defined on each connection (they need no rebuild of the file)."""
    return tuple(path.read_text() for path in sorted((config.SQL_DIR / "queries" / "scope").glob("*.sql")))


_lock = threading.Lock()
_serving: dict[str, _Served] = {}  # path -> the file served at that path now


def _shown(path: str) -> str:
    """The database path as a user may see it: relative to the project, never a server path."""
    p = Path(path)
    return str(p.relative_to(config.ROOT)) if p.is_relative_to(config.ROOT) else p.name


def _stamp(path: str) -> tuple[int, int]:
    try:
        stat = os.stat(path)
    except FileNotFoundError as exc:
        raise DatabaseUnavailable(f"No database at {_shown(path)}. An admin can build it from the raw extracts.") from exc
    return stat.st_ino, stat.st_mtime_ns


_verified: dict[tuple, str | None] = {}  # file identity -> why it is damaged (None: it is sound)
_verify_lock = threading.Lock()


def _verify(path: str, stamp: tuple[int, int]) -> None:
    """A file is checked against the checksum its build recorded once, when it is first served (a
    swap is a new identity); a damaged one raises DatabaseUnavailable for every question."""
    key = (path, *stamp)
    if key not in _verified:
        with _verify_lock:  # one pass per file, however many sessions ask at once
            if key not in _verified:
                try:
                    _verified[key] = integrity.problem(Path(path))
                except OSError as exc:
                    _verified[key] = f"The database {_shown(path)} cannot be read: {exc.strerror}"
    if _verified[key]:
        raise DatabaseUnavailable(f"{_verified[key]} ({_shown(path)})")


@contextlib.contextmanager
def _held() -> Iterator[_Served]:
    """The file at the configured path, held for one question (opened when a new file was swapped in)."""
    path = str(config.settings().db_path)
    stamp = _stamp(path)
    _verify(path, stamp)
    with _lock:
        served = _serving.get(path)
        if served is None or served.file[1:] != stamp:
            try:
                fresh = _Served(path, stamp)
            except duckdb.Error as exc:
                message = str(exc).splitlines()[0].replace(path, _shown(path))
                raise DatabaseUnavailable(f"The database {_shown(path)} cannot be opened: {message}") from exc
            if served is not None:
                _retire(served)
            served = _serving[path] = fresh
        served.users += 1
    try:
        yield served
    finally:
        with _lock:
            served.users -= 1
            done = served.retired and served.users == 0
        if done:
            served.close()


def _retire(served: _Served) -> None:
    """No new question starts on ``served``; it is closed now if none is running (``_lock`` held)."""
    served.retired = True
    if served.users == 0:
        served.close()


def release(path: Path | str | None = None) -> None:
    """Let go of a file (default: the configured one) so it can be removed; questions still running
    on it finish first."""
    with _lock:
        served = _serving.pop(str(path or config.settings().db_path), None)
        if served is not None:
            _retire(served)


def file_identity() -> tuple:
    """The served file's identity: (path, inode, modification time)."""
    with _held() as served:
        return served.file


# --- answers already given ----------------------------------------------------------------------
# Streamlit reruns a page's script on every click, and several people often look at the same view
# (the Board's shared link), so the same SQL with the same parameters comes back again and again.
# An answer is only valid for one database file: a new file starts an empty cache. Parameters carry
# everything else an answer depends on (the user's councils, the period, "today"). cachetools'
# LRUCache bounds the rows held in all (each answer weighs its rows); the number of answers is
# bounded too.


class _Answers(cachetools.LRUCache):
    """Least recently used answers, at most ``entries`` of them and ``total_rows`` rows in all."""

    def __init__(self, file: tuple, entries: int, total_rows: int):
        super().__init__(maxsize=total_rows, getsizeof=lambda held: held[1])
        self.file, self.entries = file, entries

    def __setitem__(self, key, value) -> None:
        super().__setitem__(key, value)
        while len(self) > self.entries:
            self.popitem()


_answers_lock = threading.Lock()
_answers: list[_Answers] = []  # the cache of the file served (none before the first answer)
_answers_on = [True]


def _frozen(value):
    """A hashable, exact stand-in for a parameter (lists and arrays as tuples, never abbreviated)."""
    if isinstance(value, (list, tuple)):
        return tuple(_frozen(v) for v in value)
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        return _frozen(value.tolist())
    hash(value)
    return type(value).__name__, value


def _cache_of(file: tuple, settings) -> _Answers:
    """The answer cache of this file and these bounds (``_answers_lock`` held): a new one when the
    file or the settings changed."""
    held = _answers[0] if _answers else None
    if (
        held is None
        or held.file != file
        or (held.entries, held.maxsize) != (settings.query_cache_entries, settings.query_cache_total_rows)
    ):
        held = _Answers(file, settings.query_cache_entries, settings.query_cache_total_rows)
        _answers[:] = [held]
    return held


def _answer(kind: str, sql: str, params: list | dict | None, run):
    """``run(cursor)``'s answer to this SQL and these parameters, from the cache when it was asked
    before of the same file. The caller gets its own copy to change as it likes."""
    for note in _tracers:
        note(sql, params)
    settings = config.settings()
    try:
        key = (kind, sql, _frozen(params or []))
    except TypeError:  # a parameter that cannot be a key: ask DuckDB
        key = None
    with _held() as served:
        if settings.query_cache_entries <= 0 or not _answers_on[0] or key is None:
            return served.ask(run)
        with _answers_lock:
            held = _cache_of(served.file, settings).get(key)
        if held is not None:
            answer = held[0]
        else:
            answer = served.ask(run)
            rows = len(answer) if isinstance(answer, (pd.DataFrame, list)) else 1
            if rows <= min(settings.query_cache_max_rows, settings.query_cache_total_rows):
                with _answers_lock:
                    _cache_of(served.file, settings)[key] = (answer, rows)
    return answer.copy() if isinstance(answer, pd.DataFrame) else copy.deepcopy(answer)


def cache_answers(on: bool) -> None:
    """Turn the answer cache on or off for this process (the bench times DuckDB itself, not the
    cache); turning it off forgets every answer."""
    with _answers_lock:
        _answers_on[0] = on
        _answers.clear()


# --- parsed statements --------------------------------------------------------------------------
# DuckDB's parse of each SQL text the app has run. Parsing costs about as much as running a small
# query of the cube (a third of a spend pivot's time at 1M lines), and the app asks the same texts
# again and again with other parameters. A parsed statement is plain syntax, valid on any cursor of
# any file; DuckDB copies it for each execution, so threads can share it. functools.lru_cache keeps
# the STATEMENTS_KEPT most recently asked.

STATEMENTS_KEPT = 1024
_parser_lock = threading.Lock()
_parser: list[duckdb.DuckDBPyConnection] = []


@functools.lru_cache(maxsize=STATEMENTS_KEPT)
def _parsed(sql: str) -> duckdb.Statement | None:
    """The one statement of ``sql``, or None when it holds several (DuckDB then runs the text as
    it is); a text DuckDB cannot parse raises its parser error and is not kept."""
    with _parser_lock:
        if not _parser:
            _parser.append(duckdb.connect(":memory:"))
        statements = _parser[0].extract_statements(sql)
    return statements[0] if len(statements) == 1 else None


def _execute(cursor: duckdb.DuckDBPyConnection, sql: str, params: list | dict | None) -> duckdb.DuckDBPyConnection:
    statement = _parsed(sql)
    return cursor.execute(sql if statement is None else statement, params or [])


def query(sql: str, params: list | dict | None = None) -> pd.DataFrame:
    """The answer as a DataFrame (``params``: positional ``?`` or named ``$name``)."""
    return _answer("frame", sql, params, lambda cursor: _execute(cursor, sql, params).df())


def rows(sql: str, params: list | dict | None = None) -> list[tuple]:
    return _answer("rows", sql, params, lambda cursor: _execute(cursor, sql, params).fetchall())


def scalar(sql: str, params: list | dict | None = None):
    return _answer("scalar", sql, params, lambda cursor: _execute(cursor, sql, params).fetchone()[0])


def batches(sql: str, params: list | dict | None = None, rows: int = 50_000) -> Iterator[pd.DataFrame]:
    """The answer in DataFrames of at most ``rows`` rows, read from DuckDB one Arrow record batch at
    a time, so an answer of a million lines is never held in memory at once (exports stream it).
    Never cached; the file and a cursor are held until the last batch is read or the loop is left."""
    for note in _tracers:
        note(sql, params)
    with _held() as served, served.cursor() as cursor:
        reader = cursor.sql(sql, params=params or None).to_arrow_reader(rows)  # streams: no copy of all rows
        for batch in reader:
            yield batch.to_pandas()


def db_path() -> Path:
    return config.settings().db_path


# --- the trace hook -----------------------------------------------------------------------------
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


# --- small lookups kept per file ------------------------------------------------------------------


def reference(name: str, fetch: Callable[[], object]):
    """A small lookup (councils' names and order) kept until the database file is replaced, even
    with the answer cache off. The caller must not change it."""
    return _reference(file_identity(), name, fetch)


@functools.lru_cache(maxsize=32)
def _reference(file: tuple, name: str, fetch: Callable[[], object]):
    return fetch()
