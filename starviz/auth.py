"""Sign-in, server-side sessions, throttling, the audit trail, and each user's role and council scope.

Demo mode (``settings().env == "demo"``) creates, at first use, a credentials file with bcrypt hashes
of the demo password and a random cookie key in ``data/.auth/`` (or ``$STARVIZ_AUTH_DIR``), a folder
that ignores itself in git. Nothing secret is ever committed.

Production (``STARVIZ_ENV=production``) reads:

* the credentials file from ``$STARVIZ_AUTH_FILE`` or ``[auth] credentials_file`` in
  ``.streamlit/secrets.toml`` (relative paths are relative to the repository root);
* the cookie key from ``[auth] cookie_key`` in secrets or ``$STARVIZ_COOKIE_KEY`` (32+ random characters);
* optionally ``[auth] cookie_expiry_days`` / ``$STARVIZ_COOKIE_EXPIRY_DAYS`` (default 7, at most 30),
  ``[auth] idle_timeout_minutes`` / ``$STARVIZ_IDLE_TIMEOUT_MINUTES`` (default 60) and
  ``$STARVIZ_STATE_DB`` (the session store; default ``starviz-state.sqlite3`` beside the credentials);

and refuses to run while :func:`production_problems` reports anything (demo accounts, the demo
password, bcrypt cost under 12, a guessable cookie key, an expiry over 30 days...).

Sessions live on the server (:mod:`starviz.sessions`): the cookie holds ``v1.<random id>.<HMAC of it
with the cookie key>`` and nothing else; anything else in the cookie is ignored and deleted.

Credentials file (YAML, or TOML when the name ends in ``.toml``)::

    users:
      jane.smith:                      # lower case: the sign-in form lower-cases what is typed
        name: Jane Smith
        password: $2b$12$...            # python -m starviz hash-password (bcrypt, cost 12 or more)
        role: analyst                   # admin | analyst | viewer
        councils: [trafford]            # or: all
        email: jane.smith@example.org   # optional
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
import time
import tomllib
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
)

from starviz import escape, sessions
from starviz.config import DATA_DIR, ROOT, settings
from starviz.scope import ROLES, User

DEMO_PASSWORD = "star-demo"
# username -> (display name, role, councils or None for all)
DEMO_ACCOUNTS: dict[str, tuple[str, str, tuple[str, ...] | None]] = {
    "director": ("STAR Director", "admin", None),
    "category.manager": ("Category Manager", "analyst", None),
    "board": ("Board Member", "viewer", None),
    "trafford.officer": ("Trafford Officer", "analyst", ("trafford",)),
}
ROLE_DESCRIPTIONS = {
    "admin": "everything, including imports and rebuilds",
    "analyst": "all pages, invoice-line detail, exports",
    "viewer": "dashboards and exports, no line-level detail",
}

COOKIE_NAME = "starviz_auth"
MIN_COOKIE_KEY_LENGTH = 32
# zxcvbn's estimate of the guesses a cookie key needs (log10): 32 random characters give about 32;
# "a" * 32 gives 2.6, a passphrase of dictionary words about 22.
MIN_COOKIE_KEY_GUESSES_LOG10 = 30
DEFAULT_COOKIE_EXPIRY_DAYS = 7.0
MAX_COOKIE_EXPIRY_DAYS = 30.0
DEFAULT_IDLE_TIMEOUT_MINUTES = 60.0
MIN_BCRYPT_COST = 12
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

CREDENTIALS_FILE_NAME = "credentials.yaml"
COOKIE_KEY_FILE_NAME = "cookie_key"

_BCRYPT = re.compile(r"^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$")
_USERNAME = r"^[a-z0-9][a-z0-9._@-]*$"
_COUNCIL = r"^[a-z][a-z0-9_]*$"

# st.session_state keys
_STATE_COOKIE = "_starviz_cookie"
STATE_SESSION = "_starviz_session"
STATE_USER = "starviz_user"

log = logging.getLogger("starviz.auth")
_UK = ZoneInfo("Europe/London")


class AuthConfigError(ValueError):
    """The credentials file is missing or wrong; ``problems`` lists each problem, naming file and key."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


