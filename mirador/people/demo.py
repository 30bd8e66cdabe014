"""The demo region: realistic synthetic returnees, for the demo and for tests.

A pure, seeded generator: the same seed and reference date give the same records, and nothing
here touches the database (`demo_load` stores what it yields). Each record is one return of one
person: who they are (Spanish naming with two surnames, compound given names, accents; a birth
date sometimes known only in part; sex, nationality, child and unaccompanied flags) and how they
came back (date, sending and receiving country, air or land, reception centre, subdivision of
origin). Families come back together; a few adults come back more than once.

Every weight lives in a small table below, so a share can be corrected without touching the
logic. The shares follow the shape of published return statistics of Honduras, Guatemala and El
Salvador (which countries send, by which means, from which departments, in which months), rounded:
they make the demo look like the region, they are not statistics.

Speed matters: linkage benchmarks draw a million records, so the hot loop samples from
precomputed cumulative weights with `bisect` rather than calling `random.choices`.
"""

from __future__ import annotations

import csv
import datetime
import functools
import random
from bisect import bisect
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

T = TypeVar("T")

DEFAULT_SEED = 2016  # the year of the Honduran pro-tempore presidency's work plan
DEFAULT_REFERENCE_DATE = datetime.date(2026, 6, 30)
DEFAULT_YEARS = 4
DEFAULT_REPEAT_SHARE = 0.04

RECEIVING_COUNTRIES = ("HN", "GT", "SV")
SENDING_COUNTRIES = ("US", "MX")

AIR = "air"
LAND = "land"

# Reception-centre kinds of core.models.ReceptionCentreKind, by means of return.
CENTRE_KIND_BY_MEANS = {AIR: "airport", LAND: "land-border"}

SINGLE = "single"
FAMILY = "family"
UNACCOMPANIED = "unaccompanied"

PARENT = "parent"
CHILD = "child"

FEMALE = "F"
MALE = "M"


# --- Weight tables ------------------------------------------------------------------------------

RECEIVING_WEIGHTS: Sequence[tuple[str, float]] = (("HN", 44), ("GT", 41), ("SV", 15))

SENDING_WEIGHTS: dict[str, Sequence[tuple[str, float]]] = {
    "HN": (("US", 45), ("MX", 55)),
    "GT": (("US", 52), ("MX", 48)),
    "SV": (("US", 62), ("MX", 38)),
}

# Who travels: a single adult, a family (parents with their children), or a child alone.
# Tuned so that about one returnee in ten is a minor, a third of them unaccompanied.
UNIT_WEIGHTS: dict[str, Sequence[tuple[str, float]]] = {
    "US": ((SINGLE, 945), (FAMILY, 38), (UNACCOMPANIED, 17)),
    "MX": ((SINGLE, 910), (FAMILY, 45), (UNACCOMPANIED, 45)),
}

# Removal flights from the United States; buses from Mexico, with some flights.
MEANS_WEIGHTS: dict[tuple[str, str], Sequence[tuple[str, float]]] = {
    ("US", SINGLE): ((AIR, 97), (LAND, 3)),
    ("US", FAMILY): ((AIR, 98), (LAND, 2)),
    ("US", UNACCOMPANIED): ((AIR, 95), (LAND, 5)),
    ("MX", SINGLE): ((LAND, 86), (AIR, 14)),
    ("MX", FAMILY): ((LAND, 80), (AIR, 20)),
    ("MX", UNACCOMPANIED): ((LAND, 96), (AIR, 4)),
}

# January to December: fewer returns around the year's end, more in spring and summer.
MONTH_WEIGHTS = (0.80, 0.92, 1.10, 1.08, 1.15, 1.10, 1.05, 1.06, 1.00, 1.02, 0.92, 0.70)
# Monday to Sunday: flights and buses run on working days.
WEEKDAY_WEIGHTS = (1.00, 1.05, 1.05, 1.05, 1.00, 0.45, 0.20)

