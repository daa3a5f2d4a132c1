"""Flattening: a release -> a ``raw_notices`` row; a compiled process -> ``raw_notice_contracts`` rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import duckdb
import pyarrow as pa

from starviz.notices.packages import Release, amount_of, company_number, date_of, ppon, text_of

NOTICE_COLUMNS: dict[str, pa.DataType] = {
    "council_id": pa.string(),
    "file_id": pa.int32(),
    "source_file": pa.string(),
    "source_row": pa.int64(),
    "ocid": pa.string(),
    "release_id": pa.string(),
    "release_date": pa.date32(),
    "published_date": pa.date32(),
    "tags": pa.string(),
    "notice_type": pa.string(),
    "package_kind": pa.string(),
    "buyer_name": pa.string(),
    "title": pa.string(),
    "value_amount": pa.float64(),
    "currency": pa.string(),
    "cpv_code": pa.string(),
    "procurement_method": pa.string(),
    "contract_status": pa.string(),
}

CONTRACT_COLUMNS: dict[str, pa.DataType] = {
    "council_id": pa.string(),
    "file_id": pa.int32(),
    "source_file": pa.string(),
    "source_row": pa.int64(),
    "ocid": pa.string(),
    "award_id": pa.string(),
    "contract_ref": pa.string(),
    "tender_ref": pa.string(),
    "contract_title": pa.string(),
    "description": pa.string(),
    "status": pa.string(),
    "supplier_name": pa.string(),
    "supplier_party_id": pa.string(),
    "company_number": pa.string(),
    "supplier_ppon": pa.string(),
    "supplier_postcode": pa.string(),
    "supplier_count": pa.int32(),
    "value_amount": pa.float64(),
    "currency": pa.string(),
    "start_date": pa.date32(),
    "end_date": pa.date32(),
    "max_end_date": pa.date32(),
    "award_date": pa.date32(),
    "date_signed": pa.date32(),
    "cpv_code": pa.string(),
    "procurement_method": pa.string(),
}


_SQL_TYPES = {pa.string(): "varchar", pa.int32(): "integer", pa.int64(): "bigint", pa.date32(): "date"}


def create_tables(con: duckdb.DuckDBPyConnection) -> None:
    for name, columns in (("raw_notices", NOTICE_COLUMNS), ("raw_notice_contracts", CONTRACT_COLUMNS)):
        # money is DECIMAL(18,2) in the table; rows arrive as floats and DuckDB rounds them
        ddl = ", ".join(f"{col} {_SQL_TYPES.get(kind, 'decimal(18,2)')}" for col, kind in columns.items())
        con.execute(f"create table if not exists {name} ({ddl})")


def insert(con: duckdb.DuckDBPyConnection, table: str, columns: dict[str, pa.DataType], rows: list[dict]) -> None:
    if not rows:
        return
    arrow = pa.Table.from_pylist(rows, schema=pa.schema(list(columns.items())))
    con.register("_batch", arrow)
    con.execute(f"insert into {table} select * from _batch")
    con.unregister("_batch")


def _cpv(section: dict | None) -> str | None:
    if not isinstance(section, dict):
        return None
    cls = section.get("classification")
    if isinstance(cls, dict) and str(cls.get("scheme") or "").upper() == "CPV" and cls.get("id"):
        return text_of(cls["id"])
    for item in section.get("items") or []:
        if not isinstance(item, dict):
            continue
        for cls in [item.get("classification"), *(item.get("additionalClassifications") or [])]:
            if isinstance(cls, dict) and str(cls.get("scheme") or "").upper() == "CPV" and cls.get("id"):
                return text_of(cls["id"])
    return None


def _value(obj: Any) -> tuple[float | None, str | None]:
    if not isinstance(obj, dict):
        return None, None
    value = obj.get("value")
    if not isinstance(value, dict):
        return None, None
    return amount_of(value.get("amount")), text_of(value.get("currency"))


def _sum_values(parts: Iterable[Any]) -> tuple[float | None, str | None]:
    total, currency = None, None
    for part in parts:
        amount, cur = _value(part)
        if amount is not None:
            total = (total or 0.0) + amount
            currency = currency or cur
    return total, currency


def notice_row(r: Release, council_id: str) -> dict:
    rel = r.pruned
    tender = rel.get("tender") if isinstance(rel.get("tender"), dict) else {}
    awards = [a for a in rel.get("awards") or [] if isinstance(a, dict)]
    contracts = [c for c in rel.get("contracts") or [] if isinstance(c, dict)]
    # The value the notice is about: its contracts', else its awards', else the tender's, else the budget.
    amount, currency = _sum_values(contracts)
    if amount is None:
        amount, currency = _sum_values(awards)
    if amount is None:
        amount, currency = _value(tender)
    if amount is None:
        budget = (rel.get("planning") or {}).get("budget") if isinstance(rel.get("planning"), dict) else None
        amount, currency = _value({"value": (budget or {}).get("amount")}) if isinstance(budget, dict) else (None, None)
    title = text_of(tender.get("title")) or next((text_of(x.get("title")) for x in contracts + awards if x.get("title")), None)
    cpv = _cpv(tender) or next((_cpv(x) for x in contracts + awards if _cpv(x)), None)
    tags = rel.get("tag") if isinstance(rel.get("tag"), list) else []
    return {
        "council_id": council_id,
        "file_id": r.file_id,
        "source_file": r.label,
        "source_row": r.row,
        "ocid": r.ocid,
        "release_id": r.release_id,
        "release_date": date_of(r.date),
        "published_date": r.published,
        "tags": ";".join(str(t) for t in tags),
        "notice_type": r.notice_type,
        "package_kind": r.package_kind,
        "buyer_name": r.buyer_name,
        "title": title,
        "value_amount": _clip(amount),
        "currency": currency,
        "cpv_code": cpv,
        "procurement_method": text_of(tender.get("procurementMethod")),
        "contract_status": next((text_of(c.get("status")) for c in contracts if c.get("status")), None),
    }


def _clip(amount: float | None) -> float | None:
    return None if amount is None or abs(amount) >= 1e16 else amount


def _period(obj: dict, key: str) -> tuple[dt.date | None, dt.date | None, dt.date | None]:
    period = obj.get(key) if isinstance(obj.get(key), dict) else {}
    return date_of(period.get("startDate")), date_of(period.get("endDate")), date_of(period.get("maxExtentDate"))


def contract_rows_of(compiled: dict, council_id: str, file_id: int, label: str, row: int) -> list[dict]:
    """One row per contract (or award with no contract yet) and supplier of a compiled release.

    A contract with several suppliers (a framework) is shared evenly among them, so totals add up.
    """
    parties = {p.get("id"): p for p in compiled.get("parties") or [] if isinstance(p, dict)}
    tender = compiled.get("tender") if isinstance(compiled.get("tender"), dict) else {}
    awards = {a.get("id"): a for a in compiled.get("awards") or [] if isinstance(a, dict)}
    contracts = [c for c in compiled.get("contracts") or [] if isinstance(c, dict)]
    pairs: list[tuple[dict | None, dict | None]] = []
    for c in contracts:
        pairs.append((awards.get(c.get("awardID")), c))
    awarded = {c.get("awardID") for c in contracts}
    for aid, a in awards.items():
        if aid not in awarded and a.get("status") not in ("cancelled", "unsuccessful"):
            pairs.append((a, None))
    rows = []
    for award, contract in pairs:
        award = award or {}
        contract = contract or {}
        amount, currency = _value(contract)
        if amount is None:
            amount, currency = _value(award)
        start, end, max_end = _period(contract, "period")
        a_start, a_end, a_max = _period(award, "contractPeriod")
        start, end, max_end = start or a_start, end or a_end, max_end or a_max
        suppliers = [s for s in award.get("suppliers") or [] if isinstance(s, dict)] or [{}]
        share = None if amount is None else amount / len(suppliers)
        for supplier in suppliers:
            party = parties.get(supplier.get("id")) or supplier
            address = party.get("address") if isinstance(party.get("address"), dict) else {}
            rows.append(
                {
                    "council_id": council_id,
                    "file_id": file_id,
                    "source_file": label,
                    "source_row": row,
                    "ocid": compiled.get("ocid"),
                    "award_id": text_of(award.get("id")),
                    "contract_ref": text_of(contract.get("id")) or text_of(award.get("id")),
                    "tender_ref": text_of(tender.get("id")),
                    "contract_title": text_of(contract.get("title"))
                    or text_of(award.get("title"))
                    or text_of(tender.get("title")),
                    "description": text_of(tender.get("description")),
                    "status": text_of(contract.get("status")) or text_of(award.get("status")),
                    "supplier_name": text_of(party.get("name")) or text_of(supplier.get("name")),
                    "supplier_party_id": text_of(supplier.get("id")),
                    "company_number": company_number(party),
                    "supplier_ppon": ppon(party),
                    "supplier_postcode": text_of(address.get("postalCode")),
                    "supplier_count": len(suppliers) if suppliers != [{}] else 0,
                    "value_amount": _clip(share),
                    "currency": currency,
                    "start_date": start,
                    "end_date": end,
                    "max_end_date": max_end,
                    "award_date": date_of(award.get("date")),
                    "date_signed": date_of(contract.get("dateSigned")),
                    "cpv_code": _cpv(contract) or _cpv(award) or _cpv(tender),
                    "procurement_method": text_of(tender.get("procurementMethod")),
                }
            )
    return rows
