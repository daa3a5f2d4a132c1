"""A supplier's on-contract share (the supplier page a ranked list's link opens): over the councils
whose contracts are loaded, under the one share rule; "no data", never 0%, where none is.

Before, the page summed on-contract spend over the councils (a council with no contracts loaded
adding nothing, pandas skipping its null) and divided by all their spend: a supplier paid £1,000 on
contract by one council and £3,000 by a council with no register read 25.0%; paid only by the second,
0.0%. Figures by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from starviz import fmt
from starviz.nodata import NO_DATA, supplier_on_contract_share


def _by_council(rows):
    return pd.DataFrame(rows, columns=["council", "spend_gbp", "on_contract_gbp", "off_contract_gbp"])


def test_a_council_without_contracts_loaded_is_left_out_not_counted_as_off_contract():
    # A: £1,000 on, £1,000 off: 50%. B: £3,000, no contracts loaded: not known, left out. 1,000 / 2,000.
    got = supplier_on_contract_share(_by_council([("A", 2000.0, 1000.0, 1000.0), ("B", 3000.0, None, None)]))
    assert got == pytest.approx(0.5)  # was 1,000 / 5,000 = 20.0%


def test_no_council_with_contracts_loaded_is_no_data():
    got = supplier_on_contract_share(_by_council([("B", 3000.0, None, None)]))
    assert got is None and fmt.pct(got) == NO_DATA  # was 0.0%


def test_credits_follow_the_share_rule():
    # A: £1,500 on contract, a £200 credit off contract: nets £1,300, all on contract. C: refunds only
    # (-£400 off): left out. 1,300 / 1,300 = 100% (was 1,500 / 900 = 166.7%).
    got = supplier_on_contract_share(_by_council([("A", 1300.0, 1500.0, -200.0), ("C", -400.0, 0.0, -400.0)]))
    assert got == pytest.approx(1.0)
