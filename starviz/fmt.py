"""Numbers as a reader in the UK writes them: money, shares, changes, periods (no Streamlit here)."""

from __future__ import annotations

import math

from starviz.nodata import NO_DATA
from starviz.nodata import missing as missing


def gbp(value: float | None, pence: bool = False) -> str:
    """UK money: £1.2bn, £1.2m, £350k, £1,234 (or £1,234.56 with pence); negatives as -£..."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return NO_DATA
    v = abs(float(value))
    if pence:
        text = f"£{v:,.2f}"
    elif v >= 1e9:
        text = f"£{v / 1e9:.1f}bn".replace(".0bn", "bn")
    elif v >= 1e6:
        text = f"£{v / 1e6:.1f}m".replace(".0m", "m")
    elif v >= 1e4:
        text = f"£{v / 1e3:.0f}k"
    else:
        text = f"£{v:,.0f}"
    # an amount that rounds to nothing has no sign: "£0", never "-£0"
    return f"-{text}" if value < 0 and any(c in "123456789" for c in text) else text


def pct(share: float | None, digits: int = 1) -> str:
    if share is None or (isinstance(share, float) and math.isnan(share)):
        return NO_DATA
    return f"{share * 100:z.{digits}f}%"


def in_unit(value: float | None, unit: str) -> str:
    """A value in its unit, the one place each is written: £1.2m ("gbp"; to the penny under £100, so
    an average of £4.56 is not "£5"), 74.1% ("share", 0-1; "percent", already times 100), "level 3",
    else a count or number, 5,210 (or 4.5)."""
    if missing(value):
        return NO_DATA
    if unit == "gbp":
        return gbp(value, pence=abs(value) < 100)
    if unit == "share":
        return pct(value)
    if unit == "percent":
        return f"{value:.1f}%"
    if unit == "level":
        return f"level {value:g}"
    return f"{value:,.0f}" if abs(value) >= 100 or float(value).is_integer() else f"{value:,.1f}"


def count(n: int, noun: str, plural: str | None = None) -> str:
    """A count with its noun agreeing: '1 line', '2 lines', '1,234 files' (``plural`` when not noun + s)."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"


AGE_IN_DAYS_UNDER = 90  # older than this, an age is told in months for every council alike


def age(days: float | None, by_month: bool = False) -> str:
    """How old data is: in days while under ``AGE_IN_DAYS_UNDER`` days, else in months, and always in
    months for a council that publishes months, not days; so two councils whose data ends in the same
    month read alike ("146 months" and "146 months", not "4,450 days" beside "146 months")."""
    if missing(days):
        return ""
    if by_month or days >= AGE_IN_DAYS_UNDER:
        return count(round(days / 30.44), "month")
    return count(int(days), "day")


def change_pp(now: float | None, before: float | None) -> str | None:
    """Change of a share in percentage points, e.g. '+2.1 pp'."""
    if now is None or before is None:
        return None
    return f"{(now - before) * 100:+z.1f} pp"  # z: a change that rounds to nothing is +0.0, never -0.0


def change_gbp(now: float | None, before: float | None) -> str | None:
    if now is None or before is None or before == 0:
        return None
    return f"{gbp(now - before)} ({(now - before) / abs(before) * 100:+z.1f}%)"
