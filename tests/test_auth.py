"""Demo credentials, production configuration checks, and the login/logout flow through AppTest."""

from __future__ import annotations

import re
import secrets
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import bcrypt
import pytest
import streamlit as st
import yaml
from streamlit.testing.v1 import AppTest

from starviz import auth, credentials
from starviz.config import DATA_DIR, ROOT, settings
from starviz.scope import User

PASSWORD = "star-demo"


def _git(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=False)


def _in_git_repo() -> bool:
    return shutil.which("git") is not None and _git("rev-parse", "--git-dir").returncode == 0


needs_git = pytest.mark.skipif(not _in_git_repo(), reason="needs git and the repository")


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory) -> Path:
    """One generated demo credentials folder for the module (password hashing is slow on purpose)."""
    folder = tmp_path_factory.mktemp("auth")
    credentials.ensure_demo_credentials(folder)
    return folder


@pytest.fixture
def demo(monkeypatch, demo_dir) -> Path:
    monkeypatch.setenv("STARVIZ_AUTH_DIR", str(demo_dir))
    monkeypatch.delenv("STARVIZ_ENV", raising=False)
    settings.cache_clear()
    assert settings().env == "demo"
    yield demo_dir
    settings.cache_clear()


@pytest.fixture(scope="module")
def real_hash() -> str:
    return bcrypt.hashpw(b"correct horse battery staple", bcrypt.gensalt(rounds=12)).decode()


GOOD_KEY = secrets.token_urlsafe(48)  # made for the run: a cookie key production accepts


@pytest.fixture
def production(monkeypatch):
    """Production mode with nothing configured: no env vars, no secrets.toml."""
    monkeypatch.setenv("STARVIZ_ENV", "production")
    for var in ("STARVIZ_AUTH_FILE", "STARVIZ_COOKIE_KEY", "STARVIZ_COOKIE_EXPIRY_DAYS"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(credentials, "_auth_secrets", dict)
    settings.cache_clear()
    yield monkeypatch
    settings.cache_clear()


def _write_users(path: Path, users: dict) -> Path:
    path.write_text(yaml.safe_dump({"users": users}), encoding="utf-8")
    return path


# ------------------------------------------------------------------------------- demo credentials
def test_demo_credentials_hold_argon2id_hashes_of_the_demo_password_at_owasps_parameters(demo_dir):
    from argon2 import PasswordHasher, extract_parameters

    data = yaml.safe_load((demo_dir / credentials.CREDENTIALS_FILE_NAME).read_text())
    assert set(data["users"]) == set(credentials.DEMO_ACCOUNTS)
    for username, entry in data["users"].items():
        assert entry["password"] != PASSWORD
        found = extract_parameters(entry["password"])  # OWASP: 19 MiB, 2 iterations, 1 lane
        assert (found.type.name, found.memory_cost, found.time_cost, found.parallelism) == ("ID", 19456, 2, 1), username
        assert PasswordHasher().verify(entry["password"], PASSWORD), username


def test_demo_accounts_have_the_agreed_roles_and_scopes(demo_dir):
    users = credentials.load_users(demo_dir / credentials.CREDENTIALS_FILE_NAME)
    assert {u: (x.role, x.councils) for u, x in users.items()} == {
        "director": ("admin", None),
        "category.manager": ("analyst", None),
        "board": ("viewer", None),
        "trafford.officer": ("analyst", ("trafford",)),
    }


def test_demo_credentials_and_cookie_key_are_generated_once_then_reused(demo_dir):
    cred_file = demo_dir / credentials.CREDENTIALS_FILE_NAME
    before = cred_file.read_text()
    path, key = credentials.ensure_demo_credentials(demo_dir)
    assert path == cred_file and cred_file.read_text() == before
    assert key == (demo_dir / credentials.COOKIE_KEY_FILE_NAME).read_text().strip()
    assert len(key) >= credentials.MIN_COOKIE_KEY_LENGTH
    assert credentials.ensure_demo_credentials(demo_dir)[1] == key


def test_replicas_starting_together_write_one_demo_credentials_file(tmp_path):
    """Each replica makes the demo file on its first run; two files (two salts) would end the
    sessions opened under the first when the second replaced it. Four separate interpreters, as
    replicas are (a process pool would re-run whatever script an earlier test left as __main__)."""
    code = "import sys; from pathlib import Path; from starviz import credentials; "
    code += "print(credentials.ensure_demo_credentials(Path(sys.argv[1]))[0].read_text(), end='')"
    starts = [
        subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE, text=True, cwd=ROOT)
        for _ in range(4)
    ]
    seen = [p.communicate(timeout=120)[0] for p in starts]
    assert [p.returncode for p in starts] == [0] * 4
    assert len(set(seen)) == 1 and seen[0] == (tmp_path / credentials.CREDENTIALS_FILE_NAME).read_text()


