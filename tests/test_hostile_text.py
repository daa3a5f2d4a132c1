"""Text from data is shown as text on every page: hostile supplier names, contract titles, departments,
purposes and file names (Markdown images and links, HTML, javascript: URLs) are loaded into a fixture
database, every page is run as the director, and every element that renders Markdown or Plotly markup
is checked for them in active form."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from google.protobuf.json_format import MessageToDict

from starviz import build, config
from tests.conftest import run_app
from tests.fixtures.extracts import write_csv, write_pipeline_raw

HOSTILE = [
    "![pix](http://evil.example/beacon.png) Beacon Ltd",
    "[click me](javascript:alert(1)) Links Ltd",
    '<a href="javascript:alert(1)">Anchor</a> Ltd',
    "<b>BOLD</b><img src=x onerror=alert(1)> Ltd",
    "**Stars** _under_ :red[Red] $x^2$ Ltd",
]
# What must never reach a Markdown element, or a Plotly figure, unescaped.
ACTIVE_MARKDOWN = ["![pix](", "[click me](", "<a href", "<img", "**Stars**", ":red[Red]", "<b>BOLD", "$x^2$", "://evil"]
ACTIVE_PLOTLY = ["<a href", "<img", "<b>BOLD", "<b>Dept"]
TODAY = dt.date.today()  # contracts due soon after today, so the pipeline lists them
HOSTILE_FILE = "trafford-spend <img src=x onerror=alert(1)> <b>June<b> 2025-06.csv"  # no "/": a folder

SPEND_HEADER = [
    "OrganisationLabel",
    "PaymentDate",
    "BeneficiaryName",
    "BeneficiaryOtherID",
    "Amount",
    "Purpose",
    "ProclassLabel",
    "ProclassCode",
    "VATRegistrationNumber",
    "OrganisationalUnit",
    "TransactionNumber",
]
CONTRACT_HEADER = [
    "ContractReference",
    "ContractTitle",
    "SupplierName",
    "ContractValue",
    "StartDate",
    "EndDate",
    "MaximumEndDate",
    "SME",
    "VCSE",
    "SupplierPostcode",
    "ProclassLabel",
    "CategoryManager",
    "ProcurementRoute",
    "OrganisationalUnit",
    "Description",
    "ReviewDate",
    "SupplierCompanyNumber",
]


def write_hostile_raw(raw: Path) -> Path:
    write_pipeline_raw(raw)
    spend = [SPEND_HEADER]
    for n, name in enumerate(HOSTILE):
        for month in ("2025-05-12", "2025-06-12"):
            spend.append(
                [
                    "Trafford Council",
                    month,
                    name,
                    str(900 + n),
                    f"{900000 - n * 1000}.00",
                    f"{name} purpose",
                    "CONSTRUCTION: Bld Construction",
                    "391110",
                    "",
                    "<b>Dept</b> [d](http://evil.example/d)",
                    f"H{n}{month}",
                ]
            )
    write_csv(raw / "trafford/spend" / HOSTILE_FILE, spend)
    contracts = [CONTRACT_HEADER]
    for n, name in enumerate(HOSTILE):
        contracts.append(
            [
                f"EVIL-{n}",
                f"{name} contract",
                name,
                str(5_000_000 - n),
                (TODAY - dt.timedelta(days=400)).isoformat(),
                (TODAY + dt.timedelta(days=100)).isoformat(),
                "",
                "Y",
                "N",
                "M1 1AA",
                "Works - Construction, Repair & Maintenance",
                "[Manager](javascript:alert(1))",
                "<b>Route</b>",
                "<b>Dept</b>",
                f"{name} description",
                (TODAY + dt.timedelta(days=20)).isoformat(),
                "",
            ]
        )
    write_csv(raw / "trafford/contracts/trafford-contracts-register-2025-07.csv", contracts)
    return raw


@pytest.fixture(scope="module")
def hostile_build(tmp_path_factory) -> build.BuildSummary:
    raw = write_hostile_raw(tmp_path_factory.mktemp("hostile-raw"))
    return build.build(raw_dir=raw, db_path=tmp_path_factory.mktemp("hostile-db") / "star.duckdb")


@pytest.fixture()
def hostile_env(hostile_build, monkeypatch, tmp_path):
    monkeypatch.setenv("STARVIZ_DB", str(hostile_build.db_path))
    monkeypatch.setenv("STARVIZ_AUTH_DIR", str(tmp_path / "auth"))
    config.settings.cache_clear()
    yield hostile_build
    config.settings.cache_clear()


MARKDOWN_FIELDS = {"body", "label", "help", "title", "caption", "text", "labels", "placeholder"}


def _strings(value, key: str = ""):
    """(field name, text) for every string in a proto dict."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v, key)
    elif isinstance(value, str):
        yield key, value


