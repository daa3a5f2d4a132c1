"""Who may sign in, and whether the set-up is fit for production: the credentials file, demo mode's
generated accounts and cookie key, and the production settings and checks.

Demo mode (``settings().env == "demo"``) creates, at first use, a credentials file with password
hashes of the demo password and a random cookie key in ``data/.auth/`` (or ``$STARVIZ_AUTH_DIR``), a
folder that ignores itself in git. Nothing secret is ever committed.

Production (``STARVIZ_ENV=production``) reads:

* the credentials file from ``$STARVIZ_AUTH_FILE`` or ``[auth] credentials_file`` in
  ``.streamlit/secrets.toml`` (relative paths are relative to the repository root);
* the cookie key from ``[auth] cookie_key`` in secrets or ``$STARVIZ_COOKIE_KEY`` (32+ random characters);
* optionally ``[auth] cookie_expiry_days`` / ``$STARVIZ_COOKIE_EXPIRY_DAYS`` (default 7, at most 30),
  ``[auth] idle_timeout_minutes`` / ``$STARVIZ_IDLE_TIMEOUT_MINUTES`` (default 60) and
  ``$STARVIZ_STATE_DB`` (the session store; default ``starviz-state.sqlite3`` beside the credentials);

and refuses to run while :func:`production_problems` reports anything (demo accounts, the demo
password, a password hash weaker than :mod:`starviz.passwords` accepts, a guessable cookie key, an
expiry over 30 days...).

Credentials file (YAML, or TOML when the name ends in ``.toml``)::

    users:
      jane.smith:                      # lower case: the sign-in form lower-cases what is typed
        name: Jane Smith
        password: $argon2id$v=19$...   # python -m starviz hash-password (never the password itself)
        role: analyst                   # admin | analyst | viewer
        councils: [trafford]            # or: all
        email: jane.smith@example.org   # optional
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import secrets
import tomllib
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
)

from starviz import passwords
from starviz.config import DATA_DIR, ROOT, settings
from starviz.scope import User

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


MIN_COOKIE_KEY_LENGTH = 32
# zxcvbn's estimate of the guesses a cookie key needs (log10): 32 random characters give about 32;
# "a" * 32 gives 2.6, a passphrase of dictionary words about 22.
MIN_COOKIE_KEY_GUESSES_LOG10 = 30
DEFAULT_COOKIE_EXPIRY_DAYS = 7.0
MAX_COOKIE_EXPIRY_DAYS = 30.0
DEFAULT_IDLE_TIMEOUT_MINUTES = 60.0

CREDENTIALS_FILE_NAME = "credentials.yaml"
COOKIE_KEY_FILE_NAME = "cookie_key"

_USERNAME = r"^[a-z0-9][a-z0-9._@-]*$"
_COUNCIL = r"^[a-z][a-z0-9_]*$"


class AuthConfigError(ValueError):
    """The credentials file is missing or wrong; ``problems`` lists each problem, naming file and key."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


# ------------------------------------------------------------------------------ credentials file
class _Account(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    password: str = Field(description="Argon2id (or bcrypt) hash, never the password itself")
    role: Literal["admin", "analyst", "viewer"]
    councils: str | list[str] = Field("all", description='council ids, or "all"')
    email: str | None = None

    @field_validator("password")
    @classmethod
    def _password_hash(cls, value: str) -> str:
        if not passwords.is_hash(value):
            raise ValueError(
                "not an Argon2id or bcrypt hash; store its hash (python -m starviz hash-password), never the password itself"
            )
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


def read(path: Path) -> _CredentialsFile:
    """The credentials file, read and checked once until it changes."""
    try:
        stat = Path(path).stat()
    except OSError:
        return _read_credentials(Path(path))  # raises "not found"
    return _read_credentials_cached(str(path), stat.st_mtime_ns, stat.st_size)


def load_users(path: Path | str) -> dict[str, User]:
    """Users of a credentials file, by username. Raises :class:`AuthConfigError` naming file and key."""
    creds = read(Path(path))
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
        ignore.write_text("# generated by starviz demo mode: password hashes and a cookie key, never commit\n*\n")

    key_file = folder / COOKIE_KEY_FILE_NAME
    if not key_file.exists():
        _write_private(key_file, secrets.token_urlsafe(48) + "\n", exclusive=True)
    cookie_key = key_file.read_text(encoding="utf-8").strip()
    if len(cookie_key) < MIN_COOKIE_KEY_LENGTH:  # damaged: start again
        _write_private(key_file, secrets.token_urlsafe(48) + "\n", exclusive=False)
        cookie_key = key_file.read_text(encoding="utf-8").strip()

    cred_file = folder / CREDENTIALS_FILE_NAME
    if not _demo_file_usable(cred_file):
        # Replicas starting together must not each write their own: a session opened under one
        # file's hash would end when the other's replaced it (a new salt is a new fingerprint).
        with _locked(folder / ".credentials.lock"):
            if not _demo_file_usable(cred_file):
                _write_demo_file(cred_file)
    return cred_file, cookie_key


def _demo_file_usable(path: Path) -> bool:
    try:
        return set(DEMO_ACCOUNTS) <= set(load_users(path))
    except AuthConfigError:
        return False


@contextlib.contextmanager
def _locked(lock_path: Path):
    """One process at a time (every replica on the host) inside the block."""
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _write_demo_file(cred_file: Path) -> None:
    users = {
        username: {
            "name": name,
            "password": passwords.hash_password(DEMO_PASSWORD),
            "role": role,
            "councils": list(councils) if councils else "all",
        }
        for username, (name, role, councils) in DEMO_ACCOUNTS.items()
    }
    header = "# Demo accounts generated by starviz (demo mode only). Password: see the login page.\n"
    _write_private(cred_file, header + yaml.safe_dump({"users": users}, sort_keys=False), exclusive=False)


def replace_hash(path: Path, username: str, old_hash: str, new_hash: str) -> bool:
    """Put ``new_hash`` in place of ``username``'s ``old_hash`` in the credentials file, changing
    nothing else (comments, order and layout stay), atomically and one process at a time. False, and
    the file untouched, when it changed meanwhile or cannot be written (the old hash then stays)."""
    path = Path(path)
    try:
        with _locked(path.with_name(f".{path.name}.lock")):
            text = path.read_text(encoding="utf-8")
            if text.count(old_hash) != 1:
                return False  # changed since it was read (another replica, an administrator)
            new_text = text.replace(old_hash, new_hash)
            data = tomllib.loads(new_text) if path.suffix.lower() == ".toml" else yaml.safe_load(new_text)
            if data["users"][username]["password"] != new_hash:
                return False
            mode = path.stat().st_mode & 0o777
            tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    fh.write(new_text)
                os.replace(tmp, path)
            finally:
                tmp.unlink(missing_ok=True)
        return True
    except (OSError, KeyError, TypeError, yaml.YAMLError, tomllib.TOMLDecodeError):
        return False


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


def resolve(path: str) -> Path:
    p = Path(path).expanduser()
    return p if p.is_absolute() else ROOT / p


def production_credentials_file() -> Path | None:
    value = os.environ.get("STARVIZ_AUTH_FILE") or _auth_secrets().get("credentials_file")
    return resolve(str(value)) if value else None


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
    for username, account in read(path).users.items():
        if username in DEMO_ACCOUNTS:
            problems.append(f"{path}: user {username!r} is a demo account; remove it.")
        if weak := passwords.weakness(account.password):
            problems.append(
                f"{path}: user {username!r}: key password: {weak} (hash it again with python -m starviz hash-password)."
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
