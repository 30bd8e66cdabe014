"""Capacity against expected and registered arrivals, and intake times, per centre and day."""

from __future__ import annotations

import datetime
import statistics
from collections.abc import Callable

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from mirador.accounts.models import Role, User
from mirador.core.errors import NotFoundError
from mirador.core.models import Country, ReceptionCentre
from mirador.directory.services import provider_create, referral_create, service_create
from mirador.people.demo import generate_returnees
from mirador.returns import selectors as returns_selectors
from mirador.returns.models import Manifest
from mirador.returns.selectors import (
    arrivals_for_centre_day,
    centre_capacity,
    centre_day_summary,
    intake_times,
)
from mirador.returns.services import (
    IdentityData,
    arrival_register,
    arrival_register_contingency,
    assistance_record,
)
from mirador.returns.tests.conftest import passenger, today_at

pytestmark = pytest.mark.django_db


def _passengers(count: int, *, seed: int) -> list[dict[str, str]]:
    """Distinct adults from the demo generator."""
    rows: list[dict[str, str]] = []
    seen: set[int] = set()
    for returnee in generate_returnees(count * 3, seed=seed):
        person = returnee.person
        if person.key in seen or person.is_child or len(rows) == count:
            continue
        seen.add(person.key)
        rows.append(
            passenger(
                person.given_names,
                person.first_surname,
                person.second_surname,
                birth_date=str(person.birth_year),
                sex=person.sex,
                document_number=person.passport,
            )
        )
    return rows


def test_tomorrows_announced_arrivals_over_capacity_raise_the_warning(
    users: dict[str, User],
    border_hn: ReceptionCentre,
    make_manifest: Callable[..., Manifest],
) -> None:
    # The days are the centre's, in its own time zone, whatever the hour here.
    def at_centre(hour: int, *, days: int = 0) -> datetime.datetime:
        day = border_hn.today() + datetime.timedelta(days=days)
        return datetime.datetime.combine(day, datetime.time(hour), tzinfo=border_hn.zone)

    today_rows = _passengers(3, seed=1)
    bus_one = _passengers(4, seed=2)
    bus_two = _passengers(3, seed=3)
    make_manifest(
        border_hn, today_rows, expected_at=at_centre(9), means="land", sending_country="MX"
    )
    make_manifest(border_hn, bus_one, expected_at=at_centre(9, days=1), means="land")
    make_manifest(border_hn, bus_two, expected_at=at_centre(15, days=1), means="land")
    first = Manifest.objects.get(centre=border_hn, expected_at=at_centre(9)).passengers.order_by(
        "row_number"
    )[0]
    arrival_register(
        actor=users["officer.hn"],
        centre=border_hn,
        idempotency_key="capacity-1",
        manifest_passenger=first,
        # Registered today, and never in the future (before 9 at the centre, now).
        arrived_at=min(at_centre(9), timezone.now()),
    )

    days = centre_capacity(user=users["officer.hn"], centre=border_hn, days=3)

    today, tomorrow, after = days
    assert (today.expected, today.registered, today.load) == (
        len(today_rows) - 1,
        1,
        len(today_rows),
    )
    assert tomorrow.expected == len(bus_one) + len(bus_two)
    assert tomorrow.over_capacity == (len(bus_one) + len(bus_two) > border_hn.daily_capacity)
    assert tomorrow.over_capacity and not today.over_capacity
    assert after.load == 0


def test_capacity_is_an_aggregate_for_analysts_of_the_country_not_for_others(
    users: dict[str, User], border_hn: ReceptionCentre
) -> None:
    assert centre_capacity(user=users["analyst.hn"], centre=border_hn, days=1)
    assert centre_capacity(user=users["analyst.regional"], centre=border_hn, days=1)
    for name in ("officer.gt", "analyst.gt", "caseworker.hn"):
        with pytest.raises(NotFoundError):
            centre_capacity(user=users[name], centre=border_hn, days=1)