def problems_in(at) -> tuple[list[str], str]:
    """Active hostile text found in the page's elements, and all the text seen (to check it showed)."""
    found, seen = [], []
    stack = [at._tree]
    while stack:
        node = stack.pop()
        stack.extend(getattr(node, "children", {}).values() if isinstance(getattr(node, "children", None), dict) else [])
        proto = getattr(node, "proto", None)
        if proto is None:
            continue
        kind = type(node).__name__
        for key, text in _strings(MessageToDict(proto)):
            seen.append(text)
            if key == "spec":  # a Plotly figure, as JSON
                labels = json.dumps(json.loads(text).get("data", [])) + json.dumps(json.loads(text).get("layout", {}))
                found += [f"{kind}: plotly {m!r}" for m in ACTIVE_PLOTLY if m in labels]
            elif key in MARKDOWN_FIELDS and kind not in ("Code", "Text"):
                # active = not backslash-escaped (Markdown shows an escaped character as itself)
                found += [
                    f"{kind}.{key}: {m!r} in {text[:120]!r}"
                    for m in ACTIVE_MARKDOWN
                    if re.search(r"(?<!\\)" + re.escape(m), text)
                ]
    return found, "\n".join(seen)


PAGES = sorted(p.relative_to(config.ROOT).as_posix() for p in (config.ROOT / "pages").glob("*.py"))


@pytest.mark.parametrize("page", PAGES)
def test_hostile_names_are_shown_as_plain_text_on_every_page(hostile_env, page):
    at = run_app("director", present="1") if page.endswith("present.py") else run_app("director", page)
    assert not at.exception, at.exception
    found, _seen = problems_in(at)
    assert found == []


def _ids(build_summary) -> tuple[list[str], list[str]]:
    import duckdb

    con = duckdb.connect(str(build_summary.db_path), read_only=True)
    try:
        suppliers = [
            r[0]
            for r in con.execute(
                "select supplier_id from dim_suppliers where supplier_name like '%Ltd' and "
                "(supplier_name like '%<%' or supplier_name like '%[%' or supplier_name like '%*%')"
            ).fetchall()
        ]
        contracts = [
            r[0] for r in con.execute("select contract_id from fct_contracts where contract_ref like 'EVIL-%'").fetchall()
        ]
    finally:
        con.close()
    return suppliers, contracts


@pytest.mark.parametrize("page", ["pages/collaboration.py", "pages/pipeline.py"])
def test_hostile_suppliers_and_contracts_are_plain_text_in_their_details(hostile_env, page):
    suppliers, contracts = _ids(hostile_env)
    assert len(suppliers) == len(HOSTILE) and len(contracts) == len(HOSTILE)
    runs = [{"supplier": s} for s in suppliers[:3]] + [{"contract": c} for c in contracts[:3]]
    for params in runs:
        at = run_app("director", page, **params)
        assert not at.exception, (params, at.exception)
        assert at.header, params  # the detail opened
        found, _seen = problems_in(at)
        assert found == [], params


def test_hostile_names_are_plain_text_in_the_supplier_profile(hostile_env):
    suppliers, _contracts = _ids(hostile_env)
    at = run_app("director", "pages/spend.py")
    for supplier in suppliers:
        at.session_state["tab"] = "Supplier profile"
        at.session_state["supplier_pick"] = supplier
        at.run()
        assert not at.exception
        found, seen = problems_in(at)
        assert found == []
    assert "Beacon Ltd" in seen or "Stars" in seen


def test_hostile_names_do_show_somewhere(hostile_env):
    """The check above means something: the names reach the pages (escaped), they are not dropped."""
    seen = ""
    for page in ("pages/spend.py", "pages/pipeline.py", "pages/collaboration.py"):
        at = run_app("director", page)
        seen += problems_in(at)[1] + "".join(d.value.to_csv() for d in at.dataframe)
    assert "Beacon Ltd" in seen and "Anchor" in seen and "Stars" in seen
