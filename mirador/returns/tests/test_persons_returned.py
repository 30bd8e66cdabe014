"""Persons returned and persons returned again within twelve months, counted from registered
arrivals: a return again within twelve months counts, one after thirteen months does not, two
arrivals on one day are two events of one person and no return again, and months still in
follow-up have no re-return figure. The roll-up imports the counts beside the return events."""

from __future__ import annotations

import datetime
from collections import Counter
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.utils import timezone

from mirador.accounts.models import User
from mirador.core.models import Country, ReceptionCentre
from mirador.flows.models import Observation
from mirador.flows.services import ImportOutcome
from mirador.people.selectors import person_get
from mirador.returns.models import Arrival
from mirador.returns.persons_returned import (
    PERSONS_FOLLOWED,
    PERSONS_RETURNED,
    PERSONS_RETURNED_AGAIN,
    RETURN_EVENTS,
    ReturnDay,
    add_months,
    follow_up_complete,
    persons_counts,
    return_history,
    returns_persons_rollup,
)
from mirador.returns.services import IdentityData, arrival_register, returns_received_rollup

D = datetime.date


def _days(*days: datetime.date, origin: str = "US", minor: bool = False) -> list[ReturnDay]:
    return [ReturnDay(day=day, from_country=origin, is_minor=minor) for day in days]


def _measure(counts: Counter[tuple[str, str, str, str]], measure: str) -> Counter[str]:
    totals: Counter[str] = Counter()
    for (month, _origin, _age, name), count in counts.items():
        if name == measure:
            totals[month] += count
    return totals


# --- the definitions, on constructed return histories -----------------------------------------


def test_twelve_calendar_months_end_on_the_same_day_or_the_months_last_day() -> None:
    assert add_months(D(2024, 3, 15), 12) == D(2025, 3, 15)
    assert add_months(D(2024, 2, 29), 12) == D(2025, 2, 28)
    assert add_months(D(2023, 12, 31), 2) == D(2024, 2, 29)
    assert add_months(D(2024, 11, 30), 13) == D(2025, 12, 30)


def test_a_months_follow_up_is_over_from_the_first_day_of_the_thirteenth_month_after_it() -> None:
    assert not follow_up_complete(D(2024, 1, 1), as_of=D(2025, 1, 31))
    assert follow_up_complete(D(2024, 1, 1), as_of=D(2025, 2, 1))
    assert follow_up_complete(D(2024, 1, 31), as_of=D(2025, 2, 1))


def test_a_return_again_within_twelve_months_counts_and_one_after_thirteen_does_not() -> None:
    as_of = D(2026, 1, 1)
    within = _days(D(2024, 1, 10), D(2024, 6, 1))
    on_the_last_day = _days(D(2024, 1, 31), D(2025, 1, 31))
    after_thirteen_months = _days(D(2024, 1, 20), D(2025, 2, 25))
    counts = persons_counts([within, on_the_last_day, after_thirteen_months], as_of=as_of)
    # Each person counts once in January 2024 (their first return that year); the one back in
    # February 2025 counts again in 2025, as a person returned that year.
    assert _measure(counts, PERSONS_RETURNED) == {"2024-01": 3, "2025-01": 1, "2025-02": 1}
    assert _measure(counts, PERSONS_FOLLOWED)["2024-01"] == 3
    assert _measure(counts, PERSONS_RETURNED_AGAIN) == {"2024-01": 2}


def test_two_arrivals_on_one_day_are_one_person_and_no_return_again() -> None:
    counts = persons_counts([_days(D(2024, 3, 5), D(2024, 3, 5))], as_of=D(2026, 1, 1))
    assert _measure(counts, RETURN_EVENTS) == {"2024-03": 2}
    assert _measure(counts, PERSONS_RETURNED) == {"2024-03": 1}
    assert _measure(counts, PERSONS_FOLLOWED) == {"2024-03": 1}
    assert _measure(counts, PERSONS_RETURNED_AGAIN) == {}


