"""Persons returned, and persons returned again: the observatory's "returns-persons" figures,
counted from the arrivals registered at a country's reception centres, beside the return
events of "returns-received" (returns.services.returns_received_rollup).

Several sources count events, not people (Mexico's returns statistics count repatriation
events); Mirador holds the case records, so it can say both, and how many of the persons
returned came back again within twelve months, a direct sign of whether reintegration holds
(D-S10). Definitions (docs/profiles.md, "Events and persons"):

- A **return** is an arrival at one of the country's reception centres, on its calendar day
  in Mirador's time zone. **Return events** ("return-events") count every arrival, with its
  own profile, as "returns-received" does, so that events and persons are compared on the
  same case records. Two arrivals of one person on one day are two events, one return day
  (a transfer, or a record entered twice): never a return "again".
- **Persons returned** (measure "persons-returned"): each person once a calendar year, in the
  month of their first return that year (the *index return*) and with its profile (country
  returned from, minor or adult). The months of a year therefore add up to the distinct
  persons of that year; over several years a person counts once a year.
- **Followed** ("persons-followed-12m"): the persons of a month whose twelve months after the
  index return have all elapsed on the day of the roll-up, that is, from the first day of the
  thirteenth month after it (January 2024 from 1 February 2025). Months still in follow-up
  have no figure: the rate is never computed on a window that is still open, which would
  understate it.
- **Returned again** ("persons-returned-again-12m"): of the followed, those with another
  return at the same country's centres on a later day, at most twelve calendar months after
  the index return (15 March 2024 up to 15 March 2025 included).
- The **re-return rate** of any selection is returned again / followed.

Only aggregates leave this module. The arrivals are read through `return_history` (the
arrival's day, country returned from, minor flag and the person's record key, which only tells
persons apart here and is never written anywhere); no identity field (name, birth, sex,
documents) is read: sex is identity data kept by `people`, so these figures have no breakdown
by sex, and subdivisions are left out to keep re-return cells large enough to publish.
"""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils import timezone

from mirador.core.models import Country, time_zone_named
from mirador.flows.services import ImportReport
from mirador.returns.models import Arrival
from mirador.returns.services import rollup_import

if TYPE_CHECKING:
    from mirador.accounts.models import User

PERSONS_FORMAT = "mirador-returns-persons"
PERSONS_DATASET = "returns-persons"
RETURN_EVENTS = "return-events"
PERSONS_RETURNED = "persons-returned"
PERSONS_FOLLOWED = "persons-followed-12m"
PERSONS_RETURNED_AGAIN = "persons-returned-again-12m"
MEASURES = (RETURN_EVENTS, PERSONS_RETURNED, PERSONS_FOLLOWED, PERSONS_RETURNED_AGAIN)
FOLLOW_UP_MONTHS = 12
PERSONS_COLUMNS = ("month", "reporting_country", "from_country", "age_group", "measure", "count")


@dataclass(frozen=True)
class ReturnDay:
    """One arrival of a person, as the figures need it."""

    day: datetime.date
    from_country: str  # ISO alpha-2, or "_U" when the registration did not say
    is_minor: bool


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The same day `months` calendar months later, or the month's last day when it has no
    such day (29 February 2024 + 12 months is 28 February 2025)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    next_month = datetime.date(year + month // 12, month % 12 + 1, 1)
    last_day = (next_month - datetime.timedelta(days=1)).day
    return datetime.date(year, month, min(day.day, last_day))


def follow_up_complete(month: datetime.date, *, as_of: datetime.date) -> bool:
    """Whether every index return of `month` (its first day) has had its twelve months."""
    return as_of >= add_months(month.replace(day=1), FOLLOW_UP_MONTHS + 1)


# --- reading the arrivals (aggregates only) ----------------------------------------------------


def return_history(
    *, country: Country, as_of: datetime.date
) -> Iterator[tuple[object, list[ReturnDay]]]:
    """Each person's returns at `country`'s centres up to `as_of`, in order: (an opaque key
    of the person, their return days). Reads the arrival's own fields only; the key tells
    persons apart within this computation and is not kept."""
    rows = (
        Arrival.objects.filter(centre__country=country)
        .order_by("person_id", "arrived_at", "pk")
        .values_list("person_id", "arrived_at", "centre__time_zone", "returned_from_id", "is_minor")
    )
    current: object = None
    days: list[ReturnDay] = []
    for person, arrived_at, zone, returned_from, is_minor in rows.iterator(chunk_size=5000):
        # The day it was at the centre, as the centre's own figures count it (ZoneInfo keeps
        # each zone it has built).
        day = arrived_at.astimezone(time_zone_named(zone)).date()
        if day > as_of:
            continue
        if person != current:
            if days:
                yield current, days
            current, days = person, []
        days.append(ReturnDay(day=day, from_country=returned_from or "_U", is_minor=is_minor))
    if days:
        yield current, days


# --- counting ----------------------------------------------------------------------------------


def _profile(event: ReturnDay) -> tuple[str, str]:
    return event.from_country, "Y_LT18" if event.is_minor else "Y_GE18"


def persons_counts(
    histories: Iterable[list[ReturnDay]], *, as_of: datetime.date
) -> Counter[tuple[str, str, str, str]]:
    """(month, country returned from, age group, measure) -> persons, from each person's
    return days in order (see the module's definitions)."""
    counts: Counter[tuple[str, str, str, str]] = Counter()
    for days in histories:
        for event in days:
            counts[(f"{event.day:%Y-%m}", *_profile(event), RETURN_EVENTS)] += 1
        seen_years: set[int] = set()
        for position, index in enumerate(days):
            if index.day.year in seen_years:
                continue
            seen_years.add(index.day.year)
            profile = (f"{index.day:%Y-%m}", *_profile(index))
            counts[(*profile, PERSONS_RETURNED)] += 1
            if not follow_up_complete(index.day, as_of=as_of):
                continue
            counts[(*profile, PERSONS_FOLLOWED)] += 1
            window_end = add_months(index.day, FOLLOW_UP_MONTHS)
            if any(index.day < later.day <= window_end for later in days[position + 1 :]):
                counts[(*profile, PERSONS_RETURNED_AGAIN)] += 1
    return counts


def country_persons_counts(
    *, country: Country, as_of: datetime.date
) -> Counter[tuple[str, str, str, str]]:
    return persons_counts(
        (days for _person, days in return_history(country=country, as_of=as_of)), as_of=as_of
    )


# --- the roll-up -------------------------------------------------------------------------------


def returns_persons_rollup(
    *, actor: User | None, country: Country, as_of: datetime.date | None = None
) -> ImportReport:
    """Count the persons returned to `country`'s centres, and those returned again, by month
    and profile, and import the counts into the observatory's "returns-persons" dataset as a
    corrected revision of source "mirador-returns-persons" (the months it covers replace
    that source's earlier figures, which stay in the history). `as_of`: the day of the
    roll-up (today by default): arrivals after it are not counted, and it decides which
    months' follow-up is over. The same counts make the same file, so a roll-up with nothing
    new changes nothing; a month's follow-up closing is something new. The counts go through
    a CSV kept in DATA_DIR/rollups/, so that the batch has a file, a hash and rows like any
    import."""
    day = as_of or timezone.localdate()
    counts = country_persons_counts(country=country, as_of=day)
    return rollup_import(
        actor=actor,
        name=f"returns-persons-{country.pk}",
        columns=PERSONS_COLUMNS,
        rows=[
            (month, country.pk, from_country, age_group, measure, str(count))
            for (month, from_country, age_group, measure), count in sorted(counts.items())
        ],
        format_code=PERSONS_FORMAT,
    )
