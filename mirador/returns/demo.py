"""Demo returns for the Honduran reception centres, built from the people demo generator and
stored through the returns services (so they are validated and audited like real work):

- today: a flight from the United States at the San Pedro Sula airport centre, its manifest
  holding a family and a child travelling alone, and one passenger who came back before;
- today: a bus from Mexico at the Omoa land-border centre;
- the past three days: arrivals at San Pedro Sula of persons already in the demo registry,
  with assistance given (no person is added: the registry's size stays the demo's --size);
- tomorrow: two extraordinary buses from Mexico at the Belén centre for families and
  children, more passengers than its daily capacity, so the capacity warning shows;
- the past two years and more: earlier returns of persons of the registry, some of them
  back again, so that the observatory shows persons beside events and a re-return rate
  (returns.demo_history).

Loaded once: nothing is added when any manifest exists.
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import QuerySet

from mirador.accounts.models import User
from mirador.core.models import Country, ReceptionCentre, Subdivision
from mirador.people.demo import DemoPerson, DemoReturnee, generate_returnees
from mirador.people.models import Person
from mirador.people.selectors import people_visible_to
from mirador.returns.demo_history import returns_history_demo_load
from mirador.returns.models import Arrival, Manifest, ManifestKind
from mirador.returns.services import (
    arrival_register,
    assistance_record,
    manifest_create,
)

DEMO_SEED = 2030
# Relative weights of the departments returnees go home to (the most frequent ones in
# published Honduran returns statistics); the others weigh 1.
RETURNEE_DEPARTMENT_WEIGHTS = {"HN-CR": 8, "HN-FM": 6, "HN-YO": 4, "HN-OL": 3, "HN-AT": 3}
RECEPTION_OFFICER = "officer.hn"
AIRPORT_CENTRE = "San Pedro Sula"
BORDER_CENTRE = "Omoa"
FAMILY_CENTRE = "Belén"
FLIGHT_PASSENGERS = 60
BUS_PASSENGERS = 35
PAST_DAYS = 3
PAST_ARRIVALS_PER_DAY = 12
TOMORROW_BUSES = 2


@dataclass(frozen=True)
class ReturnsDemoResult:
    manifests: int
    passengers: int
    arrivals: int


def recent_adult_arrivals(*, today: datetime.date) -> QuerySet[Arrival]:
    """The adults who came back through the airport centre in the days before `today` (the
    past days loaded here, not the two years' history): the persons whom the other demos'
    reception work (screenings, documents, referrals) is about. Trafficking victims' records
    are the protection officers' and are left out; oldest first."""
    return (
        Arrival.objects.filter(
            centre__country_id="HN",
            centre__name__contains=AIRPORT_CENTRE,
            arrived_at__date__gte=today - datetime.timedelta(days=PAST_DAYS),
            arrived_at__date__lt=today,
            is_minor=False,
            person__is_trafficking_victim=False,
        )
        .select_related("centre", "person")
        .order_by("arrived_at", "pk")
    )


def returns_demo_is_loaded() -> bool:
    return Manifest.objects.exists()


def _centre(name_part: str) -> ReceptionCentre | None:
    return (
        ReceptionCentre.objects.filter(country_id="HN", name__contains=name_part, is_active=True)
        .order_by("name")
        .first()
    )


def _honduran_returnees(seed: int, today: datetime.date) -> Iterator[DemoReturnee]:
    for returnee in generate_returnees(20_000, seed=seed, reference_date=today, years=1):
        if returnee.event.receiving_country == "HN" and not returnee.is_repeat:
            yield returnee


def _row(person: DemoPerson) -> dict[str, str]:
    parts = [f"{person.birth_year:04d}"]
    if person.birth_month:
        parts.append(f"{person.birth_month:02d}")
        if person.birth_day:
            parts.append(f"{person.birth_day:02d}")
    return {
        "given_names": person.given_names,
        "first_surname": person.first_surname,
        "second_surname": person.second_surname,
        "birth_date": "-".join(parts),
        "sex": person.sex,
        "nationality": person.nationality,
        "document_number": person.passport,
    }


def _registry_row(person: Person) -> dict[str, str]:
    documents = [d.number for d in person.documents.all() if d.kind == "passport"]
    return {
        "given_names": person.given_names,
        "first_surname": person.first_surname,
        "second_surname": person.second_surname,
        "birth_date": person.birth_date_display,
        "sex": person.sex,
        "nationality": person.nationality_id or "HN",
        "document_number": documents[0] if documents else "",
    }


def _at(
    day: datetime.date, hour: int, minute: int = 0, *, centre: ReceptionCentre
) -> datetime.datetime:
    """`hour`:`minute` on `day` at `centre`, in its time zone (the demo's centres are all in
    Honduras, so one clock serves them all)."""
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=centre.zone)


