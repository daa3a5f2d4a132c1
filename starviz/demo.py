"""Synthetic demo extracts, written in each partner's own published format.

``generate`` invents one plausible STAR world (suppliers shared across councils under name variants,
Pareto-shaped spend with a March peak, levies and redacted payments, contracts registers, social
value, KPIs) and writes it the way each council's configuration says that council publishes it:
headers, file type, encoding, date and amount styles, quirks. Nothing here names a council: a new
TOML file in ``data/councils/`` is picked up as it is.

Determinism: every random draw comes from ``numpy.random.default_rng([seed, crc32(council id), k])``
streams (or Python ``random.Random`` seeded from them), never from the clock, so the same seed and
scale give byte-identical files.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import random
import re
import zipfile
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from starviz import config
from starviz.config import CouncilConfig, DatasetConfig, DemoStyle
from starviz.models import DATASETS, Dataset

__all__ = ["generate"]

Progress = Callable[[float, str], None]

# --------------------------------------------------------------------------------------------
# The invented world: vocabularies
# --------------------------------------------------------------------------------------------

# ProClass level-1 headings (Trafford order, codes 10-39) with, for each: level-2 labels,
# relative number of suppliers, relative value per supplier, words for supplier names,
# departments that buy it (weights) and the subjective expense type.
_PROCLASS: tuple[tuple[str, tuple[str, ...], float, float, tuple[str, ...], dict[str, float], str], ...] = (
    (
        "Building Materials",
        ("Timber & Sheet Materials", "Aggregates", "Plumbing Materials"),
        2,
        0.5,
        ("Building Supplies", "Timber", "Builders Merchants"),
        {"Place": 0.5, "Housing": 0.5},
        "Supplies & Services",
    ),
    (
        "Catering",
        ("Food", "Catering Equipment", "Catering Services"),
        3,
        0.7,
        ("Catering", "Fine Foods", "Kitchen Services"),
        {"Education": 0.6, "Adult Social Care": 0.2, "Leisure & Culture": 0.2},
        "Supplies & Services",
    ),
    (
        "Cemetery & Crematorium",
        ("Memorials", "Cremator Maintenance"),
        0.5,
        0.5,
        ("Memorials", "Stonemasons"),
        {"Place": 1.0},
        "Premises Related",
    ),
    (
        "Cleaning & Janitorial",
        ("Cleaning Services", "Cleaning Materials", "Washroom Services"),
        3,
        0.6,
        ("Cleaning Services", "Hygiene", "Janitorial Supplies"),
        {"Corporate Services": 0.6, "Education": 0.4},
        "Premises Related",
    ),
    (
        "Clothing",
        ("Uniforms", "Personal Protective Equipment"),
        1,
        0.4,
        ("Workwear", "Uniforms", "Safety Wear"),
        {"Waste & Environment": 0.5, "Place": 0.5},
        "Supplies & Services",
    ),
    (
        "Consultancy",
        ("Management Consultancy", "Technical Consultancy", "Property Consultancy"),
        4,
        0.8,
        ("Consulting", "Associates", "Advisory"),
        {"Corporate Services": 0.4, "Place": 0.4, "Capital": 0.2},
        "Supplies & Services",
    ),
    (
        "Domestic Goods",
        ("Household Appliances", "Kitchenware"),
        1,
        0.3,
        ("Home Supplies", "Appliances"),
        {"Housing": 0.6, "Children's Services": 0.4},
        "Supplies & Services",
    ),
    (
        "Education",
        ("School Improvement", "Training Services", "Examination Fees"),
        5,
        0.6,
        ("Learning", "Education Services", "Tutoring"),
        {"Education": 0.85, "Children's Services": 0.15},
        "Third Party Payments",
    ),
    (
        "Environmental Services",
        ("Waste Collection", "Recycling", "Pest Control"),
        3,
        1.6,
        ("Environmental", "Waste Management", "Recycling"),
        {"Waste & Environment": 1.0},
        "Third Party Payments",
    ),
    (
        "Facilities & Management Services",
        ("Security Services", "Lifts", "Building Maintenance"),
        4,
        1.0,
        ("Facilities Management", "Property Services", "Security"),
        {"Corporate Services": 0.6, "Place": 0.4},
        "Premises Related",
    ),
    (
        "Financial Services",
        ("Insurance", "Banking Services", "Audit Fees"),
        1.5,
        0.9,
        ("Financial Services", "Accountants", "Insurance Brokers"),
        {"Finance": 1.0},
        "Supplies & Services",
    ),
    (
        "Furniture & Soft Furnishings",
        ("Office Furniture", "School Furniture", "Soft Furnishings"),
        1.5,
        0.4,
        ("Furniture", "Interiors", "Office Furniture"),
        {"Corporate Services": 0.5, "Education": 0.5},
        "Supplies & Services",
    ),
    (
        "Health & Safety",
        ("Fire Safety", "Occupational Health"),
        1.5,
        0.5,
        ("Safety Services", "Fire Protection", "First Aid"),
        {"Corporate Services": 1.0},
        "Supplies & Services",
    ),
    (
        "Highways",
        ("Resurfacing", "Drainage", "Winter Maintenance"),
        3,
        1.6,
        ("Highways", "Surfacing", "Civil Engineering"),
        {"Highways": 0.8, "Capital": 0.2},
        "Capital Works",
    ),
    (
        "Horticultural",
        ("Grounds Maintenance", "Tree Surgery", "Plants & Seeds"),
        2,
        0.5,
        ("Landscapes", "Tree Services", "Nurseries"),
        {"Place": 0.7, "Leisure & Culture": 0.3},
        "Premises Related",
    ),
    (
        "Housing Management",
        ("Temporary Accommodation", "Adaptations", "Homelessness Support"),
        3,
        1.0,
        ("Housing", "Homes", "Lettings"),
        {"Housing": 1.0},
        "Third Party Payments",
    ),
    (
        "Human Resources",
        ("Agency Staff", "Recruitment Advertising", "Staff Training"),
        4,
        1.4,
        ("Recruitment", "Staffing", "Personnel"),
        {"Adult Social Care": 0.3, "Children's Services": 0.3, "Corporate Services": 0.4},
        "Agency & Contracted Services",
    ),
    (
        "Information Communication Technology",
        ("Software", "Hardware", "Telecommunications"),
        5,
        1.1,
        ("Technology", "IT Solutions", "Software", "Digital", "Networks"),
        {"ICT": 0.8, "Corporate Services": 0.2},
        "Supplies & Services",
    ),
    (
        "Legal Services",
        ("External Legal Advice", "Counsel Fees"),
        2,
        0.6,
        ("Solicitors", "Legal", "Chambers"),
        {"Legal & Democratic": 0.8, "Children's Services": 0.2},
        "Supplies & Services",
    ),
    (
        "Leisure",
        ("Events", "Arts & Culture", "Leisure Management"),
        2.5,
        0.6,
        ("Leisure", "Events", "Entertainment"),
        {"Leisure & Culture": 1.0},
        "Supplies & Services",
    ),
    (
        "Mail Services",
        ("Postage", "Courier Services"),
        1,
        0.5,
        ("Mailing", "Couriers"),
        {"Corporate Services": 1.0},
        "Supplies & Services",
    ),
    (
        "Medical",
        ("Medical Equipment", "Pharmaceuticals", "Clinical Services"),
        2,
        0.8,
        ("Healthcare", "Medical Supplies", "Pharmacy"),
        {"Public Health": 0.7, "Adult Social Care": 0.3},
        "Third Party Payments",
    ),
    (
        "Social Community Care Supplies & Services",
        ("Residential Care", "Home Care", "Supported Living", "Care Equipment"),
        16,
        1.8,
        ("Care", "Homecare", "Care Homes", "Supported Living", "Nursing Home"),
        {"Adult Social Care": 0.65, "Children's Services": 0.3, "Public Health": 0.05},
        "Third Party Payments",
    ),
    (
        "Sports & Playground",
        ("Playground Equipment", "Sports Equipment"),
        1,
        0.5,
        ("Play Equipment", "Sports", "Playgrounds"),
        {"Leisure & Culture": 0.7, "Education": 0.3},
        "Supplies & Services",
    ),
    (
        "Stationery",
        ("Office Stationery", "Printing", "Paper"),
        2,
        0.4,
        ("Office Supplies", "Stationery", "Print"),
        {"Corporate Services": 0.6, "Education": 0.4},
        "Supplies & Services",
    ),
    (
        "Street & Traffic Management",
        ("Traffic Management", "Street Lighting", "Signage"),
        2,
        1.0,
        ("Traffic Management", "Signs", "Street Lighting"),
        {"Highways": 1.0},
        "Premises Related",
    ),
    (
        "Transport",
        ("Home to School Transport", "Passenger Transport", "Taxi Services"),
        4,
        1.0,
        ("Travel", "Coaches", "Taxis", "Minibus Hire"),
        {"Children's Services": 0.4, "Adult Social Care": 0.3, "Education": 0.3},
        "Transport Related",
    ),
    (
        "Utilities",
        ("Electricity", "Gas", "Water"),
        1.5,
        1.6,
        ("Energy", "Water Services", "Power"),
        {"Corporate Services": 0.5, "Place": 0.3, "Education": 0.2},
        "Premises Related",
    ),
    (
        "Vehicle Management",
        ("Vehicle Hire", "Vehicle Repairs", "Fuel"),
        2,
        0.8,
        ("Motors", "Vehicle Hire", "Fleet Services", "Garage"),
        {"Waste & Environment": 0.6, "Place": 0.4},
        "Transport Related",
    ),
    (
        "Works - Construction, Repair & Maintenance",
        ("Building Construction", "Repair & Maintenance", "Electrical Works"),
        10,
        1.5,
        (
            "Construction",
            "Builders",
            "Contractors",
            "Building Services",
            "Electrical",
            "Plumbing & Heating",
            "Joinery",
            "Roofing",
        ),
        {"Capital": 0.5, "Place": 0.3, "Housing": 0.2},
        "Capital Works",
    ),
)
_H_CARE = next(i for i, h in enumerate(_PROCLASS) if h[0].startswith("Social Community Care"))
_H_EDUCATION = next(i for i, h in enumerate(_PROCLASS) if h[0] == "Education")
_H_ICT = next(i for i, h in enumerate(_PROCLASS) if h[0].startswith("Information"))

_DEPARTMENTS = (
    "Adult Social Care",
    "Children's Services",
    "Education",
    "Place",
    "Highways",
    "Waste & Environment",
    "Housing",
    "Corporate Services",
    "Finance",
    "ICT",
    "Public Health",
    "Legal & Democratic",
    "Leisure & Culture",
    "Capital",
)
_PURPOSE_SUFFIXES = (
    "",
    "",
    " - monthly invoice",
    " - call-off order",
    " - additional works",
    " - quarterly charge",
    " - annual subscription",
    " - stage payment",
)
_REDACTED_PURPOSES = (
    "Direct payment",
    "Care package",
    "Foster care allowance",
    "Personal budget",
    "Special guardianship allowance",
    "Respite care",
)

_SURNAMES = (
    "Buckley",
    "Hargreaves",
    "Ashworth",
    "Whittaker",
    "Kershaw",
    "Holden",
    "Schofield",
    "Butterworth",
    "Clegg",
    "Crossley",
    "Entwistle",
    "Fletcher",
    "Greenhalgh",
    "Hadfield",
    "Hamer",
    "Howarth",
    "Jackson",
    "Kenyon",
    "Lees",
    "Mellor",
    "Nuttall",
    "Ogden",
    "Pickup",
    "Ramsbottom",
    "Sutcliffe",
    "Taylor",
    "Walsh",
    "Wood",
    "Yates",
    "Barlow",
    "Bradshaw",
    "Brierley",
    "Cheetham",
    "Dawson",
    "Earnshaw",
    "Fielding",
    "Gaskell",
    "Haworth",
    "Isherwood",
    "Kay",
    "Lomax",
    "Marsden",
    "Partington",
    "Rigby",
    "Shaw",
    "Tattersall",
    "Unsworth",
    "Whitehead",
    "Ainsworth",
    "Bentley",
    "Chadwick",
    "Duckworth",
    "Platt",
    "Royle",
    "Stott",
    "Travis",
    "Wolstenholme",
    "Patel",
    "Khan",
    "Hussain",
    "Ahmed",
    "Murphy",
    "Kelly",
    "Singh",
    "Kowalski",
    "Nowak",
    "Evans",
    "Hughes",
    "Roberts",
    "Lewis",
    "Morgan",
    "Price",
    "Powell",
    "Bennett",
    "Cooper",
    "Harrison",
    "Hall",
    "Turner",
    "Ward",
    "Wright",
    "Green",
    "Hill",
    "Baker",
    "Clarke",
    "Mason",
    "Walker",
    "Robinson",
    "Thompson",
    "Scott",
    "Young",
    "Allen",
    "Mitchell",
    "Carter",
    "Phillips",
    "Heald",
    "Grundy",
    "Openshaw",
    "Thornley",
    "Wolfenden",
    "Booth",
    "Hulme",
    "Mather",
    "Pilling",
    "Riley",
    "Standring",
    "Ashcroft",
    "Bamford",
    "Cryer",
    "Dearden",
    "Eccles",
    "Fitton",
)
_PLACES = (
    "Pennine",
    "Mersey",
    "Irwell",
    "Tame",
    "Goyt",
    "Etherow",
    "Medlock",
    "Roch",
    "Bollin",
    "Irk",
    "Beal",
    "Spodden",
    "Northern",
    "Northwest",
    "Peak",
    "Moorland",
    "Millstone",
    "Cotton Mill",
    "Canal Side",
    "Viaduct",
    "Red Rose",
    "Albion",
    "Victoria",
    "Pioneer",
    "Summit",
    "Horizon",
    "Beacon",
    "Keystone",
    "Lighthouse",
    "Bridgewater",
    "Castlefield",
    "Ancoats",
    "Hollins",
    "Bramhall",
    "Hazel Grove",
    "Marple",
    "Denton",
    "Hyde",
    "Stalybridge",
    "Heaton",
    "Cheadle",
    "Sale",
    "Altrincham",
    "Urmston",
    "Stretford",
    "Middleton",
    "Littleborough",
    "Milnrow",
    "Wardle",
    "Whitworth",
    "Dukinfield",
    "Mossley",
    "Droylsden",
    "Audenshaw",
    "Romiley",
    "Reddish",
    "Timperley",
    "Davyhulme",
    "Flixton",
    "Norden",
    "Bamford Vale",
    "Healey",
    "Castleton",
    "Offerton",
    "Woodley",
    "Bredbury",
    "Gatley",
    "Hale",
    "Bowdon",
    "Partington",
    "Carrington",
    "Broadheath",
    "Greenfield",
    "Uppermill",
    "Diggle",
    "Saddleworth",
    "Longdendale",
    "Hattersley",
    "Mottram",
    "Broadbottom",
    "Glossop Road",
    "Kingsway",
    "Oxford Road",
    "Deansgate",
    "Piccadilly",
    "Trinity",
    "Crescent",
    "Meadow",
    "Oakwood",
    "Ashgrove",
    "Elmfield",
    "Birchfield",
    "Riverside",
    "Parkside",
    "Hillside",
    "Brookside",
    "Fairfield",
    "Greenacres",
    "Springfield",
)
_SCHOOL_KINDS = (
    "Primary School",
    "CE Primary School",
    "RC Primary School",
    "High School",
    "Infant School",
    "Junior School",
    "Community Primary School",
)
_MANAGERS = (
    "Amelia Hartley",
    "Daniel Okafor",
    "Priya Chauhan",
    "Tom Whitworth",
    "Sophie Kendal",
    "Marcus Bell",
    "Hannah Ashby",
    "Imran Qureshi",
)
_ROUTES_LOW = ("Invitation to quote", "Invitation to quote", "Direct award", "Framework call-off")
_ROUTES_MID = ("Invitation to quote", "Open tender", "Framework call-off", "Dynamic purchasing system")
_ROUTES_HIGH = ("Open tender", "Open tender", "Restricted tender", "Framework call-off", "Dynamic purchasing system")
_TITLES = ("Provision of {}", "Supply of {}", "{} Framework", "{} Services", "{} Contract")
_LEGAL = ("LTD", "LIMITED", "PLC", "LLP", "CIC")
_LTD = ("Ltd", "Limited", "LTD", "LIMITED")
_ABBREVIATIONS = {
    "Services": "Svcs",
    "Brothers": "Bros",
    "Company": "Co",
    "Management": "Mgmt",
    "Associates": "Assocs",
    "Construction": "Constr",
    "Engineering": "Eng",
    "Maintenance": "Maint",
    "Solutions": "Solns",
    "Supplies": "Supp",
    "Technology": "Tech",
    "Foundation": "Fdn",
    "Consulting": "Consult",
    "Healthcare": "Health Care",
}
# Greater Manchester outward codes (DATA-SOURCES section 5) and a spread of others.
_GM_OUTWARD = tuple(
    [f"M{i}" for i in (*range(1, 10), *range(11, 36), 38, *range(40, 47), 50)]
    + [f"SK{i}" for i in range(1, 9)]
    + [f"OL{i}" for i in range(1, 12)]
    + [f"BL{i}" for i in range(1, 6)]
    + [f"WN{i}" for i in range(1, 4)]
)
_UK_OUTWARD = tuple(
    [f"LS{i}" for i in range(1, 20)]
    + [f"B{i}" for i in range(1, 40)]
    + [f"L{i}" for i in range(1, 30)]
    + [f"S{i}" for i in range(1, 30)]
    + [f"NE{i}" for i in range(1, 20)]
    + [f"CF{i}" for i in range(10, 25)]
    + [f"EC{i}A" for i in range(1, 5)]
    + [f"SE{i}" for i in range(1, 20)]
    + [f"BS{i}" for i in range(1, 16)]
    + [f"NG{i}" for i in range(1, 20)]
    + [f"LE{i}" for i in range(1, 19)]
    + [f"PR{i}" for i in range(1, 9)]
    + [f"CH{i}" for i in range(1, 8)]
    + [f"ST{i}" for i in range(1, 21)]
    + [f"CV{i}" for i in range(1, 8)]
    + [f"G{i}" for i in range(1, 50)]
    + [f"HD{i}" for i in range(1, 9)]
    + [f"WF{i}" for i in range(1, 17)]
)
_INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
_OTHER_AUTHORITIES = (
    "Manchester City Council",
    "Salford City Council",
    "Oldham Council",
    "Bolton Council",
    "Bury Council",
    "Wigan Council",
)

# Invented TOMs-style measures: (code, theme, measure, unit, proxy £ per unit). Not the official table.
_THEMES = (
    "Promote Local Skills and Employment",
    "Supporting Growth of Responsible Regional Business",
    "Healthier, Safer and more Resilient Communities",
    "Protecting and Improving Our Environment",
    "Promoting Social Innovation",
)
_MEASURES: tuple[tuple[str, str, str, str, float], ...] = (
    ("NT1", _THEMES[0], "Local people employed on the contract", "FTE", 26850.0),
    ("NT2", _THEMES[0], "Long-term unemployed people recruited", "FTE", 19240.0),
    ("NT3", _THEMES[0], "Care leavers given employment", "FTE", 21575.0),
    ("NT4", _THEMES[0], "Apprenticeship weeks delivered", "weeks", 212.5),
    ("NT5", _THEMES[0], "Work placement weeks for local residents", "weeks", 158.0),
    ("NT6", _THEMES[0], "Employability support for young people", "hours", 91.4),
    ("NT7", _THEMES[1], "Spend with Greater Manchester suppliers", "£ spend", 0.57),
    ("NT8", _THEMES[1], "Spend with local micro and small enterprises", "£ spend", 0.64),
    ("NT9", _THEMES[1], "Spend with VCSE organisations", "£ spend", 0.71),
    ("NT10", _THEMES[1], "Expert support for local SMEs", "hours", 104.0),
    ("NT11", _THEMES[2], "Staff volunteering in the community", "hours", 15.9),
    ("NT12", _THEMES[2], "Donations to local community projects", "£ spend", 1.0),
    ("NT13", _THEMES[2], "Health and wellbeing sessions for residents", "hours", 47.5),
    ("NT14", _THEMES[2], "Activities tackling loneliness and isolation", "hours", 34.8),
    ("NT15", _THEMES[3], "Carbon emissions saved on site", "tonnes CO2e", 238.0),
    ("NT16", _THEMES[3], "Fleet emissions saved", "tonnes CO2e", 203.5),
    ("NT17", _THEMES[3], "Waste diverted from landfill", "tonnes CO2e", 96.0),
    ("NT18", _THEMES[3], "Investment in local green spaces", "£ spend", 0.88),
    ("NT19", _THEMES[4], "Support for social enterprises to innovate", "hours", 118.0),
    ("NT20", _THEMES[4], "Digital skills training for residents", "hours", 54.6),
)
_UNIT_STEP = {"FTE": 0.1, "weeks": 1.0, "hours": 1.0, "tonnes CO2e": 0.1, "£ spend": 1.0}

# Month of year -> relative number of lines and relative value (March year-end peak, quiet August).
_SEASON_N = np.array([0.97, 1.0, 1.40, 0.88, 0.96, 1.0, 1.0, 0.82, 0.98, 1.03, 1.02, 0.90])  # Jan..Dec
_SEASON_N = _SEASON_N / _SEASON_N.mean()
_SEASON_V = _SEASON_N**1.4 / (_SEASON_N**1.4).mean()

# Shares of a council's yearly payments by value (Trafford 2024-26 is the model: DATA-SOURCES s.2).
_SHARE_REDACTED = 0.16
_SHARE_LEVY = 0.12
_SHARE_HMRC = 0.08
_SHARE_GMPF = 0.045
_SHARE_TEACHERS = 0.04
_SHARE_INTER = 0.02
_SHARE_ADDRESSABLE = 1.0 - (_SHARE_REDACTED + _SHARE_LEVY + _SHARE_HMRC + _SHARE_GMPF + _SHARE_TEACHERS + _SHARE_INTER)
_LINES_PER_YEAR = 150_000  # per council of 250k people, at scale 1
_GBP_PER_HEAD = 2_500  # payments per resident per year
_REFERENCE_POPULATION = 250_000

_NA = np.iinfo(np.int64).min  # missing money (pence)
_MONTH_ABBR = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTH_NAME = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_DAY_ABBR = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_DAY_NAME = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


def _rng(seed: int, entity: str, stream: int) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(entity.encode("utf-8")), stream])


def _pyrng(rng: np.random.Generator) -> random.Random:
    return random.Random(int(rng.integers(2**62)))


def strftime(day: dt.date, fmt: str) -> str:
    """``day.strftime(fmt)`` with English month and day names whatever the process locale."""

    def sub(m: re.Match[str]) -> str:
        code = m.group(1)
        if code == "b":
            return _MONTH_ABBR[day.month - 1]
        if code == "B":
            return _MONTH_NAME[day.month - 1]
        if code == "a":
            return _DAY_ABBR[day.weekday()]
        if code == "A":
            return _DAY_NAME[day.weekday()]
        return m.group(0)

    return day.strftime(re.sub(r"%(.)", sub, fmt))


def _norm_key(name: str) -> str:
    """The dashboard's exact-match rule, used here to keep invented suppliers distinct."""
    s = name.upper().replace("&", " AND ")
    s = re.sub(r"[^\w\s]", "", s)
    parts = s.split()
    if len(parts) > 1 and parts[-1] in _LEGAL:
        parts = parts[:-1]
    return " ".join(parts)


