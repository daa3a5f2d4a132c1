"""Server-side sign-in state every replica on the host shares: sessions, failed sign-ins, the audit trail.

One small SQLite file (WAL, so replicas read while one writes) beside the credentials, never inside
the analytics database, which stays read-only. No Streamlit here.

* ``sessions``: one row per signed-in browser. The cookie carries a random session id; the store
  keeps only its SHA-256, so a copy of this file opens no session. A row ends (is deleted) on log
  out, when the user's password changes or the user is removed, when it is idle too long, and at
  its expiry.
* ``failures``: failed sign-ins per key (``user:<name>`` and ``client:<address>``), for throttling.
* ``rehashed``: a user's password hash replaced by a stronger hash of the same password (at sign-in),
  by fingerprints: sessions opened under the old hash carry over instead of ending as they do when
  the password itself changes.
* ``audit``: who did what, when, from where: sign-ins, imports, rebuilds, supplier merges.
* ``cookie_handoffs``: a cookie the server is to set (or delete) with ``Set-Cookie`` and ``HttpOnly``,
  named by a one-time token the page posts to ``/_starviz/cookie`` (``starviz/cookie_route.py``) on
  any replica; kept by the token's SHA-256, redeemed once, within two minutes.
"""

from __future__ import annotations

import contextlib
import hashlib
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

_SCHEMA = """
create table if not exists cookie_handoffs (
    token_sha256 text primary key,
    action text not null,
    value text not null,
    max_age integer,
    expires real not null
);
create table if not exists sessions (
    id_sha256 text primary key,
    username text not null,
    password_fingerprint text not null,
    client text not null,
    created real not null,
    last_seen real not null,
    expires real not null
);
create index if not exists sessions_by_user on sessions (username);
create table if not exists failures (
    key text primary key,
    count integer not null,
    last_failed real not null
);
create table if not exists rehashed (
    username text not null,
    old_fingerprint text not null,
    new_fingerprint text not null,
    at real not null,
    primary key (username, old_fingerprint, new_fingerprint)
);
create table if not exists audit (
    id integer primary key autoincrement,
    at real not null,
    username text not null,
    action text not null,
    detail text not null,
    client text not null
);
"""
# Seen-time is written at most this often per session (every click reads the row; few write it).
TOUCH_EVERY_SECONDS = 30.0


@dataclass(frozen=True)
class Session:
    username: str
    password_fingerprint: str
    client: str
    created: float
    last_seen: float
    expires: float


@dataclass(frozen=True)
class Event:
    at: float
    username: str
    action: str
    detail: str
    client: str


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


