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
    publishes_lines_from_gbp: float | None = Field(
        None,
        ge=0,
        description="spend: the smallest line the council publishes (500 for 'over £500', 0 for every line); "
        "unset: derived from its smallest positive line (dim_spend_publication)",
    )
    redaction_column_values: list[str] = Field(
        [], description="values of the `redaction` field that mean the payment is redacted"
    )
    skip_rows_where: dict[str, str] = Field(
        {}, description="canonical field -> regex; matching rows are summary/blank rows, kept as rejects"
    )
    fields: dict[str, list[str]] = Field(description="canonical field -> header names used over the years")
    constants: dict[str, str] = {}
    reader: Literal["auto", "csv", "excel", "zip"] = Field(
        "auto", description="how files are read: by their content (auto), or pinned to csv, excel or zip"
    )
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
    # How Find a Tender / Contracts Finder notices name the council as buyer (besides GB-LAC-<gss_code>
    # and its names): its Public Procurement Organisation Number and any other org-id identifiers.
    ppon: str | None = Field(None, pattern=r"^P[A-Z]{3}-\d{4}-[A-Z]{4}$", description="PPON, e.g. PABC-1234-DEFG")
    org_ids: list[str] = Field([], description="org-id identifiers as SCHEME-ID, e.g. GB-UKPRN-10007164")
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


class ExportPreset(_Strict):
    label: str
    width: int = Field(gt=100, le=4000)
    height: int = Field(gt=100, le=4000)


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
    build_ingest_workers: int = Field(2, ge=1, le=16)
    export_presets: dict[str, ExportPreset] = {}
    board_sequence: list[str] = []
    demo_scale_first_run: float = 0.25
    # Social value, KPIs and maturity (issue 6).
    social_value_coverage_threshold_gbp: float = Field(50_000, ge=0)
    social_value_at_risk_share: float = Field(0.8, gt=0, le=1)
    social_value_curve_exponent: float = Field(1.0, gt=0, le=5)
    social_value_grace_months: int = Field(6, ge=0)
    social_value_trend_quarters: int = Field(12, ge=2, le=60)
    kpi_rag_amber_tolerance: float = Field(0.10, ge=0, lt=1)
    kpi_trend_months: int = Field(24, ge=3, le=120)
    kpi_summary_movers: int = Field(3, ge=1, le=10)
    # Import and data quality (see data/settings.toml for what each means).
    import_max_upload_mb: int = Field(200, gt=0)
    import_preview_rows: int = Field(20, gt=0)
    import_preview_max_problems: int = Field(5000, gt=0)
    import_detect_min_confidence: float = Field(0.6, ge=0, le=1)
    import_detect_margin: float = Field(0.05, ge=0, le=1)
    import_additive_datasets: list[str] = ["spend", "social_value"]
    quality_stale_after_days: int = Field(45, gt=0)
    quality_partial_month_days: int = Field(10, ge=0, le=27)
    quality_max_problem_rows: int = Field(20000, gt=0)
    supplier_match_max_shown: int = Field(200, gt=0)
    # spend cube and benchmarking pages
    query_cache_entries: int = Field(512, ge=0, le=100_000)
    query_cache_max_rows: int = Field(50_000, ge=0)
    query_cache_total_rows: int = Field(500_000, ge=0)
    cube_max_rows: int = Field(35, ge=1, le=500)
    cube_max_columns: int = Field(12, ge=1, le=100)
    treemap_categories: int = Field(10, ge=1, le=50)
    treemap_suppliers: int = Field(15, ge=1, le=100)
    drilldown_page_size: int = Field(50, ge=5, le=1000)
    supplier_search_results: int = Field(50, ge=5, le=500)
    benchmark_top_suppliers: int = Field(10, ge=1, le=100)
    benchmark_categories: int = Field(12, ge=1, le=50)
    benchmark_coverage_tolerance: float = Field(0.05, ge=0, le=1)
    spend_publication_threshold_gbp: float = Field(500, ge=0)
    bench_cube_scales: list[float] = [0.45, 4.5]
    bench_query_scales: list[float] = [0.45, 4.5, 22.5]
    bench_memory_scale: float = 4.5
    bench_think_seconds: float = Field(5.0, ge=0)
    bench_targets: dict[str, float] = {}

    def social_value_target(self, financial_year: str) -> float:
        return self.social_value_target_by_year.get(financial_year, self.social_value_target_share)

    # Collaboration, contract pipeline and exception reports: [collaboration], [pipeline] and
    # [exceptions] tables of settings.toml (the models follow this class).
    collaboration: CollaborationSettings = Field(default_factory=lambda: CollaborationSettings())
    pipeline: PipelineSettings = Field(default_factory=lambda: PipelineSettings())
    exceptions: ExceptionSettings = Field(default_factory=lambda: ExceptionSettings())
    # What one file may ask of the reader, and what a plausible row holds ([reader], [plausibility]).
    reader: ReaderSettings = Field(default_factory=lambda: ReaderSettings())
    plausibility: PlausibilitySettings = Field(default_factory=lambda: PlausibilitySettings())
    notices: NoticeSettings = Field(default_factory=lambda: NoticeSettings())


class CollaborationSettings(_Strict):
    """Joint re-procurement: contracts in one category at different councils ending within
    ``expiry_alignment_months`` of each other, and the saving expected from letting them together."""

    expiry_alignment_months: int = Field(12, ge=1, le=60)
    aggregation_saving_share: float = Field(0.05, ge=0, le=1)