def _months(first: np.datetime64, last: np.datetime64) -> np.ndarray:
    return np.arange(first, last + 1, dtype="datetime64[M]")


def _add_months(day: np.datetime64, months: int) -> np.datetime64:
    """Same day-of-month ``months`` later, clipped to the month's end."""
    m = day.astype("datetime64[M]") + months
    offset = (day - day.astype("datetime64[M]").astype("datetime64[D]")).astype(int)
    last = ((m + 1).astype("datetime64[D]") - 1 - m.astype("datetime64[D]")).astype(int)
    return m.astype("datetime64[D]") + min(offset, last)


def _month_end(m: np.datetime64) -> np.datetime64:
    return (np.datetime64(m, "M") + 1).astype("datetime64[D]") - 1


def _prefix(cc: CouncilConfig) -> str:
    """Contract reference prefix: an acronym short name as it is, else the name's initials."""
    short = re.sub(r"[^A-Za-z0-9]", "", cc.short_name)
    if short.isupper() and len(short) >= 2:
        return short
    initials = "".join(w[0] for w in cc.name.split() if w[:1].isupper())
    return initials if len(initials) >= 2 else cc.id[:4].upper()


def _col_letter(j: int) -> str:
    s = ""
    j += 1
    while j:
        j, r = divmod(j - 1, 26)
        s = chr(65 + r) + s
    return s


class _Vocab:
    """Distinct strings and integer codes for them: text columns are built as codes, then taken."""

    def __init__(self) -> None:
        self.items: list[str] = []
        self._index: dict[str, int] = {}

    def code(self, text: str) -> int:
        i = self._index.get(text)
        if i is None:
            i = self._index[text] = len(self.items)
            self.items.append(text)
        return i

    def codes(self, texts: Sequence[str]) -> np.ndarray:
        return np.array([self.code(t) for t in texts], dtype=np.int64)

    def take(self, codes: np.ndarray) -> pa.Array:
        """Codes to strings; code -1 is null (an empty cell)."""
        codes = np.asarray(codes, dtype=np.int64)
        arr = pa.array(self.items or [""], type=pa.string())
        return arr.take(pa.array(codes, mask=codes < 0))


