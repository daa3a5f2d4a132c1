"""Sessions on the server, throttled sign-in, foreign cookies, production refusals: each as an attack."""

from __future__ import annotations

import base64
import json
import logging
import re
import secrets
import shutil
import sqlite3
import time
from pathlib import Path
from types import SimpleNamespace

import bcrypt
import pytest
import streamlit as st
import yaml
from streamlit.testing.v1 import AppTest

from starviz import auth, config, cookie_route, credentials, passwords
from starviz.config import settings

PASSWORD = credentials.DEMO_PASSWORD


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("auth-template")
    credentials.ensure_demo_credentials(folder)
    return folder


@pytest.fixture
def demo(monkeypatch, demo_template, tmp_path) -> Path:
    """Demo mode with its own copy of the demo credentials (tests change it) and an empty store."""
    folder = tmp_path / "auth"
    shutil.copytree(demo_template, folder)
    (folder / auth.STATE_DB_NAME).unlink(missing_ok=True)
    monkeypatch.setenv("STARVIZ_AUTH_DIR", str(folder))
    monkeypatch.delenv("STARVIZ_ENV", raising=False)
    monkeypatch.delenv("STARVIZ_STATE_DB", raising=False)
    monkeypatch.setattr(auth, "_sleep", lambda _s: None)
    settings.cache_clear()
    yield folder
    settings.cache_clear()


def _key(folder: Path) -> str:
    return (folder / credentials.COOKIE_KEY_FILE_NAME).read_text().strip()


def _app():
    import streamlit as st

    from starviz import auth

    user = auth.login()
    if user is None:
        st.stop()
    auth.logout_button()
    st.markdown(f"user={user.username}")


def _browser(monkeypatch, cookie: str | None = None, client: str = "203.0.113.9") -> AppTest:
    cookies = {auth.COOKIE_NAME: cookie} if cookie is not None else {}
    monkeypatch.setattr(st, "context", SimpleNamespace(cookies=cookies, headers={}, ip_address=client))
    return AppTest.from_function(_app, default_timeout=30).run()


def _sign_in(at: AppTest, username: str, password: str) -> AppTest:
    at.text_input[0].input(username)
    at.text_input[1].input(password)
    at.button[0].click()
    return at.run()


