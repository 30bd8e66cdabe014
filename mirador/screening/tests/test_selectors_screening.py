"""Reading flags: open flags most urgent first, counted per centre and day for the centre's
page (only those the user may see), and an arrival's screening before and after answers."""

from __future__ import annotations

import datetime
from collections.abc import Callable

import pytest
from django.utils import timezone

from mirador.accounts.models import User
from mirador.core.models import ReceptionCentre
from mirador.returns.models import Arrival
from mirador.returns.tests.conftest import today_at
from mirador.screening.selectors import arrival_screening, open_flag_counts, open_flags
from mirador.screening.services import risk_flag_close, screening_record

pytestmark = pytest.mark.django_db

Users = dict[str, User]


def test_open_flags_come_most_urgent_first(users: Users, register: Callable[..., Arrival]) -> None:
    officer = users["officer.hn"]
    screening_record(
        actor=officer, arrival=register("Marta"), answers={"health_conditions": ["chronic-illness"]}
    )
    screening_record(actor=officer, arrival=register("Rosa"), answers={"pregnancy": "yes"})
    screening_record(actor=officer, arrival=register("Elsa"), answers={"medical_care": "urgent"})

    flags = open_flags(user=officer)

    assert [flag.urgency for flag in flags] == ["now", "today", "follow-up"]
    assert [flag.arrival.person.given_names for flag in flags] == ["Elsa", "Rosa", "Marta"]


def test_open_flags_are_counted_per_centre_and_day(
    users: Users,
    register: Callable[..., Arrival],
    airport_hn: ReceptionCentre,
    border_hn: ReceptionCentre,
) -> None:
    officer = users["officer.hn"]
    yesterday = today_at(9, days=-1)
    screening_record(
        actor=officer,
        arrival=register("Marta"),
        answers={"medical_care": "urgent", "disability": ["mobility", "visual"]},
    )
    done = screening_record(
        actor=officer, arrival=register("Rosa"), answers={"pregnancy": "yes"}
    ).raised[0]
    risk_flag_close(actor=officer, flag=done, note="")
    screening_record(
        actor=officer, arrival=register("Elsa", centre=border_hn), answers={"distress": "yes"}
    )
    screening_record(
        actor=officer, arrival=register("Iris", arrived_at=yesterday), answers={"violence": "yes"}
    )

    today = open_flag_counts(user=officer, centre=airport_hn, day=timezone.localdate())
    before = open_flag_counts(user=officer, centre=airport_hn, day=yesterday.date())

    assert today.total == 3 and today.now == 1
    assert today.by_kind == {"health": 1, "disability": 2}
    assert today.by_urgency == {"now": 1, "today": 2}
    assert before.total == 1 and before.by_kind == {"protection": 1}


def test_counts_leave_out_what_the_user_may_not_see(
    users: Users, child: Arrival, airport_hn: ReceptionCentre
) -> None:
    screening_record(actor=users["protection.hn"], arrival=child, answers={"distress": "yes"})
    day = timezone.localdate()

    assert open_flag_counts(user=users["protection.hn"], centre=airport_hn, day=day).total == 1
    assert open_flag_counts(user=users["officer.hn"], centre=airport_hn, day=day).total == 0
    assert open_flag_counts(user=users["officer.gt"], centre=airport_hn, day=day).total == 0
    assert open_flag_counts(user=users["analyst.hn"], centre=airport_hn, day=day).total == 0


def test_an_arrival_not_yet_screened_has_no_screening_and_no_flags(
    users: Users, adult: Arrival
) -> None:
    found = arrival_screening(user=users["officer.hn"], arrival_id=adult.pk)

    assert found.screening is None and found.flags == [] and not found.has_urgent


def test_open_flags_of_the_arrivals_day_before_are_still_listed(
    users: Users, register: Callable[..., Arrival]
) -> None:
    officer = users["officer.hn"]
    earlier = register("Iris", arrived_at=timezone.now() - datetime.timedelta(days=2))
    screening_record(actor=officer, arrival=earlier, answers={"fear_of_return": "fear"})

    assert [flag.arrival_id for flag in open_flags(user=officer)] == [earlier.pk]
