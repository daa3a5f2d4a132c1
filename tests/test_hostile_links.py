"""A link is typed by anyone: every parameter any page reads from the address, given hostile values
(unicode digits, huge and negative numbers, not-a-number, very long text, another council, SQL,
control characters, repeated keys), opens the page without an error and shows a one-council user
nothing of another council."""

from __future__ import annotations

import ast

import pytest

from starviz import config, cube, lists
from starviz.scope import FILTER_KEYS
from tests.conftest import run_app

PAGES = sorted(p.relative_to(config.ROOT).as_posix() for p in (config.ROOT / "pages").glob("*.py"))
OTHER_COUNCILS = ("Stockport", "Rochdale", "Tameside")  # trafford.officer sees Trafford only


def _address_keys() -> set[str]:
    """Every parameter name the code reads from the address: the filters, the spend cube's view, the
    detail links, the slides, and each ``url_choice``/``url_value``/``month_picker`` and ranked
    list's narrowing (``list_filter``) written with a literal name."""
    keys = {*FILTER_KEYS, *cube.PARAM_KEYS, *lists.DETAIL_KEYS, "tab", "slide"}
    for path in [*(config.ROOT / "pages").glob("*.py"), *(config.ROOT / "starviz").glob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            given = [k.value for k in node.keywords if k.arg == "param"]
            if name in ("url_choice", "url_value") and len(node.args) > 2:
                given.append(node.args[2])
            literal = [g.value for g in given if isinstance(g, ast.Constant) and isinstance(g.value, str)]
            keys.update(literal)
            if name == "list_filter" and node.args and isinstance(node.args[0], ast.Constant):
                stem = str(node.args[0].value).replace("-", "_")
                keys.update(f"{stem}_{part}" for part in ("search", "categories", "min"))
    return keys


KEYS = sorted(_address_keys())
HOSTILE = {
    "unicode digit": "²",
    "negative": "-1",
    "huge": "9" * 40,
    "not a number": "nan",
    "infinite": "-inf",
    "very long": "x" * 5000,
    "another council": "stockport",
    "sql": "2025-26' or '1'='1'; drop table fct_spend; --",
    "control and bidi": "\u202e\x00\x1b[31m🙂",
}


def test_the_keys_found_include_those_of_every_kind_of_view():
    assert {"councils", "fy", "rows", "supplier", "tab", "slide", "council", "by", "pipeline_search"} <= set(KEYS)


@pytest.mark.parametrize("what", HOSTILE)
@pytest.mark.parametrize("page", PAGES)
def test_every_page_opens_whatever_the_address_holds(app_env, page, what):
    value = HOSTILE[what]
    params = {key: value for key in KEYS}
    if page == "pages/present.py":
        params["present"] = "1"
        at = run_app("trafford.officer", **params)
    elif page in ("pages/import_data.py", "pages/audit.py"):  # admins' pages: an admin of every council
        at = run_app("director", page, **params)
    else:
        at = run_app("trafford.officer", page, **params)
    assert not at.exception, at.exception[0].value if at.exception else ""
    shown = " ".join(
        str(e.value) for e in [*at.title, *at.header, *at.subheader, *at.markdown, *at.caption, *at.error, *at.warning, *at.info]
    )
    assert at.title or at.header, "the page drew nothing"
    assert "Traceback" not in shown and str(config.ROOT) not in shown
    if page not in ("pages/import_data.py", "pages/audit.py"):
        assert not [c for c in OTHER_COUNCILS if c in shown]


def test_repeated_keys_open_the_page_on_one_value(app_env):
    at = run_app("trafford.officer", "pages/spend.py", councils=["trafford", "stockport"], fy=["2025-26", "x"], tab=["a", "b"])
    assert not at.exception
    shown = " ".join(str(e.value) for e in [*at.markdown, *at.caption, *at.warning])
    assert "Stockport" not in shown
