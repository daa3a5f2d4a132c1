"""Login, logout and the user's role and council scope, on top of streamlit-authenticator 0.4.

Demo mode (``settings().env == "demo"``) creates, at first use, a credentials file with bcrypt hashes
of the demo password and a random cookie key in ``data/.auth/`` (or ``$STARVIZ_AUTH_DIR``), a folder
that ignores itself in git. Nothing secret is ever committed.

Production (``STARVIZ_ENV=production``) reads:

* the credentials file from ``$STARVIZ_AUTH_FILE`` or ``[auth] credentials_file`` in
  ``.streamlit/secrets.toml`` (relative paths are relative to the repository root);
* the cookie key from ``[auth] cookie_key`` in secrets or ``$STARVIZ_COOKIE_KEY`` (32+ characters);
* optionally ``[auth] cookie_expiry_days`` / ``$STARVIZ_COOKIE_EXPIRY_DAYS`` (default 7).

and refuses to run while :func:`production_problems` reports anything.

Credentials file (YAML, or TOML when the name ends in ``.toml``)::

    users:
      jane.smith:                      # lower case: the login form lower-cases what is typed
        name: Jane Smith
        password: $2b$12$...            # python -c "import streamlit_authenticator as s; print(s.Hasher.hash('...'))"
        role: analyst                   # admin | analyst | viewer
        councils: [trafford]            # or: all
        email: jane.smith@example.org   # optional
"""

from __future__ import annotations

import copy
import json
import os
import re
import secrets
import tomllib
from collections.abc import Iterable, Mapping
from datetime import UTC
from functools import lru_cache
from pathlib import Path
from types import SimpleNamespace
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
DEFAULT_COOKIE_EXPIRY_DAYS = 7.0

CREDENTIALS_FILE_NAME = "credentials.yaml"
COOKIE_KEY_FILE_NAME = "cookie_key"

_BCRYPT = re.compile(r"^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$")
_USERNAME = r"^[a-z0-9][a-z0-9._@-]*$"
_COUNCIL = r"^[a-z][a-z0-9_]*$"