# (youngest, oldest, weight) bands of age on the day of return.
ADULT_AGES = ((18, 24, 31), (25, 29, 22), (30, 34, 17), (35, 39, 12), (40, 49, 12), (50, 64, 6))
PARENT_AGES = ((19, 24, 20), (25, 34, 50), (35, 44, 25), (45, 54, 5))
CHILD_AGES = ((0, 4, 35), (5, 9, 30), (10, 13, 20), (14, 17, 15))
UNACCOMPANIED_AGES = ((8, 11, 4), (12, 13, 10), (14, 15, 30), (16, 17, 56))

# Share of men among adults travelling alone, by sending country; among children alone; among
# parents travelling without the other parent.
SINGLE_MALE_SHARE = {"US": 0.84, "MX": 0.74}
UNACCOMPANIED_MALE_SHARE = 0.72
SINGLE_PARENT_FEMALE_SHARE = 0.78

PARENTS_IN_FAMILY = ((1, 75), (2, 25))
CHILDREN_IN_FAMILY = ((1, 42), (2, 33), (3, 17), (4, 8))
# A child of a family returned from the United States may have been born there.
US_BORN_SHARE_UNDER_8 = 0.30
# A mother travelling alone with her children: their first surname is the absent father's,
# or, when he did not recognise them, hers.
CHILD_TAKES_MOTHERS_SURNAMES_SHARE = 0.35

BIRTH_DATE_PRECISION = (("day", 86), ("month", 5), ("year", 9))
COMPOUND_GIVEN_NAME_SHARE = 0.55
FIXED_COMPOUND_SHARE = 0.5
NATIONAL_ID_SHARE = 0.72
PASSPORT_SHARE = {"US": 0.30, "MX": 0.08}
PHONE_SHARE = 0.65

# fmt: off
# Departments of origin, weighted like returns in national statistics.
SUBDIVISION_WEIGHTS: dict[str, Sequence[tuple[str, float]]] = {
    "HN": (
        ("HN-CR", 20), ("HN-FM", 14), ("HN-YO", 9), ("HN-OL", 8), ("HN-AT", 6), ("HN-CP", 6),
        ("HN-CM", 6), ("HN-SB", 6), ("HN-CH", 4), ("HN-EP", 4), ("HN-CL", 4), ("HN-LE", 3),
        ("HN-IN", 2.5), ("HN-OC", 2), ("HN-LP", 2), ("HN-VA", 1.5), ("HN-IB", 0.5),
        ("HN-GD", 0.5),
    ),
    "GT": (
        ("GT-13", 17), ("GT-12", 13), ("GT-01", 10), ("GT-09", 7), ("GT-16", 6), ("GT-14", 6),
        ("GT-17", 5), ("GT-05", 4), ("GT-04", 4), ("GT-08", 4), ("GT-22", 3), ("GT-07", 3),
        ("GT-10", 3), ("GT-18", 2.5), ("GT-11", 2.5), ("GT-06", 2), ("GT-20", 2), ("GT-21", 1.5),
        ("GT-19", 1.5), ("GT-15", 1.5), ("GT-03", 1.5), ("GT-02", 1),
    ),
    "SV": (
        ("SV-SS", 20), ("SV-SM", 12), ("SV-LI", 10), ("SV-US", 9), ("SV-UN", 8), ("SV-SA", 7),
        ("SV-SO", 6), ("SV-MO", 5), ("SV-AH", 5), ("SV-PA", 5), ("SV-CA", 4), ("SV-CH", 4),
        ("SV-SV", 3), ("SV-CU", 3),
    ),
}

# Honduras numbers its departments for the identity card (DNI): first two digits.
HN_DEPARTMENT_NUMBERS = {
    "HN-AT": 1, "HN-CL": 2, "HN-CM": 3, "HN-CP": 4, "HN-CR": 5, "HN-CH": 6, "HN-EP": 7,
    "HN-FM": 8, "HN-GD": 9, "HN-IN": 10, "HN-IB": 11, "HN-LP": 12, "HN-LE": 13, "HN-OC": 14,
    "HN-OL": 15, "HN-SB": 16, "HN-VA": 17, "HN-YO": 18,
}

