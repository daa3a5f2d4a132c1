"""Supplier matching measured on the labelled real pairs (tests/data/supplier_pairs.csv), through
the build's own SQL (bench.matching)."""

from __future__ import annotations

import pytest

from bench import matching


@pytest.fixture(scope="module")
def results():
    return matching.outcomes()


def _pair(results, a, b):
    return next(r for r in results if r.name_a == a and r.name_b == b)


def test_matching_meets_its_precision_and_recall_goals(results):
    f = matching.figures(results)
    assert f["merge_precision"] >= 0.995 and f["recall"] >= 0.97, f


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Future Directions C I C", "FUTURE DIRECTIONS CIC"),
        ("P Mcguinness & Co Ltd", "P Mcguinness & Company Ltd"),
        ("Great Places Housing Assoc", "Great Places Housing Association"),
        ("Knightsbridge Vending\u00a0Ltd", "Knightsbridge Vending Ltd"),
        ("Stockport M B C", "Stockport MBC"),
        ("Mather Care Limited", "MatherCare Limited"),
    ],
)
def test_spacing_punctuation_abbreviation_and_unicode_variants_merge(results, a, b):
    assert _pair(results, a, b).merged


def test_one_vat_group_registration_does_not_merge_different_companies_but_goes_to_review(results):
    pair = _pair(results, "G4S Cash Solutions", "G4S Secure Solutions (UK) Ltd")
    assert not pair.merged and pair.proposed and "VAT GB238560256" in pair.evidence


def test_a_vat_number_still_joins_similar_names(results):
    assert _pair(results, "Washington Direct Mail Ltd (WDM)", "Washington Direct Mail Ltd").merged


def test_a_name_holding_every_word_of_another_is_proposed_not_merged(results):
    pair = _pair(results, "Leonard Cheshire", "Leonard Cheshire Disability")
    assert pair.proposed and not pair.merged