def _text(values: Sequence[str | None]) -> pa.Array:
    return pa.array([v if v else None for v in values], type=pa.string())


# --------------------------------------------------------------------------------------------
# Supplier names and their variants across ledgers
# --------------------------------------------------------------------------------------------


@dataclass
class _Name:
    base: str
    suffix: str
    kind: str  # company, plc, llp, cic, charity, sole, school
    heading: int

    @property
    def full(self) -> str:
        return f"{self.base} {self.suffix}" if self.suffix else self.base


# kinds of organisation only found in some categories
_KIND_HEADINGS = {
    "llp": ("Consultancy", "Financial Services", "Legal Services"),
    "charity": (
        "Social Community Care Supplies & Services",
        "Education",
        "Housing Management",
        "Leisure",
        "Medical",
        "Environmental Services",
        "Horticultural",
    ),
    "cic": (
        "Social Community Care Supplies & Services",
        "Education",
        "Housing Management",
        "Leisure",
        "Catering",
        "Environmental Services",
        "Horticultural",
        "Transport",
    ),
}


def _draw_headings(r: random.Random, kinds: Sequence[str]) -> list[int]:
    """A ProClass heading for each new supplier, by heading weight, among those its kind fits."""
    weights = [h[2] for h in _PROCLASS]
    allowed = {
        k: [w if h[0] in names else 0.0 for h, w in zip(_PROCLASS, weights, strict=True)] for k, names in _KIND_HEADINGS.items()
    }
    return [r.choices(range(len(_PROCLASS)), weights=allowed.get(k, weights))[0] for k in kinds]


def _pick(r: random.Random, seq: Sequence[str]) -> str:
    return seq[r.randrange(len(seq))]


def _draw_name(r: random.Random, heading: int, kind: str) -> _Name:
    sector = _pick(r, _PROCLASS[heading][4])
    sur, place = _pick(r, _SURNAMES), _pick(r, _PLACES)
    if kind == "plc":
        base = r.choice((f"{place} Group", f"{sur} {sector} Group", f"{place} {sector}"))
        return _Name(base, r.choice(("PLC", "plc", "Plc")), kind, heading)
    if kind == "llp":
        return _Name(
            r.choice((f"{sur} {_pick(r, _SURNAMES)}", f"{sur} & {_pick(r, _SURNAMES)}", f"{sur} {sector}")), "LLP", kind, heading
        )
    if kind == "cic":
        return _Name(f"{place} Community {sector}", "CIC", kind, heading)
    if kind == "charity":
        base = r.choice(
            (
                f"{place} {sector} Trust",
                f"{place} Community Trust",
                f"{sur} House Trust",
                f"{place} Carers Centre",
                f"{place} {sector} Foundation",
            )
        )
        return _Name(base, "", kind, heading)
    if kind == "sole":
        return _Name(f"{r.choice('ABCDGJKLMPRST')} {sur} {sector}", "", kind, heading)
    acronym = "".join(r.choice("ABCDEFGHJKLMNPRSTW") for _ in range(r.choice((2, 3, 3, 4))))
    base = r.choice(
        (
            f"{sur} {sector}",
            f"{place} {sector}",
            f"{sur} & Sons",
            f"{acronym} {sector}",
            f"{sur} & {_pick(r, _SURNAMES)} {sector}",
            f"{place} {sector} Services",
            f"{sur} Brothers {sector}",
        )
    )
    return _Name(base, r.choice(("Ltd", "Ltd", "Limited")), kind, heading)


def _unique_names(
    r: random.Random, kinds: Sequence[str], headings: Sequence[int], taken: set[str], prefixes: set[str]
) -> list[_Name]:
    """One new name per (kind, heading), distinct from every other under exact and prefix matching."""
    out = []
    for kind, heading in zip(kinds, headings, strict=True):
        for attempt in range(200):
            name = _draw_name(r, heading, kind)
            if name.full.upper().startswith(("TOTAL", "GRAND")):
                continue
            key = _norm_key(name.full)
            if key not in taken and key[:30] not in prefixes:
                break
            if attempt == 199:  # the name space is exhausted: make the name unique
                name.base = f"{name.base} {len(taken)}"
                key = _norm_key(name.full)
        taken.add(key)
        prefixes.add(key[:30])
        out.append(name)
    return out


def _easy_variant(r: random.Random, name: _Name) -> str:
    """A spelling the dashboard's exact rules still match: case, suffix, &/AND, dots, commas."""
    base, suffix = name.base, name.suffix
    ops = ["suffix", "drop", "amp", "dots", "comma", "case", "spaces"]
    for op in r.sample(ops, r.choice((1, 1, 2))):
        if op == "suffix" and suffix in _LTD:
            suffix = r.choice([s for s in _LTD if s != suffix])
        elif op == "suffix" and suffix.upper() == "PLC":
            suffix = r.choice([s for s in ("PLC", "plc", "Plc") if s != suffix])
        elif op == "drop" and suffix:
            suffix = ""
        elif op == "amp" and " & " in base:
            base = base.replace(" & ", r.choice((" and ", " AND ")))
        elif op == "amp" and " and " in base:
            base = base.replace(" and ", " & ")
        elif op == "dots" and re.match(r"^[A-Z]{2,4} ", base):
            head, rest = base.split(" ", 1)
            base = ".".join(head) + ". " + rest
        elif op == "comma" and suffix:
            base = base + ","
        elif op == "case":
            base = base.upper() if r.random() < 0.5 else base.title()
        elif op == "spaces" and " " in base:
            i = base.index(" ")
            base = base[:i] + "  " + base[i + 1 :]
    return f"{base} {suffix}" if suffix else base


def _hard_variant(r: random.Random, name: _Name) -> str:
    """A spelling only fuzzy matching finds: abbreviation, typo, a leading 'The'."""
    target = _norm_key(name.full)
    for _ in range(20):
        base = name.base
        op = r.choice(("abbrev", "typo", "typo", "the"))
        words = [w for w in base.split() if w in _ABBREVIATIONS]
        if op == "abbrev" and words:
            w = r.choice(words)
            base = base.replace(w, _ABBREVIATIONS[w], 1)
        elif op == "the" and not base.startswith("The "):
            base = "The " + base
        else:
            long_words = [w for w in base.split() if len(w) >= 5 and w.isalpha()]
            if not long_words:
                continue
            w = r.choice(long_words)
            i = r.randrange(1, len(w) - 2)
            typo = w[:i] + w[i + 1] + w[i] + w[i + 2 :] if r.random() < 0.6 else w[:i] + w[i + 1 :]
            base = base.replace(w, typo, 1)
        variant = f"{base} {name.suffix}" if name.suffix else base
        key = _norm_key(variant)
        if key != target and not target.startswith(key) and not key.startswith(target):
            return variant
    return name.full


def _postcodes(rng: np.random.Generator, n: int, gm_share: float) -> list[str]:
    gm = rng.random(n) < gm_share
    a = rng.integers(0, len(_GM_OUTWARD), n)
    b = rng.integers(0, len(_UK_OUTWARD), n)
    digit = rng.integers(1, 10, n)
    l1 = rng.integers(0, len(_INWARD_LETTERS), n)
    l2 = rng.integers(0, len(_INWARD_LETTERS), n)
    return [
        f"{_GM_OUTWARD[a[i]] if gm[i] else _UK_OUTWARD[b[i]]} {digit[i]}{_INWARD_LETTERS[l1[i]]}{_INWARD_LETTERS[l2[i]]}"
        for i in range(n)
    ]


def _company_numbers(rng: np.random.Generator, kinds: Sequence[str]) -> list[str]:
    n = len(kinds)
    num = rng.integers(1_000_000, 15_000_000, n)
    scot = rng.random(n) < 0.05
    out = []
    for i, k in enumerate(kinds):
        if k in ("sole", "school"):
            out.append("")
        elif k == "llp":
            out.append(f"OC{num[i] % 1_000_000:06d}")
        elif k == "charity" and num[i] % 2:
            out.append("")
        else:
            out.append(f"SC{num[i] % 1_000_000:06d}" if scot[i] else f"{num[i]:08d}")
    return out


def _vat_numbers(rng: np.random.Generator, n: int) -> list[str]:
    return [f"GB{v:09d}" for v in rng.integers(100_000_000, 999_999_999, n)]


# --------------------------------------------------------------------------------------------
# The world: every entity's suppliers, and the collaborative contracts that cover councils
# --------------------------------------------------------------------------------------------


@dataclass
class _Suppliers:
    """One entity's suppliers (arrays of equal length)."""

    gid: np.ndarray  # global id: shared suppliers keep theirs across councils
    canon: list[_Name]
    ledger: list[str]  # as the entity's spend ledger writes it
    register: list[str]  # as its contracts register writes it
    heading: np.ndarray
    l2: np.ndarray
    share: np.ndarray  # share of addressable value (0: register-only supplier)
    annual: np.ndarray  # expected addressable £ a year, at this scale
    company: list[str]
    charity: list[str]
    vat: list[str]
    postcode: list[str]
    size: np.ndarray  # 0 micro, 1 small, 2 medium, 3 large
    vcse: np.ndarray
    shared: np.ndarray
    school: np.ndarray
    ref: np.ndarray  # the entity's own supplier id
    ids_known: np.ndarray  # the ledger records company/VAT numbers for this supplier

    def __len__(self) -> int:
        return len(self.gid)


@dataclass
class _Entity:
    cc: CouncilConfig
    suppliers: _Suppliers
    upper: bool
    vat: str
    v_year: float  # all payments, £ a year at this scale
    lines_year: float


@dataclass
class _Collab:
    """A collaborative contract let by a shared service on behalf of councils."""

    owner: str
    gid: int
    name: _Name
    start: np.datetime64
    covered: list[str]
    annual: float