def returns_demo_load(*, today: datetime.date | None = None) -> ReturnsDemoResult:
    """Load the demo returns as the demo's Honduran reception officer."""
    officer = User.objects.filter(username=RECEPTION_OFFICER).first()
    airport, border, family_centre = (
        _centre(AIRPORT_CENTRE),
        _centre(BORDER_CENTRE),
        _centre(FAMILY_CENTRE),
    )
    if officer is None or airport is None or border is None or family_centre is None:
        return ReturnsDemoResult(0, 0, 0)
    # Today at the centres, whose days the pages count in their own time zone.
    today = today or airport.today()
    rng = random.Random(DEMO_SEED)
    united_states = Country.objects.get(pk="US")
    mexico = Country.objects.get(pk="MX")
    pool = _honduran_returnees(DEMO_SEED, today)

    adults: list[DemoPerson] = []
    family: list[DemoReturnee] = []
    child_alone: DemoPerson | None = None
    while len(adults) < 300 or not family or child_alone is None:
        returnee = next(pool)
        person = returnee.person
        if returnee.family_group is not None:
            same_family = not family or family[0].family_group == returnee.family_group
            if same_family and len(family) < 4:
                family.append(returnee)
            continue
        if person.is_unaccompanied:
            child_alone = child_alone or person
            continue
        if not person.is_child:
            adults.append(person)

    # The past days' arrivals are returns of persons already in the demo registry (the
    # history of a repeat returnee), registered with consent to tracing, so that one of
    # them, back again on today's flight, is found among the repeat-return candidates.
    registry = list(
        people_visible_to(user=officer)
        .filter(is_child=False, nationality_id="HN", birth_year__isnull=False)
        .prefetch_related("documents")
        .order_by("first_surname", "given_names", "pk")[: PAST_ARRIVALS_PER_DAY * PAST_DAYS]
    )
    # Where they go home to, drawn apart from `rng` so that the rest of the demo stays as it
    # was; the departments where most returnees come from weigh more, as in CONMIGHO's tables.
    places = random.Random(DEMO_SEED + 1)
    departments = list(Subdivision.objects.filter(country_id="HN").order_by("code"))
    weights = [RETURNEE_DEPARTMENT_WEIGHTS.get(d.code, 1) for d in departments]
    arrivals = 0
    for index, returnee_record in enumerate(registry):
        day = today - datetime.timedelta(days=PAST_DAYS - index // PAST_ARRIVALS_PER_DAY)
        arrived_at = _at(
            day, 9 + (index % PAST_ARRIVALS_PER_DAY) // 3, 5 * (index % 12), centre=airport
        )
        arrival = arrival_register(
            actor=officer,
            centre=airport,
            idempotency_key=f"demo-past-{index:04d}",
            arrived_at=arrived_at,
            confirmed_person=returnee_record,
            returned_from=united_states,
            home_subdivision=(
                places.choices(departments, weights=weights)[0] if departments else None
            ),
            time_abroad=rng.choice(["1-6-months", "6-12-months", "1-5-years", "over-5-years"]),
            migration_reasons=rng.sample(["economic", "violence-insecurity"], k=rng.randint(1, 2)),
            consent_follow_up=True,
            consent_tracing=True,
        )
        # Registration took some minutes after landing (the service stamps the moment it
        # runs, which for demo data is now); assistance followed.
        registered_at = arrived_at + datetime.timedelta(minutes=rng.randint(6, 40))
        Arrival.objects.filter(pk=arrival.pk).update(registered_at=registered_at)
        for kind in ("food", "hygiene-kit"):
            assistance_record(
                actor=officer,
                arrival=arrival,
                kind=kind,
                given_at=registered_at + datetime.timedelta(minutes=rng.randint(1, 20)),
            )
        arrivals += 1

    rest = adults
    flight_rows = [_row(member.person) for member in family] + [_row(child_alone)]
    if registry:  # came back before: a repeat-return candidate
        flight_rows.append(_registry_row(registry[0]))
    taken = FLIGHT_PASSENGERS - len(flight_rows)
    flight_rows += [_row(p) for p in rest[:taken]]
    rest = rest[taken:]
    manifests = [
        manifest_create(
            actor=officer,
            centre=airport,
            sending_country=united_states,
            means="air",
            reference="ICE-DEMO-1401",
            kind=ManifestKind.SCHEDULED,
            expected_at=_at(today, 15, 30, centre=airport),
            passengers=flight_rows,
        ),
        manifest_create(
            actor=officer,
            centre=border,
            sending_country=mexico,
            means="land",
            reference="INM-BUS-0718",
            expected_at=_at(today, 11, centre=border),
            passengers=[_row(p) for p in rest[:BUS_PASSENGERS]],
        ),
    ]
    rest = rest[BUS_PASSENGERS:]
    per_bus = family_centre.daily_capacity // TOMORROW_BUSES + 10
    for bus in range(TOMORROW_BUSES):
        chunk = rest[bus * per_bus : (bus + 1) * per_bus]
        manifests.append(
            manifest_create(
                actor=officer,
                centre=family_centre,
                sending_country=mexico,
                means="land",
                reference=f"INM-BUS-EXT-{bus + 1}",
                kind=ManifestKind.EXTRAORDINARY,
                expected_at=_at(
                    today + datetime.timedelta(days=1), 8 + 6 * bus, centre=family_centre
                ),
                passengers=[_row(p) for p in chunk],
            )
        )
    passengers = sum(manifest.passengers.count() for manifest in manifests)
    history = returns_history_demo_load(
        officer=officer, airport=airport, border=border, today=today
    )
    return ReturnsDemoResult(
        manifests=len(manifests), passengers=passengers, arrivals=arrivals + history.arrivals
    )
