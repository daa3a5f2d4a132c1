"""Settings and council configurations: the only place constants live.

A partner council is one TOML file in ``data/councils/``; everything the ingest needs to read
that council's extracts (file patterns, encodings, date and amount styles, header names used
over the years) is declared there and validated here, with errors naming the file and key.
"""

from __future__ import annotations

import datetime as dt
import os
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from starviz.models import DATASETS

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "data"
SQL_DIR = ROOT / "sql"


class ConfigError(ValueError):
    """A configuration file is wrong; the message names the file and the key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AmountStyle(_Strict):
    """How a council writes money: `£1,234.50`, `-£16,902.11`, `" 973.62 "`.

    Credits are read in every convention (`-12.00`, `(12.00)`, `12.00-`), so there is no setting.
    """

    currency_symbols: list[str] = ["£"]
    thousands: str = ","
    decimal: str = "."


class DemoStyle(_Strict):
    """How ``python -m starviz demo`` writes this dataset in the council's own published style."""

    file_name: str = Field(description="strftime template for one file, e.g. 'Spend {%b %Y}.csv'")
    amount_format: Literal["plain", "thousands", "currency", "padded", "numeric"] = "plain"
    negative_format: Literal["minus", "parentheses"] = "minus"
    bom: bool = False
    quirks: list[Literal["blank_rows", "total_rows", "trailing_spaces", "lower_than_500"]] = []
    extra_columns: dict[str, str] = Field({}, description="constant columns the council publishes")


class DatasetConfig(_Strict):
    """How one council publishes one dataset."""

    patterns: list[str] = Field(min_length=1, description="globs under data/raw/<council>/<dataset>/")
    encoding: str = "utf-8"
    delimiter: str = ","
    sheet: str | int = 0
    header_row: int = Field(1, ge=1, description="spreadsheet row number of the header")
    date_formats: list[str] = ["%Y-%m-%d", "%d/%m/%Y"]
    amount: AmountStyle = AmountStyle()
    truncates_names_at: int | None = Field(None, description="supplier names cut at N characters")
    redaction_markers: list[str] = []
    redaction_column_values: list[str] = Field(
        [], description="values of the `redaction` field that mean the payment is redacted"
    )
    skip_rows_where: dict[str, str] = Field(
        {}, description="canonical field -> regex; matching rows are summary/blank rows, kept as rejects"
    )
    fields: dict[str, list[str]] = Field(description="canonical field -> header names used over the years")
    constants: dict[str, str] = {}
    demo: DemoStyle | None = None

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        import codecs

        try:
            codecs.lookup(value)
        except LookupError as exc:
            raise ValueError(f"unknown encoding {value!r}") from exc
        return value


class CouncilConfig(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str
    short_name: str
    kind: Literal["council", "shared_service"] = "council"
    gss_code: str | None = Field(None, pattern=r"^E\d{8}$")
    population: int | None = Field(None, gt=0)
    colour: str = Field(pattern=r"^#[0-9A-Fa-f]{6}$")
    joined: dt.date
    left: dt.date | None = None
    name_aliases: list[str] = Field([], description="names other councils' ledgers use for this body")
    datasets: dict[str, DatasetConfig] = {}

    @model_validator(mode="after")
    def _check(self) -> CouncilConfig:
        if self.kind == "council" and (self.population is None or self.gss_code is None):
            raise ValueError("a council needs gss_code and population")
        for name, ds in self.datasets.items():
            if name not in DATASETS:
                raise ValueError(f"datasets.{name}: unknown dataset; known: {', '.join(DATASETS)}")
            model = DATASETS[name]
            unknown = set(ds.fields) - set(model.field_names())
            if unknown:
                raise ValueError(f"datasets.{name}.fields: unknown canonical field(s) {sorted(unknown)}")
            missing = [f for f in model.required_fields() if f not in ds.fields and f not in ds.constants]
            if missing:
                raise ValueError(f"datasets.{name}.fields: required canonical field(s) {missing} not mapped")
        return self


class Settings(_Strict):
    """Project-wide settings from ``data/settings.toml``, overridable by environment variables."""

    db_path: Path
    raw_dir: Path
    councils_dir: Path
    reference_dir: Path
    env: Literal["demo", "production"] = "demo"
    social_value_target_share: float = 0.20
    social_value_target_by_year: dict[str, float] = {}
    savings_kpi_code: str = "SAV01"
    bench_ingest_sample: dict[str, str] = {}
    build_memory_limit: str = "1GB"
    demo_scale_first_run: float = 0.25
    # spend cube and benchmarking pages
    cube_max_rows: int = Field(35, ge=1, le=500)
    cube_max_columns: int = Field(12, ge=1, le=100)
    treemap_categories: int = Field(10, ge=1, le=50)
    treemap_suppliers: int = Field(15, ge=1, le=100)
    drilldown_page_size: int = Field(50, ge=5, le=1000)
    supplier_search_results: int = Field(50, ge=5, le=500)
    benchmark_top_suppliers: int = Field(10, ge=1, le=100)
    benchmark_categories: int = Field(12, ge=1, le=50)
    benchmark_coverage_tolerance: float = Field(0.05, ge=0, le=1)
    bench_cube_scales: list[float] = [0.45, 4.5]

    def social_value_target(self, financial_year: str) -> float:
        return self.social_value_target_by_year.get(financial_year, self.social_value_target_share)


def _format_error(path: Path, exc: ValidationError) -> str:
    lines = [f"{path}: invalid configuration"]
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"]) or "(top level)"
        lines.append(f"  key {key}: {err['msg']}")
    return "\n".join(lines)


def _read_toml(path: Path) -> dict:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc


def load_council(path: Path) -> CouncilConfig:
    data = _read_toml(path)
    if data.get("id") != path.stem:
        raise ConfigError(f"{path}: key id: must equal the file name ({path.stem!r}), got {data.get('id')!r}")
    try:
        return CouncilConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_error(path, exc)) from exc


def load_councils(councils_dir: Path | None = None) -> dict[str, CouncilConfig]:
    """Every configured partner, by id, in file-name order."""
    folder = councils_dir or settings().councils_dir
    councils = {c.id: c for c in (load_council(p) for p in sorted(folder.glob("*.toml")))}
    if not councils:
        raise ConfigError(f"{folder}: no council configuration files (*.toml)")
    return councils


@lru_cache(maxsize=1)
def settings() -> Settings:
    path = DATA_DIR / "settings.toml"
    data = _read_toml(path) if path.exists() else {}
    env = os.environ
    data.setdefault("db_path", DATA_DIR / "star.duckdb")
    data.setdefault("raw_dir", DATA_DIR / "raw")
    data.setdefault("councils_dir", DATA_DIR / "councils")
    data.setdefault("reference_dir", DATA_DIR / "reference")
    overrides = {
        "db_path": env.get("STARVIZ_DB"),
        "raw_dir": env.get("STARVIZ_RAW"),
        "councils_dir": env.get("STARVIZ_COUNCILS"),
        "env": env.get("STARVIZ_ENV"),
        "demo_scale_first_run": env.get("STARVIZ_DEMO_SCALE"),
    }
    data.update({k: v for k, v in overrides.items() if v})
    for key in ("db_path", "raw_dir", "councils_dir", "reference_dir"):
        p = Path(data[key])
        data[key] = p if p.is_absolute() else ROOT / p
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_error(path, exc)) from exc
