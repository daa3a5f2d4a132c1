"""Sign-in, server-side sessions, throttling, the audit trail, and each user's role and council scope.

Who may sign in and the production checks are :mod:`starviz.credentials`; password hashes are
:mod:`starviz.passwords`; the shared store of sessions, failures and audit events is
:mod:`starviz.sessions`.

Sessions live on the server: the cookie holds ``v1.<random id>.<HMAC of it with the cookie key>``
and nothing else; anything else in the cookie is ignored and deleted.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import threading
import time
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from starviz import credentials, escape, passwords, sessions
from starviz.config import settings
from starviz.credentials import AuthConfigError
from starviz.scope import User

COOKIE_NAME = "starviz_auth"
STATE_DB_NAME = "starviz-state.sqlite3"

# Throttling: failures counted per user name and per client within FAILURE_WINDOW; each failure
# makes the next attempt wait longer (THROTTLE_DELAYS, seconds); LOCK_AFTER failures lock sign-in for
# LOCK_MINUTES after the last one.
FAILURE_WINDOW_SECONDS = 15 * 60.0
THROTTLE_DELAYS = (0.0, 0.5, 1.0, 2.0, 4.0)
LOCK_AFTER = 5
LOCK_MINUTES = 15
AUDIT_ACTIONS = (
    "sign-in",
    "sign-in failed",
    "sign-in locked",
    "log-out",
    "import",
    "rebuild",
    "supplier merge",
    "supplier non-match",
)


# st.session_state keys
_STATE_COOKIE = "_starviz_cookie"
STATE_SESSION = "_starviz_session"
STATE_USER = "starviz_user"

log = logging.getLogger("starviz.auth")
_UK = ZoneInfo("Europe/London")


# ---------------------------------------------------------------------------------- active setup
def _active() -> tuple[Path, str, float]:
    """(credentials file, cookie key, cookie expiry days) for the current mode."""
    if settings().env == "production":
        problems = credentials.production_problems()
        if problems:
            raise AuthConfigError(problems)
        return credentials.production_credentials_file(), credentials.production_cookie_key(), credentials.cookie_expiry_days()
    path, key = credentials.ensure_demo_credentials()
    return path, key, 1.0


def cookie_key() -> str:
    """The key the sign-in cookie is signed with (raises AuthConfigError when production is not ready)."""
    return _active()[1]


def users() -> dict[str, User]:
    """Every user of the active credentials file (demo accounts in demo mode)."""
    return credentials.load_users(_active()[0])


def state_db_path() -> Path:
    """The shared session store: ``$STARVIZ_STATE_DB``, else beside the credentials file in
    production, else in the demo auth folder."""
    if value := os.environ.get("STARVIZ_STATE_DB"):
        return credentials.resolve(value)
    if settings().env == "production":
        creds = credentials.production_credentials_file()
        if creds is not None:
            return creds.parent / STATE_DB_NAME
    return credentials.demo_auth_dir() / STATE_DB_NAME


@lru_cache(maxsize=8)
def _store_at(path: str) -> sessions.Store:
    return sessions.Store(path)


def store() -> sessions.Store:
    return _store_at(str(state_db_path()))


# ------------------------------------------------------------------------------------ the cookie
_COOKIE_VALUE = re.compile(r"v1\.([A-Za-z0-9_-]{43})\.([A-Za-z0-9_-]{43})")


def _signature(session_id: str, key: str) -> str:
    mac = hmac.new(key.encode("utf-8"), b"starviz-session:" + session_id.encode("ascii"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def seal(session_id: str, key: str) -> str:
    """The cookie value for ``session_id``: the id and its HMAC under the cookie key."""
    return f"v1.{session_id}.{_signature(session_id, key)}"


def unseal(value: object, key: str) -> str | None:
    """The session id in a cookie value, or None for anything else: another format (a JWT with any
    ``alg``), another key, garbage. Never raises."""
    if not isinstance(value, str) or len(value) > 200:
        return None
    match = _COOKIE_VALUE.fullmatch(value)
    if match is None or not hmac.compare_digest(match.group(2), _signature(match.group(1), key)):
        return None
    return match.group(1)


def _fingerprint(password_hash: str) -> str:
    """Changes when the password does; the hash itself never leaves the credentials file."""
    return hashlib.sha256(b"starviz-password:" + password_hash.encode()).hexdigest()[:32]


def open_session(username: str, client: str = "in-process") -> str:
    """Start a server-side session for ``username`` (after the password was checked); its id."""
    path, _key, expiry_days = _active()
    account = credentials.read(path).users[username]
    session_id = secrets.token_urlsafe(32)
    store().open(session_id, username, _fingerprint(account.password), client, expiry_days * 86400)
    return session_id


def session_user(session_id: str) -> User | None:
    """The user of a live session, or None. A session ends here, everywhere at once, when it is idle
    too long or expired, when its user is no longer in the credentials file, or when the user's
    password has changed since it started."""
    path = _active()[0]
    record = store().get(session_id, credentials.idle_timeout_minutes() * 60)
    if record is None:
        return None
    account = credentials.read(path).users.get(record.username)
    if account is None:
        store().end(session_id)
        return None
    now = _fingerprint(account.password)
    if now != record.password_fingerprint and not store().carry_over(
        session_id, record.username, record.password_fingerprint, now
    ):
        store().end(session_id)  # the password changed (a rehash of the same password carries over)
        return None
    return account.user(record.username)


# --------------------------------------------------------------------------- sign-in, throttled
SIGN_IN_FAILED = "Username or password is incorrect."
UNKNOWN_CLIENT = "unknown"
_sleep = time.sleep  # tests replace it: throttling is asserted by the delays asked for, not timed


def _locked_message(minutes: int) -> str:
    return (
        f"Too many failed sign-ins. Sign-in is locked for {minutes} minute{'s' if minutes != 1 else ''}; "
        "try again later or ask an administrator."
    )


def _clean(text: str, limit: int = 80) -> str:
    """A typed user name as it may appear in a log line: printable, short."""
    return "".join(c if c.isprintable() else "?" for c in text)[:limit]


def throttle_delay(failures: int) -> float:
    return THROTTLE_DELAYS[min(failures, len(THROTTLE_DELAYS) - 1)]


def sign_in(username: str, password: str, client: str) -> tuple[User | None, str | None, str | None]:
    """Check a typed user name and password: (user, session id, None) or (None, None, message).

    Throttled per user name and per client: each recent failure makes the next attempt wait longer,
    and after ``LOCK_AFTER`` failures sign-in is refused for ``LOCK_MINUTES``, whether or not the user
    exists. An unknown user name is checked against a dummy hash of the kind most users have, so the
    answer takes as long as for a known one. A hash weaker than today's (bcrypt, older Argon2id
    parameters) is replaced after a successful check (:func:`_rehash`). Every attempt is logged and
    audited, never the password."""
    path = _active()[0]
    username = _clean(username.strip().lower())
    # Per client only when the address is known: behind a proxy on the same host without
    # STARVIZ_TRUSTED_PROXIES every browser is "unknown", and one typist must not lock out everyone.
    keys = [f"user:{username}"] + ([f"client:{client}"] if client and client != UNKNOWN_CLIENT else [])
    held = store()
    counts = [held.failures(k, FAILURE_WINDOW_SECONDS) for k in keys]
    failures = max(n for n, _ in counts)
    last = max(t for _, t in counts)
    if failures >= LOCK_AFTER and time.time() - last < LOCK_MINUTES * 60:
        log.warning("sign-in refused (locked) user=%r client=%s", username, client)
        held.record(username, "sign-in locked", f"{failures} failures", client)
        return None, None, _locked_message(max(1, round((LOCK_MINUTES * 60 - (time.time() - last)) / 60)))
    _sleep(throttle_delay(failures))
    accounts = credentials.read(path).users
    account = accounts.get(username)
    kinds = Counter(passwords.kind(a.password) for a in accounts.values())
    target = account.password if account else passwords.dummy_hash(kinds.most_common(1)[0][0])
    with _verifying:  # each check holds 19 MiB: a crowd of sign-ins queues here, not in memory
        ok = passwords.verify(password, target) and account is not None
    if not ok:
        held.fail(keys, FAILURE_WINDOW_SECONDS)
        log.warning("sign-in failed user=%r client=%s", username, client)
        held.record(username, "sign-in failed", "", client)
        if failures + 1 >= LOCK_AFTER:
            return None, None, _locked_message(LOCK_MINUTES)
        return None, None, SIGN_IN_FAILED
    held.forgive(keys)
    if passwords.needs_rehash(account.password):
        _rehash(path, username, account.password, password)
    session_id = open_session(username, client)
    log.info("sign-in user=%r client=%s", username, client)
    held.record(username, "sign-in", "", client)
    return account.user(username), session_id, None


# Password checks at once in this process: each Argon2id check holds 19 MiB and a core for ~25 ms, and
# every Streamlit session signs in on its own thread, so hundreds of sign-ins sent together (by anyone,
# before signing in) would each hold their memory at once. Past this many they wait their turn.
VERIFY_AT_ONCE = max(2, os.cpu_count() or 2)
_verifying = threading.BoundedSemaphore(VERIFY_AT_ONCE)

_rehash_failed: set[str] = set()  # old hashes this process could not replace (a read-only file)


def _rehash(path: Path, username: str, old_hash: str, password: str) -> None:
    """Replace a user's bcrypt (or outdated Argon2id) hash in the credentials file with an Argon2id
    hash of the password just checked. The store learns first that the old hash's sessions carry
    over, so the user's other signed-in browsers stay signed in. A file the app cannot write keeps
    the old hash (still accepted); the log says so once."""
    if old_hash in _rehash_failed:
        return
    new_hash = passwords.hash_password(password)
    store().note_rehash(username, _fingerprint(old_hash), _fingerprint(new_hash))
    if credentials.replace_hash(path, username, old_hash, new_hash):
        log.info("password hash of user=%r replaced by Argon2id in %s", username, path.name)
    else:
        _rehash_failed.add(old_hash)
        log.warning(
            "could not replace the password hash of user=%r in %s (read-only, or changed meanwhile); "
            "it stays as it is: hash it again with python -m starviz hash-password",
            username,
            path.name,
        )


def trusted_proxies() -> int:
    """How many proxies in front of the app are trusted to write ``X-Forwarded-For`` and
    ``X-Forwarded-Proto`` (``STARVIZ_TRUSTED_PROXIES``; deploy/serve.sh sets 1 for its nginx); 0, the
    default, when unset or not a whole number: those headers are then anyone's and are ignored."""
    try:
        return max(0, int(os.environ.get("STARVIZ_TRUSTED_PROXIES", "0")))
    except ValueError:
        return 0


