"""The reference files and settings behind the pipeline and exception reports stay consistent."""

from __future__ import annotations

import csv
import re

from starviz import config


def _rows(name: str) -> list[dict]:
    with (config.settings().reference_dir / name).open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_route_aliases_are_normalised_unique_and_name_configured_routes():
    rows = _rows("procurement_routes.csv")
    aliases = [r["alias"] for r in rows]
    assert len(aliases) == len(set(aliases))
    # the mart matches aliases after lower-casing and turning anything but letters and digits into one space
    assert all(re.fullmatch(r"[a-z0-9]+( [a-z0-9]+)*", a) for a in aliases), aliases
    routes = {r["route"] for r in rows}
    settings = config.settings()
    assert routes == set(settings.pipeline.lead_time_months) - {"default"}
    assert routes == set(settings.pipeline.effort_weight_by_route) - {"default"}


def test_every_route_the_demo_registers_use_is_recognised():
    from starviz.demo import vocabulary

    names = {n for group in (vocabulary.ROUTES_LOW, vocabulary.ROUTES_MID, vocabulary.ROUTES_HIGH) for n in group}
    aliases = {r["alias"] for r in _rows("procurement_routes.csv")}
    assert {re.sub(r"[^a-z0-9]+", " ", n.lower()).strip() for n in names} <= aliases


def test_every_transparency_field_is_checked_by_the_mart():
    sql = (config.SQL_DIR / "30_marts" / "mart_missing_fields_by_contract.sql").read_text()
    checked = set(re.findall(r"\{'field': '(\w+)'", sql))
    rows = _rows("transparency_contract_fields.csv")
    assert {r["field"] for r in rows} <= checked
    assert {r["applies_to"] for r in rows} <= {"all", "sme_or_vcse"}


def test_default_thresholds_are_the_ones_the_issue_names():
    s = config.settings()
    exceptions, pipeline = s.exceptions, s.pipeline
    assert exceptions.off_contract_thresholds_gbp == [5_000, 25_000, 100_000] and exceptions.off_contract_window_months == 12
    assert exceptions.split_order_window_days == 30 and s.collaboration.expiry_alignment_months == 12
    assert (pipeline.procurement_act_contract_gbp, pipeline.procurement_act_annual_spend_gbp) == (2_000_000, 100_000_000)
    assert pipeline.bucket_months == [3, 6, 12, 18]
