from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from starviz import build, config
from tests.fixtures.extracts import write_raw

SAMPLES = config.ROOT.parent / "shared" / "samples"


@pytest.fixture(scope="session")
def councils():
    return config.load_councils()


@pytest.fixture(scope="session")
def fixture_raw(tmp_path_factory) -> Path:
    return write_raw(tmp_path_factory.mktemp("raw"))


@pytest.fixture(scope="session")
def fixture_build(fixture_raw, tmp_path_factory) -> build.BuildSummary:
    db = tmp_path_factory.mktemp("db") / "star.duckdb"
    return build.build(raw_dir=fixture_raw, db_path=db)


@pytest.fixture()
def db(fixture_build) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(fixture_build.db_path), read_only=True)
    yield con
    con.close()


def sample(*parts: str) -> Path:
    path = SAMPLES.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real sample not available: {path}")
    return path