def client_address() -> str:
    """The browser's address: Streamlit's, or with ``STARVIZ_TRUSTED_PROXIES=N`` the N-th address
    from the right of X-Forwarded-For (the one the nearest trusted proxy saw)."""
    import streamlit as st

    try:
        hops = trusted_proxies()
        if hops > 0:
            forwarded = [p.strip() for p in (st.context.headers.get("X-Forwarded-For") or "").split(",") if p.strip()]
            if len(forwarded) >= hops:
                return _clean(forwarded[-hops], 64)
        return _clean(str(getattr(st.context, "ip_address", None) or UNKNOWN_CLIENT), 64)
    except Exception:  # no request context (tests, scripts)
        return UNKNOWN_CLIENT


def audit(action: str, detail: str = "", username: str | None = None) -> None:
    """Record what the signed-in user (or ``username``, or the system account) did, for the admin's
    audit trail: imports, rebuilds, supplier merges. Never raises: an audit failure is logged."""
    try:
        import getpass

        who = username
        client = "cli"
        try:
            from streamlit.runtime.scriptrunner import get_script_run_ctx

            if get_script_run_ctx() is not None:
                user = current_user()
                who = who or (user.username if user else None)
                client = client_address()
        except Exception:  # outside Streamlit
            pass
        store().record(who or f"{getpass.getuser()} (command line)", action, detail, client)
    except Exception as exc:  # the action itself has happened; say so in the log
        log.error("could not write the audit trail (%s: %s) for %s %s", type(exc).__name__, exc, action, detail)


