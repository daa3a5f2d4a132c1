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
from tests.conftest import app_on, run_app
from tests.fixtures.extracts import write_pipeline_raw, write_trafford_contracts, write_trafford_spend

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


def write_hostile_raw(raw: Path) -> Path:
    write_pipeline_raw(raw)
    write_trafford_spend(
        raw / "trafford/spend" / HOSTILE_FILE,
        [
            {
                "PaymentDate": month,
                "BeneficiaryName": name,
                "BeneficiaryOtherID": str(900 + n),
                "Amount": f"{900000 - n * 1000}.00",
                "Purpose": f"{name} purpose",
                "ProclassLabel": "CONSTRUCTION: Bld Construction",
                "ProclassCode": "391110",
                "OrganisationalUnit": "<b>Dept</b> [d](http://evil.example/d)",
                "TransactionNumber": f"H{n}{month}",
            }
            for n, name in enumerate(HOSTILE)
            for month in ("2025-05-12", "2025-06-12")
        ],
    )
    write_trafford_contracts(
        raw / "trafford/contracts/trafford-contracts-register-2025-07.csv",
        [
            {
                "ContractReference": f"EVIL-{n}",
                "ContractTitle": f"{name} contract",
                "SupplierName": name,
                "ContractValue": str(5_000_000 - n),
                "StartDate": (TODAY - dt.timedelta(days=400)).isoformat(),
                "EndDate": (TODAY + dt.timedelta(days=100)).isoformat(),
                "SME": "Y",
                "VCSE": "N",
                "SupplierPostcode": "M1 1AA",
                "ProclassLabel": "Works - Construction, Repair & Maintenance",
                "CategoryManager": "[Manager](javascript:alert(1))",
                "ProcurementRoute": "<b>Route</b>",
                "OrganisationalUnit": "<b>Dept</b>",
                "Description": f"{name} description",
                "ReviewDate": (TODAY + dt.timedelta(days=20)).isoformat(),
            }
            for n, name in enumerate(HOSTILE)
        ],
    )
    return raw


@pytest.fixture(scope="module")
def hostile_build(tmp_path_factory) -> build.BuildSummary:
    raw = write_hostile_raw(tmp_path_factory.mktemp("hostile-raw"))
    return build.build(raw_dir=raw, db_path=tmp_path_factory.mktemp("hostile-db") / "star.duckdb")


@pytest.fixture()
def hostile_env(hostile_build, monkeypatch, tmp_path):
    with app_on(hostile_build.db_path, monkeypatch, tmp_path):
        yield hostile_build


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