# ------------------------------------------------------------------------------ credentials file
class _Account(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    password: str = Field(description="bcrypt hash, never the password itself")
    role: Literal["admin", "analyst", "viewer"]
    councils: str | list[str] = Field("all", description='council ids, or "all"')
    email: str | None = None

    @field_validator("password")
    @classmethod
    def _bcrypt_hash(cls, value: str) -> str:
        if not _BCRYPT.fullmatch(value):
            raise ValueError("not a bcrypt hash; store its hash (python -m starviz hash-password), never the password itself")
        return value

    @field_validator("councils")
    @classmethod
    def _council_ids(cls, value: str | list[str]) -> str | list[str]:
        if isinstance(value, str):
            if value != "all":
                raise ValueError(f'write "all" or a list of council ids, not {value!r}')
            return value
        if not value:
            raise ValueError('an empty list gives no access; list council ids or write "all"')
        bad = [c for c in value if not re.fullmatch(_COUNCIL, c)]
        if bad:
            raise ValueError(f"not council ids (lower-case words, as in data/councils/<id>.toml): {bad}")
        return value

    def user(self, username: str) -> User:
        councils = None if self.councils == "all" else tuple(self.councils)
        return User(username=username, name=self.name, role=self.role, councils=councils)


class _CredentialsFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    users: dict[Annotated[str, StringConstraints(pattern=_USERNAME)], _Account]

    @field_validator("users")
    @classmethod
    def _someone(cls, value: dict) -> dict:
        if not value:
            raise ValueError("no users; add at least one")
        return value


def _problems_from(path: Path, exc: ValidationError) -> list[str]:
    problems = []
    for err in exc.errors():
        loc = [str(p) for p in err["loc"]]
        msg = err["msg"].removeprefix("Value error, ")
        if len(loc) >= 2 and loc[0] == "users":
            who, rest = loc[1], loc[2:]
            if rest == ["[key]"]:
                problems.append(f"{path}: user {who!r}: usernames must be lower case letters, digits and . _ @ -")
            else:
                key = ".".join(rest) or "(entry)"
                problems.append(f"{path}: user {who!r}: key {key}: {msg}")
        else:
            problems.append(f"{path}: key {'.'.join(loc) or '(top level)'}: {msg}")
    return list(dict.fromkeys(problems))


def _read_credentials(path: Path) -> _CredentialsFile:
    path = Path(path)
    if not path.is_file():
        raise AuthConfigError([f"Credentials file not found: {path}"])
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text) if path.suffix.lower() == ".toml" else yaml.safe_load(text)
    except (OSError, UnicodeDecodeError, yaml.YAMLError, tomllib.TOMLDecodeError) as exc:
        raise AuthConfigError([f"{path}: cannot be read: {exc}"]) from exc
    if not isinstance(data, dict):
        raise AuthConfigError([f"{path}: key users: missing (the file must hold a 'users' table)"])
    try:
        return _CredentialsFile.model_validate(data)
    except ValidationError as exc:
        raise AuthConfigError(_problems_from(path, exc)) from exc


@lru_cache(maxsize=8)
def _read_credentials_cached(path: str, _mtime_ns: int, _size: int) -> _CredentialsFile:
    return _read_credentials(Path(path))


def _credentials(path: Path) -> _CredentialsFile:
    """``_read_credentials`` cached until the file changes."""
    try:
        stat = Path(path).stat()
    except OSError:
        return _read_credentials(Path(path))  # raises "not found"
    return _read_credentials_cached(str(path), stat.st_mtime_ns, stat.st_size)


def load_users(path: Path | str) -> dict[str, User]:
    """Users of a credentials file, by username. Raises :class:`AuthConfigError` naming file and key."""
    creds = _credentials(Path(path))
    return {username: account.user(username) for username, account in creds.users.items()}


# ------------------------------------------------------------------------------------ demo mode
def demo_auth_dir() -> Path:
    """Where demo mode keeps its generated credentials and cookie key (git-ignored)."""
    return Path(os.environ.get("STARVIZ_AUTH_DIR") or DATA_DIR / ".auth")


