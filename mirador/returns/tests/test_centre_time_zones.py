"""A centre's days are calendar days in its own time zone: an arrival at 19:00 in Honduras
(01:00 UTC the next day) belongs to that Honduran day, in the day's counts, its capacity, its
list of arrivals, its expected passengers and its intake figures; the pages show times there.
Times stay stored in UTC."""

from __future__ import annotations

import datetime
import json
import zoneinfo
from collections.abc import Callable

import pytest
from django.test import Client

from mirador.accounts.models import User
from mirador.core.models import ReceptionCentre
from mirador.returns.models import Arrival, Manifest
from mirador.returns.selectors import (
    arrivals_for_centre_day,
    centre_capacity,
    centre_day_summary,
    expected_passengers,
    intake_times,
    manifests_for_centre,
)
from mirador.returns.services import IdentityData, arrival_register
from mirador.returns.tests.conftest import passenger

pytestmark = pytest.mark.django_db

HONDURAS = "America/Tegucigalpa"


@pytest.fixture
def centre(airport_hn: ReceptionCentre) -> ReceptionCentre:
    airport_hn.time_zone = HONDURAS
    airport_hn.save(update_fields=["time_zone"])
    return airport_hn


def _at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime.combine(
        day, datetime.time(hour, minute), tzinfo=zoneinfo.ZoneInfo(HONDURAS)
    )


def _register(officer: User, centre: ReceptionCentre, arrived_at: datetime.datetime) -> Arrival:
    return arrival_register(
        actor=officer,
        centre=centre,
        idempotency_key=f"tz-{arrived_at.isoformat()}",
        arrived_at=arrived_at,
        identity=IdentityData(given_names="Wendy", first_surname="Bonilla", birth_year=1992),
    )


def test_an_evening_arrival_counts_in_the_centres_day_not_the_next_utc_day(
    users: dict[str, User], centre: ReceptionCentre
) -> None:
    officer = users["officer.hn"]
    day = centre.today() - datetime.timedelta(days=3)
    evening = _at(day, 19)
    # The case that matters: in UTC it is already the next day.
    assert evening.astimezone(datetime.UTC).date() == day + datetime.timedelta(days=1)
    arrival = _register(officer, centre, evening)
    morning = _register(officer, centre, _at(day, 6, 30))

    that_day = centre_day_summary(user=officer, centre=centre, day=day)
    next_day = centre_day_summary(user=officer, centre=centre, day=day + datetime.timedelta(1))
    assert (that_day.registered, next_day.registered) == (2, 0)
    capacity = centre_capacity(user=officer, centre=centre, start=day, days=2)
    assert [row.registered for row in capacity] == [2, 0]
    listed = arrivals_for_centre_day(user=officer, centre=centre, day=day)
    assert [a.pk for a in listed] == [morning.pk, arrival.pk]
    intake = intake_times(
        user=officer, centre=centre, start=day, end=day + datetime.timedelta(days=1)
    )
    assert [row.arrivals for row in intake] == [2, 0]
    # Stored as the moment it was, in UTC.
    assert Arrival.objects.get(pk=arrival.pk).arrived_at == evening


def test_a_flight_expected_late_in_the_evening_is_expected_that_day(
    users: dict[str, User], centre: ReceptionCentre, make_manifest: Callable[..., Manifest]
) -> None:
    officer = users["officer.hn"]
    day = centre.today() + datetime.timedelta(days=2)
    expected_at = _at(day, 21, 30)
    assert expected_at.astimezone(datetime.UTC).date() != day
    make_manifest(centre, [passenger("Keyla", "Mejía", "Paz")], expected_at=expected_at)

    after = day + datetime.timedelta(days=1)
    assert len(expected_passengers(user=officer, centre=centre, day=day)) == 1
    assert expected_passengers(user=officer, centre=centre, day=after) == []
    assert [
        row.expected for row in centre_capacity(user=officer, centre=centre, start=day, days=2)
    ] == [1, 0]
    assert manifests_for_centre(user=officer, centre=centre, day=day).count() == 1
    assert centre_day_summary(user=officer, centre=centre, day=day).announced == 1
    assert centre_day_summary(user=officer, centre=centre, day=after).announced == 0


def test_a_day_with_a_daylight_saving_change_has_its_own_length() -> None:
    centre = ReceptionCentre(time_zone="America/New_York")

    def hours(day: datetime.date) -> datetime.timedelta:
        start, end = centre.day_bounds(day)
        return end.astimezone(datetime.UTC) - start.astimezone(datetime.UTC)

    # 8 March 2026: clocks go forward an hour in New York.
    assert hours(datetime.date(2026, 3, 8)) == datetime.timedelta(hours=23)
    assert hours(datetime.date(2026, 3, 9)) == datetime.timedelta(hours=24)


def test_the_centre_page_shows_and_reads_times_in_the_centres_time_zone(
    users: dict[str, User], centre: ReceptionCentre, client_for: Callable[[User], Client]
) -> None:
    officer = users["officer.hn"]
    day = centre.today() - datetime.timedelta(days=2)
    evening = _at(day, 19, 45)
    _register(officer, centre, evening)
    client = client_for(officer)

    page = client.get(f"/reception/{centre.pk}/?date={day.isoformat()}")

    assert page.status_code == 200
    shown = page.content.decode()
    assert "19:45" in shown
    assert evening.astimezone(datetime.UTC).strftime("%H:%M") not in shown
    centres = json.loads(client.get("/api/v1/returns/centres").content)
    assert {c["time_zone"] for c in centres if c["id"] == str(centre.pk)} == {HONDURAS}
