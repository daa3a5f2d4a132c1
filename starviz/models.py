"""Canonical fields of each dataset: the single statement of what a row is.

The raw table definitions, the ingest parsing SQL and the import preview are all derived from
these models, so a field is added in one place. Each field's ``kind`` says how text from a
council's file is parsed (``date``, ``money``, ``number``, ``flag``, ``text``).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import ClassVar, Literal

from pydantic import BaseModel, Field

Kind = Literal["date", "money", "number", "flag", "text"]

SQL_TYPES: dict[str, str] = {
    "date": "DATE",
    "money": "DECIMAL(18,2)",
    "number": "DOUBLE",
    "flag": "BOOLEAN",
    "text": "VARCHAR",
}


def _f(kind: Kind, description: str, required: bool = False):
    return Field(None, description=description, json_schema_extra={"kind": kind, "required": required})


class Dataset(BaseModel):
    """Base of every dataset: helpers that read the field metadata."""

    dataset: ClassVar[str]
    title: ClassVar[str]

    @classmethod
    def field_names(cls) -> list[str]:
        return list(cls.model_fields)

    @classmethod
    def kind(cls, name: str) -> Kind:
        return cls.model_fields[name].json_schema_extra["kind"]  # type: ignore[index]

    @classmethod
    def required_fields(cls) -> list[str]:
        return [n for n, f in cls.model_fields.items() if f.json_schema_extra["required"]]  # type: ignore[index]

    @classmethod
    def raw_columns_sql(cls) -> str:
        return ",\n    ".join(f"{n} {SQL_TYPES[cls.kind(n)]}" for n in cls.field_names())


class Spend(Dataset):
    """A payment: one line of a council's spend extract (the Transparency Code asks for those over £500;
    some councils publish every line: ``dim_spend_publication`` says which)."""

    dataset: ClassVar[str] = "spend"
    title: ClassVar[str] = "Spend"

    payment_date: dt.date | None = _f("date", "date the expenditure was incurred or paid", required=True)
    payment_date_precision: str | None = _f(
        "text", "day or month: how precisely the file gives the payment date (set by ingest from the format read)"
    )
    amount_gbp: Decimal | None = _f("money", "net amount in GBP; credits negative", required=True)
    supplier_name: str | None = _f("text", "beneficiary as published (may be a redaction marker)")
    supplier_ref: str | None = _f("text", "the council's own supplier id")
    vat_number: str | None = _f("text", "supplier VAT registration number")
    company_number: str | None = _f("text", "Companies House or charity number")
    department: str | None = _f("text", "department / service area / organisational unit")
    expense_type: str | None = _f("text", "expense type or account description")
    purpose: str | None = _f("text", "summary of the purpose")
    category_code: str | None = _f("text", "ProClass code as published")
    category_label: str | None = _f("text", "ProClass label as published")
    transaction_number: str | None = _f("text", "transaction number")
    invoice_number: str | None = _f("text", "invoice number (mixed content in some files)")
    irrecoverable_vat_gbp: Decimal | None = _f("money", "VAT that cannot be recovered")
    redaction: str | None = _f("text", "a separate redaction column, where a council has one")


class Contract(Dataset):
    """A contracts-register record over £5,000 (Transparency Code), plus STAR's own fields."""

    dataset: ClassVar[str] = "contracts"
    title: ClassVar[str] = "Contracts register"

    contract_ref: str | None = _f("text", "reference number", required=True)
    contract_title: str | None = _f("text", "title of agreement", required=True)
    description: str | None = _f("text", "description of goods and services")
    department: str | None = _f("text", "department responsible")
    supplier_name: str | None = _f("text", "supplier name", required=True)
    supplier_ref: str | None = _f("text", "the council's own supplier id")
    company_number: str | None = _f("text", "supplier company number")
    charity_number: str | None = _f("text", "supplier charity number")
    vat_number: str | None = _f("text", "supplier VAT number")
    supplier_postcode: str | None = _f("text", "supplier postcode")
    value_gbp: Decimal | None = _f("money", "sum to be paid over the length of the contract", required=True)
    annual_value_gbp: Decimal | None = _f("money", "estimated annual spending")
    irrecoverable_vat_gbp: Decimal | None = _f("money", "VAT that cannot be recovered")
    start_date: dt.date | None = _f("date", "start date", required=True)
    end_date: dt.date | None = _f("date", "end date", required=True)
    max_end_date: dt.date | None = _f("date", "end date with every extension option taken")
    review_date: dt.date | None = _f("date", "review date")
    procurement_route: str | None = _f("text", "invitation to quote / published tender / framework ...")
    is_sme: bool | None = _f("flag", "supplier is an SME")
    is_vcse: bool | None = _f("flag", "supplier is a VCSE")
    category_code: str | None = _f("text", "ProClass code")
    category_label: str | None = _f("text", "ProClass label")
    category_manager: str | None = _f("text", "STAR category manager")
    savings_gbp: Decimal | None = _f("money", "savings recorded at award")
    covered_councils: str | None = _f("text", "for STAR collaborative contracts: council ids, ';'-separated")
    sv_weighting: float | None = _f("number", "social value evaluation weighting (0-1 or %)")
    ocid: str | None = _f("text", "OCDS contracting process id of its Find a Tender / Contracts Finder notices")


