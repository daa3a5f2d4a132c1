"""A new partner from one TOML file: the example in docs/ONBOARDING.md (spend only, no demo section),
checked with the page's command, built from a file in a layout the project has not seen (UTF-16, tabs,
title rows, dates written out, GBP-prefixed amounts) and shown on every page."""

from __future__ import annotations

import re
import shlex
import shutil
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from starviz import build, cli, config, imports, queries
from starviz.scope import Filters, User
from tests.fixtures.extracts import write_raw
from tests.fixtures.new_partner import AMOUNT_TOTAL, ROWS_LOADED, write_bolton_spend

DOC = config.ROOT / "docs" / "ONBOARDING.md"


def _doc_toml() -> str:
    blocks = re.findall(r"```toml\n(.*?)```", DOC.read_text(), re.DOTALL)
    assert len(blocks) == 1, "ONBOARDING.md shows exactly one council file"
    return blocks[0]


def _doc_check_command() -> list[str]:
    """The arguments of the check command the page shows (step 3), after ``python -m starviz``."""
    (command,) = re.findall(r"-m starviz (check .*)", DOC.read_text())
    return shlex.split(command)


@pytest.fixture()
def bolton_configured(tmp_path, monkeypatch) -> Path:
    """The committed councils plus the page's council file, spend only and with no demo section."""
    councils = tmp_path / "councils"
    shutil.copytree(config.settings().councils_dir, councils)
    (councils / "bolton.toml").write_text(_doc_toml())  # the only thing added: one TOML file
    monkeypatch.setenv("STARVIZ_COUNCILS", str(councils))
    config.settings.cache_clear()
    yield councils
    config.settings.cache_clear()


@pytest.fixture()
def with_bolton(bolton_configured, tmp_path, monkeypatch):
    raw = write_raw(tmp_path / "raw")
    write_bolton_spend(raw / "bolton" / "spend" / "Bolton payments April 2025.txt")
    monkeypatch.setenv("STARVIZ_RAW", str(raw))
    monkeypatch.setenv("STARVIZ_DB", str(tmp_path / "star.duckdb"))
    config.settings.cache_clear()
    return build.build()


def test_the_check_command_on_the_page_reads_the_new_councils_file_as_the_build_will(bolton_configured, tmp_path, capsys):
    check, file_name, *options = _doc_check_command()
    assert options == ["--council", "bolton", "--dataset", "spend"]
    path = write_bolton_spend(tmp_path / file_name)
    assert cli.main([check, str(path), *options]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"{file_name}: 7 rows read, {ROWS_LOADED} loaded, 2 rejected; amount total £{Decimal(AMOUNT_TOTAL):,.2f}"
    assert [line.rsplit("(", 1)[1] for line in out[1:]] == ["rejected)", "skipped)"]  # the TBC date, the TOTAL row


def test_a_new_council_loads_from_one_toml_file_with_its_row_count_and_total(with_bolton):
    bolton = [f for f in with_bolton.files if f.council_id == "bolton"]
    assert [(f.status, f.rows_read, f.rows_loaded, f.rows_rejected) for f in bolton] == [("loaded", 7, ROWS_LOADED, 2)]
    con = duckdb.connect(str(config.settings().db_path), read_only=True)
    count, total = con.execute("select count(*), sum(amount_gbp) from fct_spend where council_id = 'bolton'").fetchone()
    assert (count, total) == (ROWS_LOADED, Decimal(AMOUNT_TOTAL))
    # the withheld name is redacted personal data; the credit note is kept and netted; é survives UTF-16
    assert con.execute("select exclusion_reason from fct_spend where council_id = 'bolton' and source_row = 5").fetchone() == (
        "redacted personal data",
    )
    assert con.execute("select sum(amount_gbp) from fct_spend where supplier_name = 'Moss Bank Landscapes Ltd'").fetchone() == (
        Decimal("984.56"),
    )
    assert con.execute("select count(*) from fct_spend where supplier_name = 'Café Nero Ltd'").fetchone() == (1,)
    # ABC Limited is the supplier the other councils already pay
    assert con.execute("select count_councils from dim_suppliers where supplier_name ilike 'abc%'").fetchone() == (5,)
    con.close()


def test_the_new_council_appears_in_the_app_and_its_rejects_and_gaps_on_data_quality(with_bolton):
    assert "Bolton" in queries.councils()["short_name"].tolist()
    scope = queries.Scope(
        Filters(councils=("bolton",), period="fy", fy="2025-26", addressable_only=False), User("director", "Director", "admin")
    )
    rows = queries.rejected_rows(scope, ["rejected", "skipped"])
    assert rows[["source_row", "column_name", "value", "severity"]].values.tolist() == [
        [8, "Posting Date", "TBC", "rejected"],
        [10, "Payee", "TOTAL", "skipped"],
    ]
    # joined April 2025; the other councils' spend runs to May 2025, so May is missing, April is not
    assert queries.missing_months(scope)[["dataset", "months"]].values.tolist() == [["spend", "May 2025"]]


def test_the_import_page_detects_the_new_council_from_the_headers(with_bolton, tmp_path):
    data = write_bolton_spend(tmp_path / "upload.txt").read_bytes()
    best = imports.detect(imports.stage("April payments.txt", data)).best
    assert (best.council_id, best.dataset) == ("bolton", "spend")


@pytest.mark.parametrize("page", sorted(p.name for p in (config.ROOT / "pages").glob("*.py")))
def test_every_page_runs_with_the_new_council_added(with_bolton, monkeypatch, tmp_path, page):
    # the council added by one TOML (spend only, no demo section) and every page of the app
    from tests.conftest import run_app

    monkeypatch.setenv("STARVIZ_AUTH_DIR", str(tmp_path / "auth"))
    config.settings.cache_clear()
    at = run_app("director", page=f"pages/{page}")
    assert not at.exception, at.exception
    assert "bolton" in [c for c, *_ in queries.councils()[["council_id"]].values.tolist()]
