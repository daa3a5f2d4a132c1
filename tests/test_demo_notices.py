"""The demo's Find a Tender notices: valid OCDS 1.1 release packages that load and reconcile."""

from __future__ import annotations

import json

import pytest

from starviz import demo
from tests.conftest import sample


@pytest.fixture(scope="module")
def demo_raw(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    demo.generate(out, scale=0.03)
    return out


def test_demo_notices_are_valid_ocds_1_1_release_packages(demo_raw):
    from jsonschema import Draft4Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT4

    folder = sample("ocds", "schema")
    schemas = {p.name: json.loads(p.read_text()) for p in folder.glob("*.json")}
    release = schemas["release-schema.json"]
    registry = Registry().with_resource(release["id"], Resource.from_contents(release, default_specification=DRAFT4))
    validator = Draft4Validator(schemas["release-package-schema.json"], registry=registry)
    files = sorted((demo_raw / "notices").glob("*.json"))
    assert files
    for path in files:
        errors = [
            f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(json.loads(path.read_text()))
        ]
        assert not errors, f"{path.name}: {errors[:5]}"


def test_demo_notices_use_find_a_tenders_shape(demo_raw):
    releases = [r for p in (demo_raw / "notices").glob("*.json") for r in json.loads(p.read_text())["releases"]]
    types = {d["noticeType"] for r in releases for d in _documents(r)}
    assert {"UK4", "UK6", "UK7"} <= types
    assert all(r["ocid"].startswith("ocds-h6vhtk-") for r in releases)
    suppliers = [p for r in releases for p in r["parties"] if "supplier" in p["roles"]]
    assert suppliers and all(p["identifier"]["scheme"] == "GB-COH" and len(p["identifier"]["id"]) == 8 for p in suppliers)


def _documents(release):
    for section in ("planning", "tender"):
        yield from (release.get(section) or {}).get("documents", [])
    for section in ("awards", "contracts"):
        for part in release.get(section, []):
            yield from part.get("documents", [])


def test_demo_contracts_are_in_register_and_notices_or_only_one(demo_raw, tmp_path):
    import duckdb

    from starviz import build

    db = tmp_path / "star.duckdb"
    summary = build.build(raw_dir=demo_raw, db_path=db)
    notices = [f for f in summary.files if f.dataset == "notices"]
    assert notices and all(f.status == "loaded" for f in notices)
    assert sum(f.rows_rejected for f in notices) >= 5  # the neighbouring authority's notices, not loaded
    with duckdb.connect(str(db), read_only=True) as con:
        sources = dict(con.execute("select source, count(*) from fct_contracts group by source").fetchall())
        assert sources.get("both", 0) > 0 and sources.get("notices", 0) > 0 and sources.get("register", 0) > 0
        rules = {r for (r,) in con.execute("select distinct match_rule from map_contract_notices").fetchall()}
        assert rules == {"reference", "supplier, value and dates"}
        assert con.execute("select count(*) from fct_notices where council_id is null").fetchone() == (0,)