def test_demo_secrets_are_private_to_the_owner(demo_dir):
    for name in (credentials.CREDENTIALS_FILE_NAME, credentials.COOKIE_KEY_FILE_NAME):
        assert stat.S_IMODE((demo_dir / name).stat().st_mode) == 0o600


def test_demo_auth_folder_defaults_to_data_dot_auth(monkeypatch):
    monkeypatch.delenv("STARVIZ_AUTH_DIR", raising=False)
    assert credentials.demo_auth_dir() == DATA_DIR / ".auth"


@needs_git
def test_generated_demo_credentials_are_ignored_by_git_even_inside_the_repository():
    folder = DATA_DIR / f".auth-pytest-{time.time_ns()}"
    try:
        cred_file, _ = credentials.ensure_demo_credentials(folder)
        for path in (cred_file, folder / credentials.COOKIE_KEY_FILE_NAME):
            assert _git("check-ignore", "-q", str(path)).returncode == 0, path
        status = _git("status", "--porcelain", "--untracked-files=all", "--", str(folder)).stdout
        assert status == ""
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@needs_git
def test_no_tracked_file_holds_a_password_hash_or_the_auth_folder():
    assert _git("ls-files", "--", "data/.auth").stdout == ""
    found = _git(
        "grep",
        "-lE",
        r"\$2[aby]\$[0-9]{2}\$[./A-Za-z0-9]{53}|\$argon2id?\$v=[0-9]+\$m=[0-9]+,t=[0-9]+,p=[0-9]+\$[A-Za-z0-9+/]{11,}\$[A-Za-z0-9+/]{16,}",
    )
    assert found.returncode == 1, f"password hash committed in: {found.stdout}"


# ------------------------------------------------------------------------------ credentials files
def test_load_users_names_file_user_and_key_for_each_mistake(tmp_path, real_hash):
    path = _write_users(
        tmp_path / "users.yaml",
        {
            "alice": {"name": "Alice", "password": "hunter2", "role": "analyst"},
            "bob": {"name": "Bob", "password": real_hash, "role": "boss", "councils": []},
        },
    )
    with pytest.raises(credentials.AuthConfigError) as caught:
        credentials.load_users(path)
    problems = caught.value.problems
    assert any(str(path) in p and "'alice'" in p and "not an Argon2id or bcrypt hash" in p for p in problems)
    assert any("'bob'" in p and "key role" in p for p in problems)
    assert any("'bob'" in p and "key councils" in p for p in problems)
    assert "hunter2" not in str(caught.value)


def test_load_users_reads_toml_too(tmp_path, real_hash):
    path = tmp_path / "users.toml"
    path.write_text(
        f'[users."jane.smith"]\nname = "Jane Smith"\npassword = "{real_hash}"\nrole = "viewer"\n'
        'councils = ["stockport", "tameside"]\n'
    )
    assert credentials.load_users(path) == {"jane.smith": User("jane.smith", "Jane Smith", "viewer", ("stockport", "tameside"))}


def test_load_users_rejects_a_file_without_users(tmp_path):
    path = tmp_path / "users.yaml"
    path.write_text("- just a list\n")
    with pytest.raises(credentials.AuthConfigError, match="users"):
        credentials.load_users(path)


# ---------------------------------------------------------------------------- production checks
def test_production_problems_are_empty_in_demo_mode(demo):
    assert credentials.production_problems() == []


def test_production_without_configuration_lists_file_and_cookie_key(production):
    problems = credentials.production_problems()
    assert len(problems) == 2
    assert "No credentials file configured" in problems[0] and "STARVIZ_AUTH_FILE" in problems[0]
    assert "No cookie key" in problems[1]