def audit_events(limit: int = 500) -> list[sessions.Event]:
    return store().events(limit)


def audit_trail(limit: int = 2000, actions: Iterable[str] = ()):
    """The audit trail as a table, newest first: UK time, who, what, detail, from where."""
    import pandas as pd

    wanted = set(actions)
    rows = [
        (
            dt.datetime.fromtimestamp(e.at, dt.UTC).astimezone(_UK).replace(tzinfo=None),
            e.username,
            e.action,
            e.detail,
            e.client,
        )
        for e in audit_events(limit)
        if not wanted or e.action in wanted
    ]
    return pd.DataFrame(rows, columns=["at", "username", "action", "detail", "client"])


# ------------------------------------------------------------------------------ browser cookie
def _set_cookie(value: str, expires_at: dt.datetime | None) -> None:
    import streamlit as st

    st.session_state[_STATE_COOKIE] = _pending("set", value, expires_at)


def _delete_cookie() -> None:
    import streamlit as st

    st.session_state[_STATE_COOKIE] = _pending("delete", "", None)


def _pending(action: str, value: str, expires_at: dt.datetime | None) -> tuple:
    """The cookie write to render: under serve.py a one-time token the page posts to the cookie route,
    which sets the cookie HttpOnly (``cookie_route``); otherwise (``streamlit run app.py``, in
    development) the write itself, done by a script."""
    from starviz import cookie_route

    if cookie_route.served():
        max_age = None if expires_at is None else max(0, int((expires_at - dt.datetime.now(dt.UTC)).total_seconds()))
        return ("route", store().offer_cookie(action, value, max_age))
    return (action, COOKIE_NAME, value, expires_at)