def test_intake_times_per_day_from_arrival_to_registration_and_assistance(
    users: dict[str, User], airport_hn: ReceptionCentre, make_manifest: Callable[..., Manifest]
) -> None:
    rows = _passengers(5, seed=4)
    manifest = make_manifest(airport_hn, rows, expected_at=today_at(0))
    officer = users["officer.hn"]
    now = timezone.now()
    waits = [10, 20, 30, 40, 50]
    for index, (row, wait) in enumerate(
        zip(manifest.passengers.order_by("row_number"), waits, strict=True)
    ):
        arrival = arrival_register(
            actor=officer,
            centre=airport_hn,
            idempotency_key=f"intake-{index}",
            manifest_passenger=row,
            arrived_at=now - datetime.timedelta(minutes=wait),
        )
        assistance_record(actor=officer, arrival=arrival, kind="food", given_at=now)
    day = timezone.localdate()

    (figures,) = intake_times(user=officer, centre=airport_hn, start=day, end=day)

    arrived_today = [w for w in waits if (now - datetime.timedelta(minutes=w)).date() == day]
    assert figures.arrivals == len(arrived_today)
    if arrived_today:
        assert figures.median_minutes_to_registration == pytest.approx(
            sorted(arrived_today)[len(arrived_today) // 2], abs=0.1
        )
        assert figures.median_minutes_to_first_assistance == pytest.approx(
            figures.median_minutes_to_registration, abs=0.1
        )


def test_the_days_arrivals_load_in_a_fixed_number_of_queries(
    users: dict[str, User], airport_hn: ReceptionCentre, make_manifest: Callable[..., Manifest]
) -> None:
    officer = users["officer.hn"]
    manifest = make_manifest(airport_hn, _passengers(8, seed=5), expected_at=today_at(0))
    rows = list(manifest.passengers.order_by("row_number"))

    def register(batch: list[object], offset: int) -> None:
        for index, row in enumerate(batch):
            arrival = arrival_register(
                actor=officer,
                centre=airport_hn,
                idempotency_key=f"dash-{offset + index}",
                manifest_passenger=row,  # type: ignore[arg-type]
                arrived_at=today_at(0),
            )
            assistance_record(actor=officer, arrival=arrival, kind="food")

    register(rows[:4], 0)  # type: ignore[arg-type]
    with CaptureQueriesContext(connection) as few:
        assert (
            len(arrivals_for_centre_day(user=officer, centre=airport_hn, day=today_at(0).date()))
            == 4
        )
    register(rows[4:], 4)  # type: ignore[arg-type]
    with CaptureQueriesContext(connection) as more:
        assert (
            len(arrivals_for_centre_day(user=officer, centre=airport_hn, day=today_at(0).date()))
            == 8
        )
    assert len(more) == len(few)


def test_the_centres_day_in_counts_for_the_managers_dashboard(
    users: dict[str, User],
    airport_hn: ReceptionCentre,
    make_manifest: Callable[..., Manifest],
) -> None:
    officer = users["officer.hn"]
    rows = _passengers(6, seed=8)
    manifest = make_manifest(airport_hn, rows, expected_at=today_at(0))
    registered_rows = list(manifest.passengers.order_by("row_number"))[:4]
    for index, row in enumerate(registered_rows):
        arrival = arrival_register(
            actor=officer,
            centre=airport_hn,
            idempotency_key=f"summary-{index}",
            manifest_passenger=row,
            arrived_at=today_at(0),
        )
        assistance_record(actor=officer, arrival=arrival, kind="food", quantity=index + 1)
    walk_in = arrival_register_contingency(
        actor=officer,
        centre=airport_hn,
        idempotency_key="summary-walk-in",
        given_names="Walter",
        first_surname="Cálix",
        arrived_at=today_at(0),
    )
    assert walk_in.needs_completion

    with CaptureQueriesContext(connection) as queries:
        day = centre_day_summary(
            user=users["analyst.hn"], centre=airport_hn, day=today_at(0).date()
        )

    assert len(queries) == 3
    assert (day.manifests, day.announced, day.still_expected) == (
        1,
        len(rows),
        len(rows) - len(registered_rows),
    )
    assert (day.registered, day.registered_from_manifests, day.walk_ins) == (
        len(registered_rows) + 1,
        len(registered_rows),
        1,
    )
    assert day.to_complete == 1 and day.unaccompanied_minors == 0
    assert [(a.kind, a.times, a.quantity) for a in day.assistance] == [
        ("food", len(registered_rows), sum(range(1, len(registered_rows) + 1)))
    ]
    with pytest.raises(NotFoundError):
        centre_day_summary(user=users["officer.gt"], centre=airport_hn, day=today_at(0).date())


@pytest.mark.parametrize("by_key", [True, False], ids=["referred-by-key", "every-arrival-time"])
def test_intake_times_include_the_time_to_the_first_referral_to_a_service(
    users: dict[str, User],
    airport_hn: ReceptionCentre,
    make_user: Callable[..., User],
    monkeypatch: pytest.MonkeyPatch,
    by_key: bool,
) -> None:
    if not by_key:
        # More referred arrivals than are named by key: every arrival's time is read.
        monkeypatch.setattr(returns_selectors, "MAX_REFERRED_BY_KEY", 1)
    admin = make_user(username="admin.directory", role=Role.ADMINISTRATOR, country=None)
    provider = provider_create(
        actor=admin,
        name="Servicio Nacional de Empleo",
        sector="public",
        country=Country.objects.get(pk="HN"),
    )
    service = service_create(
        actor=admin, provider=provider, category="employment", name_es="Empleo", name_en="Jobs"
    )
    officer = users["officer.hn"]
    now = timezone.now()
    arrivals = [
        arrival_register(
            actor=officer,
            centre=airport_hn,
            idempotency_key=f"referral-intake-{index}",
            identity=IdentityData(given_names=name, first_surname="Reyes", birth_year=1990),
            arrived_at=now - datetime.timedelta(minutes=minutes),
        )
        for index, (name, minutes) in enumerate([("Ana", 5), ("Berta", 15), ("Carla", 25)])
    ]
    # Two of the three are referred; the third is not counted in the median.
    for arrival in arrivals[:2]:
        referral_create(
            actor=officer,
            person=arrival.person,
            service=service,
            due_date=timezone.localdate() + datetime.timedelta(days=7),
            consent_to_share=True,
            arrival=arrival,
        )
    day = timezone.localdate()

    (figures,) = intake_times(user=officer, centre=airport_hn, start=day, end=day)

    referred_today = [m for m in (5, 15) if (now - datetime.timedelta(minutes=m)).date() == day]
    if referred_today:
        assert figures.median_minutes_to_first_referral == pytest.approx(
            statistics.median(referred_today), abs=0.5
        )
    else:
        assert figures.median_minutes_to_first_referral is None
