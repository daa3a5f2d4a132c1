"""The demo's vocabulary: the words and shares the invented world is drawn from.

Lists the project already keeps in ``data/reference/`` are read from there (ProClass headings from
``proclass.csv``, Greater Manchester postcode districts from ``gm_postcode_districts.csv``, maturity
areas and levels); what only the demo needs (level-2 labels, words for supplier names, surnames,
places, invented TOMs measures) lives here, the traits of each ProClass heading in the table
``heading_traits.csv`` beside this module.
"""

from __future__ import annotations

import csv
import functools
from pathlib import Path
from typing import NamedTuple

import numpy as np

from starviz import config


def reference_dir() -> Path:
    """The configured reference folder, or the repository's when there is no settings file."""
    try:
        return config.settings().reference_dir
    except (config.ConfigError, OSError, ValueError):  # the demo must not depend on a settings file
        return config.DATA_DIR / "reference"


def reference_rows(name: str) -> list[dict[str, str]]:
    """Rows of a reference CSV (``data/reference/``), from the configured folder when it holds the file."""
    folder = reference_dir()
    path = folder / name if (folder / name).exists() else config.DATA_DIR / "reference" / name
    return list(_read_csv(path))


@functools.cache
def _read_csv(path: Path) -> tuple[dict[str, str], ...]:
    with path.open(encoding="utf-8", newline="") as fh:
        return tuple(csv.DictReader(fh))


class _Traits(NamedTuple):
    """What the demo invents for one ProClass heading (a row of ``heading_traits.csv``)."""

    level2: tuple[str, ...]  # level-2 labels
    suppliers: float  # relative number of suppliers
    value: float  # relative value per supplier
    words: tuple[str, ...]  # words for supplier names
    departments: dict[str, float]  # departments that buy it, weighted
    expense_type: str  # the subjective expense type


class Heading(NamedTuple):
    code: str  # ProClass code prefix, "10" to "39"
    name: str
    level2: tuple[str, ...]
    suppliers: float
    value: float
    words: tuple[str, ...]
    departments: dict[str, float]
    expense_type: str


TRAITS_CSV = Path(__file__).with_name("heading_traits.csv")


def _items(cell: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in cell.split(";"))


@functools.cache
def _heading_traits() -> dict[str, _Traits]:
    """The demo's traits by ProClass code prefix, from ``heading_traits.csv`` (lists separated by ";",
    departments as name=weight); the headings' names come from data/reference/proclass.csv."""
    return {
        row["code_prefix"]: _Traits(
            level2=_items(row["level2"]),
            suppliers=float(row["suppliers"]),
            value=float(row["value"]),
            words=_items(row["words"]),
            departments={name: float(weight) for name, weight in (item.split("=") for item in _items(row["departments"]))},
            expense_type=row["expense_type"],
        )
        for row in _read_csv(TRAITS_CSV)
    }


# A heading the demo has no traits for (a new line in proclass.csv) still gets suppliers.
_DEFAULT_TRAITS = _Traits(("General",), 1.0, 0.5, ("Services", "Supplies"), {"Corporate Services": 1.0}, "Supplies & Services")

# kinds of organisation only found under some headings (code prefixes)
KIND_HEADINGS = {
    "llp": ("15", "20", "28"),  # consultancy, financial and legal services
    "charity": ("32", "17", "25", "29", "31", "18", "24"),  # care, education, housing, leisure, medical...
    "cic": ("32", "17", "25", "29", "11", "18", "24", "36"),
}
CARE, EDUCATION, ICT = "32", "17", "27"


def proclass() -> tuple[Heading, ...]:
    """ProClass level-1 headings in code order, each with the demo's traits."""
    return _proclass(reference_dir())


@functools.cache
def _proclass(_folder: Path) -> tuple[Heading, ...]:
    rows = sorted(reference_rows("proclass.csv"), key=lambda row: int(row["code_prefix"]))
    return tuple(
        Heading(row["code_prefix"], row["heading"], *_heading_traits().get(row["code_prefix"], _DEFAULT_TRAITS)) for row in rows
    )


def heading_index(code: str) -> int:
    """Position of a heading (by code prefix) in ``proclass()``."""
    return next(i for i, h in enumerate(proclass()) if h.code == code)


def gm_outward() -> tuple[str, ...]:
    """Outward codes wholly in Greater Manchester (``gm_postcode_districts.csv``, status local)."""
    return _gm_outward(reference_dir())


@functools.cache
def _gm_outward(_folder: Path) -> tuple[str, ...]:
    out: list[str] = []
    for row in reference_rows("gm_postcode_districts.csv"):
        if row["status"] != "local":
            continue
        district = row["district"].strip().upper()
        out.extend(_M_DISTRICTS if district == "M" else [district])
    return tuple(out)


