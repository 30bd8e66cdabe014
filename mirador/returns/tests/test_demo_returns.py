"""The demo's returns, as `officer.hn` meets them: today's flight with a family, a child
travelling alone and a repeat returnee; yesterday's arrivals; tomorrow over capacity at one
centre; and nothing of it for `officer.gt`."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from mirador.accounts.demo import demo_accounts_ensure
from mirador.accounts.models import User
from mirador.people.demo import DEFAULT_SEED
from mirador.people.demo_load import demo_region_load
from mirador.people.models import Person
from mirador.people.services import youngest_possible_age
from mirador.returns.demo import returns_demo_is_loaded, returns_demo_load
from mirador.returns.models import Arrival
from mirador.returns.selectors import (
    centre_capacity,
    centres_worked_by,
    expected_passengers,
    passenger_identity,
    repeat_candidates,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(settings: object) -> datetime.date:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # type: ignore[attr-defined]
    today = timezone.localdate()
    demo_region_load(actor=None, size=400, seed=DEFAULT_SEED, reference_date=today)
    demo_accounts_ensure()
    persons = Person.objects.count()
    result = returns_demo_load(today=today)
    assert result.manifests == 4 and result.arrivals > 0
    assert Person.objects.count() == persons  # earlier returns are of registry persons
    return today


def test_officer_hn_sees_todays_flight_with_a_family_a_child_alone_and_a_repeat_returnee(
    demo: datetime.date,
) -> None:
    officer = User.objects.get(username="officer.hn")
    airport = centres_worked_by(user=officer).get(name__contains="San Pedro Sula")
    expected = expected_passengers(user=officer, centre=airport, day=demo)

    assert {p.manifest.sending_country_id for p in expected} == {"US"}
    minors = [
        p
        for p in expected
        if (
            youngest_possible_age(year=p.birth_year, month=p.birth_month, day=p.birth_day, on=demo)
            or 99
        )
        < 18
    ]
    assert minors  # the family's children and the child travelling alone
    repeat = [
        p
        for p in expected
        if repeat_candidates(
            user=officer, identity=passenger_identity(p), consent_tracing=True
        ).candidates
    ]
    assert len(repeat) >= 1
    assert Arrival.objects.filter(centre=airport, arrived_at__date__lt=demo).exists()


def test_tomorrow_is_over_capacity_at_one_centre_only(demo: datetime.date) -> None:
    officer = User.objects.get(username="officer.hn")
    tomorrow = demo + datetime.timedelta(days=1)
    over = [
        centre.name
        for centre in centres_worked_by(user=officer)
        if centre_capacity(user=officer, centre=centre, start=tomorrow, days=1)[0].over_capacity
    ]
    assert len(over) == 1 and "Belén" in over[0]


def test_officer_gt_sees_none_of_it(demo: datetime.date) -> None:
    officer_gt = User.objects.get(username="officer.gt")
    assert not centres_worked_by(user=officer_gt).filter(country_id="HN").exists()


def test_the_demo_is_loaded_once(demo: datetime.date) -> None:
    assert returns_demo_is_loaded()


def test_each_demo_arrival_is_registered_within_the_hour_after_it_arrived(
    demo: datetime.date,
) -> None:
    # The intake times (D-R5) are computed from these: an arrival stamped when the demo ran,
    # two years after it arrived, would show days to register at a centre.
    arrivals = Arrival.objects.values_list("arrived_at", "registered_at")
    month_ago = timezone.now() - datetime.timedelta(days=30)
    assert arrivals.filter(arrived_at__lt=month_ago).exists()  # the two years' history too
    delays = [registered - arrived for arrived, registered in arrivals]
    assert min(delays) >= datetime.timedelta(0)
    assert max(delays) <= datetime.timedelta(hours=1)