# Surnames by country, most frequent first; weights fall off with rank (see _zipf).
SURNAMES: dict[str, tuple[str, ...]] = {
    "HN": (
        "Hernández", "López", "Martínez", "Rodríguez", "García", "Flores", "Reyes", "Mejía",
        "Sánchez", "Cruz", "Pérez", "Gómez", "Díaz", "Ramírez", "Castillo", "Aguilar", "Romero",
        "Zelaya", "Ramos", "Murillo", "Orellana", "Maradiaga", "Velásquez", "Mendoza", "Chávez",
        "Castro", "Funes", "Matute", "Euceda", "Banegas", "Cálix", "Zúniga", "Alvarado", "Paz",
        "Padilla", "Ordóñez", "Vásquez", "Espinoza", "Amador", "Cárcamo", "Bonilla", "Andino",
        "Salgado", "Fúnez", "Rivera", "Portillo", "Del Cid", "Argueta", "Midence", "Guzmán",
    ),
    "GT": (
        "López", "García", "Pérez", "Hernández", "Gómez", "Ramírez", "Morales", "González",
        "Martínez", "Rodríguez", "Méndez", "Chávez", "Juárez", "Vásquez", "Castillo", "Orozco",
        "Fuentes", "Mejía", "Ramos", "Jiménez", "Escobar", "Cifuentes", "Barrios", "De León",
        "Velásquez", "Monterroso", "Recinos", "Girón", "Aguilar", "Sandoval", "Ortiz", "Ajú",
        "Cabrera", "Samayoa", "Figueroa", "Alvarado", "Xicará", "Estrada", "Quiñónez", "Cardona",
        "De la Cruz", "Muñoz", "Marroquín", "Tobar", "Bámaca", "Yax", "Rosales", "Salazar",
    ),
    "SV": (
        "Hernández", "Martínez", "López", "García", "Rodríguez", "Ramírez", "Flores", "Pérez",
        "Rivera", "Cruz", "Gómez", "Sánchez", "Mejía", "Ramos", "Reyes", "Romero", "Portillo",
        "Guevara", "Alvarado", "Chicas", "Ayala", "Argueta", "Orellana", "Vásquez", "Villalobos",
        "Menjívar", "Quintanilla", "Amaya", "Díaz", "Escobar", "Henríquez", "Guardado", "Bonilla",
        "Castillo", "Aguilar", "Molina", "Campos", "Velásquez", "Benítez", "Granados", "Zelaya",
        "Alfaro", "Cortez", "Lemus", "Mendoza", "Ventura", "Canales", "Deras", "Rivas", "Urquilla",
    ),
}

# In some Guatemalan departments, half of the surnames are Mayan ones of the area.
REGIONAL_SURNAMES: dict[str, tuple[str, ...]] = {
    "GT-16": ("Caal", "Choc", "Pop", "Xol", "Cú", "Tiul", "Maquín", "Coc", "Ical", "Botzoc"),
    "GT-13": ("Domingo", "Pascual", "Mateo", "Francisco", "Diego", "Andrés", "Tomás", "Gaspar"),
    "GT-14": ("Tzoc", "Ixcoy", "Us", "Ixchop", "Tum", "Sic", "Lux", "Chitic", "Xiloj"),
    "GT-08": ("Tzul", "Batz", "Chuc", "Ajanel", "Tax", "Chaclán", "Vicente", "Tzunún"),
    "GT-07": ("Sajché", "Ixtos", "Chumil", "Xoc", "Coj", "Tuy", "Cumes", "Julajuj"),
}
REGIONAL_SURNAME_SHARE = 0.5

