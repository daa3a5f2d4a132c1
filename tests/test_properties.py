"""Property-based tests of the parsers: whatever the dates, amounts, encodings and header order,
the ingest never crashes and every row read is either loaded or rejected."""

from __future__ import annotations

import datetime as dt
import tempfile
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from starviz import config, ingest

COUNCILS = config.load_councils()
SPEND_COUNCILS = [
    c
    for c in COUNCILS.values()
    if "spend" in c.datasets and not any(p.endswith((".xls", ".xlsx")) for p in c.datasets["spend"].patterns[:1])
]

amounts = st.decimals(
    min_value=Decimal("-99999999.99"), max_value=Decimal("99999999.99"), places=2, allow_nan=False, allow_infinity=False
)
# Plausible payment dates: the build rejects dates before 2000 or after the build date plus a month
# ([plausibility] in data/settings.toml), so "valid" rows are drawn from that window.
dates = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date.today())
junk = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12)


def _amount_text(value: Decimal, style: int) -> str:
    plain = f"{abs(value):.2f}"
    thousands = f"{abs(value):,.2f}"
    neg = value < 0
    return [
        f"{'-' if neg else ''}{plain}",
        f"{'-' if neg else ''}{thousands}",
        f"({thousands})" if neg else thousands,
        f"-£{thousands}" if neg else f"£{thousands}",
        f" {thousands}{'-' if neg else ''} ",
    ][style]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    council=st.sampled_from(SPEND_COUNCILS),
    rows=st.lists(
        st.tuples(dates, amounts, st.integers(0, 4), st.text(min_size=1, max_size=20), st.booleans(), junk, junk),
        min_size=1,
        max_size=25,
    ),
    order=st.permutations([0, 1, 2]),
)
def test_any_rows_in_any_header_order_are_loaded_or_rejected_never_lost(council, rows, order):
    ds = council.datasets["spend"]
    headers = [ds.fields["payment_date"][0], ds.fields["amount_gbp"][0], ds.fields["supplier_name"][0]]
    lines, good = [], []
    for day, amount, style, name, valid, bad_date, bad_amount in rows:
        name = name.replace('"', "'")
        if valid:
            cells = [day.strftime(ds.date_formats[0]), _amount_text(amount, style), name]
            good.append(amount)
        else:
            cells = [bad_date, bad_amount, name]
        lines.append(",".join('"' + cells[i].replace('"', '""') + '"' for i in order))
    text = ",".join(headers[i] for i in order) + "\r\n" + "\r\n".join(lines) + "\r\n"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "extract.csv"
        try:
            path.write_bytes(text.encode(ds.encoding))
        except UnicodeEncodeError:
            path.write_bytes(text.encode(ds.encoding, errors="replace"))
        summary, _ = ingest.check_file(path, council, "spend")
    if summary.status == "failed":  # a whole-file problem (e.g. only blank rows) is reported, not raised
        assert summary.message
        return
    assert summary.rows_read == summary.rows_loaded + summary.rows_rejected
    assert summary.rows_loaded >= len(good)  # junk may happen to be valid; a valid row never fails
    if summary.rows_loaded == len(good):
        assert summary.amount_total == sum(good, Decimal("0.00"))


@settings(max_examples=60, deadline=None)
@given(text=st.text(max_size=30))
def test_money_parsing_never_raises_and_never_misreads_a_sign(text):
    import duckdb

    ds = COUNCILS["rochdale"].datasets["spend"]
    value = (
        duckdb.connect()
        .execute(f"select {ingest._money_sql('nullif(trim(v), chr(0))', ds, 'decimal(18,2)')} from (select ? as v)", [text])
        .fetchone()[0]
    )
    if value is not None and value != 0:
        stripped = text.strip()
        bracketed = stripped.startswith("(") and stripped.endswith(")")
        assert (value < 0) == (bracketed or "-" in stripped)
    if text.count("(") != text.count(")"):
        assert value is None or "(" not in text  # an unbalanced bracket is never read as an amount