class Store:
    """The shared store at ``path`` (created with mode 600 on first use)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fresh = not self.path.exists()
        with self._connect() as con:
            con.executescript(_SCHEMA)
        if fresh:
            with contextlib.suppress(OSError):
                self.path.chmod(0o600)

    @contextlib.contextmanager
    def _connect(self):
        con = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        try:
            con.execute("pragma journal_mode = wal")
            con.execute("pragma busy_timeout = 10000")
            yield con
        finally:
            con.close()

    # --- sessions ------------------------------------------------------------------------------
    def open(self, session_id: str, username: str, password_fingerprint: str, client: str, lifetime: float) -> None:
        now = time.time()
        with self._connect() as con:
            con.execute(
                "insert into sessions values (?, ?, ?, ?, ?, ?, ?)",
                (_digest(session_id), username, password_fingerprint, client, now, now, now + lifetime),
            )

    def get(self, session_id: str, idle_timeout: float) -> Session | None:
        """The live session of ``session_id``, its last-seen time brought up to date; None (and the
        row deleted) when it is unknown, expired or idle for longer than ``idle_timeout`` seconds."""
        now = time.time()
        key = _digest(session_id)
        with self._connect() as con:
            row = con.execute(
                "select username, password_fingerprint, client, created, last_seen, expires from sessions where id_sha256 = ?",
                (key,),
            ).fetchone()
            if row is None:
                return None
            session = Session(*row)
            if now >= session.expires or now - session.last_seen > idle_timeout:
                con.execute("delete from sessions where id_sha256 = ?", (key,))
                return None
            if now - session.last_seen >= TOUCH_EVERY_SECONDS:
                con.execute("update sessions set last_seen = ? where id_sha256 = ?", (now, key))
        return session

    def note_rehash(self, username: str, old_fingerprint: str, new_fingerprint: str) -> None:
        """The same password's hash went from ``old`` to ``new`` (written before the new hash is)."""
        with self._connect() as con:
            con.execute(
                "insert or ignore into rehashed values (?, ?, ?, ?)", (username, old_fingerprint, new_fingerprint, time.time())
            )

    def carry_over(self, session_id: str, username: str, old_fingerprint: str, new_fingerprint: str) -> bool:
        """Whether a session opened under ``old`` continues under ``new`` (only after a rehash of the
        same password); if so, it now holds the new fingerprint."""
        with self._connect() as con:
            known = con.execute(
                "select 1 from rehashed where username = ? and old_fingerprint = ? and new_fingerprint = ?",
                (username, old_fingerprint, new_fingerprint),
            ).fetchone()
            if known:
                con.execute(
                    "update sessions set password_fingerprint = ? where id_sha256 = ?", (new_fingerprint, _digest(session_id))
                )
        return known is not None

    def end(self, session_id: str) -> None:
        with self._connect() as con:
            con.execute("delete from sessions where id_sha256 = ?", (_digest(session_id),))

    def end_user(self, username: str) -> int:
        """End every session of ``username``; returns how many there were."""
        with self._connect() as con:
            return con.execute("delete from sessions where username = ?", (username,)).rowcount

    def count(self, username: str | None = None) -> int:
        with self._connect() as con:
            if username is None:
                return con.execute("select count(*) from sessions").fetchone()[0]
            return con.execute("select count(*) from sessions where username = ?", (username,)).fetchone()[0]

    def prune(self, idle_timeout: float) -> None:
        now = time.time()
        with self._connect() as con:
            con.execute("delete from sessions where expires <= ? or last_seen < ?", (now, now - idle_timeout))

    # --- cookie handoffs ------------------------------------------------------------------------
    def offer_cookie(self, action: str, value: str, max_age: int | None, ttl: float = 120) -> str:
        """A one-time token for the cookie write (``set`` with ``value`` for ``max_age`` seconds, or
        ``delete``) that ``redeem_cookie`` hands over once, within ``ttl`` seconds."""
        import secrets

        token = secrets.token_urlsafe(32)
        now = time.time()
        with self._connect() as con:
            con.execute("delete from cookie_handoffs where expires <= ?", (now,))
            con.execute("insert into cookie_handoffs values (?, ?, ?, ?, ?)", (_digest(token), action, value, max_age, now + ttl))
        return token

    def redeem_cookie(self, token: str) -> tuple[str, str, int | None] | None:
        """(action, value, max_age) of the cookie write ``token`` names, once; None for an unknown,
        used or expired token."""
        with self._connect() as con:
            row = con.execute(
                "delete from cookie_handoffs where token_sha256 = ? returning action, value, max_age, expires", (_digest(token),)
            ).fetchone()
        if row is None or row[3] <= time.time():
            return None
        return row[0], row[1], row[2]

    # --- failed sign-ins -----------------------------------------------------------------------
    def failures(self, key: str, window: float) -> tuple[int, float]:
        """(failures, time of the last) for ``key`` within the last ``window`` seconds."""
        with self._connect() as con:
            row = con.execute("select count, last_failed from failures where key = ?", (key,)).fetchone()
        if row is None or time.time() - row[1] > window:
            return 0, 0.0
        return int(row[0]), float(row[1])

    def fail(self, keys: list[str], window: float) -> None:
        now = time.time()
        with self._connect() as con:
            for key in keys:
                con.execute(
                    "insert into failures values (?, 1, ?) on conflict (key) do update set "
                    "count = case when excluded.last_failed - failures.last_failed > ? then 1 else failures.count + 1 end, "
                    "last_failed = excluded.last_failed",
                    (key, now, window),
                )

    def forgive(self, keys: list[str]) -> None:
        with self._connect() as con:
            con.executemany("delete from failures where key = ?", [(k,) for k in keys])

    # --- audit trail ---------------------------------------------------------------------------
    def record(self, username: str, action: str, detail: str = "", client: str = "") -> None:
        with self._connect() as con:
            con.execute(
                "insert into audit (at, username, action, detail, client) values (?, ?, ?, ?, ?)",
                (time.time(), username, action, detail, client),
            )

    def events(self, limit: int = 500, action: str | None = None) -> list[Event]:
        sql = "select at, username, action, detail, client from audit"
        params: list = []
        if action:
            sql += " where action = ?"
            params.append(action)
        sql += " order by id desc limit ?"
        params.append(limit)
        with self._connect() as con:
            return [Event(*row) for row in con.execute(sql, params).fetchall()]
