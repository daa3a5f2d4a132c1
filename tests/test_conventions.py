"""The project's conventions, checked like documentation: they stay true or the build is red."""

from __future__ import annotations

import ast
import importlib
import inspect
import re

import pytest

from starviz import build, cli, config
from starviz.models import DATASETS

SQL = build.sql_files()
QUESTIONS = sorted(p for p in (config.SQL_DIR / "queries").glob("*/*.sql") if p.parent.name != "scope")
SCOPE = sorted((config.SQL_DIR / "queries" / "scope").glob("*.sql"))


@pytest.mark.parametrize("path", SQL, ids=[p.stem for p in SQL])
def test_every_sql_file_creates_the_object_named_after_it_and_states_its_grain(path):
    text = path.read_text()
    assert text.startswith("-- One row per"), f"{path.name}: first line must state the grain"
    created = re.findall(r"create or replace (?:view|table|macro) (\w+)", text)
    assert created == [path.stem], f"{path.name} creates {created}"


@pytest.mark.parametrize("path", QUESTIONS, ids=[p.stem for p in QUESTIONS])
def test_every_question_file_is_named_after_the_function_of_its_page_area_that_asks_it(path):
    """sql/queries/<area>/<name>.sql holds the SQL of starviz.queries.<area>.<name>, says so on its
    first line, and creates nothing."""
    text = path.read_text()
    assert text.startswith(f"-- {path.stem}"), f"{path.name}: the first line names the question"
    assert not re.search(r"\bcreate\s", text, re.IGNORECASE), f"{path.name} creates something"
    module = importlib.import_module(f"starviz.queries.{path.parent.name}")
    assert callable(getattr(module, path.stem, None)), f"no function {path.stem} in {module.__name__}"
    assert f'sql_file("{path.stem}")' in inspect.getsource(module), f"{module.__name__} never reads {path.name}"


@pytest.mark.parametrize("path", SCOPE, ids=[p.stem for p in SCOPE])
def test_the_scope_macros_state_their_grain_and_create_what_they_are_named_after(path):
    text = path.read_text()
    assert text.startswith("-- One row per"), f"{path.name}: first line must state the grain"
    assert re.findall(r"create or replace temp macro (\w+)", text) == [path.stem]


def test_sql_folders_hold_their_layer():
    prefixes = {"00_functions": ("",), "10_staging": ("stg_",), "20_core": ("dim_", "fct_", "map_"), "30_marts": ("mart_",)}
    for path in SQL:
        assert path.stem.startswith(prefixes[path.parent.name]), path


def test_every_page_is_in_the_navigation():
    app = (config.ROOT / "app.py").read_text()
    for page in (config.ROOT / "pages").glob("*.py"):
        assert f'"pages/{page.name}"' in app, f"{page.name} is not in app.py's navigation"


def test_pages_hold_no_sql_and_no_caching():
    for page in (config.ROOT / "pages").glob("*.py"):
        text = page.read_text()
        assert not re.search(r"select\s.+\sfrom\s", text, re.IGNORECASE | re.DOTALL), page.name
        assert "execute(" not in text and "cache_" not in text and "duckdb" not in text, page.name


def test_pages_draw_tables_through_the_shared_helpers_not_st_dataframe():
    """Every table goes through tables.table (lists.ranked_table and the pivot too), which sets one
    placeholder for a missing value; tests/test_charts.py checks that it does."""
    for page in [*(config.ROOT / "pages").glob("*.py"), config.ROOT / "app.py"]:
        assert "st.dataframe(" not in page.read_text(), page.name


def test_every_cli_command_is_in_the_readme():
    readme = (config.ROOT / "README.md").read_text()
    parser = cli.main.__code__.co_consts  # the sub-commands are string constants of main()
    for command in ("demo", "build", "check", "bench"):
        assert command in parser and f"python -m starviz {command}" in readme


def test_every_council_config_loads_and_names_its_file(councils):
    assert set(councils) == {p.stem for p in config.settings().councils_dir.glob("*.toml")}


def _code_strings(path) -> list[str]:
    """String literals of a module that are not docstrings (comments never reach the AST)."""
    tree = ast.parse(path.read_text())
    docstrings = {
        id(n.body[0].value)
        for n in ast.walk(tree)
        if isinstance(n, ast.Module | ast.FunctionDef | ast.ClassDef)
        and n.body
        and isinstance(n.body[0], ast.Expr)
        and isinstance(n.body[0].value, ast.Constant)
    }
    return [
        n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docstrings
    ]


def test_no_council_name_in_code():
    """A new partner is configuration only: no council id appears in code or SQL (comments aside).
    The one exception is the demo account the app-shell issue asks for by name. An id counts as a word
    of its own, as code would key on it ("trafford", "trafford_spend", 'trafford'); ids are lowercase,
    so a payee's name that starts with a partner's place ("Wigan Council" among the demo's other
    authorities) is not one."""
    ids = [c for c in config.load_councils() if c != "star"]
    council_id = re.compile(r"(?<![a-z0-9])(" + "|".join(map(re.escape, ids)) + r")(?![a-z0-9])")
    allowed = {"trafford.officer", "Trafford Officer", "trafford"}
    for path in [*config.ROOT.joinpath("starviz").rglob("*.py"), *config.ROOT.joinpath("pages").glob("*.py")]:
        for text in _code_strings(path):
            if path.name == "credentials.py" and text in allowed:
                continue
            assert not council_id.search(text), f"{path.name}: {text!r}"
    for path in [*SQL, *QUESTIONS, *SCOPE]:
        code = "\n".join(line.split("--")[0] for line in path.read_text().splitlines())
        assert not council_id.search(code), path.name


def test_raw_tables_derive_from_the_models(db):
    for name, model in DATASETS.items():
        cols = [r[0] for r in db.execute(f"describe raw_{name}").fetchall()]
        assert cols[4:] == model.field_names()