def test_production_names_a_missing_credentials_file(production, tmp_path):
    production.setenv("STARVIZ_AUTH_FILE", str(tmp_path / "nope.yaml"))
    production.setenv("STARVIZ_COOKIE_KEY", GOOD_KEY)
    assert credentials.production_problems() == [f"Credentials file not found: {tmp_path / 'nope.yaml'}"]


def test_production_names_the_user_with_a_plain_text_password(production, tmp_path, real_hash):
    path = _write_users(
        tmp_path / "users.yaml",
        {
            "director": {"name": "Director", "password": real_hash, "role": "admin"},
            "careless": {"name": "Careless", "password": "Password1", "role": "viewer"},
        },
    )
    production.setenv("STARVIZ_AUTH_FILE", str(path))
    production.setenv("STARVIZ_COOKIE_KEY", GOOD_KEY)
    problems = credentials.production_problems()
    assert len(problems) == 1
    assert "'careless'" in problems[0] and "not an Argon2id or bcrypt hash" in problems[0] and "Password1" not in problems[0]


def test_production_rejects_a_short_cookie_key(production, tmp_path, real_hash):
    path = _write_users(tmp_path / "users.yaml", {"jane.smith": {"name": "D", "password": real_hash, "role": "admin"}})
    production.setenv("STARVIZ_AUTH_FILE", str(path))
    production.setenv("STARVIZ_COOKIE_KEY", "short-key")
    [problem] = credentials.production_problems()
    assert problem.startswith("Cookie key too short: 9 characters, at least 32 needed")


def test_production_reports_councils_that_are_not_configured(production, tmp_path, real_hash):
    path = _write_users(
        tmp_path / "users.yaml",
        {"officer": {"name": "O", "password": real_hash, "role": "analyst", "councils": ["atlantis"]}},
    )
    production.setenv("STARVIZ_AUTH_FILE", str(path))
    production.setenv("STARVIZ_COOKIE_KEY", GOOD_KEY)
    [problem] = credentials.production_problems()
    assert "'officer'" in problem and "atlantis" in problem


def test_production_is_ready_with_a_hashed_file_and_long_key(production, tmp_path, real_hash):
    path = _write_users(
        tmp_path / "users.yaml",
        {"jane.smith": {"name": "D", "password": real_hash, "role": "admin", "councils": ["trafford"]}},
    )
    production.setenv("STARVIZ_AUTH_FILE", str(path))
    production.setenv("STARVIZ_COOKIE_KEY", GOOD_KEY)
    assert credentials.production_problems() == []


def test_production_reads_file_and_key_from_streamlit_secrets(production, tmp_path, real_hash):
    path = _write_users(tmp_path / "users.yaml", {"jane.smith": {"name": "D", "password": real_hash, "role": "admin"}})
    production.setattr(credentials, "_auth_secrets", lambda: {"credentials_file": str(path), "cookie_key": GOOD_KEY})
    assert credentials.production_problems() == []
    assert credentials.production_credentials_file() == path


# ------------------------------------------------------------------------------------ login flow
def _app():
    import streamlit as st

    from starviz import auth

    user = auth.login()
    if user is None:
        st.stop()
    auth.logout_button()
    st.markdown(f"user={user.username} role={user.role} councils={user.councils}")
    st.markdown(f"current_user matches: {auth.current_user() == user}")
    st.session_state.setdefault("starviz_filters", f"filters of {user.username}")


def _start() -> AppTest:
    return AppTest.from_function(_app, default_timeout=30).run()


def _sign_in(at: AppTest, username: str, password: str) -> AppTest:
    at.text_input[0].input(username)
    at.text_input[1].input(password)
    at.button[0].click()
    return at.run()


def _cookie_writes(at: AppTest) -> list[str]:
    """The cookie statements the page runs in the browser (``starviz_auth=<value>; ...; expires=...``)."""
    return re.findall(r'document\.cookie = "([^"]*)"', "\n".join(e.proto.body for e in at.get("html")))


