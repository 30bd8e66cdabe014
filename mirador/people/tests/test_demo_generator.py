"""The demo region's generator: seeded, and shaped like the region's returns."""

from __future__ import annotations

import collections
import datetime
import math

import pycountry
import pytest

from mirador.core.models import ReceptionCentre
from mirador.people.demo import (
    AIR,
    CENTRE_KIND_BY_MEANS,
    CHILD,
    LAND,
    MONTH_WEIGHTS,
    PARENT,
    DemoReturnee,
    generate_returnees,
)

COUNT = 20_000
REFERENCE_DATE = datetime.date(2026, 6, 30)


@pytest.fixture(scope="module")
def records() -> list[DemoReturnee]:
    return list(generate_returnees(COUNT, seed=11, reference_date=REFERENCE_DATE))


def share(part: int, whole: int) -> float:
    return part / whole


def test_the_same_seed_gives_the_same_records() -> None:
    first = list(generate_returnees(3000, seed=5, reference_date=REFERENCE_DATE))
    again = list(generate_returnees(3000, seed=5, reference_date=REFERENCE_DATE))
    assert first == again


def test_different_seeds_give_different_records() -> None:
    one = list(generate_returnees(500, seed=1))
    other = list(generate_returnees(500, seed=2))
    assert one != other
    assert {r.person.given_names for r in one} != {r.person.given_names for r in other}


def test_it_yields_exactly_the_number_of_returns_asked_for() -> None:
    for count in (0, 1, 2, 7, 1000):
        assert len(list(generate_returnees(count, seed=count))) == count


def test_about_one_returnee_in_ten_is_a_minor(records: list[DemoReturnee]) -> None:
    minors = sum(r.person.is_child for r in records)
    # Five standard errors of a proportion, widened threefold in variance because the children
    # of a family are drawn together.
    tolerance = 5 * math.sqrt(3 * 0.1 * 0.9 / len(records))
    assert abs(share(minors, len(records)) - 0.10) < tolerance


def test_some_minors_come_back_unaccompanied_mostly_teenagers_by_land_from_mexico(
    records: list[DemoReturnee],
) -> None:
    alone = [r for r in records if r.person.is_unaccompanied]
    minors = [r for r in records if r.person.is_child]
    assert 0.1 < share(len(alone), len(minors)) < 0.6
    assert all(r.person.is_child and r.family_group is None for r in alone)
    teenagers = sum(14 <= r.event.date.year - r.person.birth_year <= 18 for r in alone)
    assert share(teenagers, len(alone)) > 0.75
    by_land_from_mexico = sum(
        r.event.sending_country == "MX" and r.event.means == LAND for r in alone
    )
    assert share(by_land_from_mexico, len(alone)) > 0.5


def test_names_are_spanish_with_two_surnames_compound_given_names_and_accents(
    records: list[DemoReturnee],
) -> None:
    persons = [r.person for r in records]
    assert all(p.given_names and p.first_surname and p.second_surname for p in persons)
    compound = [p.given_names for p in persons if " " in p.given_names]
    assert 0.3 < share(len(compound), len(persons)) < 0.8
    assert {"José Luis", "María Fernanda"} <= set(compound)
    accented = [p for p in persons if not (p.given_names + p.first_surname).isascii()]
    assert share(len(accented), len(persons)) > 0.2
    assert any(p.first_surname == "Hernández" for p in persons)


def test_some_birth_dates_are_known_only_in_part(records: list[DemoReturnee]) -> None:
    persons = [r.person for r in records]
    year_only = [p for p in persons if p.birth_month is None]
    year_and_month = [p for p in persons if p.birth_month is not None and p.birth_day is None]
    assert year_only and year_and_month
    assert all(p.birth_day is None for p in year_only)
    assert share(len(year_only) + len(year_and_month), len(persons)) < 0.3


def test_return_dates_cover_at_least_three_years_up_to_the_reference_date(
    records: list[DemoReturnee],
) -> None:
    dates = [r.event.date for r in records]
    assert max(dates) <= REFERENCE_DATE
    assert (max(dates) - min(dates)).days >= 3 * 365