def _write_private(path: Path, text: str, *, exclusive: bool) -> bool:
    """Write atomically with mode 600. ``exclusive``: never replace an existing file (returns False)."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    try:
        if exclusive:
            try:
                os.link(tmp, path)
            except FileExistsError:
                return False
        else:
            os.replace(tmp, path)
            tmp = None
        return True
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)


def ensure_demo_credentials(auth_dir: Path | None = None) -> tuple[Path, str]:
    """Create (first use) or reuse the demo credentials file and cookie key; returns (file, key)."""
    folder = Path(auth_dir) if auth_dir is not None else demo_auth_dir()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    ignore = folder / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# generated by starviz demo mode: bcrypt hashes and a cookie key, never commit\n*\n")

    key_file = folder / COOKIE_KEY_FILE_NAME
    if not key_file.exists():
        _write_private(key_file, secrets.token_urlsafe(48) + "\n", exclusive=True)
    cookie_key = key_file.read_text(encoding="utf-8").strip()
    if len(cookie_key) < MIN_COOKIE_KEY_LENGTH:  # damaged: start again
        _write_private(key_file, secrets.token_urlsafe(48) + "\n", exclusive=False)
        cookie_key = key_file.read_text(encoding="utf-8").strip()

    cred_file = folder / CREDENTIALS_FILE_NAME
    try:
        usable = set(DEMO_ACCOUNTS) <= set(load_users(cred_file))
    except AuthConfigError:
        usable = False
    if not usable:
        users = {
            username: {
                "name": name,
                "password": hash_password(DEMO_PASSWORD),
                "role": role,
                "councils": list(councils) if councils else "all",
            }
            for username, (name, role, councils) in DEMO_ACCOUNTS.items()
        }
        header = "# Demo accounts generated by starviz (demo mode only). Password: see the login page.\n"
        _write_private(cred_file, header + yaml.safe_dump({"users": users}, sort_keys=False), exclusive=False)
    return cred_file, cookie_key


# ----------------------------------------------------------------------------------- production
def _auth_secrets() -> Mapping[str, Any]:
    """The ``[auth]`` table of ``.streamlit/secrets.toml``, or ``{}`` when there is none."""
    try:
        import streamlit as st

        if not st.secrets.load_if_toml_exists():
            return {}
        section = st.secrets.get("auth")
        return dict(section) if isinstance(section, Mapping) else {}
    except Exception:  # no or unreadable secrets: treated as absent
        return {}


def _resolve(path: str) -> Path:
    p = Path(path).expanduser()
    return p if p.is_absolute() else ROOT / p


def production_credentials_file() -> Path | None:
    value = os.environ.get("STARVIZ_AUTH_FILE") or _auth_secrets().get("credentials_file")
    return _resolve(str(value)) if value else None


def production_cookie_key() -> str | None:
    value = _auth_secrets().get("cookie_key") or os.environ.get("STARVIZ_COOKIE_KEY")
    return str(value) if value else None


def _number_setting(secret: str, env: str, default: float) -> float:
    value = _auth_secrets().get(secret) or os.environ.get(env)
    try:
        number = float(value) if value is not None else default
    except (TypeError, ValueError):
        return default
    return number if number > 0 else default


def cookie_expiry_days() -> float:
    return _number_setting("cookie_expiry_days", "STARVIZ_COOKIE_EXPIRY_DAYS", DEFAULT_COOKIE_EXPIRY_DAYS)


def idle_timeout_minutes() -> float:
    return _number_setting("idle_timeout_minutes", "STARVIZ_IDLE_TIMEOUT_MINUTES", DEFAULT_IDLE_TIMEOUT_MINUTES)


def hash_password(password: str, cost: int = MIN_BCRYPT_COST) -> str:
    """The bcrypt hash to store in a credentials file."""
    import bcrypt

    return bcrypt.hashpw(_password_bytes(password), bcrypt.gensalt(rounds=cost)).decode()


def _password_bytes(password: str) -> bytes:
    return password.encode("utf-8")[:72]  # bcrypt reads 72 bytes; bcrypt 5 refuses longer input


def bcrypt_cost(password_hash: str) -> int:
    return int(password_hash.split("$")[2])


def cookie_key_problem(key: str) -> str | None:
    """Why ``key`` is not fit to sign sessions with, or None. Length alone is not enough: a key of
    repeated characters or of dictionary words is found by guessing; zxcvbn estimates how fast."""
    hint = 'make one with: python -c "import secrets; print(secrets.token_urlsafe(48))"'
    if len(key) < MIN_COOKIE_KEY_LENGTH:
        return f"Cookie key too short: {len(key)} characters, at least {MIN_COOKIE_KEY_LENGTH} needed ({hint})."
    if re.fullmatch(r"(.+?)\1+", key):
        return f"Cookie key is a repeated pattern ({len(set(key))} different characters in {len(key)}): {hint}."
    if len(set(key)) < 10:
        return f"Cookie key uses only {len(set(key))} different characters: {hint}."
    from zxcvbn import zxcvbn

    guesses = zxcvbn(key[:100])["guesses_log10"]
    if guesses < MIN_COOKIE_KEY_GUESSES_LOG10:
        return (
            f"Cookie key is guessable (dictionary words, dates or patterns: about 10^{guesses:.0f} guesses, "
            f"at least 10^{MIN_COOKIE_KEY_GUESSES_LOG10} needed): {hint}."
        )
    return None


def production_problems() -> list[str]:
    """Everything that stops a production start, one sentence each; empty in demo mode or when ready."""
    if settings().env != "production":
        return []
    problems: list[str] = []
    path = production_credentials_file()
    if path is None:
        problems.append(
            "No credentials file configured: set STARVIZ_AUTH_FILE or credentials_file in the [auth] "
            "section of .streamlit/secrets.toml."
        )
    else:
        try:
            users = load_users(path)
        except AuthConfigError as exc:
            problems.extend(exc.problems)
        else:
            problems.extend(_unknown_councils(path, users))
            problems.extend(_weak_accounts(path))
    key = production_cookie_key()
    if not key:
        problems.append(
            "No cookie key: set cookie_key in the [auth] section of .streamlit/secrets.toml or STARVIZ_COOKIE_KEY "
            f"(at least {MIN_COOKIE_KEY_LENGTH} random characters, e.g. "
            'python -c "import secrets; print(secrets.token_urlsafe(48))").'
        )
    elif problem := cookie_key_problem(key):
        problems.append(problem)
    raw_expiry = _auth_secrets().get("cookie_expiry_days") or os.environ.get("STARVIZ_COOKIE_EXPIRY_DAYS")
    try:
        expiry = float(raw_expiry) if raw_expiry is not None else DEFAULT_COOKIE_EXPIRY_DAYS
    except (TypeError, ValueError):
        problems.append(f"cookie_expiry_days is not a number of days: {raw_expiry!r}.")
    else:
        if not 0 < expiry <= MAX_COOKIE_EXPIRY_DAYS:
            problems.append(
                f"cookie_expiry_days is {expiry:g}: a session may last at most {MAX_COOKIE_EXPIRY_DAYS:g} days "
                "(1 is suggested for shared machines)."
            )
    return problems


def _weak_accounts(path: Path) -> list[str]:
    """Demo accounts, the demo credentials file or password, and bcrypt costs under the minimum."""
    stat = path.stat()
    return list(_weak_accounts_cached(str(path), stat.st_mtime_ns, stat.st_size))


@lru_cache(maxsize=4)
def _weak_accounts_cached(path_text: str, _mtime_ns: int, _size: int) -> tuple[str, ...]:
    path = Path(path_text)
    problems = []
    if path.resolve() == (demo_auth_dir() / CREDENTIALS_FILE_NAME).resolve() or path.read_text(
        encoding="utf-8", errors="replace"
    ).startswith("# Demo accounts generated by starviz"):
        problems.append(f"{path}: this is the demo credentials file; production needs its own users.")
    for username, account in _credentials(path).users.items():
        if username in DEMO_ACCOUNTS:
            problems.append(f"{path}: user {username!r} is a demo account; remove it.")
        cost = bcrypt_cost(account.password)
        if cost < MIN_BCRYPT_COST:
            problems.append(
                f"{path}: user {username!r}: key password: bcrypt cost {cost}, at least {MIN_BCRYPT_COST} needed "
                "(hash it again with python -m starviz hash-password)."
            )
    return tuple(problems)


def _unknown_councils(path: Path, users: Mapping[str, User]) -> list[str]:
    try:
        from starviz.config import load_councils

        known = set(load_councils())
    except Exception:  # council configuration errors are reported elsewhere
        return []
    return [
        f"{path}: user {username!r}: key councils: unknown council {council!r} (known: {', '.join(sorted(known))})"
        for username, user in users.items()
        for council in user.councils or ()
        if council not in known
    ]


# ---------------------------------------------------------------------------------- active setup
def _active() -> tuple[Path, str, float]:
    """(credentials file, cookie key, cookie expiry days) for the current mode."""
    if settings().env == "production":
        problems = production_problems()
        if problems:
            raise AuthConfigError(problems)
        return production_credentials_file(), production_cookie_key(), cookie_expiry_days()
    path, key = ensure_demo_credentials()
    return path, key, 1.0


def users() -> dict[str, User]:
    """Every user of the active credentials file (demo accounts in demo mode)."""
    return load_users(_active()[0])


def state_db_path() -> Path:
    """The shared session store: ``$STARVIZ_STATE_DB``, else beside the credentials file in
    production, else in the demo auth folder."""
    if value := os.environ.get("STARVIZ_STATE_DB"):
        return _resolve(value)
    if settings().env == "production":
        creds = production_credentials_file()
        if creds is not None:
            return creds.parent / STATE_DB_NAME
    return demo_auth_dir() / STATE_DB_NAME


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
    account = _credentials(path).users[username]
    session_id = secrets.token_urlsafe(32)
    store().open(session_id, username, _fingerprint(account.password), client, expiry_days * 86400)
    return session_id


def session_user(session_id: str) -> User | None:
    """The user of a live session, or None. A session ends here, everywhere at once, when it is idle
    too long or expired, when its user is no longer in the credentials file, or when the user's
    password has changed since it started."""
    path = _active()[0]
    record = store().get(session_id, idle_timeout_minutes() * 60)
    if record is None:
        return None
    account = _credentials(path).users.get(record.username)
    if account is None or _fingerprint(account.password) != record.password_fingerprint:
        store().end(session_id)
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


@lru_cache(maxsize=4)
def _dummy_hash(cost: int) -> bytes:
    """A hash of a random password at the users' cost: an unknown user name is checked against it,
    so a wrong user name takes as long as a wrong password."""
    import bcrypt

    return bcrypt.hashpw(secrets.token_bytes(16), bcrypt.gensalt(rounds=cost))


def _clean(text: str, limit: int = 80) -> str:
    """A typed user name as it may appear in a log line: printable, short."""
    return "".join(c if c.isprintable() else "?" for c in text)[:limit]


def throttle_delay(failures: int) -> float:
    return THROTTLE_DELAYS[min(failures, len(THROTTLE_DELAYS) - 1)]


def sign_in(username: str, password: str, client: str) -> tuple[User | None, str | None, str | None]:
    """Check a typed user name and password: (user, session id, None) or (None, None, message).

    Throttled per user name and per client: each recent failure makes the next attempt wait longer,
    and after ``LOCK_AFTER`` failures sign-in is refused for ``LOCK_MINUTES``, whether or not the user
    exists. An unknown user name is checked against a dummy hash of the same cost, so the answer
    takes as long as for a known one. Every attempt is logged and audited, never the password."""
    import bcrypt

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
    accounts = _credentials(path).users
    account = accounts.get(username)
    costs = sorted(bcrypt_cost(a.password) for a in accounts.values())
    target = account.password.encode() if account else _dummy_hash(costs[len(costs) // 2] if costs else MIN_BCRYPT_COST)
    ok = bcrypt.checkpw(_password_bytes(password), target) and account is not None
    if not ok:
        held.fail(keys, FAILURE_WINDOW_SECONDS)
        log.warning("sign-in failed user=%r client=%s", username, client)
        held.record(username, "sign-in failed", "", client)
        if failures + 1 >= LOCK_AFTER:
            return None, None, _locked_message(LOCK_MINUTES)
        return None, None, SIGN_IN_FAILED
    held.forgive(keys)
    session_id = open_session(username, client)
    log.info("sign-in user=%r client=%s", username, client)
    held.record(username, "sign-in", "", client)
    return account.user(username), session_id, None


def client_address() -> str:
    """The browser's address: Streamlit's, or with ``STARVIZ_TRUSTED_PROXIES=N`` the N-th address
    from the right of X-Forwarded-For (the one the nearest trusted proxy saw)."""
    import streamlit as st

    trusted = os.environ.get("STARVIZ_TRUSTED_PROXIES", "0")
    try:
        hops = int(trusted)
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

    st.session_state[_STATE_COOKIE] = ("set", COOKIE_NAME, value, expires_at)


def _delete_cookie() -> None:
    import streamlit as st

    st.session_state[_STATE_COOKIE] = ("delete", COOKIE_NAME, "", None)


def _cookie_script(action: str, name: str, value: str, expires_at) -> str:
    """The script that makes the browser's cookie match; the value is quoted as JSON anyway."""
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

    lines = [f"**Demo mode.** Every account's password is `{DEMO_PASSWORD}`.", ""]
    lines += ["| account | role | sees |", "|---|---|---|"]
    for username, (_name, role, councils) in DEMO_ACCOUNTS.items():
        sees = ", ".join(c.title() for c in councils) if councils else "all councils"
        lines.append(f"| `{username}` | {role}: {ROLE_DESCRIPTIONS[role]} | {sees} |")
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
        if username in _credentials(_active()[0]).users:
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
    address opens the page it names. In production with wrong auth configuration it shows every
    problem with ``st.error`` and stops the script.
    """
    import streamlit as st

    try:
        _path, key, _expiry = _active()
    except AuthConfigError as exc:
        refuse_to_start(exc.problems)

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


def refuse_to_start(problems: list[str]) -> None:
    """The page shown instead of the app while production is not safely configured; stops the script.
    A hidden navigation is declared so that Streamlit lists no page names beside it."""
    import streamlit as st

    def page() -> None:
        st.error(
            "starviz will not start in production until its authentication is configured:\n\n"
            + "\n".join(f"- {escape.md(p)}" for p in problems)
        )

    st.navigation([st.Page(page, title="starviz", url_path="setup", default=True)], position="hidden").run()
    st.stop()


def _sign_in_page(key: str) -> None:
    import streamlit as st

    with st.form(LOGIN_FORM_KEY, enter_to_submit=True):
        st.subheader("Sign in to starviz")
        username = st.text_input("Username", autocomplete="username")
        password = st.text_input("Password", type="password", autocomplete="current-password")
        submitted = st.form_submit_button("Sign in", type="primary")
        message = st.empty()
    if settings().env == "demo":
        _demo_notice()
    if not submitted:
        return
    _path, _key, expiry_days = _active()
    user, session_id, problem = sign_in(username, password, client_address())
    if user is None:
        message.error(problem)
        return
    _forget_user()
    st.session_state.pop("_starviz_cookie_refused", None)
    st.session_state[STATE_SESSION] = session_id
    st.session_state[STATE_USER] = user
    _set_cookie(seal(session_id, key), dt.datetime.now(dt.UTC) + dt.timedelta(days=expiry_days))
    st.rerun()  # the app replaces the form on the first click


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


__all__ = [
    "DEMO_ACCOUNTS",
    "DEMO_PASSWORD",
    "ROLES",
    "AuthConfigError",
    "audit",
    "audit_events",
    "audit_trail",
    "current_user",
    "demo_auth_dir",
    "end_sessions",
    "ensure_demo_credentials",
    "hash_password",
    "load_users",
    "log_out",
    "login",
    "logout_button",
    "production_problems",
    "sign_in",
    "users",
]