def _route_script(token: str) -> str:
    """The script that asks the server to set or delete the cookie (HttpOnly) with a one-time token."""
    from starviz import cookie_route

    body = json.dumps(token)
    return (
        f"<script>fetch({json.dumps(cookie_route.PATH)}, {{method: 'POST', body: {body}, credentials: 'same-origin', "
        "cache: 'no-store', headers: {'Content-Type': 'text/plain'}});</script>"
    )


def _cookie_script(action: str, name: str = "", value: str = "", expires_at=None) -> str:
    """The script that makes the browser's cookie match; the value is quoted as JSON anyway."""
    if action == "route":
        return _route_script(name)
    when = "Thu, 01 Jan 1970 00:00:00 GMT"
    if action == "set" and expires_at is not None:
        when = expires_at.astimezone(dt.UTC).strftime("%a, %d %b %Y %H:%M:%S GMT")
    cookie = json.dumps(f"{name}={value}; path=/; expires={when}; SameSite=Strict")
    return f"<script>document.cookie = {cookie} + (location.protocol === 'https:' ? '; Secure' : '');</script>"


def _sync_browser_cookie() -> None:
    """Render the pending cookie write in this run, if there is one. It stays in the session and is
    rendered on every run: the script is idempotent, and a run cut short cannot lose it.

    (Streamlit's own cookie reading, ``st.context.cookies``, is read-only and fixed for the life of
    the browser tab, which is why the session id, not the cookie, is checked on every run.)"""
    import streamlit as st

    pending = st.session_state.get(_STATE_COOKIE)
    if pending is None:
        return
    # Cookie scripts only: a zero-height element, hidden so it leaves no gap at the top of the page.
    st.html(
        _cookie_script(*pending) + "<style>.element-container:has(.starviz-cookie){display:none}</style>"
        '<span class="starviz-cookie"></span>',
        unsafe_allow_javascript=True,
    )