def test_months_still_in_follow_up_have_persons_but_no_re_return_figures() -> None:
    history = _days(D(2024, 1, 10), D(2024, 6, 1))
    counts = persons_counts([history], as_of=D(2024, 12, 31))
    assert _measure(counts, PERSONS_RETURNED) == {"2024-01": 1}
    assert _measure(counts, PERSONS_FOLLOWED) == {}
    assert _measure(counts, PERSONS_RETURNED_AGAIN) == {}


def test_a_person_counts_with_their_first_return_of_the_year_an_event_with_its_own() -> None:
    history = [
        ReturnDay(day=D(2024, 2, 1), from_country="MX", is_minor=True),
        ReturnDay(day=D(2024, 9, 1), from_country="US", is_minor=False),
    ]
    counts = persons_counts([history], as_of=D(2026, 1, 1))
    assert counts == {
        ("2024-02", "MX", "Y_LT18", RETURN_EVENTS): 1,
        ("2024-09", "US", "Y_GE18", RETURN_EVENTS): 1,
        ("2024-02", "MX", "Y_LT18", PERSONS_RETURNED): 1,
        ("2024-02", "MX", "Y_LT18", PERSONS_FOLLOWED): 1,
        ("2024-02", "MX", "Y_LT18", PERSONS_RETURNED_AGAIN): 1,
    }


# --- the roll-up, from arrivals registered through the services --------------------------------


@pytest.fixture(autouse=True)
def data_dir(settings: Any, tmp_path: Any) -> None:
    settings.DATA_DIR = tmp_path


def _at(day: datetime.date, hour: int = 10) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


# Each person's returns (day, country returned from); the first registers the person, the
# others are confirmed repeat returns of the same person.
HISTORIES: dict[str, list[tuple[datetime.date, str]]] = {
    "again-within": [(D(2022, 1, 10), "US"), (D(2022, 6, 1), "MX")],
    "again-after-13-months": [(D(2022, 1, 20), "US"), (D(2023, 2, 25), "US")],
    "twice-one-day": [(D(2022, 3, 5), "US"), (D(2022, 3, 5), "US")],
    "once": [(D(2022, 3, 9), "MX")],
    "back-a-year-later-to-the-day": [(D(2022, 1, 31), "US"), (D(2023, 1, 31), "US")],
}
AS_OF = D(2024, 6, 30)


def _register(officer: User, centre: ReceptionCentre) -> None:
    for key, returns in HISTORIES.items():
        person = None
        for number, (day, origin) in enumerate(returns):
            arrival = arrival_register(
                actor=officer,
                centre=centre,
                idempotency_key=f"{key}-{number}",
                arrived_at=_at(day, 9 + number),
                identity=(
                    IdentityData(
                        given_names="Persona",
                        first_surname=f"Prueba {key}",
                        birth_year=1990,
                        sex="F",
                    )
                    if person is None
                    else None
                ),
                confirmed_person=person,
                returned_from=Country.objects.get(pk=origin),
            )
            person = person or person_get(user=officer, person_id=arrival.person_id)


def _stored(dataset: str, **only: str) -> Counter[str]:
    totals: Counter[str] = Counter()
    for observation in Observation.objects.filter(dataset__code=dataset, **only):
        assert observation.reporting_country == "HN"
        totals[f"{observation.period:%Y-%m}"] += observation.value
    return totals