class _World:
    def __init__(
        self, councils: dict[str, CouncilConfig], seed: int, scale: float, first: np.datetime64, last: np.datetime64
    ) -> None:
        self.councils, self.seed, self.scale = councils, seed, scale
        self.first, self.last = first, last
        self.months = _months(first, last)
        g = scale**0.5
        self.g = g
        rng = np.random.default_rng([seed, 0])
        r = _pyrng(rng)
        self.managers = [_MANAGERS[i % len(_MANAGERS)] for i in rng.permutation(len(_PROCLASS))]
        self.heading_weights = np.array([h[2] for h in _PROCLASS], dtype=float)
        self.value_factor = np.array([h[3] for h in _PROCLASS], dtype=float)

        n_sup = max(50, round(2000 * g))
        n_shared = max(20, round(350 * g))
        self.n_school = max(3, round(30 * g))
        self.n_local = max(25, n_sup - round(0.65 * n_shared) - self.n_school)
        taken: set[str] = set()
        prefixes: set[str] = set()
        # two distinct suppliers that share one VAT number (as BT and EE do)
        pair = [
            _Name("Brightline Telecommunications", "PLC", "plc", _H_ICT),
            _Name("Brightline Mobile", "Limited", "company", _H_ICT),
        ]
        for p in pair:
            taken.add(_norm_key(p.full))
            prefixes.add(_norm_key(p.full)[:30])
        kinds = r.choices(("company", "plc", "llp", "charity"), weights=(76, 14, 5, 5), k=n_shared - 2)
        headings = _draw_headings(r, kinds)
        self.shared_names = pair + _unique_names(r, kinds, headings, taken, prefixes)
        ns = len(self.shared_names)
        shared_kinds = [n.kind for n in self.shared_names]
        self.shared_weight = rng.lognormal(1.0, 1.5, ns) * self.value_factor[[n.heading for n in self.shared_names]]
        self.shared_weight[:2] = np.sort(self.shared_weight)[-ns // 10]
        pct = np.argsort(np.argsort(self.shared_weight)) / max(ns - 1, 1)
        self.shared_use = np.clip(0.3 + 0.65 * pct, 0, 1)
        self.shared_use[:2] = 1.0
        self.shared_l2 = np.array([r.randrange(len(_PROCLASS[n.heading][1])) for n in self.shared_names])
        self.shared_l2[:2] = len(_PROCLASS[_H_ICT][1]) - 1
        self.shared_company = _company_numbers(rng, shared_kinds)
        vats = _vat_numbers(rng, ns)
        vat_mask = rng.random(ns) < np.where(np.array(shared_kinds) == "charity", 0.4, 0.92)
        self.shared_vat = [v if m else "" for v, m in zip(vats, vat_mask, strict=True)]
        self.shared_vat[1] = self.shared_vat[0] = vats[0]
        self.shared_charity = [
            f"{c}" if k == "charity" else "" for c, k in zip(rng.integers(500_000, 1_200_000, ns), shared_kinds, strict=True)
        ]
        self.shared_postcode = _postcodes(rng, ns, 0.2)
        self.shared_size = rng.choice(4, ns, p=[0.05, 0.15, 0.3, 0.5])

        # each entity draws its local suppliers and schools from its own stream; one register of
        # names taken (filled in id order) keeps any two distinct suppliers from colliding
        self.entities: dict[str, _Entity] = {}
        for cid in sorted(councils):
            rl = _pyrng(_rng(seed, cid, 3))
            local_kinds = rl.choices(("company", "sole", "llp", "cic", "charity"), weights=(72, 16, 4, 3, 5), k=self.n_local)
            local = _unique_names(rl, local_kinds, _draw_headings(rl, local_kinds), taken, prefixes)
            schools = []
            for _ in range(self.n_school):
                for _attempt in range(100):
                    name = _Name(f"{_pick(rl, _PLACES)} {_pick(rl, _SCHOOL_KINDS)}", "", "school", _H_EDUCATION)
                    if _norm_key(name.full) not in taken:
                        break
                taken.add(_norm_key(name.full))
                schools.append(name)
            self.entities[cid] = self._entity(councils[cid], local, schools)
        self.collabs: list[_Collab] = []
        for cid in councils:  # config order: deterministic
            if councils[cid].kind == "shared_service":
                self.collabs.extend(self._collaborative(cid))

    # -- one entity's suppliers
    def _entity(self, cc: CouncilConfig, names: list[_Name], schools: list[_Name]) -> _Entity:
        rng = _rng(self.seed, cc.id, 1)
        r = _pyrng(rng)
        upper = r.random() < 0.4
        vat = _vat_numbers(rng, 1)[0]
        ns = len(self.shared_names)
        used = np.flatnonzero(rng.random(ns) < self.shared_use)
        nl, nsch = len(names), len(schools)
        kinds = [n.kind for n in names]
        canon = [self.shared_names[i] for i in used] + names + schools
        n = len(canon)
        shared = np.zeros(n, bool)
        shared[: len(used)] = True
        school = np.zeros(n, bool)
        school[n - nsch :] = True
        gid = np.concatenate([used, 10_000_000 * (1 + zlib.crc32(cc.id.encode()) % 97) + np.arange(nl + nsch)])
        heading = np.array([c.heading for c in canon])
        l2 = np.concatenate(
            [self.shared_l2[used], [rng.integers(len(_PROCLASS[c.heading][1])) for c in names], np.zeros(nsch, int)]
        ).astype(int)
        local_w = rng.lognormal(0.0, 1.7, nl) * self.value_factor[heading[len(used) : len(used) + nl]]
        regonly = rng.random(nl) < 0.025
        local_w[regonly] = 0.0
        weight = np.concatenate([self.shared_weight[used] * rng.lognormal(0, 0.3, len(used)), local_w, np.zeros(nsch)])
        school_share = 0.01
        for _ in range(3):  # no single supplier takes more than ~3.5% of addressable spend
            weight = np.minimum(weight, 0.035 * weight.sum())
        share = weight / weight.sum() * (1 - school_share)
        share[n - nsch :] = school_share / max(nsch, 1)
        pop = cc.population or _REFERENCE_POPULATION
        v_year = _GBP_PER_HEAD * pop * self.scale
        lines_year = _LINES_PER_YEAR * pop / _REFERENCE_POPULATION * self.scale
        annual = share * v_year * _SHARE_ADDRESSABLE
        # size follows value for local suppliers, with noise
        rank = np.argsort(np.argsort(-(local_w * rng.lognormal(0, 0.6, nl)))) / max(nl, 1)
        local_size = np.select([rank < 0.05, rank < 0.2, rank < 0.5], [3, 2, 1], 0)
        local_size[np.isin(kinds, ["charity", "cic"])] = np.minimum(local_size[np.isin(kinds, ["charity", "cic"])], 2)
        size = np.concatenate([self.shared_size[used], local_size, np.full(nsch, -1)])
        kinds_all = [c.kind for c in canon]
        vcse = np.isin(kinds_all, ["charity", "cic"])
        company = [self.shared_company[i] for i in used] + _company_numbers(rng, kinds) + [""] * nsch
        local_vat = _vat_numbers(rng, nl)
        vat_p = np.select([np.isin(kinds, ["sole"]), np.isin(kinds, ["charity", "cic"])], [0.3, 0.15], 0.65)
        has_vat = rng.random(nl) < vat_p
        vats = (
            [self.shared_vat[i] for i in used] + [v if h else "" for v, h in zip(local_vat, has_vat, strict=True)] + [vat] * nsch
        )  # maintained schools share the council's VAT number
        charity = (
            [self.shared_charity[i] for i in used]
            + [f"{c}" if k == "charity" else "" for c, k in zip(rng.integers(500_000, 1_200_000, nl), kinds, strict=True)]
            + [""] * nsch
        )
        postcode = [self.shared_postcode[i] for i in used] + _postcodes(rng, nl + nsch, 0.58)
        ref = rng.choice(90_000, n, replace=False) + 10_000
        ids_known = rng.random(n) < 0.7
        # names as this entity's ledger and register write them
        ledger, register = [], []
        for i, c in enumerate(canon):
            u = r.random()
            if shared[i]:
                name = c.full if u < 0.4 else _easy_variant(r, c) if u < 0.94 else _hard_variant(r, c)
            else:
                name = c.full if u < 0.85 else _easy_variant(r, c)
            ledger.append(name.upper() if upper else name)
            register.append(ledger[-1] if r.random() < 0.75 else _easy_variant(r, c))
        sup = _Suppliers(
            gid=gid,
            canon=canon,
            ledger=ledger,
            register=register,
            heading=heading,
            l2=l2,
            share=share,
            annual=annual,
            company=company,
            charity=charity,
            vat=vats,
            postcode=postcode,
            size=size,
            vcse=vcse,
            shared=shared,
            school=school,
            ref=ref,
            ids_known=ids_known,
        )
        return _Entity(cc=cc, suppliers=sup, upper=upper, vat=vat, v_year=v_year, lines_year=lines_year)

    # -- collaborative contracts of one shared service
    def _collaborative(self, owner: str) -> list[_Collab]:
        rng = _rng(self.seed, owner, 2)
        members = [c for c in self.councils.values() if c.kind == "council"]
        # addressable £ a year per shared supplier per member council
        per_council: dict[str, dict[int, float]] = {}
        for c in members:
            s = self.entities[c.id].suppliers
            per_council[c.id] = {int(g): float(a) for g, a, sh in zip(s.gid, s.annual, s.shared, strict=True) if sh}
        total = np.array([sum(pc_.get(i, 0.0) for pc_ in per_council.values()) for i in range(len(self.shared_names))])
        users = np.array([sum(i in pc_ for pc_ in per_council.values()) for i in range(len(total))])
        n = max(10, round(40 * self.g**0.5))
        candidates = np.flatnonzero(users >= min(2, max(len(members), 1))) if members else np.arange(len(total))
        if len(candidates) < n:
            candidates = np.arange(len(total))
        weight = np.maximum(total[candidates], 1.0) ** 0.7 if members else np.ones(len(candidates))
        chosen = rng.choice(candidates, min(n, len(candidates)), replace=False, p=weight / weight.sum())
        out = []
        lo = self.first - 60
        for gid in sorted(int(x) for x in chosen):
            start_m = lo + int(rng.integers(0, (self.last - lo).astype(int) - 6))
            start = start_m.astype("datetime64[D]") + int(rng.integers(0, 28))
            covered = [
                c.id
                for c in members
                if gid in per_council[c.id]
                and np.datetime64(c.joined, "D") <= start
                and (c.left is None or np.datetime64(c.left, "D") > start)
            ]
            if not covered and members:
                users_ = [c for c in members if gid in per_council[c.id]]
                if users_:
                    start = max(start, max(np.datetime64(c.joined, "D") for c in users_))
                    covered = [c.id for c in users_ if c.left is None or np.datetime64(c.left, "D") > start]
            annual = sum(per_council[c].get(gid, 0.0) for c in covered) or float(self.shared_weight[gid] * 20_000 * self.scale)
            out.append(_Collab(owner, gid, self.shared_names[gid], start, covered, annual))
        return out


# --------------------------------------------------------------------------------------------
# Datasets as canonical columns
# --------------------------------------------------------------------------------------------


@dataclass
class _Table:
    """Canonical columns of one dataset, in row order, with the file each row goes to."""

    columns: dict[str, object]  # field -> np.ndarray (date/money/number/flag) or pa.Array (text)
    n: int
    file_of_row: np.ndarray  # index into ``files``
    files: list[str]  # file names (strftime already applied)
    amount_field: str | None = None


def _department_codes(rng: np.random.Generator, headings: np.ndarray, vocab: _Vocab, upper: bool) -> np.ndarray:
    out = np.full(len(headings), -1, dtype=np.int64)
    for h, spec in enumerate(_PROCLASS):
        idx = np.flatnonzero(headings == h)
        if not len(idx):
            continue
        names = list(spec[5])
        p = np.array([spec[5][k] for k in names])
        codes = vocab.codes([d.upper() if upper else d for d in names])
        out[idx] = codes[rng.choice(len(names), len(idx), p=p / p.sum())]
    return out


def _category_vocab() -> tuple[list[str], list[str], np.ndarray]:
    """Labels and Trafford-style codes of every (heading, level-2) pair; offsets by heading."""
    labels, codes, offsets = [], [], []
    for h, spec in enumerate(_PROCLASS):
        offsets.append(len(labels))
        for j, l2 in enumerate(spec[1]):
            labels.append(f"{spec[0].upper()}: {l2}")
            codes.append(f"{10 + h:02d}{11 + j:02d}10")
    return labels, codes, np.array(offsets)


def _spend(world: _World, ent: _Entity, ds: DatasetConfig, style: DemoStyle) -> _Table:
    cc, sup = ent.cc, ent.suppliers
    rng = _rng(world.seed, cc.id, 10)
    months = world.months
    active = months >= np.datetime64(cc.joined, "M")
    if cc.left is not None:
        active &= months <= np.datetime64(cc.left, "M")
    months = months[active]
    nm = len(months)
    moy = months.astype(int) % 12
    growth = 1.03 ** ((months - world.first).astype(int) / 12)
    n_month = rng.poisson(ent.lines_year / 12 * _SEASON_N[moy] * growth) if nm else np.zeros(0, int)
    v_month = ent.v_year / 12 * _SEASON_V[moy] * growth
    flat_month = ent.v_year / 12 * growth

    n_red = rng.binomial(n_month, _SHARE_REDACTED)
    n_inter = rng.poisson(max(0.4, 5 * world.g), nm)
    n_add = np.maximum(1, n_month - n_red - n_inter)

    names = _Vocab()
    upper = ent.upper
    labels, cat_codes, offsets = _category_vocab()
    unclassified = len(labels)

    # addressable lines -------------------------------------------------------------------
    eligible = np.flatnonzero(sup.share > 0)
    share = sup.share[eligible]
    p_lines = share**0.6 / (share**0.6).sum()
    base = share / p_lines
    na = int(n_add.sum())
    a_month = np.repeat(np.arange(nm), n_add)
    a_sup = eligible[rng.choice(len(eligible), na, p=p_lines)]
    a_amt = base[np.searchsorted(eligible, a_sup)] * rng.lognormal(-0.4, 0.9, na)
    target = v_month * _SHARE_ADDRESSABLE
    a_amt *= (target / np.maximum(np.bincount(a_month, a_amt, nm), 1e-9))[a_month]
    credit = rng.random(na) < 0.04
    a_amt[credit] = -a_amt[credit] * rng.uniform(0.05, 0.8, int(credit.sum()))
    small = (a_amt > 0) & (a_amt < 500)
    if "lower_than_500" in style.quirks:
        small &= rng.random(na) < 0.6
    a_amt[small] = 500 + rng.gamma(2.0, 180.0, int(small.sum()))
    if "lower_than_500" in style.quirks:
        few = rng.random(na) < 0.03
        a_amt[few & (a_amt > 0)] = rng.uniform(5, 499.99, int((few & (a_amt > 0)).sum()))
    a_name = names.codes(sup.ledger)[a_sup]
    a_head = sup.heading[a_sup]
    alt = rng.random(na) < 0.15
    n_l2 = np.array([len(h[1]) for h in _PROCLASS])
    a_l2 = np.where(alt, (rng.random(na) * n_l2[a_head]).astype(int), sup.l2[a_sup])
    a_cat = np.where(rng.random(na) < 0.05, unclassified, offsets[a_head] + a_l2)

    # redacted personal payments ----------------------------------------------------------
    nr = int(n_red.sum())
    r_month = np.repeat(np.arange(nm), n_red)
    r_amt = rng.lognormal(0, 1.0, nr)
    r_amt *= (v_month * _SHARE_REDACTED / np.maximum(np.bincount(r_month, r_amt, nm), 1e-9))[r_month]
    r_neg = rng.random(nr) < 0.01
    r_amt[r_neg] *= -0.3
    low = (r_amt > 0) & (r_amt < 500)
    r_amt[low] = 500 + rng.gamma(2.0, 120.0, int(low.sum()))
    markers = list(ds.redaction_markers) or ["REDACTED PERSONAL DATA"]
    has_redaction_col = "redaction" in ds.fields
    if has_redaction_col:
        r_name = np.where(rng.random(nr) < 0.5, -1, names.code(markers[0]))
    else:
        other = names.codes(markers[1:] or markers[:1])
        r_name = np.where(rng.random(nr) < 0.95, names.code(markers[0]), other[rng.integers(0, len(other), nr)])
    care = offsets[_H_CARE] + rng.integers(0, len(_PROCLASS[_H_CARE][1]), nr)
    r_cat = np.where(rng.random(nr) < 0.6, unclassified, care)

    # inter-authority payments, levies, tax and pensions ------------------------------------
    others = [c for c in world.councils.values() if c.kind == "council" and c.id != cc.id]
    authority_names = [n for c in others for n in ([c.name, *c.name_aliases])] + list(_OTHER_AUTHORITIES)
    authority_names = list(dict.fromkeys(a for a in authority_names if a))
    ni = int(n_inter.sum())
    i_month = np.repeat(np.arange(nm), n_inter)
    i_amt = rng.lognormal(0, 1.0, ni)
    i_amt *= (v_month * _SHARE_INTER / np.maximum(np.bincount(i_month, i_amt, nm), 1e-9))[i_month]
    i_amt = np.maximum(i_amt, 500 + rng.gamma(2.0, 200.0, ni))
    i_name = names.codes(authority_names)[rng.integers(0, len(authority_names), ni)]

    r = _pyrng(rng)
    hmrc = r.choice(("HM Revenue & Customs", "HMRC", "H M Revenue and Customs"))
    teachers = r.choice(("Teachers Pensions", "Teachers' Pensions"))
    fixed = [
        ("Greater Manchester Combined Authority", _SHARE_LEVY * 0.72, "Transport levy"),
        ("Greater Manchester Combined Authority", _SHARE_LEVY * 0.28, "Waste disposal levy"),
        (hmrc, _SHARE_HMRC, "PAYE and National Insurance"),
        ("Greater Manchester Pension Fund", _SHARE_GMPF, "Employer pension contributions"),
        (teachers, _SHARE_TEACHERS, "Teachers pension contributions"),
    ]
    f_month = np.repeat(np.arange(nm), len(fixed))
    f_idx = np.tile(np.arange(len(fixed)), nm)
    f_share = np.array([f[1] for f in fixed])[f_idx]
    f_amt = flat_month[f_month] * f_share * rng.normal(1.0, 0.02, len(f_idx))
    f_name = names.codes([f[0].upper() if upper else f[0] for f in fixed])[f_idx]

    # all lines together ---------------------------------------------------------------------
    kind = np.concatenate([np.zeros(na, int), np.ones(nr, int), np.full(ni, 2), np.full(len(f_idx), 3)])
    month = np.concatenate([a_month, r_month, i_month, f_month])
    amount = np.round(np.concatenate([a_amt, r_amt, i_amt, f_amt]) * 100).astype(np.int64)
    amount[amount == 0] = 100
    name = np.concatenate([a_name, r_name, i_name, f_name])
    sidx = np.concatenate([a_sup, np.full(nr + ni + len(f_idx), -1)])
    cat = np.concatenate([a_cat, r_cat, np.full(ni + len(f_idx), unclassified)])
    fixed_of_line = np.concatenate([np.full(na + nr + ni, -1), f_idx])
    n = len(kind)
    first_day = months.astype("datetime64[D]")
    dim = ((months + 1).astype("datetime64[D]") - first_day).astype(int)
    day = first_day[month] + (rng.random(n) * dim[month]).astype(int)
    fwd = np.busday_offset(day, 0, roll="forward")
    day = np.where(fwd.astype("datetime64[M]") == months[month], fwd, np.busday_offset(day, 0, roll="backward"))
    order = np.lexsort((rng.random(n), day))
    kind, month, amount, name, sidx, cat, day, fixed_of_line = (
        x[order] for x in (kind, month, amount, name, sidx, cat, day, fixed_of_line)
    )
    is_sup = sidx >= 0
    s = np.where(is_sup, sidx, 0)

    cols: dict[str, object] = {"payment_date": day, "amount_gbp": amount, "supplier_name": names.take(name)}
    heading_of_line = np.where(is_sup, sup.heading[s], -1)
    dept_vocab = _Vocab()
    dept = _department_codes(rng, heading_of_line, dept_vocab, upper)
    red_depts = dept_vocab.codes([d.upper() if upper else d for d in ("Adult Social Care", "Children's Services", "Housing")])
    dept = np.where(kind == 1, red_depts[rng.choice(3, n, p=[0.6, 0.35, 0.05])], dept)
    corp = dept_vocab.code("CORPORATE SERVICES" if upper else "Corporate Services")
    fin = dept_vocab.code("FINANCE" if upper else "Finance")
    dept = np.where(kind == 2, corp, np.where(kind == 3, fin, dept))
    cols["department"] = dept_vocab.take(dept)
    exp_vocab = _Vocab()
    exp_codes = exp_vocab.codes([h[6] for h in _PROCLASS])
    third = exp_vocab.code("Third Party Payments")
    cols["expense_type"] = exp_vocab.take(np.where(is_sup, exp_codes[np.maximum(heading_of_line, 0)], third))
    # purpose: level-2 label with a suffix, or a narrative for the special lines
    purpose = _Vocab()
    n_suffix = len(_PURPOSE_SUFFIXES)
    pmat = np.array(
        [[purpose.code(label.split(": ", 1)[1] + suffix) for suffix in _PURPOSE_SUFFIXES] for label in labels] + [[-1] * n_suffix]
    )
    red_p = purpose.codes(_REDACTED_PURPOSES)
    fixed_p = purpose.codes([f[2] for f in fixed])
    inter_p = purpose.codes(("Shared service recharge", "Joint commissioning contribution", "Cross-boundary placement"))
    pcode = pmat[cat, rng.integers(0, n_suffix, n)]
    pcode = np.where(kind == 1, red_p[rng.integers(0, len(red_p), n)], pcode)
    pcode = np.where(kind == 2, inter_p[rng.integers(0, len(inter_p), n)], pcode)
    pcode = np.where(kind == 3, fixed_p[np.maximum(fixed_of_line, 0)], pcode)
    unc_sup = (kind == 0) & (cat == unclassified)
    own_l2 = offsets[sup.heading[s]] + sup.l2[s]
    pcode = np.where(unc_sup, pmat[own_l2, 0], pcode)
    cols["purpose"] = purpose.take(pcode)
    cat_label = _Vocab()
    cat_label.codes(labels)
    nc = cat_label.code("Not Classified")
    cols["category_label"] = cat_label.take(np.where(cat == unclassified, nc, cat))
    cat_code = _Vocab()
    cat_code.codes(cat_codes)
    na_code = cat_code.code("NA")
    cols["category_code"] = cat_code.take(np.where(cat == unclassified, na_code, cat))
    # identifiers
    ref_text = pa.array([str(x) for x in sup.ref], type=pa.string())
    cols["supplier_ref"] = pc.if_else(pa.array(is_sup), ref_text.take(pa.array(s)), pa.scalar(None, pa.string()))
    known = is_sup & sup.ids_known[s]
    cols["vat_number"] = _take_known(sup.vat, s, known)
    cols["company_number"] = _take_known(sup.company, s, known)
    start = int(rng.integers(1_700_000_000, 1_800_000_000))
    tn = start + np.cumsum(rng.choice([0, 1, 1, 1, 2, 3], n))
    cols["transaction_number"] = pc.cast(pa.array(tn), pa.string())
    cols["invoice_number"] = _invoice_numbers(rng, day, kind, markers[0])
    cols["irrecoverable_vat_gbp"] = np.zeros(n, np.int64)
    if has_redaction_col:
        values = list(ds.redaction_column_values) or ["Redacted"]
        rv = _Vocab()
        codes = rv.codes(values)
        business = rv.code("Business Payment")
        cols["redaction"] = rv.take(np.where(kind == 1, codes[rng.integers(0, len(codes), n)], business))
    files = [strftime(m.astype("datetime64[D]").astype(dt.date), style.file_name) for m in months]
    file_index = {f: i for i, f in enumerate(dict.fromkeys(files))}
    file_of_month = np.array([file_index[f] for f in files], dtype=np.int64)
    return _Table(cols, n, file_of_month[month] if n else np.zeros(0, np.int64), list(file_index), "amount_gbp")


def _take_known(values: list[str], idx: np.ndarray, known: np.ndarray) -> pa.Array:
    arr = pa.array([v or None for v in values] or [None], type=pa.string())
    return pc.if_else(pa.array(known), arr.take(pa.array(idx)), pa.scalar(None, pa.string()))


def _invoice_numbers(rng: np.random.Generator, day: np.ndarray, kind: np.ndarray, marker: str) -> pa.Array:
    n = len(day)
    digits = pc.cast(pa.array(rng.integers(10_000, 99_999_999, n)), pa.string())
    inv = pc.binary_join_element_wise("INV-", digits, "")
    ddmmyy = _date_text(day, "%d%m%y")
    batch = pc.binary_join_element_wise("FFPAYMENT", ddmmyy, "")
    u = rng.random(n)
    out = pc.if_else(pa.array(u < 0.15), inv, digits)
    out = pc.if_else(pa.array((u >= 0.15) & (u < 0.25)), batch, out)
    out = pc.if_else(pa.array(u >= 0.95), pa.scalar(None, pa.string()), out)
    return pc.if_else(pa.array((kind == 1) & (u < 0.5)), pa.scalar(marker), out)


@dataclass
class _Contracts:
    ref: list[str]
    value: list[int]  # pence
    start: list[np.datetime64]
    end: list[np.datetime64]
    max_end: list[np.datetime64]  # NaT: no extension option


def _contracts(world: _World, ent: _Entity, file_name: str) -> tuple[_Table, _Contracts]:
    cc, sup = ent.cc, ent.suppliers
    rng = _rng(world.seed, cc.id, 20)
    r = _pyrng(rng)
    first_day = world.first.astype("datetime64[D]")
    last_day = _month_end(world.last)
    span = int((world.last - world.first).astype(int))
    rows: list[dict] = []

    def month_of(base: np.datetime64, lo: int, hi: int) -> np.datetime64:
        return _add_months(base, int(rng.integers(lo, max(hi, lo + 1))))

    def add(
        i: int | None,
        start: np.datetime64,
        end: np.datetime64,
        annual: float,
        covered: str = "",
        name: _Name | None = None,
        gid: int | None = None,
    ) -> None:
        start = max(start, _add_months(first_day, -60)) + (int(rng.integers(0, 28)) if rng.random() < 0.5 else 0)
        end = min(max(end, _add_months(start, 6)), _add_months(last_day, 60)) - 1
        years = max((end - start).astype(int) / 365.25, 0.25)
        value = max(5_000.0 + rng.gamma(2.0, 1_500.0), annual * years * rng.uniform(0.85, 1.25))
        rows.append(
            dict(i=i, start=start, end=end, value=round(value), covered=covered, name=name, gid=gid, extension=rng.random() < 0.4)
        )

    collab = [c for c in world.collabs if c.owner == cc.id]
    if cc.kind == "shared_service":
        for c in collab:
            start = c.start
            end = month_of(last_day, 1, 36) if rng.random() < 0.75 else month_of(max(start, first_day), 12, 40)
            add(None, start, end, c.annual, ";".join(c.covered), c.name, c.gid)
    else:
        covered_by_star = {c.gid for c in world.collabs if cc.id in c.covered}
        eligible = np.flatnonzero((sup.share > 0) & ~sup.school)
        order = eligible[np.argsort(-sup.annual[eligible], kind="stable")]
        cum = np.cumsum(sup.annual[order]) / max(sup.annual[order].sum(), 1e-9)
        p = np.select([cum < 0.6, cum < 0.8, cum < 0.95], [0.97, 0.68, 0.18], 0.015)
        p = np.where(np.isin(sup.gid[order], sorted(covered_by_star)), p * 0.2, p)
        chosen = order[rng.random(len(order)) < p]
        for i in chosen:
            annual = float(sup.annual[i])
            pattern = rng.choice(4, p=[0.6, 0.24, 0.08, 0.08])
            if pattern == 0:  # covers the whole period; many expire within 18 months of the end
                start = month_of(first_day, -60, -1)
                end = month_of(last_day, 1, 18) if rng.random() < 0.5 else month_of(last_day, 18, 48)
                add(int(i), start, end, annual)
            elif pattern == 1:  # re-procured during the period, sometimes with a gap
                start = month_of(first_day, -60, -24)
                end = month_of(first_day, 3, max(4, min(27, span - 6)))
                add(int(i), start, end, annual)
                add(int(i), _add_months(end, int(rng.integers(0, 4))) + 1, month_of(end, 36, 60), annual)
            elif pattern == 2:  # expired, still being paid
                start = month_of(first_day, -60, -24)
                add(int(i), start, month_of(first_day, 0, max(1, min(24, span - 3))), annual)
                rows[-1]["extension"] = False
            else:  # let during the period
                start = month_of(first_day, 6, max(7, span - 1))
                add(int(i), start, month_of(start, 24, 60), annual)
        for i in np.flatnonzero(sup.share == 0):  # contracts with no spend at all
            start = month_of(first_day, -24, span)
            add(int(i), start, month_of(max(start, first_day), 12, 60), float(rng.lognormal(10.5, 1.0) * world.scale**0.5))
    rows.sort(key=lambda x: (x["start"], x["value"]))
    nrow = len(rows)
    numbers = np.sort(rng.choice(90_000, nrow, replace=False) + 1_000) if nrow else []
    prefix = _prefix(cc)
    out: dict[str, list] = {
        k: []
        for k in (
            "contract_ref",
            "contract_title",
            "description",
            "department",
            "supplier_name",
            "supplier_ref",
            "company_number",
            "charity_number",
            "vat_number",
            "supplier_postcode",
            "procurement_route",
            "category_code",
            "category_label",
            "category_manager",
            "covered_councils",
        )
    }
    value, annual_v, starts, ends, max_ends, reviews, sme, vcse, savings, weighting = ([] for _ in range(10))
    for k, row in enumerate(rows):
        i = row["i"]
        if i is None:
            name = row["name"]
            gid = row["gid"]
            heading, l2 = name.heading, int(world.shared_l2[gid])
            supplier = name.full
            ident = dict(
                supplier_ref="",
                company_number=world.shared_company[gid],
                charity_number=world.shared_charity[gid],
                vat_number=world.shared_vat[gid],
                supplier_postcode=world.shared_postcode[gid],
            )
            size, is_vcse = int(world.shared_size[gid]), name.kind in ("charity", "cic")
        else:
            heading, l2 = int(sup.heading[i]), int(sup.l2[i])
            supplier = sup.register[i]
            ident = dict(
                supplier_ref=str(sup.ref[i]),
                company_number=sup.company[i],
                charity_number=sup.charity[i],
                vat_number=sup.vat[i],
                supplier_postcode=sup.postcode[i] if r.random() < 0.9 else "",
            )
            size, is_vcse = int(sup.size[i]), bool(sup.vcse[i])
        spec = _PROCLASS[heading]
        l2_label = spec[1][l2]
        depts = list(spec[5])
        dept = depts[int(np.argmax([spec[5][d] for d in depts]))] if r.random() < 0.7 else r.choice(depts)
        start, end = row["start"], row["end"]
        out["contract_ref"].append(f"{prefix}-C-{numbers[k]:05d}")
        out["contract_title"].append(r.choice(_TITLES).format(l2_label))
        out["description"].append(
            f"{l2_label} for {dept}"
            if i is not None
            else f"{l2_label}: collaborative agreement for {cc.short_name} partner councils"
        )
        out["department"].append(dept if i is not None else "")
        out["supplier_name"].append(supplier)
        for key, v in ident.items():
            out[key].append(v)
        v = row["value"]
        route = _ROUTES_LOW if v < 25_000 else _ROUTES_MID if v < 214_000 else _ROUTES_HIGH
        out["procurement_route"].append(
            r.choice(route)
            if i is not None or v < 25_000
            else r.choice(("Open tender", "Framework call-off", "Restricted tender"))
        )
        out["category_code"].append(f"{10 + heading:02d}{11 + l2:02d}10")
        out["category_label"].append(f"{spec[0].upper()}: {l2_label}")
        out["category_manager"].append(world.managers[heading] if r.random() < 0.92 or i is None else "")
        out["covered_councils"].append(row["covered"])
        years = max((end - start).astype(int) / 365.25, 0.25)
        value.append(v * 100)
        annual_v.append(round(v / years * 100))
        starts.append(start)
        ends.append(end)
        max_ends.append(_add_months(end, r.choice((12, 24))) if row["extension"] else np.datetime64("NaT", "D"))
        reviews.append(max(start, _add_months(end, -int(r.choice((3, 6, 6, 9))))))
        u = r.random()
        sme.append(-1 if size < 0 or u < 0.08 else int(size < 3))
        vcse.append(-1 if r.random() < 0.08 else int(is_vcse))
        savings.append(0 if r.random() < 0.2 else round(v * r.uniform(0.0, 0.15)) * 100)
        weighting.append(float(r.choice((10, 15, 20, 20, 25, 30)) if v >= 50_000 else r.choice((0, 5, 10))))
    columns: dict[str, object] = {k: _text(v) for k, v in out.items()}
    columns.update(
        value_gbp=np.array(value, np.int64),
        annual_value_gbp=np.array(annual_v, np.int64),
        irrecoverable_vat_gbp=np.zeros(nrow, np.int64),
        start_date=np.array(starts, "datetime64[D]"),
        end_date=np.array(ends, "datetime64[D]"),
        max_end_date=np.array(max_ends, "datetime64[D]"),
        review_date=np.array(reviews, "datetime64[D]"),
        is_sme=np.array(sme, np.int8),
        is_vcse=np.array(vcse, np.int8),
        savings_gbp=np.array(savings, np.int64),
        sv_weighting=np.array(weighting, float),
    )
    table = _Table(columns, nrow, np.zeros(nrow, np.int64), [_snapshot_name(world, file_name)], "value_gbp")
    contracts = _Contracts(ref=out["contract_ref"], value=value, start=starts, end=ends, max_end=max_ends)
    return table, contracts


def _snapshot_name(world: _World, file_name: str) -> str:
    return strftime(world.last.astype("datetime64[D]").astype(dt.date), file_name)


def _quarter_ends(start: np.datetime64, stop: np.datetime64) -> list[np.datetime64]:
    out = []
    m = start.astype("datetime64[M]")
    m = m + (2 - (m.astype(int) % 3))  # Mar, Jun, Sep, Dec
    while _month_end(m) <= stop:
        out.append(_month_end(m))
        m = m + 3
    return out


def _social_value(world: _World, ent: _Entity, contracts: _Contracts, style: DemoStyle) -> _Table:
    rng = _rng(world.seed, ent.cc.id, 30)
    last_day = _month_end(world.last)
    since = np.datetime64(f"{world.first.astype(object).year - 5}-01-01", "D")
    rows: list[tuple] = []  # ref, measure index, type, date, quantity, local
    for k, ref in enumerate(contracts.ref):
        value = contracts.value[k] / 100
        start = contracts.start[k]
        if value <= 50_000 or start < since or start > last_day or rng.random() > 0.85:
            continue
        m = int(rng.integers(2, 7))
        measures = rng.choice(len(_MEASURES), m, replace=False)
        target = value * rng.uniform(0.15, 0.30)
        parts = rng.dirichlet(np.full(m, 1.5)) * target
        u = rng.random()
        performance = rng.uniform(0.7, 1.05) if u < 0.7 else rng.uniform(0.35, 0.7) if u < 0.9 else rng.uniform(0.02, 0.3)
        end = contracts.max_end[k] if not np.isnat(contracts.max_end[k]) else contracts.end[k]
        quarters = _quarter_ends(start, min(end, last_day))
        duration = max((contracts.end[k] - start).astype(int), 90)
        for j, part in zip(measures, parts, strict=True):
            _code, _theme, _measure, unit, proxy = _MEASURES[j]
            step = _UNIT_STEP[unit]
            qty = max(step, round(part / proxy / step) * step)
            rows.append((ref, j, "Committed", start, qty, -1))
            done, prev = 0.0, start
            for q in quarters:
                frac = (q - prev).astype(int) / duration
                prev = q
                d = qty * performance * frac * rng.lognormal(0, 0.35)
                d = min(round(d / step) * step, max(qty * 1.05 - done, 0))
                if d <= 0:
                    continue
                done += d
                rows.append((ref, j, "Delivered", q, d, int(rng.random() < 0.55)))
    rows.sort(key=lambda x: (x[0], _MEASURES[x[1]][0], x[2], x[3]))
    n = len(rows)
    mi = [x[1] for x in rows]
    cols: dict[str, object] = {
        "contract_ref": _text([x[0] for x in rows]),
        "measure_code": _text([_MEASURES[j][0] for j in mi]),
        "theme": _text([_MEASURES[j][1] for j in mi]),
        "measure": _text([_MEASURES[j][2] for j in mi]),
        "unit": _text([_MEASURES[j][3] for j in mi]),
        "record_type": _text([x[2] for x in rows]),
        "period_date": np.array([x[3] for x in rows], "datetime64[D]"),
        "quantity": np.array([round(x[4], 1) for x in rows], float),
        "proxy_value_gbp": np.array([round(_MEASURES[j][4] * 100) for j in mi], np.int64),
        "is_local": np.array([x[5] for x in rows], np.int8),
    }
    return _Table(cols, n, np.zeros(n, np.int64), [_snapshot_name(world, style.file_name)])


def _kpis(world: _World, ent: _Entity, style: DemoStyle) -> _Table:
    cc = ent.cc
    rng = _rng(world.seed, cc.id, 40)
    months = world.months[world.months >= np.datetime64(cc.joined, "M")]
    if cc.left is not None:
        months = months[months <= np.datetime64(cc.left, "M")]
    nm = len(months)
    t = np.arange(nm)
    moy = months.astype(int) % 12
    pop = (cc.population or _REFERENCE_POPULATION) / _REFERENCE_POPULATION
    try:
        sv_target = config.settings().social_value_target_share * 100
    except (config.ConfigError, OSError, ValueError):  # the demo must not depend on a settings file
        sv_target = 20.0
    # code, name, perspective, unit, higher is better, target, actual
    if cc.kind == "council":
        sav_t = np.full(nm, round(95_000 * pop, -3))
        kpis = [
            (
                "SAV01",
                "Cashable savings achieved",
                "Savings",
                "gbp",
                1,
                sav_t,
                sav_t * rng.normal(1.15, 0.15, nm) * np.where(moy == 2, 1.6, 1.0),
            ),
            (
                "CON01",
                "Contracts awarded",
                "Compliance",
                "count",
                1,
                np.full(nm, 8.0),
                rng.poisson(10.5 * _SEASON_N[moy], nm).astype(float),
            ),
            (
                "COM01",
                "Addressable spend on contract",
                "Compliance",
                "percent",
                1,
                np.full(nm, 70.0),
                np.clip(67 + 7 * t / max(nm, 1) + rng.normal(0, 2.0, nm), 0, 100),
            ),
            ("COM02", "Waivers approved", "Compliance", "count", 0, np.full(nm, 3.0), rng.poisson(2.0, nm).astype(float)),
            (
                "CUS01",
                "Customer satisfaction",
                "Customer",
                "percent",
                1,
                np.full(nm, 85.0),
                np.clip(rng.normal(89.0, 3.0, nm), 0, 100),
            ),
            (
                "SUP01",
                "Supplier satisfaction",
                "Supplier",
                "percent",
                1,
                np.full(nm, 80.0),
                np.clip(rng.normal(84.5, 3.5, nm), 0, 100),
            ),
        ]
    else:
        followers = 2_400 + np.cumsum(rng.normal(32, 12, nm))
        web_t = 4_000 * 1.04 ** (t / 12)
        kpis = [
            (
                "WEB01",
                "Website visits",
                "Communications",
                "count",
                1,
                np.round(web_t, -2),
                web_t * _SEASON_N[moy] ** 0.5 * rng.normal(1.12, 0.1, nm),
            ),
            ("SOC01", "Twitter followers", "Communications", "count", 1, np.round(2_420 + 30 * (t + 1), -1), followers),
            ("SOC02", "Twitter impressions", "Communications", "count", 1, np.full(nm, 18_000.0), rng.normal(22_000, 3_500, nm)),
            ("TRN01", "Service managers trained", "People", "count", 1, np.full(nm, 10.0), rng.poisson(12.5, nm).astype(float)),
            ("TRN02", "Staff training hours", "People", "count", 1, np.full(nm, 60.0), np.round(rng.normal(72, 10, nm))),
            (
                "SVA01",
                "Social value committed (% of contract value)",
                "Social Value",
                "percent",
                1,
                np.full(nm, sv_target),
                np.clip(rng.normal(sv_target + 4, 5, nm), 0, 100),
            ),
            (
                "SAV01",
                "Collaborative savings achieved",
                "Savings",
                "gbp",
                1,
                np.full(nm, 60_000.0),
                60_000 * rng.normal(1.2, 0.18, nm),
            ),
        ]
    rows = []
    for code, name, perspective, unit, hib, target, actual in kpis:
        digits = 2 if unit == "gbp" else 1 if unit == "percent" else 0
        for k in range(nm):
            rows.append(
                (
                    months[k],
                    code,
                    name,
                    perspective,
                    unit,
                    hib,
                    round(float(target[k]), digits),
                    round(max(float(actual[k]), 0.0), digits),
                )
            )
    rows.sort(key=lambda x: (x[0], x[1]))
    n = len(rows)
    cols: dict[str, object] = {
        "kpi_code": _text([x[1] for x in rows]),
        "kpi_name": _text([x[2] for x in rows]),
        "perspective": _text([x[3] for x in rows]),
        "unit": _text([x[4] for x in rows]),
        "period_date": np.array([x[0] for x in rows], "datetime64[M]").astype("datetime64[D]"),
        "value": np.array([x[7] for x in rows], float),
        "target": np.array([x[6] for x in rows], float),
        "higher_is_better": np.array([x[5] for x in rows], np.int8),
    }
    return _Table(cols, n, np.zeros(n, np.int64), [_snapshot_name(world, style.file_name)])


_MATURITY_NOTES = (
    "Annual self-assessment agreed by the procurement board",
    "Reviewed with the portfolio holder",
    "Evidence in the procurement strategy action plan",
    "Peer review with the STAR partners",
    "Moderated at the regional procurement group",
    "",
)


def _reference_rows(name: str) -> list[dict[str, str]]:
    """Rows of a reference CSV (``data/reference/``), from the configured folder when there is one."""
    try:
        folder = config.settings().reference_dir
    except (config.ConfigError, OSError, ValueError):  # the demo must not depend on a settings file
        folder = config.DATA_DIR / "reference"
    path = folder / name if (folder / name).exists() else config.DATA_DIR / "reference" / name
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _maturity(world: _World, ent: _Entity, style: DemoStyle) -> _Table:
    """A self-assessment against the National Procurement Strategy at each financial year end: every
    key area and enabler of the reference list, current and target level, most areas improving."""
    cc = ent.cc
    rng = _rng(world.seed, cc.id, 50)
    r = _pyrng(rng)
    areas = [a["area"] for a in sorted(_reference_rows("nps_maturity_areas.csv"), key=lambda a: int(a["sort_order"]))]
    levels = [lv["name"] for lv in sorted(_reference_rows("nps_maturity_levels.csv"), key=lambda lv: int(lv["level"]))]
    top = len(levels) - 1
    first_day = max(world.first, np.datetime64(cc.joined, "M")).astype("datetime64[D]")
    last_day = _month_end(world.last)
    years = range(first_day.astype(object).year, last_day.astype(object).year + 1)
    dates = [d for d in (np.datetime64(f"{y}-03-31", "D") for y in years) if first_day <= d <= last_day] or [last_day]
    na = len(areas)
    current = np.minimum(rng.binomial(top, 0.35, na), top)
    ambition = rng.uniform(0.6, 1.6)
    target = np.minimum(np.maximum(current + rng.poisson(ambition, na), 1), top)
    rows: list[tuple] = []  # date, area index, current, target, target date, note
    for k, day in enumerate(dates):
        if k:
            step = rng.random(na)
            current = np.clip(current + (step < 0.35) - (step > 0.97), 0, top)
            reached = (current >= target) & (target < top) & (rng.random(na) < 0.5)
            target = np.where(reached, target + 1, target)
        year = day.astype(object).year
        for a in range(na):
            due = np.datetime64(f"{year + r.choice((2, 2, 3))}-03-31", "D")
            rows.append((day, a, int(current[a]), int(target[a]), due, r.choice(_MATURITY_NOTES)))
    n = len(rows)
    cols: dict[str, object] = {
        "area": _text([areas[x[1]] for x in rows]),
        "period_date": np.array([x[0] for x in rows], "datetime64[D]"),
        "current_level": _text([levels[x[2]] for x in rows]),
        "target_level": _text([levels[x[3]] for x in rows]),
        "target_date": np.array([x[4] for x in rows], "datetime64[D]"),
        "notes": _text([x[5] for x in rows]),
    }
    return _Table(cols, n, np.zeros(n, np.int64), [_snapshot_name(world, style.file_name)])


# --------------------------------------------------------------------------------------------
# Formatting: canonical values -> the council's text, vectorised with Arrow
# --------------------------------------------------------------------------------------------

_NULL = pa.scalar(None, pa.string())


def _join(*parts: object) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def _int_text(values: np.ndarray) -> pa.Array:
    return pc.cast(pa.array(values), pa.string())


def _thousands(v: np.ndarray) -> pa.Array:
    """Whole pounds with thousands separators, vectorised."""
    groups = [(v // 1000**k) % 1000 for k in range(5)]
    top = np.select([v >= 1000**4, v >= 1000**3, v >= 1000**2, v >= 1000], [4, 3, 2, 1], 0)
    pieces = []
    for k in range(4, -1, -1):
        first = _int_text(groups[k])
        rest = _join(",", pc.utf8_lpad(first, 3, "0"))
        piece = pc.if_else(pa.array(top == k), first, pc.if_else(pa.array(top > k), rest, ""))
        pieces.append(piece)
    return _join(*pieces)


def _money_text(pence: np.ndarray, fmt: str, negative: str, symbol: str) -> pa.Array:
    pence = np.asarray(pence, dtype=np.int64)
    missing = pence == _NA
    a = np.abs(np.where(missing, 0, pence))
    neg = (pence < 0) & ~missing
    pounds, pp = a // 100, a % 100
    whole = _thousands(pounds) if fmt in ("thousands", "currency", "padded") else _int_text(pounds)
    body = _join(whole, ".", pc.utf8_lpad(_int_text(pp), 2, "0"))
    if fmt == "currency":
        body = _join(symbol, body)
    if negative == "parentheses":
        signed = _join("(", body, ")")
    else:
        signed = _join("-", body)
    out = pc.if_else(pa.array(neg), signed, body)
    if fmt == "padded":
        out = _join(" ", out, " ")
    return pc.if_else(pa.array(missing), _NULL, out)


def _date_text(days: np.ndarray, fmt: str) -> pa.Array:
    days = np.asarray(days, dtype="datetime64[D]")
    valid = ~np.isnat(days)
    uniq, inverse = np.unique(days[valid], return_inverse=True)
    texts = pa.array([strftime(d, fmt) for d in uniq.astype(object)] or [""], type=pa.string())
    idx = np.zeros(len(days), dtype=np.int64)
    idx[valid] = inverse
    return texts.take(pa.array(idx, mask=~valid))


def _number_text(values: np.ndarray) -> pa.Array:
    out = []
    for x in values:
        if np.isnan(x):
            out.append(None)
        elif float(x).is_integer():
            out.append(str(int(x)))
        else:
            out.append(f"{x:.4f}".rstrip("0").rstrip("."))
    return pa.array(out, type=pa.string())


def _flag_text(values: np.ndarray) -> pa.Array:
    values = np.asarray(values, dtype=np.int64)
    return pa.array(["N", "Y"]).take(pa.array(np.clip(values, 0, 1), mask=values < 0))


@dataclass
class _Rendered:
    headers: list[str]
    cells: list[pa.Array]  # text of each column (null = empty)
    numeric: list[bool]  # column is a number cell in XLSX


def _render(
    table: _Table, model: type[Dataset], ds: DatasetConfig, style: DemoStyle, xlsx: bool, rng: np.random.Generator
) -> _Rendered:
    n = table.n
    headers, cells, numeric = [], [], []
    symbol = ds.amount.currency_symbols[0] if ds.amount.currency_symbols else "£"
    for header, value in style.extra_columns.items():
        headers.append(header)
        cells.append(pa.array([value or None] * n, type=pa.string()))
        numeric.append(False)
    for fld, variants in ds.fields.items():
        kind = model.kind(fld)
        value = table.columns.get(fld)
        is_num = False
        if value is None:
            text = pa.nulls(n, pa.string())
        elif kind == "date":
            text = _date_text(value, ds.date_formats[0])
        elif kind == "money":
            fmt = style.amount_format
            is_num = fmt == "numeric" and xlsx
            text = _money_text(value, "plain" if fmt == "numeric" else fmt, "minus" if is_num else style.negative_format, symbol)
        elif kind == "number":
            text = _number_text(value)
            is_num = xlsx
        elif kind == "flag":
            text = _flag_text(value)
        else:
            text = value
            if fld == "supplier_name" and ds.truncates_names_at:
                text = pc.utf8_slice_codeunits(text, 0, ds.truncates_names_at)
            if "trailing_spaces" in style.quirks:
                spaced = pa.array(rng.random(n) < 0.4)
                text = pc.if_else(spaced, _join(text, " "), text)
        headers.append(variants[0])
        cells.append(text)
        numeric.append(is_num)
    return _Rendered(headers, cells, numeric)


def _with_quirks(
    r: _Rendered, rows: np.ndarray, table: _Table, ds: DatasetConfig, style: DemoStyle, rng: np.random.Generator
) -> list[pa.Array]:
    """The file's columns with its summary and blank rows inserted (neither counts as data)."""
    cols = [c.take(pa.array(rows)) for c in r.cells]
    m = len(rows)
    positions: list[int] = []
    extra: list[list[str | None]] = []
    if "total_rows" in style.quirks and table.amount_field in ds.fields and "supplier_name" in ds.fields and m:
        amount = np.asarray(table.columns[table.amount_field])[rows]
        name_col = list(ds.fields).index("supplier_name") + len(style.extra_columns)
        amount_col = list(ds.fields).index(table.amount_field) + len(style.extra_columns)
        cuts = sorted(set(int(x) for x in rng.integers(1, m, min(3, m - 1)))) if m > 1 else []
        symbol = ds.amount.currency_symbols[0] if ds.amount.currency_symbols else "£"
        fmt = "plain" if style.amount_format == "numeric" else style.amount_format
        negative = "minus" if r.numeric[amount_col] else style.negative_format
        prev = 0
        for label, pos in [*(("Total", c) for c in cuts), ("Grand Total", m)]:
            total = int(amount[prev:pos].sum()) if label == "Total" else int(amount.sum())
            prev = pos if label == "Total" else prev
            row: list[str | None] = [None] * len(cols)
            row[name_col] = label
            row[amount_col] = _money_text(np.array([total]), fmt, negative, symbol)[0].as_py()
            positions.append(pos)
            extra.append(row)
    if "blank_rows" in style.quirks and m:
        for pos in sorted(int(x) for x in rng.integers(1, m + 1, 3)):
            positions.append(pos)
            extra.append([None] * len(cols))
    if not extra:
        return cols
    order = np.insert(np.arange(m), np.array(positions), m + np.arange(len(extra)))
    out = []
    for j, c in enumerate(cols):
        more = pa.array([row[j] for row in extra], type=pa.string())
        out.append(pa.concat_arrays([c, more]).take(pa.array(order)))
    return out


# --------------------------------------------------------------------------------------------
# Writers: CSV (any encoding, BOM or not), ZIP of one CSV, minimal XLSX
# --------------------------------------------------------------------------------------------


def _csv_field(text: str, delimiter: str) -> str:
    if any(ch in text for ch in (delimiter, '"', "\r", "\n")):
        return '"' + text.replace('"', '""') + '"'
    return text


def _csv_bytes(headers: list[str], cols: list[pa.Array], ds: DatasetConfig, style: DemoStyle, title: str) -> bytes:
    delim = ds.delimiter
    pattern = "[" + re.escape(delim) + '"\r\n]'
    quoted = []
    for c in cols:
        c = pc.fill_null(c, "")
        needs = pc.match_substring_regex(c, pattern)
        quoted.append(pc.if_else(needs, _join('"', pc.replace_substring(c, '"', '""'), '"'), c))
    lines = [title] + [""] * (ds.header_row - 2) if ds.header_row > 1 else []
    lines.append(delim.join(_csv_field(h, delim) for h in headers))
    text = "\r\n".join(lines) + "\r\n"
    n = len(cols[0]) if cols else 0
    if n:
        body = pc.binary_join_element_wise(*quoted, delim) if len(quoted) > 1 else quoted[0]
        joined = pc.binary_join(pa.ListArray.from_arrays(pa.array([0, n], pa.int32()), body), "\r\n")
        text += joined[0].as_py() + "\r\n"
    encoding = ds.encoding
    if style.bom:
        if re.sub(r"[-_]", "", encoding.lower()) in ("utf8", "utf8sig"):
            encoding = "utf-8-sig"
        else:
            text = "\ufeff" + text
    return text.encode(encoding)


_XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_NS_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"


def _xml_escape(arr: pa.Array) -> pa.Array:
    arr = pc.replace_substring(arr, "&", "&amp;")
    arr = pc.replace_substring(arr, "<", "&lt;")
    return pc.replace_substring(arr, ">", "&gt;")


def _xml_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _sheet_xml(headers: list[str], cols: list[pa.Array], numeric: list[bool], title: str, header_row: int) -> bytes:
    n = len(cols[0]) if cols else 0
    first = header_row + 1
    rownum = _int_text(np.arange(first, first + n))
    cells = []
    for j, (c, is_num) in enumerate(zip(cols, numeric, strict=True)):
        letter = _col_letter(j)
        empty = pc.or_kleene(pc.is_null(c), pc.equal(c, ""))
        if is_num:
            cell = _join(f'<c r="{letter}', rownum, '"><v>', pc.utf8_trim_whitespace(c), "</v></c>")
        else:
            esc = _xml_escape(c)
            plain = _join(f'<c r="{letter}', rownum, '" t="inlineStr"><is><t>', esc, "</t></is></c>")
            spaced = pc.fill_null(pc.match_substring_regex(c, r"^\s|\s$"), False)
            if pc.any(spaced).as_py():
                keep = _join(f'<c r="{letter}', rownum, '" t="inlineStr"><is><t xml:space="preserve">', esc, "</t></is></c>")
                plain = pc.if_else(spaced, keep, plain)
            cell = plain
        cells.append(pc.if_else(pc.fill_null(empty, True), _NULL, cell))
    head = []
    if header_row > 1:
        head.append(f'<row r="1"><c r="A1" t="inlineStr"><is><t>{_xml_text(title)}</t></is></c></row>')
    head.append(
        f'<row r="{header_row}">'
        + "".join(
            f'<c r="{_col_letter(j)}{header_row}" t="inlineStr"><is><t>{_xml_text(h)}</t></is></c>' for j, h in enumerate(headers)
        )
        + "</row>"
    )
    body = ""
    if n:
        joined_cells = pc.binary_join_element_wise(*cells, "", null_handling="skip")
        rows = _join('<row r="', rownum, '">', joined_cells, "</row>")
        body = pc.binary_join(pa.ListArray.from_arrays(pa.array([0, n], pa.int32()), rows), "")[0].as_py()
    last_col = _col_letter(max(len(headers) - 1, 0))
    xml = (
        f'{_XML_HEAD}<worksheet xmlns="{_NS_MAIN}" xmlns:r="{_NS_REL}">'
        f'<dimension ref="A1:{last_col}{header_row + n}"/><sheetData>' + "".join(head) + body + "</sheetData></worksheet>"
    )
    return xml.encode("utf-8")


_STYLES = (
    f'{_XML_HEAD}<styleSheet xmlns="{_NS_MAIN}"><fonts count="1"><font><sz val="11"/><name val="Calibri"/>'
    '</font></fonts><fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill '
    'patternType="gray125"/></fill></fills><borders count="1"><border><left/><right/><top/><bottom/>'
    '<diagonal/></border></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" '
    'borderId="0"/></cellStyleXfs><cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" '
    'xfId="0"/></cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/>'
    "</cellStyles></styleSheet>"
)


def _zip_entry(zf: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    zf.writestr(info, data, compresslevel=1)


def _xlsx_bytes(headers: list[str], cols: list[pa.Array], numeric: list[bool], ds: DatasetConfig, title: str) -> bytes:
    sheet_name = re.sub(r"[\[\]:*?/\\]", " ", ds.sheet if isinstance(ds.sheet, str) else title)[:31].strip()
    before = ds.sheet if isinstance(ds.sheet, int) else 0  # sheets the data sheet must follow
    sheets = [f"Notes {k + 1}" for k in range(before)] + [sheet_name or "Sheet1"]
    content = "".join(
        f'<Override PartName="/xl/worksheets/sheet{k + 1}.xml" ContentType="application/'
        f'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for k in range(len(sheets))
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        _zip_entry(
            zf,
            "[Content_Types].xml",
            (
                f'{_XML_HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                '<Default Extension="xml" ContentType="application/xml"/>'
                '<Override PartName="/xl/workbook.xml" ContentType="application/'
                'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
                '<Override PartName="/xl/styles.xml" ContentType="application/'
                f'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>{content}</Types>'
            ).encode(),
        )
        _zip_entry(
            zf,
            "_rels/.rels",
            (
                f'{_XML_HEAD}<Relationships xmlns="{_NS_PKG}"><Relationship Id="rId1" Type="{_NS_REL}/officeDocument" '
                'Target="xl/workbook.xml"/></Relationships>'
            ).encode(),
        )
        _zip_entry(
            zf,
            "xl/workbook.xml",
            (
                f'{_XML_HEAD}<workbook xmlns="{_NS_MAIN}" xmlns:r="{_NS_REL}"><sheets>'
                + "".join(f'<sheet name="{_xml_text(s)}" sheetId="{k + 1}" r:id="rId{k + 1}"/>' for k, s in enumerate(sheets))
                + "</sheets></workbook>"
            ).encode(),
        )
        _zip_entry(
            zf,
            "xl/_rels/workbook.xml.rels",
            (
                f'{_XML_HEAD}<Relationships xmlns="{_NS_PKG}">'
                + "".join(
                    f'<Relationship Id="rId{k + 1}" Type="{_NS_REL}/worksheet" Target="worksheets/sheet{k + 1}.xml"/>'
                    for k in range(len(sheets))
                )
                + f'<Relationship Id="rId{len(sheets) + 1}" Type="{_NS_REL}/styles" Target="styles.xml"/>'
                "</Relationships>"
            ).encode(),
        )
        _zip_entry(zf, "xl/styles.xml", _STYLES.encode())
        for k in range(before):
            _zip_entry(zf, f"xl/worksheets/sheet{k + 1}.xml", _sheet_xml(["Notes"], [], [], title, 1))
        _zip_entry(zf, f"xl/worksheets/sheet{before + 1}.xml", _sheet_xml(headers, cols, numeric, title, ds.header_row))
    return buf.getvalue()


def _file_bytes(name: str, r: _Rendered, cols: list[pa.Array], ds: DatasetConfig, style: DemoStyle) -> bytes:
    suffix = Path(name).suffix.lower()
    title = Path(name).stem
    if suffix == ".xlsx":
        return _xlsx_bytes(r.headers, cols, r.numeric, ds, title)
    data = _csv_bytes(r.headers, cols, ds, style, title)
    if suffix == ".zip":
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            _zip_entry(zf, f"{title}.csv", data)
        return buf.getvalue()
    return data


def _demo_style(cc: CouncilConfig, dataset: str, ds: DatasetConfig) -> DemoStyle:
    """The council's demo style, or one derived from its first supported file pattern."""
    if ds.demo is not None:
        style = ds.demo
    else:
        name = None
        for pattern in ds.patterns:
            if Path(pattern).suffix.lower() in (".csv", ".xlsx", ".zip", ".txt", ".tsv"):
                stem = pattern.replace("*", "%Y-%m", 1).replace("*", "").replace("?", "x")
                name = stem if "%" in stem else f"{cc.id}-{dataset}-%Y-%m{Path(pattern).suffix}"
                break
        if name is None:
            raise config.ConfigError(
                f"{cc.id}: datasets.{dataset}: no demo.file_name and no .csv/.xlsx/.zip pattern to derive one from"
            )
        style = DemoStyle(file_name=name)
    suffix = Path(style.file_name).suffix.lower()
    if suffix not in (".csv", ".xlsx", ".zip", ".txt", ".tsv"):
        raise config.ConfigError(
            f"{cc.id}: datasets.{dataset}.demo.file_name: the demo writes .csv, .xlsx or "
            f".zip files, not {suffix or 'files without an extension'}"
        )
    return style


# --------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------


def generate(
    out_dir: Path,
    seed: int = 7,
    scale: float = 1.0,
    councils: dict[str, CouncilConfig] | None = None,
    first_month: str = "2023-04",
    last_month: str = "2026-10",
    progress: Progress | None = None,
) -> dict:
    """Write synthetic extracts for every configured council and dataset under ``out_dir``.

    Files go to ``out_dir/<council_id>/<dataset>/`` in the council's own published format; spend is
    one file a month (from the council's ``joined`` month), other datasets one snapshot named after
    ``last_month``. ``out_dir/demo.json`` records the parameters and, per council and dataset, the
    rows and amount total the build should load. Returns that record.
    """
    if scale <= 0:
        raise ValueError(f"scale must be positive, got {scale}")
    first = np.datetime64(first_month, "M")
    last = np.datetime64(last_month, "M")
    if last < first:
        raise ValueError(f"last_month {last_month} is before first_month {first_month}")
    councils = config.load_councils() if councils is None else councils
    out_dir = Path(out_dir)
    report = progress or (lambda fraction, message: None)
    report(0.0, "inventing suppliers")
    world = _World(councils, seed, scale, first, last)

    def weight(cid: str, name: str) -> float:  # spend dominates the work
        return 1.0 + (world.entities[cid].lines_year * len(world.months) / 2_000 if name == "spend" else 0.0)

    total_weight = sum(weight(cid, name) for cid, cc in councils.items() for name in cc.datasets) or 1.0
    done = 0.0
    expected: dict[str, dict[str, dict[str, object]]] = {}
    written: list[str] = []
    for cid, cc in councils.items():
        ent = world.entities[cid]
        contracts: _Contracts | None = None
        for name in _dataset_order(cc):
            ds = cc.datasets[name]
            report(done / total_weight, f"{cc.short_name}: {name}")
            style = _demo_style(cc, name, ds)
            if name == "spend":
                table = _spend(world, ent, ds, style)
            elif name == "contracts":
                table, contracts = _contracts(world, ent, style.file_name)
            elif name == "social_value":
                if contracts is None:  # social value without a published register: measure unseen contracts
                    contracts = _contracts(world, ent, style.file_name)[1]
                table = _social_value(world, ent, contracts, style)
            elif name == "maturity":
                table = _maturity(world, ent, style)
            else:
                table = _kpis(world, ent, style)
            files = _write_table(
                out_dir / cid / name, table, DATASETS[name], ds, style, _rng(seed, cid, 100 + list(DATASETS).index(name))
            )
            written.extend(f"{cid}/{name}/{f}" for f in files)
            entry: dict[str, object] = {"rows": table.n}
            if table.amount_field is not None:
                amounts = np.asarray(table.columns[table.amount_field])
                entry["amount_total"] = str(Decimal(int(amounts[amounts != _NA].sum())).scaleb(-2))
            expected.setdefault(cid, {})[name] = entry
            done += weight(cid, name)
    result = {
        "seed": seed,
        "scale": scale,
        "first_month": first_month,
        "last_month": last_month,
        "generated_by": "starviz demo",
        "expected": expected,
        "files": sorted(written),
    }
    _remove_stale(out_dir, set(written))
    (out_dir / "demo.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    report(1.0, "demo data written")
    return result


def _dataset_order(cc: CouncilConfig) -> list[str]:
    """Contracts before social value (which is measured on them); otherwise the config's order."""
    names = list(cc.datasets)
    if "social_value" in names and "contracts" in names:
        names.remove("contracts")
        names.insert(names.index("social_value"), "contracts")
    return names


def _write_table(
    folder: Path, table: _Table, model: type[Dataset], ds: DatasetConfig, style: DemoStyle, rng: np.random.Generator
) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    xlsx = any(Path(f).suffix.lower() == ".xlsx" for f in table.files)
    rendered = _render(table, model, ds, style, xlsx, rng)
    order = np.argsort(table.file_of_row, kind="stable")
    bounds = np.searchsorted(table.file_of_row[order], np.arange(len(table.files) + 1))
    for k, name in enumerate(table.files):
        rows = order[bounds[k] : bounds[k + 1]]
        cols = _with_quirks(rendered, rows, table, ds, style, rng)
        (folder / name).write_bytes(_file_bytes(name, rendered, cols, ds, style))
    return list(table.files)


def _remove_stale(out_dir: Path, written: set[str]) -> None:
    """Delete files an earlier demo run wrote that this run did not (never anything else)."""
    previous = out_dir / "demo.json"
    if not previous.exists():
        return
    try:
        old = json.loads(previous.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    if old.get("generated_by") != "starviz demo":
        return
    for rel in old.get("files", []):
        if rel not in written and ".." not in Path(rel).parts:
            (out_dir / rel).unlink(missing_ok=True)