# ------------------------------------------------------------------------------------------ UI
def _demo_notice() -> None:
    import streamlit as st

    lines = [f"**Demo mode.** Every account's password is `{credentials.DEMO_PASSWORD}`.", ""]
    lines += ["| account | role | sees |", "|---|---|---|"]
    for username, (_name, role, councils) in credentials.DEMO_ACCOUNTS.items():
        sees = ", ".join(c.title() for c in councils) if councils else "all councils"
        lines.append(f"| `{username}` | {role}: {credentials.ROLE_DESCRIPTIONS[role]} | {sees} |")
    st.info("\n".join(lines))


LOGIN_FORM_KEY = "starviz-login"


def _forget_user() -> None:
    """Drop the session id, the user and every ``starviz_`` key (filters, notices...)."""
    import streamlit as st

    st.session_state.pop(STATE_SESSION, None)
    for key in [k for k in st.session_state if str(k).startswith("starviz_")]:
        del st.session_state[key]


def _signed_in_user(key: str) -> User | None:
    """The user of this browser tab's session, checked against the store on every run; or the
    session named by a valid cookie. A session that has ended, and any cookie that names none
    (another format, another key, garbage), are forgotten and the cookie deleted."""
    import streamlit as st

    # Signed in by code (AppTest, the bench): ``authentication_status`` and ``username`` set in the
    # session state, which no browser can write. Start a real session for it.
    if st.session_state.get("authentication_status") is True and STATE_SESSION not in st.session_state:
        username = str(st.session_state.pop("username", ""))
        st.session_state.pop("authentication_status", None)
        if username in credentials.read(_active()[0]).users:
            st.session_state[STATE_SESSION] = open_session(username)

    session_id = st.session_state.get(STATE_SESSION)
    if session_id:
        user = session_user(session_id)
        if user is None:
            _forget_user()
            _delete_cookie()
        return user
    if st.session_state.get("_starviz_cookie_refused"):
        return None  # this tab's cookie (read once per tab) was refused already
    try:
        value = st.context.cookies.get(COOKIE_NAME)
    except Exception:  # no request context
        value = None
    if not value:
        return None
    session_id = unseal(value, key)
    user = session_user(session_id) if session_id else None
    if user is None:
        st.session_state["_starviz_cookie_refused"] = True
        _delete_cookie()
        return None
    st.session_state[STATE_SESSION] = session_id
    return user


def login(page_paths: Iterable[str] = ()) -> User | None:
    """The signed-in user, from this tab's session or a valid cookie; otherwise the sign-in page and None.

    While signed out, the sign-in form is all a hidden ``st.navigation`` holds: at the default
    address and at each of ``page_paths`` (the app's page addresses), so no page can be opened (or
    even named) before signing in, a shared link shows the form, and after signing in the same
    address opens the page it names. In production with wrong auth configuration, or served without
    the cookie route (``streamlit run app.py``), it shows every problem with ``st.error`` and stops
    the script.
    """
    import streamlit as st

    try:
        _path, key, _expiry = _active()
    except AuthConfigError as exc:
        refuse_to_start(exc.problems + serving_problems())
    if problems := serving_problems():  # never a script-written cookie in production
        refuse_to_start(problems)

    user = _signed_in_user(key)
    _sync_browser_cookie()  # after the check, which may have asked for the cookie to go
    if user is not None:
        st.session_state[STATE_USER] = user
        return user
    st.session_state.pop(STATE_USER, None)

    def form() -> None:
        _sign_in_page(key)

    pages = [st.Page(form, title="Sign in", url_path="sign-in", default=True)]
    pages += [st.Page(form, title="Sign in", url_path=path) for path in dict.fromkeys(page_paths) if path and path != "sign-in"]
    st.navigation(pages, position="hidden").run()
    return None


SERVED_WITHOUT_ROUTE = (
    "It is served without the route that sets the sign-in cookie HttpOnly: start it with "
    "'streamlit run serve.py' (as make run and deploy/serve.sh do), not 'streamlit run app.py'."
)


def serving_problems() -> list[str]:
    """Why this server may not run in production as it is served: empty outside production and under
    serve.py. Served as ``streamlit run app.py`` the cookie would be written by a script, readable by
    any script in the page, so production refuses it (``cookie_route.served``)."""
    from starviz import cookie_route

    if settings().env != "production" or cookie_route.served():
        return []
    return [SERVED_WITHOUT_ROUTE]