def _body(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def _signed_out(at: AppTest) -> bool:
    return [t.label for t in at.text_input] == ["Username", "Password"] and "user=" not in _body(at)


def _cookie_set(at: AppTest) -> str:
    html = "\n".join(e.proto.body for e in at.get("html"))
    return re.search(rf'document\.cookie = "{auth.COOKIE_NAME}=([^;"]*);', html).group(1)


# --- server-side sessions ----------------------------------------------------------------------------
def test_a_cookie_replayed_after_logout_shows_the_sign_in_form(demo, monkeypatch):
    at = _sign_in(_browser(monkeypatch), "director", PASSWORD)
    stolen = _cookie_set(at)
    assert "director" not in stolen and auth.unseal(stolen, _key(demo))
    assert "user=director" in _body(_browser(monkeypatch, stolen))  # the copy works while signed in
    at.sidebar.button[0].click().run()  # Log out
    replay = _browser(monkeypatch, stolen)
    assert not replay.exception and _signed_out(replay)
    assert _cookie_set(replay) == ""  # and the browser is told to drop it


def test_logging_out_in_one_tab_ends_the_session_in_every_other(demo, monkeypatch):
    first = _sign_in(_browser(monkeypatch), "board", PASSWORD)
    second = _browser(monkeypatch, _cookie_set(first))
    assert "user=board" in _body(second)
    first.sidebar.button[0].click().run()
    assert _signed_out(second.run())


def _set_password(folder: Path, username: str, password: str) -> None:
    path = folder / credentials.CREDENTIALS_FILE_NAME
    data = yaml.safe_load(path.read_text())
    data["users"][username]["password"] = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode()
    path.write_text(yaml.safe_dump(data))


def test_a_password_change_ends_every_session_of_that_user_only(demo, monkeypatch):
    board = [auth.open_session("board") for _ in range(2)]
    director = auth.open_session("director")
    _set_password(demo, "board", "a new password")
    assert [auth.session_user(s) for s in board] == [None, None]
    assert auth.session_user(director).username == "director"
    assert _signed_out(_browser(monkeypatch, auth.seal(board[0], _key(demo))))


def test_removing_a_user_ends_their_sessions(demo):
    session = auth.open_session("trafford.officer")
    path = demo / credentials.CREDENTIALS_FILE_NAME
    data = yaml.safe_load(path.read_text())
    del data["users"]["trafford.officer"]
    path.write_text(yaml.safe_dump(data))
    assert auth.session_user(session) is None


def _age(folder: Path, column: str, seconds: float) -> None:
    with sqlite3.connect(folder / auth.STATE_DB_NAME) as con:
        con.execute(f"update sessions set {column} = {column} - ?", (seconds,))


def test_an_idle_session_ends_and_an_expired_one_too(demo, monkeypatch):
    monkeypatch.setenv("STARVIZ_IDLE_TIMEOUT_MINUTES", "30")
    idle = auth.open_session("board")
    _age(demo, "last_seen", 31 * 60)
    assert auth.session_user(idle) is None
    busy = auth.open_session("board")
    _age(demo, "last_seen", 29 * 60)
    assert auth.session_user(busy).username == "board"
    _age(demo, "expires", 2 * 86400)  # demo sessions last a day
    assert auth.session_user(busy) is None


def test_the_store_keeps_no_session_id_and_no_password(demo, monkeypatch):
    at = _sign_in(_browser(monkeypatch), "director", PASSWORD)
    session_id = auth.unseal(_cookie_set(at), _key(demo))
    _sign_in(_browser(monkeypatch), "director", "hunter2-wrong")
    raw = b"".join(p.read_bytes() for p in demo.glob(auth.STATE_DB_NAME + "*"))
    assert session_id.encode() not in raw and PASSWORD.encode() not in raw and b"hunter2" not in raw


# --- foreign cookies -----------------------------------------------------------------------------------
def _jwt(header: dict, payload: dict, signature: bytes = b"") -> str:
    part = lambda d: base64.urlsafe_b64encode(json.dumps(d).encode()).decode().rstrip("=")  # noqa: E731
    return f"{part(header)}.{part(payload)}.{base64.urlsafe_b64encode(signature).decode().rstrip('=')}"


FOREIGN = {
    "alg none": _jwt({"alg": "none", "typ": "JWT"}, {"username": "director", "exp_date": time.time() + 3600}),
    "HS512": _jwt({"alg": "HS512", "typ": "JWT"}, {"username": "director"}, secrets.token_bytes(64)),
    "garbage": "%%%not-a-cookie%%%",
    "right shape, forged signature": f"v1.{secrets.token_urlsafe(32)}.{secrets.token_urlsafe(32)}",
    "huge": "v1." + "A" * 5000,
    "empty parts": "v1..",
}


@pytest.mark.parametrize("name", list(FOREIGN))
def test_a_malformed_or_foreign_cookie_is_ignored_and_removed(demo, monkeypatch, name):
    at = _browser(monkeypatch, FOREIGN[name])
    assert not at.exception, at.exception
    assert _signed_out(at) and not at.error
    assert _cookie_set(at) == ""
    assert "user=director" in _body(_sign_in(at, "director", PASSWORD))  # and the form works at once


# --- throttling and timing -------------------------------------------------------------------------------
def test_failed_sign_ins_slow_down_then_lock_even_the_right_password(demo, monkeypatch):
    waits: list[float] = []
    monkeypatch.setattr(auth, "_sleep", waits.append)
    messages = [auth.sign_in("board", f"guess {n}", "198.51.100.7")[2] for n in range(auth.LOCK_AFTER)]
    assert waits == [0.0, 0.5, 1.0, 2.0, 4.0]
    assert messages[:-1] == [auth.SIGN_IN_FAILED] * (auth.LOCK_AFTER - 1) and "locked" in messages[-1]
    user, session, message = auth.sign_in("board", PASSWORD, "198.51.100.8")  # another client, same name
    assert user is None and session is None and "Too many failed sign-ins" in message
    with sqlite3.connect(demo / auth.STATE_DB_NAME) as con:  # the lock lasts LOCK_MINUTES
        con.execute("update failures set last_failed = last_failed - ?", (auth.LOCK_MINUTES * 60 + 1,))
    assert auth.sign_in("board", PASSWORD, "198.51.100.8")[0].username == "board"


def test_one_client_guessing_many_names_is_locked_too(demo, monkeypatch):
    for n in range(auth.LOCK_AFTER):
        auth.sign_in(f"user{n}", "guess", "198.51.100.66")
    assert "Too many failed sign-ins" in auth.sign_in("director", PASSWORD, "198.51.100.66")[2]
    assert auth.sign_in("director", PASSWORD, "198.51.100.67")[0] is not None


def test_browsers_of_unknown_address_are_not_locked_out_together(demo):
    for n in range(auth.LOCK_AFTER):  # localhost, or a proxy without STARVIZ_TRUSTED_PROXIES
        auth.sign_in(f"user{n}", "guess", auth.UNKNOWN_CLIENT)
    assert auth.sign_in("director", PASSWORD, auth.UNKNOWN_CLIENT)[0] is not None


def test_an_unknown_user_is_checked_against_a_hash_of_the_same_kind(demo, monkeypatch):
    checked: list[str] = []
    real = passwords.verify
    monkeypatch.setattr(passwords, "verify", lambda pw, h: checked.append(h) or real(pw, h))
    for username in ("board", "nobody.here"):
        user, _session, message = auth.sign_in(username, "wrong", f"client-{username}")
        assert user is None and message == auth.SIGN_IN_FAILED  # the same words
    assert len(checked) == 2 and checked[0] != checked[1]
    assert [passwords.kind(h) for h in checked] == ["$argon2id$v=19$m=19456,t=2,p=1"] * 2


def _bcrypt_file(folder: Path) -> tuple[Path, str]:
    """The demo credentials as an older install has them: bcrypt, comments and the layout an
    administrator wrote."""
    path = folder / credentials.CREDENTIALS_FILE_NAME
    old = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
    users = yaml.safe_load(path.read_text())["users"]
    lines = ["# our users: ask Jane before editing", "users:"]
    for name, entry in users.items():
        councils = entry["councils"] if entry["councils"] == "all" else f"[{', '.join(entry['councils'])}]"
        lines += [
            f"  {name}:   # {entry['role']}",
            f"    name: {entry['name']}",
            f"    password: '{old if name == 'board' else entry['password']}'",
        ]
        lines += [f"    role: {entry['role']}", f"    councils: {councils}"]
    path.write_text("\n".join(lines) + "\n")
    return path, old


def test_a_bcrypt_hash_becomes_argon2id_at_the_next_sign_in_and_nothing_else_changes(demo, monkeypatch):
    path, old = _bcrypt_file(demo)
    before = path.read_text()
    earlier = auth.open_session("board")  # another browser, signed in under the bcrypt hash
    user, session, _ = auth.sign_in("board", PASSWORD, "192.0.2.1")
    assert user.username == "board"
    after = path.read_text()
    new = yaml.safe_load(after)["users"]["board"]["password"]
    assert new.startswith("$argon2id$v=19$m=19456,t=2,p=1$") and passwords.verify(PASSWORD, new)
    assert after == before.replace(old, new)  # comments, order, quoting and every other user as they were
    assert auth.session_user(session).username == "board"
    assert auth.session_user(earlier).username == "board"  # the same password: other browsers stay signed in
    assert auth.sign_in("board", PASSWORD, "192.0.2.1")[0].username == "board"  # the new hash works
    assert path.read_text() == after  # and is not replaced again
    _set_password(demo, "board", "a new password")  # a real change still ends every session
    assert auth.session_user(earlier) is None and auth.session_user(session) is None


def test_a_credentials_file_the_app_cannot_write_keeps_its_bcrypt_hash_and_signing_in_works(demo, monkeypatch, caplog):
    path, old = _bcrypt_file(demo)
    monkeypatch.setattr(credentials, "replace_hash", lambda *a: False)  # as for a read-only /etc/starviz
    caplog.set_level(logging.WARNING, logger="starviz.auth")
    for _ in range(2):
        assert auth.sign_in("board", PASSWORD, "192.0.2.2")[0].username == "board"
    assert yaml.safe_load(path.read_text())["users"]["board"]["password"] == old
    assert [r.getMessage() for r in caplog.records] == [
        "could not replace the password hash of user='board' in credentials.yaml (read-only, or changed meanwhile); "
        "it stays as it is: hash it again with python -m starviz hash-password"
    ]  # once, not at every sign-in


def test_sign_ins_are_logged_and_audited_without_the_password(demo, monkeypatch, caplog):
    caplog.set_level(logging.INFO, logger="starviz.auth")
    auth.sign_in("director", "s3cret-Guess!", "192.0.2.10")
    auth.sign_in("Director", PASSWORD, "192.0.2.10")
    lines = [r.getMessage() for r in caplog.records]
    assert lines == ["sign-in failed user='director' client=192.0.2.10", "sign-in user='director' client=192.0.2.10"]
    events = auth.audit_events()
    assert [(e.username, e.action, e.client) for e in events[:2]] == [
        ("director", "sign-in", "192.0.2.10"),
        ("director", "sign-in failed", "192.0.2.10"),
    ]
    assert all(e.at > time.time() - 60 for e in events)
    assert "s3cret" not in caplog.text and PASSWORD not in caplog.text


# --- production refuses weak set-ups ---------------------------------------------------------------
GOOD_KEY = secrets.token_urlsafe(48)


@pytest.fixture(scope="module")
def cost12() -> str:
    return bcrypt.hashpw(b"a long and private passphrase", bcrypt.gensalt(rounds=12)).decode()


@pytest.fixture
def production(monkeypatch, tmp_path, cost12):
    path = tmp_path / "users.yaml"
    path.write_text(yaml.safe_dump({"users": {"jane.smith": {"name": "Jane", "password": cost12, "role": "admin"}}}))
    monkeypatch.setenv("STARVIZ_ENV", "production")
    monkeypatch.setenv("STARVIZ_AUTH_FILE", str(path))
    monkeypatch.setenv("STARVIZ_COOKIE_KEY", GOOD_KEY)
    monkeypatch.delenv("STARVIZ_COOKIE_EXPIRY_DAYS", raising=False)
    monkeypatch.delenv("STARVIZ_STATE_DB", raising=False)
    monkeypatch.setattr(credentials, "_auth_secrets", dict)
    monkeypatch.setattr(cookie_route, "_serving", True)  # served as in production: serve.py's server started
    monkeypatch.setattr(auth, "_refusals_logged", set())  # each test reads its own refusal in the log
    settings.cache_clear()
    assert credentials.production_problems() == []
    yield SimpleNamespace(monkeypatch=monkeypatch, users=path, folder=tmp_path)
    settings.cache_clear()


@pytest.mark.parametrize(
    ("key", "why"),
    [
        ("a" * 32, "repeated pattern"),
        ("abc123" * 6, "repeated pattern"),
        ("correcthorsebatterystaplecorrecthorse", "guessable"),
        ("starvizcookiekeyforproductionuse2026", "guessable"),
        ("passwordpasswordpasswordpassword12", "only 9 different characters"),
        ("Tr0ub4dor&3Tr0ub4dor&3Tr0ub4dor&3!", "guessable"),
        ("too-short", "too short"),
    ],
)
def test_production_refuses_a_cookie_key_with_little_entropy(production, key, why):
    production.monkeypatch.setenv("STARVIZ_COOKIE_KEY", key)
    [problem] = credentials.production_problems()
    assert why in problem.lower() and "secrets.token_urlsafe" in problem and key not in problem


def test_production_refuses_the_demo_credentials_file_and_demo_accounts(production, tmp_path):
    demo_file, _key = credentials.ensure_demo_credentials(tmp_path / "demo-auth")
    production.monkeypatch.setenv("STARVIZ_AUTH_FILE", str(demo_file))
    problems = credentials.production_problems()
    assert any("this is the demo credentials file" in p for p in problems)
    assert {u for u in credentials.DEMO_ACCOUNTS if any(f"user {u!r} is a demo account" in p for p in problems)} == set(
        credentials.DEMO_ACCOUNTS
    )


@pytest.mark.parametrize(
    ("memory", "iterations", "refused"),
    [(19456, 2, False), (47104, 1, False), (7168, 5, False), (19456, 1, True), (8192, 3, True), (4096, 10, True)],
)
def test_production_takes_argon2id_at_owasps_minimum_or_above(production, memory, iterations, refused):
    from argon2 import PasswordHasher

    strong = PasswordHasher(time_cost=iterations, memory_cost=memory, parallelism=1).hash("a long and private passphrase")
    production.users.write_text(yaml.safe_dump({"users": {"jane.smith": {"name": "J", "password": strong, "role": "admin"}}}))
    problems = credentials.production_problems()
    assert bool(problems) == refused
    if refused:
        assert f"Argon2id with {memory} KiB, {iterations} iteration(s), 1 lane(s) is under OWASP's minimum" in problems[0]


def test_production_refuses_a_low_bcrypt_cost_and_a_long_expiry(production):
    weak = bcrypt.hashpw(b"whatever", bcrypt.gensalt(rounds=4)).decode()
    production.users.write_text(yaml.safe_dump({"users": {"jane.smith": {"name": "J", "password": weak, "role": "admin"}}}))
    production.monkeypatch.setenv("STARVIZ_COOKIE_EXPIRY_DAYS", "36500")
    problems = credentials.production_problems()
    assert any("'jane.smith'" in p and "bcrypt cost 4, at least 12 needed" in p for p in problems)
    assert any("cookie_expiry_days is 36500: a session may last at most 30 days" in p for p in problems)


def _run_app(**env) -> AppTest:
    at = AppTest.from_file(str(config.ROOT / "app.py"), default_timeout=60)
    return at.run()


def test_production_with_a_weak_setup_tells_the_operator_why_and_the_visitor_nothing_more(production, caplog):
    production.monkeypatch.setenv("STARVIZ_COOKIE_KEY", "a" * 32)
    production.users.write_text(production.users.read_text().replace("jane.smith", "director"))  # a demo name
    with caplog.at_level(logging.ERROR, logger="starviz.auth"):
        at = _run_app()
    assert not at.exception
    [error] = at.error
    assert error.value == auth.NOT_CONFIGURED
    assert not at.text_input and not at.title and not at.sidebar.children
    # The operator reads every reason in the server log, on one line; the visitor no path, no user name.
    [line] = [r.getMessage() for r in caplog.records if "will not start in production" in r.getMessage()]
    assert "repeated pattern" in line and "'director' is a demo account" in line and str(production.users) in line
    assert "\n" not in line


def test_production_served_as_streamlit_run_app_py_refuses_in_one_line(production, caplog):
    production.monkeypatch.setattr(cookie_route, "_serving", False)  # `streamlit run app.py`: no cookie route
    # Whatever the environment says: the old check believed STARVIZ_COOKIE_ROUTE=1.
    production.monkeypatch.setenv("STARVIZ_COOKIE_ROUTE", "1")
    with caplog.at_level(logging.ERROR, logger="starviz.auth"):
        at = _run_app()
    assert not at.exception
    [error] = at.error
    assert error.value == auth.NOT_CONFIGURED
    said = (
        "It is served without the route that sets the sign-in cookie HttpOnly: start it with "
        "'streamlit run serve.py' (as make run and deploy/serve.sh do), not 'streamlit run app.py'."
    )
    assert any(r.getMessage() == f"starviz will not start in production: {said}" for r in caplog.records)
    assert not at.text_input and not at.title and not at.sidebar.children
    assert not at.get("html")  # no cookie script of any kind
    # The sign-in itself refuses too, whatever page calls it.
    login = AppTest.from_function(_app, default_timeout=30).run()
    assert not login.text_input and login.error[0].value == auth.NOT_CONFIGURED


def test_production_without_a_database_builds_nothing_for_a_visitor(production, monkeypatch, tmp_path):
    from starviz import build

    monkeypatch.setenv("STARVIZ_DB", str(tmp_path / "none" / "star.duckdb"))
    monkeypatch.setenv("STARVIZ_RAW", str(tmp_path / "raw"))
    settings.cache_clear()
    monkeypatch.setattr(build, "ensure_database", lambda *a, **k: pytest.fail("an anonymous request built"))
    monkeypatch.setattr(build, "build", lambda *a, **k: pytest.fail("an anonymous request built"))
    at = _run_app()
    assert not at.exception
    assert [t.label for t in at.text_input] == ["Username", "Password"]
    assert [b.label for b in at.button] == ["Sign in"]
    shown = [e.value for e in [*at.title, *at.header, *at.markdown, *at.caption, *at.info]]
    assert shown == [] and not at.sidebar.children  # the form only: no page names, no demo notice
    assert not (tmp_path / "raw").exists() and not (tmp_path / "none" / "star.duckdb").exists()


# --- the audit trail ---------------------------------------------------------------------------------
def test_imports_rebuilds_and_supplier_decisions_are_audited(demo, monkeypatch, tmp_path):
    from starviz import import_store, matching, queries
    from starviz.scope import Filters

    director = auth.users()["director"]
    scope = queries.Scope(Filters(councils=("trafford",), period="all"), director)
    monkeypatch.setattr(import_store, "_commit_locked", lambda *a: import_store.Outcome("done", "Rebuilt."))
    monkeypatch.setenv("STARVIZ_DB", str(tmp_path / "db" / "star.duckdb"))
    settings.cache_clear()
    import_store.rebuild(scope)
    monkeypatch.setattr(matching, "_path", lambda name: tmp_path / name)
    (tmp_path / matching.ALIASES).write_text(",".join(matching.ALIAS_FIELDS) + "\n")
    (tmp_path / matching.NON_MATCHES).write_text(",".join(matching.NON_MATCH_FIELDS) + "\n")
    matching.record([("ABC Ltd", "A.B.C. Limited")], matching.SAME, director)
    matching.record([("Acme Ltd", "Acme Plc")], matching.DIFFERENT, director)
    trail = auth.audit_trail()
    assert trail[["username", "action", "detail"]].values.tolist() == [
        ["director", "supplier non-match", "Acme Ltd / Acme Plc"],
        ["director", "supplier merge", "A.B.C. Limited -> ABC Ltd"],
        ["director", "rebuild", "done"],
    ]
    assert trail["at"].notna().all()


def test_only_an_administrator_can_open_the_audit_trail(app_env):
    from tests.conftest import run_app

    auth.sign_in("category.manager", "wrong", "192.0.2.44")
    at = run_app("director", "pages/audit.py")
    assert not at.exception and at.title[0].value == "Audit trail"
    shown = at.dataframe[0].value
    assert ["category.manager", "sign-in failed", "192.0.2.44"] in shown[["username", "action", "client"]].values.tolist()
    for user in ("category.manager", "board"):
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            run_app(user, "pages/audit.py")


def test_a_crowd_of_sign_ins_checks_a_few_passwords_at_a_time(demo, monkeypatch):
    """Each Argon2id check holds 19 MiB: sign-ins sent together by anyone, before signing in, each on
    its Streamlit session's thread, must not all hold their memory at once."""
    import threading

    crowd = 8
    monkeypatch.setattr(auth, "_verifying", threading.BoundedSemaphore(2))
    monkeypatch.setattr(auth, "_sleep", lambda seconds: None)
    inside, most, everyone_in = [], [0], threading.Event()
    lock = threading.Lock()
    real = passwords.verify

    def verify(password, password_hash):
        with lock:
            inside.append(1)
            most[0] = max(most[0], len(inside))
            if len(inside) == crowd:
                everyone_in.set()
        everyone_in.wait(0.2)  # without a bound the whole crowd gets in here together
        with lock:
            inside.pop()
        return real(password, password_hash)

    monkeypatch.setattr(passwords, "verify", verify)
    answers = []
    threads = [
        threading.Thread(target=lambda n=n: answers.append(auth.sign_in(f"guess.{n}", "wrong", f"198.51.100.{n}")[2]))
        for n in range(crowd)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert answers == [auth.SIGN_IN_FAILED] * crowd
    assert most[0] == 2