class PipelineSettings(_Strict):
    """Contract pipeline: buckets, lead times and effort by route, RAG, workload, pipeline notice."""

    bucket_months: list[int] = Field([3, 6, 12, 18], min_length=1)
    due_within_months: int = Field(3, ge=0)
    gantt_top_n: int = Field(30, ge=1)
    lead_time_value_bands_gbp: list[float] = [25_000, 100_000, 1_000_000]
    lead_time_months: dict[str, list[int]] = {"default": [3, 6, 9, 12]}
    effort_weight_by_route: dict[str, float] = {"default": 2.0}
    workload_quarters: int = Field(6, ge=1, le=12)
    procurement_act_contract_gbp: float = 2_000_000
    procurement_act_annual_spend_gbp: float = 100_000_000
    procurement_act_pipeline_months: int = Field(12, ge=1, le=36)

    @model_validator(mode="after")
    def _check(self) -> PipelineSettings:
        bands = self.lead_time_value_bands_gbp
        if bands != sorted(bands) or len(set(bands)) != len(bands):
            raise ValueError("lead_time_value_bands_gbp must rise strictly")
        for name, table in (("lead_time_months", self.lead_time_months), ("effort_weight_by_route", self.effort_weight_by_route)):
            if "default" not in table:
                raise ValueError(f"{name} needs a 'default' entry for routes it does not name")
        wrong = [route for route, months in self.lead_time_months.items() if len(months) != len(bands) + 1]
        if wrong:
            raise ValueError(f"lead_time_months: {wrong} need {len(bands) + 1} values, one per value band")
        if self.bucket_months != sorted(set(self.bucket_months)):
            raise ValueError("bucket_months must rise strictly")
        return self


class NoticeSettings(_Strict):
    """Find a Tender notices: matching them to register contracts, and the Procurement Act 2023's
    notice duties the compliance view checks (docs/PROCUREMENT-ACT.md cites each)."""

    match_value_share: float = Field(0.02, ge=0, le=1)
    match_days: int = Field(31, ge=0)
    act_from: dt.date = dt.date(2025, 2, 24)
    pipeline_notice_days: int = Field(56, ge=1)
    contract_details_min_gbp: float = Field(30_000, ge=0)
    contract_details_days: int = Field(30, ge=1)
    performance_contract_gbp: float = Field(5_000_000, ge=0)
    performance_interval_months: int = Field(12, ge=1)
    termination_notice_days: int = Field(30, ge=1)


class ExceptionSettings(_Strict):
    """Monthly exception reports: off-contract spend, split orders, contracts with no spend, and the
    contracts register's Transparency Code threshold."""

    off_contract_thresholds_gbp: list[float] = Field([5_000, 25_000, 100_000], min_length=1)
    off_contract_window_months: int = Field(12, ge=1)
    split_order_thresholds_gbp: list[float] = Field([5_000, 25_000, 100_000], min_length=1)
    split_order_window_days: int = Field(30, ge=1)
    split_order_below_share: float = Field(0.10, gt=0, lt=0.5)
    split_order_min_lines: int = Field(2, ge=2)
    no_spend_grace_months: int = Field(3, ge=0)
    transparency_contract_min_gbp: float = 5_000


class ReaderSettings(_Strict):
    """Limits on one file, whatever reads it (build, check, import): see ``starviz.reader``."""

    max_cells: int = Field(20_000_000, gt=0)
    max_rows: int = Field(1_048_576, gt=0)
    max_columns: int = Field(500, gt=0)
    max_unzipped_mb: int = Field(1024, gt=0)
    max_members: int = Field(200, gt=0)
    max_field_chars: int = Field(1_048_576, ge=1024)
    worker_memory_mb: int = Field(3072, ge=256)
    worker_seconds: float = Field(300.0, gt=0)
    workers: int = Field(2, ge=1, le=32)
    worker_idle_seconds: float = Field(60.0, gt=0)


class PlausibilitySettings(_Strict):
    """Values that parse but cannot be true, rejected by the build like any unreadable value."""

    earliest_date: dt.date = dt.date(2000, 1, 1)
    latest_months_ahead: int = Field(1, ge=0, le=120)
    date_fields: list[str] = ["payment_date", "period_date"]
    max_amount_gbp: float = Field(1_000_000_000, gt=0)

    def window(self, today: dt.date | None = None) -> tuple[dt.date, dt.date]:
        """The dates a payment (or period) may carry: earliest_date to the build date (``today``)
        plus latest_months_ahead months, the day clamped to that month's length."""
        today = today or dt.date.today()
        index = today.year * 12 + today.month - 1 + self.latest_months_ahead
        year, month = index // 12, index % 12 + 1
        days = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
        return self.earliest_date, dt.date(year, month, min(today.day, days))


Settings.model_rebuild()  # the three models above complete its annotations


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


PRIVATE_FILE = 0o640  # data files: the owner reads and writes, the group reads, nobody else


def keep_files_private() -> None:
    """Files and folders this process creates are readable by the owner (and group) only: the
    database, raw extracts, uploads and logs hold payment data. Called when the app and the CLI start."""
    os.umask(0o027)


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
        "reference_dir": env.get("STARVIZ_REFERENCE"),
        "query_cache_entries": env.get("STARVIZ_QUERY_CACHE_ENTRIES"),
    }
    data.update({k: v for k, v in overrides.items() if v})
    for key in ("db_path", "raw_dir", "councils_dir", "reference_dir"):
        p = Path(data[key])
        data[key] = p if p.is_absolute() else ROOT / p
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_error(path, exc)) from exc