@pytest.mark.django_db
def test_the_roll_up_imports_persons_and_re_returns_beside_the_return_events(
    users: dict[str, User], airport_hn: ReceptionCentre
) -> None:
    _register(users["officer.hn"], airport_hn)
    honduras = Country.objects.get(pk="HN")
    events = returns_received_rollup(actor=None, country=honduras)
    persons = returns_persons_rollup(actor=None, country=honduras, as_of=AS_OF)
    assert events.outcome == persons.outcome == ImportOutcome.IMPORTED, persons.summary()
    assert persons.batch is not None and persons.batch.source == "mirador-returns-persons"

    # Events: every arrival, by the month it happened (computed from the arrivals here).
    arrival_months = Counter(
        f"{timezone.localtime(arrival.arrived_at):%Y-%m}" for arrival in Arrival.objects.all()
    )
    assert _stored("returns-received") == arrival_months
    assert _stored("returns-persons", measure=RETURN_EVENTS) == arrival_months
    assert sum(arrival_months.values()) == sum(len(days) for days in HISTORIES.values())

    # Persons: each once a year, in the month of their first return that year.
    first_of_year: Counter[str] = Counter()
    for returns in HISTORIES.values():
        firsts = {day.year: day for day, _origin in reversed(returns)}
        first_of_year.update(f"{day:%Y-%m}" for day in firsts.values())
    returned = _stored("returns-persons", measure=PERSONS_RETURNED)
    assert returned == first_of_year
    assert sum(returned.values()) < sum(arrival_months.values())
    # Two arrivals on 5 March 2022 are two events of one person.
    assert arrival_months["2022-03"] == 3 and returned["2022-03"] == 2

    # Every month of 2022 and February 2023 has had its twelve months by the end of June 2024.
    assert _stored("returns-persons", measure=PERSONS_FOLLOWED) == returned
    # Back within twelve months: the January returns of 10 January (in June) and 31 January
    # (a year later to the day); not the one of 20 January (13 months later), nor the day's
    # second arrival in March.
    assert _stored("returns-persons", measure=PERSONS_RETURNED_AGAIN) == {"2022-01": 2}

    again = returns_persons_rollup(actor=None, country=honduras, as_of=AS_OF)
    assert again.outcome == ImportOutcome.ALREADY_IMPORTED


@pytest.mark.django_db
def test_a_later_roll_up_revises_the_figures_as_follow_up_closes(
    users: dict[str, User], airport_hn: ReceptionCentre
) -> None:
    _register(users["officer.hn"], airport_hn)
    honduras = Country.objects.get(pk="HN")
    early = returns_persons_rollup(actor=None, country=honduras, as_of=D(2022, 12, 31))
    assert early.outcome == ImportOutcome.IMPORTED, early.summary()
    # On 31 December 2022 no month of 2022 has had its twelve months, and the 2023 returns
    # are not yet counted.
    assert _stored("returns-persons", measure=PERSONS_FOLLOWED) == {}
    assert set(_stored("returns-persons", measure=PERSONS_RETURNED)) == {"2022-01", "2022-03"}

    later = returns_persons_rollup(actor=None, country=honduras, as_of=D(2023, 2, 1))
    assert later.outcome == ImportOutcome.IMPORTED, later.summary()
    # January 2022 is closed on 1 February 2023; March is not.
    assert set(_stored("returns-persons", measure=PERSONS_FOLLOWED)) == {"2022-01"}
    assert _stored("returns-persons", measure=PERSONS_RETURNED_AGAIN) == {"2022-01": 2}


@pytest.mark.django_db
def test_the_command_rolls_up_events_and_persons(
    users: dict[str, User], airport_hn: ReceptionCentre, capsys: Any
) -> None:
    _register(users["officer.hn"], airport_hn)
    call_command("rollup_returns", "--country", "HN")
    output = capsys.readouterr().out
    assert output.count("HN:") == 2
    assert Observation.objects.filter(dataset__code="returns-received").exists()
    assert Observation.objects.filter(
        dataset__code="returns-persons", measure=PERSONS_RETURNED
    ).exists()


@pytest.mark.django_db
def test_a_return_is_on_the_day_it_was_at_its_centre(
    users: dict[str, User], airport_hn: ReceptionCentre
) -> None:
    # 20:30 on 31 January in Tegucigalpa is 1 February in UTC.
    airport_hn.time_zone = "America/Tegucigalpa"
    airport_hn.save(update_fields=["time_zone"])
    evening = datetime.datetime(2026, 1, 31, 20, 30, tzinfo=ZoneInfo("America/Tegucigalpa"))
    arrival_register(
        actor=users["officer.hn"],
        centre=airport_hn,
        idempotency_key="evening",
        arrived_at=evening,
        identity=IdentityData(given_names="Persona", first_surname="Tarde", sex="F"),
    )

    ((_person, days),) = return_history(country=Country.objects.get(pk="HN"), as_of=D(2026, 3, 1))

    assert [day.day for day in days] == [D(2026, 1, 31)]