def _body(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def test_login_form_renders_with_the_demo_accounts(demo):
    at = _start()
    assert not at.exception
    assert [t.label for t in at.text_input] == ["Username", "Password"]
    assert [b.label for b in at.button] == ["Sign in"]
    info = at.info[0].value
    assert PASSWORD in info
    for username, (_name, role, _councils) in credentials.DEMO_ACCOUNTS.items():
        assert username in info and role in info
    assert "user=" not in _body(at)


def test_board_signs_in_as_a_viewer_and_the_form_goes_away_on_the_first_click(demo):
    at = _sign_in(_start(), "board", PASSWORD)
    assert not at.exception
    assert "user=board role=viewer councils=None" in _body(at)
    assert "current_user matches: True" in _body(at)
    user = at.session_state[auth.STATE_USER]
    assert user == User("board", "Board Member", "viewer") and not user.can("line_detail")
    assert len(at.text_input) == 0 and not at.info
    [write] = _cookie_writes(at)  # the cookie holds a random session id, signed with the key; nothing else
    value = re.match(rf"{auth.COOKIE_NAME}=([^;]+);", write).group(1)
    key = (demo / credentials.COOKIE_KEY_FILE_NAME).read_text().strip()
    session_id = auth.unseal(value, key)
    assert session_id and "board" not in value and auth.session_user(session_id) == user
    assert "SameSite=Strict" in write and "path=/" in write
    assert not at.get("component_instance")  # no cookie component iframe that reruns the page


def test_trafford_officer_is_scoped_to_trafford(demo):
    at = _sign_in(_start(), "trafford.officer", PASSWORD)
    assert "user=trafford.officer role=analyst councils=('trafford',)" in _body(at)


def test_wrong_password_shows_an_error_and_no_app(demo):
    at = _sign_in(_start(), "board", "not-the-password")
    assert [e.value for e in at.error] == ["Username or password is incorrect."]
    assert "user=" not in _body(at)
    assert [t.label for t in at.text_input] == ["Username", "Password"]


def test_logout_works_on_the_first_click_and_deletes_the_cookie(demo):
    at = _sign_in(_start(), "director", PASSWORD)
    assert [b.label for b in at.sidebar.button] == ["Log out"]
    assert "starviz_filters" in at.session_state
    at.sidebar.button[0].click().run()
    assert not at.exception
    assert "user=" not in _body(at)
    assert [t.label for t in at.text_input] == ["Username", "Password"]
    assert auth.STATE_SESSION not in at.session_state
    assert "starviz_filters" not in at.session_state and auth.STATE_USER not in at.session_state
    assert _cookie_writes(at) == [f"{auth.COOKIE_NAME}=; path=/; expires=Thu, 01 Jan 1970 00:00:00 GMT; SameSite=Strict"]


def _fake_cookie(monkeypatch, value: str) -> None:
    monkeypatch.setattr(st, "context", SimpleNamespace(cookies={auth.COOKIE_NAME: value}, headers={}, ip_address="203.0.113.9"))


def test_a_valid_cookie_signs_in_without_the_form(demo, monkeypatch):
    key = (demo / credentials.COOKIE_KEY_FILE_NAME).read_text().strip()
    _fake_cookie(monkeypatch, auth.seal(auth.open_session("category.manager"), key))
    at = _start()
    assert not at.exception
    assert "user=category.manager role=analyst" in _body(at)
    assert len(at.text_input) == 0


def test_a_cookie_signed_with_another_key_is_ignored(demo, monkeypatch):
    _fake_cookie(monkeypatch, auth.seal(auth.open_session("director"), secrets.token_urlsafe(48)))
    at = _start()
    assert "user=" not in _body(at)
    assert [t.label for t in at.text_input] == ["Username", "Password"]


def test_a_cookie_naming_no_session_falls_back_to_the_form(demo, monkeypatch):
    key = (demo / credentials.COOKIE_KEY_FILE_NAME).read_text().strip()
    _fake_cookie(monkeypatch, auth.seal(secrets.token_urlsafe(32), key))
    at = _start()
    assert not at.exception
    assert [t.label for t in at.text_input] == ["Username", "Password"]
    assert [w.split(";")[0] for w in _cookie_writes(at)] == [f"{auth.COOKIE_NAME}="]  # deleted


def test_production_start_without_configuration_refuses_to_run(production, caplog):
    production.setattr(auth, "_refusals_logged", set())
    with caplog.at_level("ERROR", logger="starviz.auth"):
        at = _start()
    assert [e.value for e in at.error] == [auth.NOT_CONFIGURED]  # the reasons are the operator's
    said = " ".join(r.getMessage() for r in caplog.records)
    assert "No credentials file configured" in said and "No cookie key" in said
    assert len(at.text_input) == 0 and "user=" not in _body(at)