GIVEN_NAMES: dict[str, tuple[str, ...]] = {
    MALE: (
        "José", "Juan", "Luis", "Carlos", "Jorge", "Mario", "Kevin", "Marvin", "Óscar", "Miguel",
        "Francisco", "Pedro", "Jesús", "Manuel", "Wilmer", "Edwin", "Selvin", "Elmer", "Brayan",
        "Josué", "Ángel", "Cristian", "Darwin", "Nelson", "Héctor", "Erick", "Walter", "Denis",
        "Fredy", "Mauricio", "Fernando", "Santos", "Nery", "Byron", "Julio", "César", "David",
        "Daniel", "Alexander", "Anderson", "Axel", "Jonathan", "Wilson", "Antonio", "Roberto",
        "Ramón", "Alberto", "Rigoberto", "Geovanny", "Noé", "Omar", "Armando", "Javier",
        "Efraín", "Adán", "Joel", "Iván", "Andrés", "Tomás", "Gaspar",
    ),
    FEMALE: (
        "María", "Ana", "Rosa", "Karla", "Dania", "Gabriela", "Andrea", "Daniela", "Alejandra",
        "Sofía", "Lesly", "Yessenia", "Glenda", "Marta", "Reina", "Sonia", "Delmy", "Lourdes",
        "Patricia", "Brenda", "Fátima", "Evelyn", "Yolanda", "Ingrid", "Wendy", "Suyapa",
        "Lilian", "Carmen", "Elena", "Leticia", "Mirna", "Heidy", "Dayana", "Génesis", "Nicole",
        "Valeria", "Kimberly", "Yaritza", "Jennifer", "Marisol", "Nohemí", "Yamileth",
        "Carolina", "Elizabeth", "Paola", "Maribel", "Guadalupe", "Lucía", "Esther", "Belén",
        "Iris", "Keyla", "Cindy", "Joselyn", "Mayra",
    ),
}
# First parts of compound names drawn as two names.
COMPOUND_LEADS: dict[str, tuple[str, ...]] = {
    MALE: ("José", "Juan", "Luis", "Carlos", "Jorge", "Kevin", "Marvin", "Mario", "Óscar",
           "Edwin", "Selvin", "Elmer", "Denis", "Josué", "Ángel", "Brayan"),
    FEMALE: ("María", "Ana", "Rosa", "Karla", "Dania", "Glenda", "Lesly", "Sonia", "Ingrid",
             "Kenia", "Sandra", "Keyla", "Cindy", "Wendy"),
}
# Compound names common enough to be names of their own.
FIXED_COMPOUNDS: dict[str, tuple[str, ...]] = {
    MALE: ("José Luis", "Juan Carlos", "José Antonio", "Luis Fernando", "Carlos Alberto",
           "Jorge Alberto", "Juan José", "José Manuel", "José Ángel", "Kevin Josué",
           "Mario Roberto", "Óscar Armando", "José de Jesús", "Juan Pablo", "Luis Alonso",
           "Héctor Manuel", "Denis Javier", "Elmer Noé", "Selvin Josué", "Marvin Omar"),
    FEMALE: ("María José", "María Fernanda", "Ana María", "María Elena", "Rosa María",
             "Ana Lucía", "María de los Ángeles", "Karla Patricia", "Dania Yamileth",
             "Sandra Elizabeth", "Glenda Suyapa", "Lesly Carolina", "Kenia Marisol",
             "Ingrid Paola", "Sonia Maribel", "Keyla Nohemí", "María Guadalupe", "Ana Gabriela",
             "Cindy Yaneth", "María Belén"),
}
# fmt: on

PHONE_PREFIXES = {"HN": ("+504", "389"), "GT": ("+502", "345"), "SV": ("+503", "67")}
PASSPORT_LETTERS = {"HN": "F", "GT": "G", "SV": "B"}

# Used when the reference data (core/data/reception_centres.csv) has no centre of a kind.
FALLBACK_CENTRES: dict[tuple[str, str], Sequence[tuple[str, float]]] = {
    ("HN", "airport"): (("Centro de Atención al Migrante Retornado (CAMR) San Pedro Sula", 1),),
    ("HN", "land-border"): (("Centro de Atención al Migrante Retornado (CAMR) Omoa", 1),),
    ("GT", "airport"): (("Centro de Recepción de Retornados, Fuerza Aérea Guatemalteca", 1),),
    ("GT", "land-border"): (("Centro de Recepción de Retornados Tecún Umán", 1),),
    ("SV", "airport"): (
        ("Recepción de retornados, Aeropuerto Internacional Monseñor Óscar Arnulfo Romero", 1),
    ),
    ("SV", "land-border"): (("Centro de Atención Integral al Migrante (CAIM)", 1),),
}
# Centres run by a child-protection authority (acronyms of core/data/organisations.csv) receive
# the children and families of their kind; the other centres receive the adults alone.
CHILD_PROTECTION_OPERATORS = frozenset({"DINAF"})
RECEPTION_CENTRES_CSV = (
    Path(__file__).resolve().parent.parent / "core" / "data" / ("reception_centres.csv")
)