# st.session_state keys
_STATE_AUTHENTICATOR = "_starviz_authenticator"
_STATE_COOKIE = "_starviz_cookie"
STATE_USER = "starviz_user"


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
            raise ValueError("not a bcrypt hash; store Hasher.hash(password), never the password itself")
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
        from streamlit_authenticator import Hasher

        users = {
            username: {
                "name": name,
                "password": Hasher.hash(DEMO_PASSWORD),
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


def cookie_expiry_days() -> float:
    value = _auth_secrets().get("cookie_expiry_days") or os.environ.get("STARVIZ_COOKIE_EXPIRY_DAYS")
    try:
        days = float(value) if value is not None else DEFAULT_COOKIE_EXPIRY_DAYS
    except (TypeError, ValueError):
        return DEFAULT_COOKIE_EXPIRY_DAYS
    return days if days > 0 else DEFAULT_COOKIE_EXPIRY_DAYS


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
    key = production_cookie_key()
    if not key:
        problems.append(
            "No cookie key: set cookie_key in the [auth] section of .streamlit/secrets.toml or STARVIZ_COOKIE_KEY "
            f"(at least {MIN_COOKIE_KEY_LENGTH} random characters, e.g. "
            'python -c "import secrets; print(secrets.token_urlsafe(48))").'
        )
    elif len(key) < MIN_COOKIE_KEY_LENGTH:
        problems.append(
            f"Cookie key too short: {len(key)} characters, at least {MIN_COOKIE_KEY_LENGTH} needed "
            '(python -c "import secrets; print(secrets.token_urlsafe(48))").'
        )
    return problems


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


def _library_credentials(path: Path) -> dict[str, Any]:
    """streamlit-authenticator's credentials dict (a fresh copy: the library mutates it)."""
    creds = _credentials(path)
    return {
        "usernames": {
            username: {
                "name": account.name,
                "password": account.password,
                "email": account.email,
                "roles": [account.role],
            }
            for username, account in creds.users.items()
        }
    }


class _BrowserCookies:
    """Writes and deletes the sign-in cookie with a few lines of script in the page itself.

    Stands in for ``extra_streamlit_components.CookieManager``, which streamlit-authenticator 0.4
    builds in its constructor. That component lives in an iframe: it reruns the page once it has
    loaded (clearing a login form the user has started typing in), and it only writes the cookie if
    its iframe finishes loading before the next rerun or navigation, so a user who signed in and
    reloaded at once could find themselves signed out. Reading the cookie never needed it: the
    library reads ``st.context.cookies``. Here ``set``/``delete`` only record what the browser should
    hold; :func:`_sync_browser_cookie` writes it, on every run of the session, idempotently.
    """

    def __init__(self, key: str = "init") -> None:  # same signature as CookieManager
        pass

    def set(self, cookie: str, val: str, *, expires_at=None, **_options) -> None:
        import streamlit as st

        st.session_state[_STATE_COOKIE] = ("set", cookie, str(val), expires_at)

    def delete(self, cookie: str, key: str = "delete") -> None:
        import streamlit as st

        st.session_state[_STATE_COOKIE] = ("delete", cookie, "", None)


def _cookie_script(action: str, name: str, value: str, expires_at) -> str:
    """The script that makes the browser's cookie match; the value is a JWT, quoted as JSON anyway."""
    when = "Thu, 01 Jan 1970 00:00:00 GMT"
    if action == "set" and expires_at is not None:
        when = expires_at.astimezone(UTC).strftime("%a, %d %b %Y %H:%M:%S GMT")
    cookie = json.dumps(f"{name}={value}; path=/; expires={when}; SameSite=Strict")
    return f"<script>document.cookie = {cookie} + (location.protocol === 'https:' ? '; Secure' : '');</script>"


def _sync_browser_cookie() -> None:
    """Render the pending cookie write (see :class:`_BrowserCookies`) in this run, if there is one.

    It stays in the session and is rendered on every run: the script is idempotent, and a run cut
    short by a rerun or a page left early cannot lose it."""
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


def _use_browser_cookies() -> None:
    from streamlit_authenticator.models import cookie_model

    if getattr(cookie_model.stx, "CookieManager", None) is not _BrowserCookies:
        cookie_model.stx = SimpleNamespace(CookieManager=_BrowserCookies)


def _authenticator() -> tuple[Any, Path]:
    """The session's ``Authenticate`` object and the credentials file it uses.

    Kept in ``st.session_state`` (not ``st.cache_resource``: the object mutates its credentials per
    session). Rebuilt when the credentials file or the cookie key change. Cookies are read from
    ``st.context.cookies`` on every run and written by :class:`_BrowserCookies`."""
    import streamlit as st
    import streamlit_authenticator as stauth

    _use_browser_cookies()
    path, key, expiry = _active()
    stat = path.stat()
    fingerprint = (str(path), stat.st_mtime_ns, stat.st_size, hash(key), expiry)
    held = st.session_state.get(_STATE_AUTHENTICATOR)
    if held is not None and held[0] == fingerprint:
        return held[1], path
    authenticator = stauth.Authenticate(
        copy.deepcopy(_library_credentials(path)),
        COOKIE_NAME,
        key,
        expiry,
        auto_hash=False,
        login_sleep_time=0,  # 0.4.2 sleeps 0.7 s before every unauthenticated render by default
    )
    st.session_state[_STATE_AUTHENTICATOR] = (fingerprint, authenticator)
    return authenticator, path


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
_LOGIN_FIELDS = {"Form name": "Sign in to starviz", "Username": "Username", "Password": "Password", "Login": "Sign in"}


def login(page_paths: Iterable[str] = ()) -> User | None:
    """Sign in from the session or a valid cookie; otherwise show the sign-in page and return None.

    While signed out, the sign-in page (the form and, in demo mode, the demo accounts) is all a hidden
    ``st.navigation`` holds: at the default address and at each of ``page_paths`` (the app's page
    addresses), so no page can be opened before login, a shared link shows the form rather than
    "page not found", and after signing in the same address opens the page it names. The form is
    always drawn inside that navigation because Streamlit keys widgets by the page being run: a
    form drawn before it (in the first run after the demo build, or after logging out) would
    ignore the first click on "Sign in".

    Returns the logged-in :class:`User`, or ``None`` while nobody is (the caller stops the script).
    In production with missing or wrong auth configuration it shows every problem with ``st.error``
    and stops the script.
    """
    import streamlit as st
    from streamlit_authenticator import LoginError

    try:
        authenticator, credentials_file = _authenticator()
    except AuthConfigError as exc:
        for problem in exc.problems:
            st.error(problem)
        st.stop()

    _sync_browser_cookie()
    if not st.session_state.get("authentication_status"):
        try:
            authenticator.login(location="unrendered", key=LOGIN_FORM_KEY)  # a valid cookie signs in
        except LoginError:
            # A valid cookie for a user who is no longer in the credentials file: ignore cookies for
            # this session, delete it, and show the form.
            st.session_state["logout"] = True
            authenticator.cookie_controller.delete_cookie()
            st.rerun()
    if not st.session_state.get("authentication_status"):

        def form() -> None:
            _sign_in_page(authenticator)

        pages = [st.Page(form, title="Sign in", url_path="sign-in", default=True)]
        pages += [
            st.Page(form, title="Sign in", url_path=path) for path in dict.fromkeys(page_paths) if path and path != "sign-in"
        ]
        st.navigation(pages, position="hidden").run()
        return None

    user = load_users(credentials_file).get(st.session_state.get("username") or "")
    if user is None:  # removed from the credentials file since logging in
        _logout_state(authenticator)
        st.rerun()
    st.session_state[STATE_USER] = user
    return user


def _sign_in_page(authenticator) -> None:
    import streamlit as st

    form = st.container()
    if settings().env == "demo":
        _demo_notice()
    with form:
        authenticator.login(location="main", key=LOGIN_FORM_KEY, fields=_LOGIN_FIELDS)
    status = st.session_state.get("authentication_status")
    if status is False:
        form.error("Username or password is incorrect.")
    elif status:
        # Signed in by the form in this run (the library has recorded the cookie to write): rerun so
        # the app replaces the form on the first click.
        st.rerun()


def _logout_state(authenticator) -> None:
    import streamlit as st

    authenticator.authentication_controller.logout()  # clears name/username/status, sets 'logout'
    # Forget the app state of the previous user (user, filters, notices...): every "starviz_" key.
    for key in [k for k in st.session_state if str(k).startswith("starviz_")]:
        del st.session_state[key]
    authenticator.cookie_controller.delete_cookie()


def logout_button(location: Literal["sidebar", "main"] = "sidebar", label: str = "Log out") -> None:
    """A logout button that works on the first click.

    streamlit-authenticator 0.4.2's own ``logout()`` acts in the run *after* the click, at the point
    where the button is drawn, so everything drawn before it still shows the logged-in app. Here the
    logout happens in the button's ``on_click`` callback, before the script reruns, and the cookie is
    deleted by :func:`login` in that same run. Logging out also drops every ``st.session_state`` key
    that starts with ``starviz_`` (the user, the shared filters...), so the next person starts clean.
    """
    import streamlit as st

    held = st.session_state.get(_STATE_AUTHENTICATOR)
    if held is None or not st.session_state.get("authentication_status"):
        return
    authenticator = held[1]
    user = st.session_state.get(STATE_USER)
    where = st.sidebar if location == "sidebar" else st
    if user is not None:
        where.caption(f"Signed in as **{user.name}** ({user.role})")
    where.button(label, key="starviz-logout", on_click=_logout_state, args=(authenticator,), icon=":material/logout:")


def current_user() -> User | None:
    """The logged-in user of this session (set by :func:`login`), without drawing anything."""
    import streamlit as st

    if not st.session_state.get("authentication_status"):
        return None
    return st.session_state.get(STATE_USER)


__all__ = [
    "DEMO_ACCOUNTS",
    "DEMO_PASSWORD",
    "ROLES",
    "AuthConfigError",
    "current_user",
    "demo_auth_dir",
    "ensure_demo_credentials",
    "load_users",
    "login",
    "logout_button",
    "production_problems",
    "users",
]