DEPARTMENTS = (
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
PURPOSE_SUFFIXES = (
    "",
    "",
    " - monthly invoice",
    " - call-off order",
    " - additional works",
    " - quarterly charge",
    " - annual subscription",
    " - stage payment",
)
REDACTED_PURPOSES = (
    "Direct payment",
    "Care package",
    "Foster care allowance",
    "Personal budget",
    "Special guardianship allowance",
    "Respite care",
)

SURNAMES = (
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
PLACES = (
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
SCHOOL_KINDS = (
    "Primary School",
    "CE Primary School",
    "RC Primary School",
    "High School",
    "Infant School",
    "Junior School",
    "Community Primary School",
)
MANAGERS = (
    "Amelia Hartley",
    "Daniel Okafor",
    "Priya Chauhan",
    "Tom Whitworth",
    "Sophie Kendal",
    "Marcus Bell",
    "Hannah Ashby",
    "Imran Qureshi",
)
ROUTES_LOW = ("Invitation to quote", "Invitation to quote", "Direct award", "Framework call-off")
ROUTES_MID = ("Invitation to quote", "Open tender", "Framework call-off", "Dynamic purchasing system")
ROUTES_HIGH = ("Open tender", "Open tender", "Restricted tender", "Framework call-off", "Dynamic purchasing system")
TITLES = ("Provision of {}", "Supply of {}", "{} Framework", "{} Services", "{} Contract")
LEGAL = ("LTD", "LIMITED", "PLC", "LLP", "CIC")
LTD = ("Ltd", "Limited", "LTD", "LIMITED")
ABBREVIATIONS = {
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
# Districts of the Manchester postcode area ("M" in gm_postcode_districts.csv stands for all of them).
_M_DISTRICTS = tuple(f"M{i}" for i in (*range(1, 10), *range(11, 36), 38, *range(40, 47), 50))
# Outward codes outside Greater Manchester, for suppliers from elsewhere.
UK_OUTWARD = tuple(
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
INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
OTHER_AUTHORITIES = (
    "Manchester City Council",
    "Salford City Council",
    "Oldham Council",
    "Bolton Council",
    "Bury Council",
    "Wigan Council",
)

# Invented TOMs-style measures: (code, theme, measure, unit, proxy £ per unit). Not the official table.
THEMES = (
    "Promote Local Skills and Employment",
    "Supporting Growth of Responsible Regional Business",
    "Healthier, Safer and more Resilient Communities",
    "Protecting and Improving Our Environment",
    "Promoting Social Innovation",
)
MEASURES: tuple[tuple[str, str, str, str, float], ...] = (
    ("NT1", THEMES[0], "Local people employed on the contract", "FTE", 26850.0),
    ("NT2", THEMES[0], "Long-term unemployed people recruited", "FTE", 19240.0),
    ("NT3", THEMES[0], "Care leavers given employment", "FTE", 21575.0),
    ("NT4", THEMES[0], "Apprenticeship weeks delivered", "weeks", 212.5),
    ("NT5", THEMES[0], "Work placement weeks for local residents", "weeks", 158.0),
    ("NT6", THEMES[0], "Employability support for young people", "hours", 91.4),
    ("NT7", THEMES[1], "Spend with Greater Manchester suppliers", "£ spend", 0.57),
    ("NT8", THEMES[1], "Spend with local micro and small enterprises", "£ spend", 0.64),
    ("NT9", THEMES[1], "Spend with VCSE organisations", "£ spend", 0.71),
    ("NT10", THEMES[1], "Expert support for local SMEs", "hours", 104.0),
    ("NT11", THEMES[2], "Staff volunteering in the community", "hours", 15.9),
    ("NT12", THEMES[2], "Donations to local community projects", "£ spend", 1.0),
    ("NT13", THEMES[2], "Health and wellbeing sessions for residents", "hours", 47.5),
    ("NT14", THEMES[2], "Activities tackling loneliness and isolation", "hours", 34.8),
    ("NT15", THEMES[3], "Carbon emissions saved on site", "tonnes CO2e", 238.0),
    ("NT16", THEMES[3], "Fleet emissions saved", "tonnes CO2e", 203.5),
    ("NT17", THEMES[3], "Waste diverted from landfill", "tonnes CO2e", 96.0),
    ("NT18", THEMES[3], "Investment in local green spaces", "£ spend", 0.88),
    ("NT19", THEMES[4], "Support for social enterprises to innovate", "hours", 118.0),
    ("NT20", THEMES[4], "Digital skills training for residents", "hours", 54.6),
)
UNIT_STEP = {"FTE": 0.1, "weeks": 1.0, "hours": 1.0, "tonnes CO2e": 0.1, "£ spend": 1.0}

# Month of year -> relative number of lines and relative value (March year-end peak, quiet August).
SEASON_N = np.array([0.97, 1.0, 1.40, 0.88, 0.96, 1.0, 1.0, 0.82, 0.98, 1.03, 1.02, 0.90])  # Jan..Dec
SEASON_N = SEASON_N / SEASON_N.mean()
SEASON_V = SEASON_N**1.4 / (SEASON_N**1.4).mean()

# Shares of a council's yearly payments by value (Trafford 2024-26 is the model: DATA-SOURCES s.2).
SHARE_REDACTED = 0.16
SHARE_LEVY = 0.12
SHARE_HMRC = 0.08
SHARE_GMPF = 0.045
SHARE_TEACHERS = 0.04
SHARE_INTER = 0.02
SHARE_ADDRESSABLE = 1.0 - (SHARE_REDACTED + SHARE_LEVY + SHARE_HMRC + SHARE_GMPF + SHARE_TEACHERS + SHARE_INTER)
LINES_PER_YEAR = 150_000  # per council of 250k people, at scale 1
GBP_PER_HEAD = 2_500  # payments per resident per year
REFERENCE_POPULATION = 250_000

MISSING_PENCE = np.iinfo(np.int64).min  # missing money (pence)
MONTH_ABBR = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
MONTH_NAME = (
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
DAY_ABBR = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
DAY_NAME = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