# --- Records ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DemoPerson:
    """Who returned. `key` is unique within one generation and identifies the true person, so
    linkage tests can score matches; it is not stored."""

    key: int
    given_names: str
    first_surname: str
    second_surname: str
    sex: str  # people.models.Sex: "F" or "M"
    birth_year: int
    birth_month: int | None
    birth_day: int | None
    nationality: str  # ISO 3166-1 alpha-2
    subdivision: str  # ISO 3166-2 code of the subdivision of origin
    is_child: bool  # under 18 at their first return
    is_unaccompanied: bool  # a child who came back without a parent or guardian
    national_id: str  # "" when the person had none
    passport: str
    phone: str


@dataclass(frozen=True, slots=True)
class DemoReturn:
    """How and when they came back. Members of a family share one."""

    date: datetime.date
    sending_country: str  # "US" or "MX"
    receiving_country: str  # "HN", "GT" or "SV"
    means: str  # "air" or "land"
    reception_centre: str  # name of a core.ReceptionCentre of the receiving country


@dataclass(frozen=True, slots=True)
class DemoReturnee:
    """One return of one person."""

    person: DemoPerson
    event: DemoReturn
    family_group: int | None  # shared by the parents and children returned together
    family_role: str  # "parent", "child" or "" when not in a family
    is_repeat: bool  # this person had already come back earlier in the data


# --- Sampling helpers ---------------------------------------------------------------------------


class _Weighted(Generic[T]):
    """Values with weights, sampled by bisecting cumulative weights."""

    __slots__ = ("values", "cumulative", "total", "last")

    def __init__(self, pairs: Sequence[tuple[T, float]]) -> None:
        self.values = [value for value, _weight in pairs]
        self.cumulative: list[float] = []
        running = 0.0
        for _value, weight in pairs:
            running += weight
            self.cumulative.append(running)
        self.total = running
        self.last = len(self.values) - 1

    def pick(self, rand: Callable[[], float]) -> T:
        return self.values[bisect(self.cumulative, rand() * self.total, 0, self.last)]


def _zipf(values: Sequence[str], offset: float = 3.0) -> _Weighted[str]:
    """Weights falling off with rank, as name frequencies do."""
    return _Weighted([(value, 1.0 / (rank + offset)) for rank, value in enumerate(values)])


def _age_table(bands: Sequence[tuple[int, int, float]]) -> _Weighted[int]:
    return _Weighted(
        [
            (age, weight / (high - low + 1))
            for low, high, weight in bands
            for age in range(low, high + 1)
        ]
    )


