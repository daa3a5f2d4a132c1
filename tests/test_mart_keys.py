"""Every mart declares its key under its grain comment, and the key holds on the fixture builds:
one row per key (count(*) = count(distinct key)) and no null in a part of the key, except parts
marked ``?`` where null is itself a value of the grain (an unknown flag, no exclusion)."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from starviz import build

MARTS = [p for p in build.sql_files() if p.parent.name == "30_marts"]


def declared_key(path: Path) -> list[str]:
    """The parts of the ``-- key: a, b, c?`` line in the file's leading comment (a line ending in a
    comma continues on the next comment line); empty when the file declares none."""
    header = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("--"):
            break
        header.append(line[2:].strip())
    for i, line in enumerate(header):
        if line.startswith("key:"):
            text = line[len("key:") :]
            while text.rstrip().endswith(",") and i + 1 < len(header):
                i += 1
                text += " " + header[i]
            return [part.strip() for part in text.split(",") if part.strip()]
    return []


def key_problems(con: duckdb.DuckDBPyConnection, mart: str, key: list[str]) -> list[str]:
    if not key:
        return [f"{mart} declares no key (a '-- key: ...' line under its grain comment)"]
    columns = [part.rstrip("?") for part in key]
    if not all(re.fullmatch(r"\w+", c) for c in columns):
        return [f"{mart}: a key part is not a column name: {key}"]
    rows, distinct = con.execute(f"select count(*), count(distinct ({', '.join(columns)},)) from {mart}").fetchone()
    problems = [f"{mart}: {rows} rows but {distinct} distinct keys"] if rows != distinct else []
    for part, column in zip(key, columns, strict=True):
        nulls = con.execute(f"select count(*) from {mart} where {column} is null").fetchone()[0]
        if nulls and not part.endswith("?"):
            problems.append(f"{mart}: {nulls} rows with no {column}")
    return problems


@pytest.fixture(scope="module", params=["fixture", "pipeline"])
def built(request) -> duckdb.DuckDBPyConnection:
    summary = request.getfixturevalue("fixture_build" if request.param == "fixture" else "pipeline_build")
    con = duckdb.connect(str(summary.db_path), read_only=True)
    yield con
    con.close()


@pytest.mark.parametrize("path", MARTS, ids=[p.stem for p in MARTS])
def test_every_mart_declares_a_key_that_is_unique_and_never_null(path, built):
    assert key_problems(built, path.stem, declared_key(path)) == []


def test_a_mart_without_a_key_line_fails_the_check(tmp_path, built):
    undeclared = tmp_path / "mart_contracts.sql"
    undeclared.write_text("-- One row per contract.\ncreate or replace view mart_contracts as select 1")
    assert key_problems(built, "mart_contracts", declared_key(undeclared)) == [
        "mart_contracts declares no key (a '-- key: ...' line under its grain comment)"
    ]


def test_a_key_that_is_not_unique_or_is_null_fails_the_check(built):
    problems = key_problems(built, "mart_spend_cube", ["supplier_id"])
    assert problems[0].startswith("mart_spend_cube: ") and "distinct keys" in problems[0]
    assert problems[1].endswith("rows with no supplier_id")
    assert len(key_problems(built, "mart_spend_cube", ["supplier_id?"])) == 1