def test_returns_are_seasonal(records: list[DemoReturnee]) -> None:
    dates = [r.event.date for r in records]
    first, last = min(dates), max(dates)
    days_per_month = collections.Counter(
        (first + datetime.timedelta(days=d)).month for d in range((last - first).days + 1)
    )
    observed = collections.Counter(day.month for day in dates)
    total_days = sum(days_per_month.values())
    # Chi-square against returns spread evenly over the days: far above the 0.1% critical
    # value of 31.26 for 11 degrees of freedom.
    chi_square = sum(
        (observed[month] - len(dates) * days / total_days) ** 2 / (len(dates) * days / total_days)
        for month, days in days_per_month.items()
    )
    assert chi_square > 31.26
    busiest = max(range(1, 13), key=lambda m: observed[m] / days_per_month[m])
    quietest = min(range(1, 13), key=lambda m: observed[m] / days_per_month[m])
    assert busiest in {3, 4, 5, 6, 7, 8}  # spring and summer
    assert quietest == MONTH_WEIGHTS.index(min(MONTH_WEIGHTS)) + 1  # December


def test_returns_come_from_the_united_states_by_air_and_from_mexico_mostly_by_land(
    records: list[DemoReturnee],
) -> None:
    events = [r.event for r in records]
    assert {e.receiving_country for e in events} == {"HN", "GT", "SV"}
    assert {e.sending_country for e in events} == {"US", "MX"}
    from_us = [e for e in events if e.sending_country == "US"]
    from_mexico = [e for e in events if e.sending_country == "MX"]
    assert share(sum(e.means == AIR for e in from_us), len(from_us)) > 0.9
    assert share(sum(e.means == LAND for e in from_mexico), len(from_mexico)) > 0.75


def test_subdivisions_of_origin_are_iso_codes_of_the_receiving_country_weighted_like_returns(
    records: list[DemoReturnee],
) -> None:
    for record in records:
        subdivision = pycountry.subdivisions.get(code=record.person.subdivision)
        assert subdivision is not None
        assert subdivision.country_code == record.event.receiving_country
    by_country: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for record in records:
        by_country[record.event.receiving_country][record.person.subdivision] += 1
    assert by_country["HN"].most_common(1)[0][0] == "HN-CR"  # Cortés
    assert by_country["GT"].most_common(1)[0][0] == "GT-13"  # Huehuetenango
    assert by_country["SV"].most_common(1)[0][0] == "SV-SS"  # San Salvador


@pytest.mark.django_db
def test_reception_centres_are_those_of_the_reference_data_for_the_country_and_means(
    records: list[DemoReturnee],
) -> None:
    centres = set(ReceptionCentre.objects.values_list("country_id", "kind", "name"))
    used = {
        (r.event.receiving_country, CENTRE_KIND_BY_MEANS[r.event.means], r.event.reception_centre)
        for r in records
    }
    assert used <= centres


def test_families_come_back_together_with_the_fathers_surname_first(
    records: list[DemoReturnee],
) -> None:
    families: dict[int, list[DemoReturnee]] = collections.defaultdict(list)
    for record in records:
        if record.family_group is not None:
            families[record.family_group].append(record)
    assert len(families) > 100
    for members in families.values():
        assert len({m.event for m in members}) == 1
        assert len({m.person.subdivision for m in members}) == 1
        parents = [m.person for m in members if m.family_role == PARENT]
        children = [m.person for m in members if m.family_role == CHILD]
        assert parents and children
        assert all(not p.is_child for p in parents)
        fathers = [p for p in parents if p.sex == "M"]
        mothers = [p for p in parents if p.sex == "F"]
        if fathers and mothers:
            assert all(
                (c.first_surname, c.second_surname)
                == (fathers[0].first_surname, mothers[0].first_surname)
                for c in children
            )


def test_some_adults_come_back_more_than_once(records: list[DemoReturnee]) -> None:
    repeats = [r for r in records if r.is_repeat]
    assert repeats
    assert all(not r.person.is_child and r.family_group is None for r in repeats)
    returns_per_person = collections.Counter(r.person.key for r in records)
    assert returns_per_person[repeats[0].person.key] >= 2
