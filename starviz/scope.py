"""Who may see what, and the shared filters every page reads from the URL.

Pure Python (no Streamlit): a :class:`User` (role and council scope), the :class:`Filters` shared by
all pages (councils, period, addressable only) and :func:`parse_filters`, which turns whatever is in
``st.query_params`` into valid filters plus a human notice for every value it had to ignore. It never
raises: a link is user input, and a bad link must still open the dashboard.

UK financial years start on 1 April and are labelled ``2025-26``; quarters follow the financial year
(Q1 = April-June ... Q4 = January-March).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

Role = Literal["admin", "analyst", "viewer"]
ROLES: tuple[str, ...] = ("admin", "analyst", "viewer")

# action -> roles allowed to perform it. Unknown actions are a programming error (ValueError).
PERMISSIONS: dict[str, frozenset[str]] = {
    "import": frozenset({"admin"}),
    "rebuild": frozenset({"admin"}),
    "line_detail": frozenset({"admin", "analyst"}),
    "redacted_detail": frozenset({"admin", "analyst"}),
    "export": frozenset(ROLES),
    "supplier_review": frozenset({"admin"}),
    "audit": frozenset({"admin"}),
}

PeriodKind = Literal["fy", "quarter", "months", "all"]
PERIOD_KINDS: tuple[str, ...] = ("fy", "quarter", "months", "all")

COUNCIL_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_FY_LABEL = re.compile(r"^(\d{4})[-/](\d{2})$", re.ASCII)
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})(?:-(\d{1,2}))?$", re.ASCII)

# URL keys owned by the shared filters (other query parameters belong to pages and are left alone).
FILTER_KEYS: tuple[str, ...] = ("councils", "fy", "q", "from", "to", "addressable")
_TRUE = {"1", "true", "yes", "on", "y"}
_FALSE = {"0", "false", "no", "off", "n"}


# --------------------------------------------------------------------------------------------- users
@dataclass(frozen=True)
class User:
    """A logged-in person. ``councils=None`` means every council; otherwise the only ones they see."""

    username: str
    name: str
    role: Role
    councils: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"user {self.username!r}: role must be one of {', '.join(ROLES)}, got {self.role!r}")
        if self.councils is not None:
            councils = tuple(dict.fromkeys(self.councils))  # de-duplicate, keep order
            if not councils:
                raise ValueError(f"user {self.username!r}: councils must name at least one council, or be None (all)")
            bad = [c for c in councils if not isinstance(c, str) or not COUNCIL_ID.fullmatch(c)]
            if bad:
                raise ValueError(f"user {self.username!r}: not council ids: {bad}")
            object.__setattr__(self, "councils", councils)

    def can(self, action: str) -> bool:
        """Whether this user's role allows ``action`` (see ``PERMISSIONS``)."""
        try:
            return self.role in PERMISSIONS[action]
        except KeyError:
            raise ValueError(f"unknown action {action!r}; known: {', '.join(PERMISSIONS)}") from None

    @property
    def all_councils(self) -> bool:
        return self.councils is None

    def sees(self, council_id: str) -> bool:
        return self.councils is None or council_id in self.councils

    def allowed(self, council_ids: Iterable[str]) -> tuple[str, ...]:
        """``council_ids`` restricted to this user's scope, in the given order, without duplicates."""
        return tuple(c for c in dict.fromkeys(council_ids) if self.sees(c))


# ------------------------------------------------------------------------------- financial calendar
def financial_year(d: dt.date) -> str:
    """UK financial year label of a date: 31 March 2026 -> '2025-26', 1 April 2026 -> '2026-27'."""
    start = fy_start_year(d)
    return f"{start}-{(start + 1) % 100:02d}"


def fy_start_year(d: dt.date) -> int:
    return d.year if d.month >= 4 else d.year - 1


def parse_fy(label: str) -> int:
    """Start year of a label like '2025-26' (also '2025/26'); ValueError if it is not one."""
    m = _FY_LABEL.match(label.strip()) if isinstance(label, str) else None
    if not m:
        raise ValueError(f"not a financial year label (like 2025-26): {label!r}")
    start, end = int(m.group(1)), int(m.group(2))
    if not 1000 <= start <= 9998:
        raise ValueError(f"financial year out of range: {label!r}")
    if (start + 1) % 100 != end:
        raise ValueError(f"not a financial year label: {label!r} (the year after {start} ends in {(start + 1) % 100:02d})")
    return start


def fy_label(start_year: int) -> str:
    return f"{start_year}-{(start_year + 1) % 100:02d}"