def _centre_rows(path: Path) -> Iterator[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        lines = (line for line in handle if line.strip() and not line.lstrip().startswith("#"))
        yield from csv.DictReader(lines)


@functools.cache
def reception_centres() -> dict[tuple[str, str, bool], tuple[tuple[str, float], ...]]:
    """Centre names weighted by daily capacity, by (country, kind, receives children), from the
    reference data, with FALLBACK_CENTRES for any country and kind it lacks."""
    adults: dict[tuple[str, str], list[tuple[str, float]]] = {}
    children: dict[tuple[str, str], list[tuple[str, float]]] = {}
    if RECEPTION_CENTRES_CSV.exists():
        for row in _centre_rows(RECEPTION_CENTRES_CSV):
            country = (row.get("country") or "").strip().upper()
            kind = (row.get("kind") or "").strip()
            name = (row.get("name") or "").strip()
            if not (country and kind and name):
                continue
            try:
                weight = float(row.get("daily_capacity") or 1) or 1.0
            except ValueError:
                weight = 1.0
            operator = (row.get("operator") or "").strip()
            table = children if operator in CHILD_PROTECTION_OPERATORS else adults
            table.setdefault((country, kind), []).append((name, weight))
    centres: dict[tuple[str, str, bool], tuple[tuple[str, float], ...]] = {}
    for key in {*FALLBACK_CENTRES, *adults, *children}:
        general = adults.get(key) or children.get(key) or FALLBACK_CENTRES[key]
        centres[(*key, False)] = tuple(general)
        centres[(*key, True)] = tuple(children.get(key) or general)
    return centres


def _calendar(
    reference_date: datetime.date, years: int
) -> tuple[datetime.date, _Weighted[datetime.date]]:
    """Every day of the `years` years up to the reference date (whole months, and the part of
    the reference date's month), weighted by month and weekday."""
    if reference_date.month == 12:
        first = datetime.date(reference_date.year - years + 1, 1, 1)
    else:
        first = datetime.date(reference_date.year - years, reference_date.month + 1, 1)
    days = []
    day = first
    one_day = datetime.timedelta(days=1)
    while day <= reference_date:
        days.append((day, MONTH_WEIGHTS[day.month - 1] * WEEKDAY_WEIGHTS[day.weekday()]))
        day += one_day
    return first, _Weighted(days)


class _Tables:
    """Every weight table made ready for sampling, once per generation."""

    def __init__(self, reference_date: datetime.date, years: int) -> None:
        self.receiving = _Weighted(RECEIVING_WEIGHTS)
        self.sending = {country: _Weighted(w) for country, w in SENDING_WEIGHTS.items()}
        self.unit = {country: _Weighted(w) for country, w in UNIT_WEIGHTS.items()}
        self.means = {key: _Weighted(w) for key, w in MEANS_WEIGHTS.items()}
        self.first_day, self.days = _calendar(reference_date, years)
        self.adult_age = _age_table(ADULT_AGES)
        self.parent_age = _age_table(PARENT_AGES)
        self.child_age = _age_table(CHILD_AGES)
        self.unaccompanied_age = _age_table(UNACCOMPANIED_AGES)
        self.parents = _Weighted(PARENTS_IN_FAMILY)
        self.children = _Weighted(CHILDREN_IN_FAMILY)
        self.precision = _Weighted(BIRTH_DATE_PRECISION)
        self.subdivision = {c: _Weighted(w) for c, w in SUBDIVISION_WEIGHTS.items()}
        self.surname = {country: _zipf(names) for country, names in SURNAMES.items()}
        self.regional_surname = {code: _zipf(n, 2.0) for code, n in REGIONAL_SURNAMES.items()}
        self.given = {sex: _zipf(names, 4.0) for sex, names in GIVEN_NAMES.items()}
        self.lead = {sex: _zipf(names, 2.0) for sex, names in COMPOUND_LEADS.items()}
        self.fixed_compound = {sex: _zipf(n, 4.0) for sex, n in FIXED_COMPOUNDS.items()}
        self.centre = {key: _Weighted(w) for key, w in reception_centres().items()}


# --- The generator ------------------------------------------------------------------------------


class _Generator:
    def __init__(
        self, *, seed: int, reference_date: datetime.date, years: int, repeat_share: float
    ) -> None:
        self.rng = random.Random(seed)
        self.rand = self.rng.random
        self.tables = _Tables(reference_date, years)
        self.repeat_share = repeat_share
        self.next_key = 0
        self.next_family = 0
        # Adults who may come back again; bounded so a million records stay in little memory.
        self.returned_adults: deque[tuple[DemoPerson, datetime.date]] = deque(maxlen=50_000)

    def randint(self, low: int, high: int) -> int:
        """Like random.randint, several times faster (its bias is far below what matters)."""
        return low + int(self.rand() * (high - low + 1))

    # Names ---------------------------------------------------------------------------------

    def surname(self, country: str, subdivision: str) -> str:
        regional = self.tables.regional_surname.get(subdivision)
        if regional is not None and self.rand() < REGIONAL_SURNAME_SHARE:
            return regional.pick(self.rand)
        return self.tables.surname[country].pick(self.rand)

    def given_names(self, sex: str) -> str:
        rand = self.rand
        tables = self.tables
        if rand() >= COMPOUND_GIVEN_NAME_SHARE:
            return tables.given[sex].pick(rand)
        if rand() < FIXED_COMPOUND_SHARE:
            return tables.fixed_compound[sex].pick(rand)
        lead = tables.lead[sex].pick(rand)
        second = tables.given[sex].pick(rand)
        while second == lead:
            second = tables.given[sex].pick(rand)
        return f"{lead} {second}"

    # Identity ------------------------------------------------------------------------------

    def birth(self, day: datetime.date, age: int) -> tuple[int, int | None, int | None]:
        born = datetime.date.fromordinal(day.toordinal() - int((age + self.rand()) * 365.2425) + 1)
        precision = self.tables.precision.pick(self.rand)
        if precision == "day":
            return born.year, born.month, born.day
        if precision == "month":
            return born.year, born.month, None
        return born.year, None, None

    def national_id(self, country: str, subdivision: str, birth_year: int) -> str:
        randint = self.randint
        if country == "HN":
            department = HN_DEPARTMENT_NUMBERS[subdivision]
            return f"{department:02d}{randint(1, 12):02d}-{birth_year}-{randint(1, 99999):05d}"
        if country == "GT":
            serial = randint(1_000_000, 99_999_999)
            return f"{serial:08d}{randint(0, 9)}{int(subdivision[3:]):02d}{randint(1, 20):02d}"
        digits = f"{randint(0, 99_999_999):08d}"
        check = -sum(int(d) * w for d, w in zip(digits, range(9, 1, -1), strict=True)) % 10
        return f"{digits}-{check}"

    def phone(self, country: str) -> str:
        code, firsts = PHONE_PREFIXES[country]
        first = firsts[int(self.rand() * len(firsts))]
        number = self.randint(0, 9_999_999)
        return f"{code} {first}{number // 10000:03d}-{number % 10000:04d}"

    def person(
        self,
        *,
        sex: str,
        age: int,
        event: DemoReturn,
        subdivision: str,
        given_names: str | None = None,
        surnames: tuple[str, str] | None = None,
        nationality: str | None = None,
        is_unaccompanied: bool = False,
    ) -> DemoPerson:
        rand = self.rand
        country = event.receiving_country
        birth_year, birth_month, birth_day = self.birth(event.date, age)
        adult = age >= 18
        first_surname, second_surname = surnames or (
            self.surname(country, subdivision),
            self.surname(country, subdivision),
        )
        nationality = nationality or country
        key = self.next_key
        self.next_key += 1
        return DemoPerson(
            key=key,
            given_names=given_names or self.given_names(sex),
            first_surname=first_surname,
            second_surname=second_surname,
            sex=sex,
            birth_year=birth_year,
            birth_month=birth_month,
            birth_day=birth_day,
            nationality=nationality,
            subdivision=subdivision,
            is_child=not adult,
            is_unaccompanied=is_unaccompanied,
            national_id=(
                self.national_id(country, subdivision, birth_year)
                if adult and nationality == country and rand() < NATIONAL_ID_SHARE
                else ""
            ),
            passport=(
                f"{PASSPORT_LETTERS[country]}{self.randint(0, 9_999_999):07d}"
                if nationality == country and rand() < PASSPORT_SHARE[event.sending_country]
                else ""
            ),
            phone=self.phone(country) if adult and rand() < PHONE_SHARE else "",
        )

    # Units ---------------------------------------------------------------------------------

    def event(self, unit: str, receiving: str, sending: str) -> DemoReturn:
        tables = self.tables
        means = tables.means[(sending, unit)].pick(self.rand)
        centre_key = (receiving, CENTRE_KIND_BY_MEANS[means], unit != SINGLE)
        return DemoReturn(
            date=tables.days.pick(self.rand),
            sending_country=sending,
            receiving_country=receiving,
            means=means,
            reception_centre=tables.centre[centre_key].pick(self.rand),
        )

    def single(self, receiving: str, sending: str) -> DemoReturnee:
        rand = self.rand
        if self.returned_adults and rand() < self.repeat_share:
            # An adult who had come back alone before comes back again, to their own country.
            earlier, earlier_date = self.returned_adults[int(rand() * len(self.returned_adults))]
            sending = self.tables.sending[earlier.nationality].pick(rand)
            event = self.event(SINGLE, earlier.nationality, sending)
            if event.date != earlier_date:
                return DemoReturnee(earlier, event, None, "", True)
        event = self.event(SINGLE, receiving, sending)
        sex = MALE if rand() < SINGLE_MALE_SHARE[sending] else FEMALE
        subdivision = self.tables.subdivision[receiving].pick(rand)
        person = self.person(
            sex=sex, age=self.tables.adult_age.pick(rand), event=event, subdivision=subdivision
        )
        self.returned_adults.append((person, event.date))
        return DemoReturnee(person, event, None, "", False)

    def unaccompanied(self, receiving: str, sending: str) -> DemoReturnee:
        rand = self.rand
        event = self.event(UNACCOMPANIED, receiving, sending)
        sex = MALE if rand() < UNACCOMPANIED_MALE_SHARE else FEMALE
        person = self.person(
            sex=sex,
            age=self.tables.unaccompanied_age.pick(rand),
            event=event,
            subdivision=self.tables.subdivision[receiving].pick(rand),
            is_unaccompanied=True,
        )
        return DemoReturnee(person, event, None, "", False)

    def family(self, receiving: str, sending: str, room: int) -> list[DemoReturnee]:
        """Parents with their children, at most `room` persons (at least two)."""
        rand = self.rand
        tables = self.tables
        event = self.event(FAMILY, receiving, sending)
        subdivision = tables.subdivision[receiving].pick(rand)
        parent_count = min(tables.parents.pick(rand), room - 1)
        child_count = min(tables.children.pick(rand), room - parent_count)
        group = self.next_family
        self.next_family += 1

        if parent_count == 2:
            parent_sexes = [MALE, FEMALE]
        else:
            parent_sexes = [FEMALE if rand() < SINGLE_PARENT_FEMALE_SHARE else MALE]
        parents = [
            self.person(
                sex=sex, age=tables.parent_age.pick(rand), event=event, subdivision=subdivision
            )
            for sex in parent_sexes
        ]
        father = next((p for p in parents if p.sex == MALE), None)
        mother = next((p for p in parents if p.sex == FEMALE), None)
        # Spanish naming: the father's first surname, then the mother's first surname.
        if father is not None and mother is not None:
            child_surnames = (father.first_surname, mother.first_surname)
        elif mother is not None:
            if rand() < CHILD_TAKES_MOTHERS_SURNAMES_SHARE:
                child_surnames = (mother.first_surname, mother.second_surname)
            else:
                child_surnames = (self.surname(receiving, subdivision), mother.first_surname)
        else:
            assert father is not None  # noqa: S101 (one parent at least, by construction)
            child_surnames = (father.first_surname, self.surname(receiving, subdivision))

        members = [DemoReturnee(parent, event, group, PARENT, False) for parent in parents]
        youngest_parent_age = min(event.date.year - p.birth_year for p in parents)
        for _ in range(child_count):
            age = min(tables.child_age.pick(rand), max(youngest_parent_age - 16, 0))
            nationality = (
                "US" if sending == "US" and age < 8 and rand() < US_BORN_SHARE_UNDER_8 else None
            )
            child = self.person(
                sex=MALE if rand() < 0.5 else FEMALE,
                age=age,
                event=event,
                subdivision=subdivision,
                surnames=child_surnames,
                nationality=nationality,
            )
            members.append(DemoReturnee(child, event, group, CHILD, False))
        return members

    def records(self, count: int) -> Iterator[DemoReturnee]:
        rand = self.rand
        tables = self.tables
        produced = 0
        while produced < count:
            receiving = tables.receiving.pick(rand)
            sending = tables.sending[receiving].pick(rand)
            unit = tables.unit[sending].pick(rand)
            room = count - produced
            if unit == FAMILY and room >= 2:
                members = self.family(receiving, sending, room)
                produced += len(members)
                yield from members
            elif unit == UNACCOMPANIED:
                produced += 1
                yield self.unaccompanied(receiving, sending)
            else:
                produced += 1
                yield self.single(receiving, sending)


def generate_returnees(
    count: int,
    *,
    seed: int = DEFAULT_SEED,
    reference_date: datetime.date = DEFAULT_REFERENCE_DATE,
    years: int = DEFAULT_YEARS,
    repeat_share: float = DEFAULT_REPEAT_SHARE,
) -> Iterator[DemoReturnee]:
    """`count` returns over the `years` years (and the part of a month) up to
    `reference_date`, in the order they were drawn (not by date). The same arguments give the
    same records."""
    if count < 0:
        raise ValueError("count must not be negative")
    if years < 1:
        raise ValueError("years must be at least 1")
    generator = _Generator(
        seed=seed, reference_date=reference_date, years=years, repeat_share=repeat_share
    )
    return generator.records(count)