_refusals_logged: set[tuple[str, ...]] = set()

NOT_CONFIGURED = "starviz is not available: its set-up is not finished. The administrator can see why in the server's log."


def refuse_to_start(problems: list[str]) -> None:
    """The page shown instead of the app while production is not safely configured; stops the script.

    The reasons are for the operator: written to the server log (logger ``starviz.auth``), once per
    process, one line. The visitor, who has not signed in, reads only that starviz is not available:
    the reasons name files on the server and user names. A hidden navigation is declared so that
    Streamlit lists no page names beside it."""
    import streamlit as st

    if tuple(problems) not in _refusals_logged:
        _refusals_logged.add(tuple(problems))
        log.error("starviz will not start in production: %s", " ".join(problems))

    def page() -> None:
        st.error(NOT_CONFIGURED)

    st.navigation([st.Page(page, title="starviz", url_path="setup", default=True)], position="hidden").run()
    st.stop()


_USERNAME_KEY, _PASSWORD_KEY, _PROBLEM_KEY = "_login_username", "_login_password", "_login_problem"


def _sign_in_page(key: str) -> None:
    import streamlit as st

    with st.form(LOGIN_FORM_KEY, enter_to_submit=True):
        st.subheader("Sign in to starviz")
        st.text_input("Username", key=_USERNAME_KEY, autocomplete="username")
        st.text_input("Password", type="password", key=_PASSWORD_KEY, autocomplete="current-password")
        st.form_submit_button("Sign in", type="primary", on_click=_submit, args=(key,))
        if problem := st.session_state.pop(_PROBLEM_KEY, None):
            st.error(problem)
    if settings().env == "demo":
        _demo_notice()


def _submit(key: str) -> None:
    """The sign-in form's callback. It runs before the script, so the run the click starts already
    finds the user signed in and draws the page the address names: one run per sign-in, not the
    form's run and then a second one for the app."""
    import streamlit as st

    username = str(st.session_state.get(_USERNAME_KEY) or "")
    password = str(st.session_state.get(_PASSWORD_KEY) or "")
    st.session_state[_PASSWORD_KEY] = ""  # not kept in the session
    user, session_id, problem = sign_in(username, password, client_address())
    if user is None:
        st.session_state[_PROBLEM_KEY] = problem
        return
    _forget_user()
    st.session_state.pop("_starviz_cookie_refused", None)
    st.session_state[STATE_SESSION] = session_id
    st.session_state[STATE_USER] = user
    expiry_days = _active()[2]
    _set_cookie(seal(session_id, key), dt.datetime.now(dt.UTC) + dt.timedelta(days=expiry_days))


def log_out() -> None:
    """End this tab's session everywhere (the store row goes, so a copied cookie opens nothing),
    forget the user and the ``starviz_`` state, delete the cookie."""
    import streamlit as st

    session_id = st.session_state.get(STATE_SESSION)
    user = st.session_state.get(STATE_USER)
    if session_id:
        store().end(session_id)
    if user is not None:
        log.info("log-out user=%r client=%s", user.username, client_address())
        store().record(user.username, "log-out", "", client_address())
    _forget_user()
    _delete_cookie()


def end_sessions(username: str) -> int:
    """End every session of ``username`` (a user removed or locked out by an administrator)."""
    return store().end_user(username)


def logout_button(location: Literal["sidebar", "main"] = "sidebar", label: str = "Log out") -> None:
    """A log-out button that works on the first click (it acts in its callback, before the rerun)."""
    import streamlit as st

    user = current_user()
    if user is None:
        return
    where = st.sidebar if location == "sidebar" else st
    where.caption(f"Signed in as **{escape.md(user.name)}** ({user.role})")
    where.button(label, key="starviz-logout", on_click=log_out, icon=":material/logout:")


def current_user() -> User | None:
    """The signed-in user of this session (checked by :func:`login` in this run), drawing nothing."""
    import streamlit as st

    if not st.session_state.get(STATE_SESSION):
        return None
    return st.session_state.get(STATE_USER)
