"""OCDS 1.1 release packages in Find a Tender's shape: the demo's notices and the tests' fixtures.

Find a Tender publishes each notice as one release: the release id is the notice id
(``012345-2025``), the OCID is ``ocds-h6vhtk-<hex>``, the notice itself is a document whose
``noticeType`` is ``UK1``..``UK17``, parties carry ``GB-PPON`` identifiers (buyers) and ``GB-COH``
Companies House numbers (suppliers), money is GBP.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

PREFIX = "ocds-h6vhtk"
NOTICE_URL = "https://www.find-tender.service.gov.uk/Notice/{}"

# notice type -> (OCDS release tag, section that holds the notice document, OCDS documentType)
NOTICE_SHAPES: dict[str, tuple[str, str, str]] = {
    "UK1": ("planning", "planning", "pipelineNotice"),
    "UK2": ("planning", "planning", "marketEngagementNotice"),
    "UK3": ("planning", "planning", "plannedProcurementNotice"),
    "UK4": ("tender", "tender", "tenderNotice"),
    "UK5": ("tender", "tender", "transparencyNotice"),
    "UK6": ("award", "awards", "awardNotice"),
    "UK7": ("contract", "contracts", "contractNotice"),
    "UK9": ("implementation", "contracts", "implementationNotice"),
    "UK10": ("contractAmendment", "contracts", "contractAmendmentNotice"),
    "UK11": ("contractTermination", "contracts", "contractTerminationNotice"),
    "UK12": ("tenderCancellation", "tender", "tenderCancellationNotice"),
}


@dataclass
class Org:
    name: str
    scheme: str  # GB-PPON, GB-COH, GB-LAC ...
    id: str
    postcode: str | None = None
    extra_ids: list[tuple[str, str]] = field(default_factory=list)

    @property
    def party_id(self) -> str:
        return f"{self.scheme}-{self.id}"

    def party(self, roles: list[str]) -> dict:
        party = {
            "id": self.party_id,
            "name": self.name,
            "identifier": {"scheme": self.scheme, "id": self.id, "legalName": self.name},
            "roles": roles,
        }
        if self.extra_ids:
            party["additionalIdentifiers"] = [{"scheme": s, "id": i} for s, i in self.extra_ids]
        if self.postcode:
            party["address"] = {"postalCode": self.postcode, "countryName": "United Kingdom"}
        return party


@dataclass
class Procurement:
    """One contracting process (OCID) of a buyer: what its notices say."""

    ocid: str
    buyer: Org
    title: str
    value_gbp: float
    cpv: str
    supplier: Org | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    max_end: dt.date | None = None
    reference: str | None = None  # the buyer's own contract reference


def _stamp(day: dt.date) -> str:
    return f"{day.isoformat()}T09:00:00+01:00"


def release(p: Procurement, notice_type: str, notice_id: str, published: dt.date) -> dict:
    """One Find a Tender notice about procurement ``p`` as an OCDS release."""
    tag, section, document_type = NOTICE_SHAPES[notice_type]
    document = {
        "id": notice_id,
        "documentType": document_type,
        "noticeType": notice_type,
        "description": f"{notice_type} notice on Find a Tender",
        "url": NOTICE_URL.format(notice_id),
        "datePublished": _stamp(published),
        "format": "text/html",
    }
    parties = [p.buyer.party(["buyer"])]
    rel: dict = {
        "ocid": p.ocid,
        "id": notice_id,
        "date": _stamp(published),
        "tag": [tag],
        "initiationType": "tender",
        "parties": parties,
        "buyer": {"id": p.buyer.party_id, "name": p.buyer.name},
    }
    value = {"amount": round(p.value_gbp, 2), "currency": "GBP"}
    tender = {
        "id": p.reference or p.ocid,
        "title": p.title,
        "status": "active" if section != "planning" else "planned",
        "value": value,
        "classification": {"scheme": "CPV", "id": p.cpv},
        "procurementMethod": "open",
        "mainProcurementCategory": "services",
    }
    if section in ("planning", "tender"):
        if section == "planning":
            rel["planning"] = {"documents": [document]}
            tender["status"] = "planned"
        else:
            tender["documents"] = [document]
            if notice_type == "UK12":
                tender["status"] = "cancelled"
        rel["tender"] = tender
        return rel
    rel["tender"] = tender
    supplier = p.supplier
    award_id = f"{p.ocid}-award-1"
    if supplier is not None:
        parties.append(supplier.party(["supplier"]))
    period = {}
    if p.start:
        period["startDate"] = _stamp(p.start)
    if p.end:
        period["endDate"] = _stamp(p.end)
    if p.max_end:
        period["maxExtentDate"] = _stamp(p.max_end)
    award = {
        "id": award_id,
        "title": p.title,
        "status": "active" if notice_type != "UK6" else "pending",
        "date": _stamp(published),
        "value": value,
        "suppliers": [{"id": supplier.party_id, "name": supplier.name}] if supplier else [],
        "contractPeriod": period,
    }
    if section == "awards":
        award["documents"] = [document]
        rel["awards"] = [award]
        return rel
    contract = {
        "id": p.reference or f"{p.ocid}-contract-1",
        "awardID": award_id,
        "title": p.title,
        "status": {"UK11": "terminated", "UK7": "active"}.get(notice_type, "active"),
        "value": value,
        "period": period,
        "dateSigned": _stamp(p.start or published),
        "documents": [document],
    }
    rel["awards"] = [award]
    rel["contracts"] = [contract]
    return rel


def package(
    releases: list[dict], published: dt.date, uri: str = "https://www.find-tender.service.gov.uk/api/1.0/ocdsReleasePackages"
) -> dict:
    """An OCDS 1.1 release package as Find a Tender's API returns it."""
    return {
        "uri": uri,
        "version": "1.1",
        "publishedDate": _stamp(published),
        "publisher": {
            "name": "Cabinet Office",
            "scheme": "GB-GOR",
            "uid": "D2",
            "uri": "https://www.gov.uk/government/organisations/cabinet-office",
        },
        "license": "http://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/",
        "publicationPolicy": "https://www.gov.uk/government/publications/open-contracting",
        "releases": releases,
    }


def record_package(releases: list[dict], published: dt.date) -> dict:
    """The same releases as an OCDS record package (one record per OCID, releases embedded)."""
    by_ocid: dict[str, list[dict]] = {}
    for rel in releases:
        by_ocid.setdefault(rel["ocid"], []).append(rel)
    pkg = package([], published, "https://www.find-tender.service.gov.uk/api/1.0/ocdsRecordPackages")
    del pkg["releases"]
    pkg["packages"] = [pkg["uri"]]
    pkg["records"] = [{"ocid": ocid, "releases": rels} for ocid, rels in by_ocid.items()]
    return pkg