def fy_bounds(label: str) -> tuple[dt.date, dt.date]:
    """First and last day (inclusive) of a financial year: '2025-26' -> (2025-04-01, 2026-03-31)."""
    start = parse_fy(label)
    return dt.date(start, 4, 1), dt.date(start + 1, 3, 31)


def fiscal_quarter(d: dt.date) -> int:
    """Financial-year quarter of a date: April-June 1, July-September 2, October-December 3, January-March 4."""
    return (d.month - 4) % 12 // 3 + 1


def quarter_bounds(label: str, quarter: int) -> tuple[dt.date, dt.date]:
    """First and last day of quarter 1-4 of a financial year: ('2025-26', 4) -> (2026-01-01, 2026-03-31)."""
    if quarter not in (1, 2, 3, 4):
        raise ValueError(f"quarter must be 1 to 4, got {quarter!r}")
    first = add_months(fy_bounds(label)[0], 3 * (quarter - 1))
    return first, month_end(add_months(first, 2))


def month_start(d: dt.date) -> dt.date:
    return dt.date(d.year, d.month, 1)


def add_months(d: dt.date, n: int) -> dt.date:
    """First day of the month ``n`` months after ``d``'s month (held within the years a date can
    have, so a stray date in the data never raises)."""
    index = min(max(d.year * 12 + d.month - 1 + n, 12), 9999 * 12 + 11)
    return dt.date(index // 12, index % 12 + 1, 1)


def month_end(d: dt.date) -> dt.date:
    if (d.year, d.month) == (9999, 12):
        return dt.date.max
    return add_months(d, 1) - dt.timedelta(days=1)


def months_between(first: dt.date, last: dt.date) -> int:
    """Number of months from ``first``'s month to ``last``'s month, both included."""
    return (last.year - first.year) * 12 + last.month - first.month + 1


def line_date_text(d: dt.date | None, precision: str | None) -> str:
    """A payment date as its file gave it: "01 Oct 2026" for a day, "Oct 2026" when the file gave
    only the month (kept as the 1st, which is not the day it was paid)."""
    if d is None or d != d:  # None or NaT
        return ""
    return d.strftime("%b %Y") if precision == "month" else d.strftime("%d %b %Y")


def _month_text(d: dt.date) -> str:
    return d.strftime("%b %Y")


def month_ranges(months: Iterable[dt.date]) -> str:
    """Months as runs: "Apr – Aug 2025", "Nov 2025 – Feb 2026", "Apr – May 2025, Jul 2025"."""
    runs: list[list[dt.date]] = []
    for m in sorted({month_start(m) for m in months}):
        if runs and add_months(runs[-1][1], 1) == m:
            runs[-1][1] = m
        else:
            runs.append([m, m])
    out = []
    for a, b in runs:
        if a == b:
            out.append(_month_text(a))
        elif a.year == b.year:
            out.append(f"{a:%b} – {_month_text(b)}")
        else:
            out.append(f"{_month_text(a)} – {_month_text(b)}")
    return ", ".join(out)


def _month_param(d: dt.date) -> str:
    return f"{d.year:04d}-{d.month:02d}"


_ACRONYMS = {"star": "STAR", "gmca": "GMCA"}


def _default_name(council_id: str) -> str:
    return _ACRONYMS.get(council_id, council_id.replace("_", " ").title())


# ------------------------------------------------------------------------------------------ filters
@dataclass(frozen=True)
class Filters:
    """The shared filters of every page.

    ``councils`` is the resolved selection (council ids in display order) that queries use;
    ``all_councils`` says it is "everything this user may see" (the URL then omits ``councils``).
    Period: ``fy`` (needs ``fy``), ``quarter`` (``fy`` and ``quarter``), ``months`` (``month_from``
    and ``month_to``, first days of months, both included) or ``all`` (no date restriction).
    ``names`` (council id -> display name) only feeds ``label`` and is ignored by ``==``.
    """

    councils: tuple[str, ...]
    period: PeriodKind = "fy"
    fy: str | None = None
    quarter: int | None = None
    month_from: dt.date | None = None
    month_to: dt.date | None = None
    addressable_only: bool = True
    all_councils: bool = False
    names: tuple[tuple[str, str], ...] = field(default=(), compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "councils", tuple(dict.fromkeys(self.councils)))
        if isinstance(self.names, Mapping):
            object.__setattr__(self, "names", tuple(self.names.items()))
        bad = [c for c in self.councils if not isinstance(c, str) or not COUNCIL_ID.fullmatch(c)]
        if bad:
            raise ValueError(f"not council ids: {bad}")
        if not self.councils and not self.all_councils:
            raise ValueError("an empty council selection must be all_councils=True")
        if self.period not in PERIOD_KINDS:
            raise ValueError(f"period must be one of {', '.join(PERIOD_KINDS)}, got {self.period!r}")
        if self.period in ("fy", "quarter"):
            if self.fy is None:
                raise ValueError(f"period {self.period!r} needs fy")
            parse_fy(self.fy)
        elif self.fy is not None:
            raise ValueError(f"period {self.period!r} takes no fy")
        if self.period == "quarter":
            if self.quarter not in (1, 2, 3, 4):
                raise ValueError(f"quarter must be 1 to 4, got {self.quarter!r}")
        elif self.quarter is not None:
            raise ValueError(f"period {self.period!r} takes no quarter")
        if self.period == "months":
            if self.month_from is None or self.month_to is None:
                raise ValueError("period 'months' needs month_from and month_to")
            if self.month_from.day != 1 or self.month_to.day != 1:
                raise ValueError("month_from and month_to must be first days of months")
            if self.month_from > self.month_to:
                raise ValueError("month_from is after month_to")
        elif self.month_from is not None or self.month_to is not None:
            raise ValueError(f"period {self.period!r} takes no month range")
        if not isinstance(self.addressable_only, bool):
            raise TypeError("addressable_only must be True or False")

    # -- dates
    @property
    def date_from(self) -> dt.date:
        """First day of the period (``date.min`` for all years)."""
        return self.bounds[0]

    @property
    def date_to(self) -> dt.date:
        """Last day of the period, inclusive (``date.max`` for all years)."""
        return self.bounds[1]

    @property
    def bounds(self) -> tuple[dt.date, dt.date]:
        if self.period == "fy":
            return fy_bounds(self.fy)
        if self.period == "quarter":
            return quarter_bounds(self.fy, self.quarter)
        if self.period == "months":
            return self.month_from, month_end(self.month_to)
        return dt.date.min, dt.date.max

    # -- text
    @property
    def period_label(self) -> str:
        if self.period == "fy":
            return self.fy
        if self.period == "quarter":
            return f"{self.fy} Q{self.quarter}"
        if self.period == "months":
            a, b = self.month_from, self.month_to
            if a == b:
                return _month_text(a)
            if a.year == b.year:
                return f"{a:%b}–{_month_text(b)}"
            return f"{_month_text(a)} – {_month_text(b)}"
        return "all years"

    @property
    def councils_label(self) -> str:
        names = dict(self.names)
        if self.all_councils and (len(self.councils) > 3 or not self.councils):
            return "All councils"
        return ", ".join(names.get(c, _default_name(c)) for c in self.councils)

    @property
    def spend_words(self) -> str:
        """Which spend the figures are of: 'addressable spend' or 'all spend'."""
        return "addressable spend" if self.addressable_only else "all spend"

    @property
    def label(self) -> str:
        """Human summary, e.g. 'Stockport, Trafford · 2025-26 Q3 · addressable spend'."""
        return f"{self.councils_label} · {self.period_label} · {self.spend_words}"

    # -- navigation
    def previous(self) -> Filters | None:
        """The comparable previous period: previous FY, previous quarter, or the same number of months
        just before the range. ``None`` for all years (nothing to compare with)."""
        if self.period == "fy":
            return replace(self, fy=fy_label(parse_fy(self.fy) - 1))
        if self.period == "quarter":
            if self.quarter == 1:
                return replace(self, fy=fy_label(parse_fy(self.fy) - 1), quarter=4)
            return replace(self, quarter=self.quarter - 1)
        if self.period == "months":
            n = months_between(self.month_from, self.month_to)
            return replace(self, month_from=add_months(self.month_from, -n), month_to=add_months(self.month_from, -1))
        return None

    def to_params(self) -> dict[str, str]:
        """Query parameters that reopen these filters (``parse_filters`` reads them back exactly)."""
        params: dict[str, str] = {}
        if not self.all_councils:
            params["councils"] = ",".join(self.councils)
        if self.period == "fy":
            params["fy"] = self.fy
        elif self.period == "quarter":
            params["fy"] = self.fy
            params["q"] = str(self.quarter)
        elif self.period == "months":
            params["from"] = _month_param(self.month_from)
            params["to"] = _month_param(self.month_to)
        else:
            params["fy"] = "all"
        if not self.addressable_only:
            params["addressable"] = "0"
        return params


@dataclass(frozen=True)
class Scope:
    """What one query may see: the filters chosen, cut to the councils the user may see."""

    filters: Filters
    user: User

    @property
    def council_ids(self) -> list[str]:
        """The councils this query may touch: the selection, cut to the user's own scope."""
        return list(self.user.allowed(self.filters.councils))

    def previous(self) -> Scope | None:
        prev = self.filters.previous()
        return None if prev is None else Scope(prev, self.user)


# -------------------------------------------------------------------------------------- URL parsing


def _shown(value: object, limit: int = 40) -> str:
    """A user-supplied value made safe to echo in a notice: printable, short, Markdown escaped."""
    text = "".join(ch for ch in str(value) if ch.isprintable())
    if len(text) > limit:
        text = text[:limit] + "…"
    from starviz.escape import md

    return md(text)


def _values(params: Mapping, key: str) -> list[str]:
    """All values given for ``key``: a string, a list of strings, or anything else turned to text."""
    try:
        if hasattr(params, "get_all"):  # st.query_params keeps repeated keys
            raw: object = params.get_all(key)
        else:
            raw = params.get(key)
    except Exception:  # an odd mapping must not break the page
        return []
    if raw is None:
        return []
    if isinstance(raw, (list, tuple)):
        return [str(v) for v in raw if v is not None]
    return [str(raw)]


def _single(params: Mapping, key: str, notices: list[str]) -> str | None:
    """The value of a single-valued key; repeated values keep the last one, with a notice."""
    values = _values(params, key)
    if not values:
        return None
    for extra in values[:-1]:
        notices.append(f"Ignored {key}={_shown(extra)}: {key} was given more than once; used {_shown(values[-1])}")
    return values[-1].strip()


def _parse_month(text: str) -> dt.date:
    m = _MONTH.match(text.strip())
    if not m:
        raise ValueError
    year, month = int(m.group(1)), int(m.group(2))
    day = int(m.group(3)) if m.group(3) else 1
    if not 1000 <= year <= 9998:
        raise ValueError
    dt.date(year, month, day)  # validates month and day
    return dt.date(year, month, 1)


def _normalise_months(months: Iterable[object]) -> list[dt.date]:
    out: set[dt.date] = set()
    for m in () if months is None else months:  # no truthiness: may be a pandas Series
        try:
            if isinstance(m, dt.datetime):
                m = m.date()
            elif not isinstance(m, dt.date) and hasattr(m, "to_pydatetime"):  # pandas Timestamp
                m = m.to_pydatetime().date()
            if isinstance(m, dt.date):
                out.add(month_start(m))
        except Exception:  # skip values that are not dates
            continue
    return sorted(out)


def parse_filters(
    params: Mapping[str, str | list[str]],
    *,
    user: User,
    council_ids: Sequence[str],
    months: Sequence[dt.date],
    names: Mapping[str, str] | None = None,
) -> tuple[Filters, list[str]]:
    """Filters from query parameters, plus a notice for every parameter that was ignored.

    ``council_ids`` are the selectable councils in display order, ``months`` the months holding data
    (first days). Defaults: every council the user may see, the latest financial year with data, and
    addressable spend only. Councils outside the user's scope are never selected. Never raises.
    ``names`` (council id -> display name) is only used for ``Filters.label``.
    Notices are plain sentences with user-supplied text shortened and Markdown-escaped.
    """
    notices: list[str] = []
    try:
        visible = user.allowed(str(c) for c in council_ids)
    except Exception:
        visible = ()
    try:
        data_months = _normalise_months(months)
    except Exception:  # not iterable: behave as if there were no data yet
        data_months = []
    try:
        name_pairs = tuple((str(k), str(v)) for k, v in (names or {}).items())
    except Exception:
        name_pairs = ()
    if not isinstance(params, Mapping) and not hasattr(params, "get_all"):
        params = {}

    try:
        councils, all_councils = _parse_councils(params, visible, notices)
    except Exception:  # never let a link break the page
        notices.append("Ignored councils: the value could not be read")
        councils, all_councils = visible, True
    try:
        period_fields = _parse_period(params, data_months, notices)
    except Exception:
        notices.append("Ignored the link's period: it could not be read")
        period_fields = _default_period(data_months)
    try:
        addressable = _parse_addressable(params, notices)
    except Exception:
        notices.append("Ignored addressable: the value could not be read")
        addressable = True
    try:
        filters = Filters(
            councils=councils, all_councils=all_councils, addressable_only=addressable, names=name_pairs, **period_fields
        )
    except Exception:  # belt and braces: fall back to the defaults
        notices.append("Ignored the link's period: it could not be read")
        filters = Filters(councils=visible, all_councils=True, names=name_pairs, **_default_period(data_months))
    return filters, notices


def _parse_councils(params: Mapping, visible: tuple[str, ...], notices: list[str]) -> tuple[tuple[str, ...], bool]:
    tokens: list[str] = []
    for value in _values(params, "councils"):
        tokens.extend(t.strip() for t in value.split(","))
    tokens = [t for t in tokens if t]
    if not tokens:
        return visible, True
    chosen: set[str] = set()
    for token in dict.fromkeys(tokens):
        cid = token.lower()
        if cid in visible:
            chosen.add(cid)
        else:
            notices.append(f"Ignored councils={_shown(token)}: not a council you can see")
    if not chosen:
        return visible, True
    selected = tuple(c for c in visible if c in chosen)
    return selected, selected == visible


def _default_period(data_months: list[dt.date]) -> dict:
    latest = data_months[-1] if data_months else dt.date.today()
    return {"period": "fy", "fy": financial_year(latest)}


def _has_data(data_months: list[dt.date], first: dt.date, last: dt.date) -> bool:
    """True when some data month falls in [first, last]; with no data at all anything is accepted."""
    if not data_months:
        return True
    return any(first <= m <= last for m in data_months)


def _parse_period(params: Mapping, data_months: list[dt.date], notices: list[str]) -> dict:
    fy_text = _single(params, "fy", notices)
    q_text = _single(params, "q", notices)
    from_text = _single(params, "from", notices)
    to_text = _single(params, "to", notices)

    # A month range wins over fy/q when it is valid.
    if from_text or to_text:
        months = _parse_month_range(from_text, to_text, data_months, notices)
        if months is not None:
            for key, text in (("fy", fy_text), ("q", q_text)):
                if text:
                    notices.append(f"Ignored {key}={_shown(text)}: the link also gives a month range (from/to)")
            return {"period": "months", "month_from": months[0], "month_to": months[1]}

    default = _default_period(data_months)
    fy: str | None = None
    if fy_text:
        if fy_text.lower() == "all":
            if q_text:
                notices.append(f"Ignored q={_shown(q_text)}: a quarter needs a financial year, not fy=all")
            return {"period": "all"}
        try:
            candidate = fy_label(parse_fy(fy_text))
        except ValueError:
            notices.append(f"Ignored fy={_shown(fy_text)}: not a financial year (use a label like 2025-26)")
        else:
            if _has_data(data_months, *fy_bounds(candidate)):
                fy = candidate
            else:
                notices.append(f"Ignored fy={_shown(fy_text)}: no data for that year")
    fy = fy or default["fy"]

    if q_text:
        try:
            quarter = int(q_text.upper().removeprefix("Q"))
        except ValueError:
            quarter = None
        if quarter not in (1, 2, 3, 4):
            notices.append(f"Ignored q={_shown(q_text)}: the quarter must be 1, 2, 3 or 4")
        elif not _has_data(data_months, *quarter_bounds(fy, quarter)):
            notices.append(f"Ignored q={_shown(q_text)}: no data for {fy} Q{quarter}")
        else:
            return {"period": "quarter", "fy": fy, "quarter": quarter}
    return {"period": "fy", "fy": fy}


def _parse_month_range(
    from_text: str | None, to_text: str | None, data_months: list[dt.date], notices: list[str]
) -> tuple[dt.date, dt.date] | None:
    parsed: dict[str, dt.date | None] = {}
    for key, text in (("from", from_text), ("to", to_text)):
        parsed[key] = None
        if text:
            try:
                parsed[key] = _parse_month(text)
            except (ValueError, OverflowError):
                notices.append(f"Ignored {key}={_shown(text)}: not a month (use YYYY-MM, like 2025-04)")
    first, last = parsed["from"], parsed["to"]
    if first is None and last is None:
        return None
    if first is None:
        first = data_months[0] if data_months else last
        first = min(first, last)
    if last is None:
        last = data_months[-1] if data_months else first
        last = max(first, last)
    if first > last:
        notices.append(f"Ignored from={_shown(from_text)}&to={_shown(to_text)}: the range ends before it starts")
        return None
    if not _has_data(data_months, first, last):
        notices.append(
            f"Ignored from={_shown(from_text or '')}&to={_shown(to_text or '')}: no data between "
            f"{_month_text(first)} and {_month_text(last)}"
        )
        return None
    return first, last


def _parse_addressable(params: Mapping, notices: list[str]) -> bool:
    text = _single(params, "addressable", notices)
    if text is None or text == "":
        return True
    if text.lower() in _TRUE:
        return True
    if text.lower() in _FALSE:
        return False
    notices.append(f"Ignored addressable={_shown(text)}: use 1 (addressable spend only) or 0 (all spend)")
    return True