class SocialValue(Dataset):
    """A TOMs-style social value measure on a contract: committed at award or delivered in a period."""

    dataset: ClassVar[str] = "social_value"
    title: ClassVar[str] = "Social value commitments and deliveries"

    contract_ref: str | None = _f("text", "contract reference", required=True)
    measure_code: str | None = _f("text", "TOMs-style measure code, e.g. NT1", required=True)
    theme: str | None = _f("text", "TOMs theme")
    measure: str | None = _f("text", "measure description")
    unit: str | None = _f("text", "unit of the quantity")
    record_type: str | None = _f("text", "Committed or Delivered", required=True)
    period_date: dt.date | None = _f("date", "date committed, or end of the period delivered", required=True)
    quantity: float | None = _f("number", "quantity in the measure's unit", required=True)
    proxy_value_gbp: Decimal | None = _f("money", "proxy £ per unit", required=True)
    is_local: bool | None = _f("flag", "delivered by a Greater Manchester organisation")


class Kpi(Dataset):
    """A monthly key performance indicator with its target."""

    dataset: ClassVar[str] = "kpis"
    title: ClassVar[str] = "Monthly KPIs"

    kpi_code: str | None = _f("text", "short code", required=True)
    kpi_name: str | None = _f("text", "name as reported")
    perspective: str | None = _f("text", "balanced-scorecard perspective")
    unit: str | None = _f("text", "gbp, count, percent ...")
    period_date: dt.date | None = _f("date", "month", required=True)
    value: float | None = _f("number", "actual", required=True)
    target: float | None = _f("number", "target for the month")
    higher_is_better: bool | None = _f("flag", "direction of good")


class Maturity(Dataset):
    """A council's self-assessed procurement maturity in one key area or enabler of the LGA National
    Procurement Strategy 2018: current and target level (Minimum, Developing, Mature, Leader, Innovator)."""

    dataset: ClassVar[str] = "maturity"
    title: ClassVar[str] = "Procurement maturity (National Procurement Strategy 2018)"

    area: str | None = _f("text", "key area or enabler, as the council names it", required=True)
    period_date: dt.date | None = _f("date", "date of the assessment", required=True)
    current_level: str | None = _f("text", "current maturity: level name or number 1-5", required=True)
    target_level: str | None = _f("text", "target maturity: level name or number 1-5")
    target_date: dt.date | None = _f("date", "date by which the target level is to be reached")
    notes: str | None = _f("text", "evidence or comment")


# New datasets go at the end: the demo's random streams are numbered by this order.
DATASETS: dict[str, type[Dataset]] = {m.dataset: m for m in (Spend, Contract, SocialValue, Kpi, Maturity)}
