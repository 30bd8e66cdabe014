"""Earlier returns, from two years ago, for the demo's Honduran reception centres, so that
the observatory shows persons beside events and a re-return rate whose follow-up is over
(mirador.returns.persons_returned): some persons of the demo registry came back from the
United States by air (San Pedro Sula) or from Mexico by land (Omoa), and some of them came
back again, within twelve months or later.

Stored through returns.services.arrival_register as the demo's reception officer, like the
rest of the demo returns (validated, audited); the persons are the registry's own (no person
is added). Called by returns.demo.returns_demo_load, once.
"""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass

from django.utils import timezone

from mirador.accounts.models import User
from mirador.core.models import Country, ReceptionCentre
from mirador.people.selectors import people_visible_to
from mirador.returns.models import Arrival
from mirador.returns.services import arrival_register

HISTORY_SEED = 2015  # the year of the Declaration's commitment to monitor reintegration
# At most this many persons, and one in five of the registry's Honduran adults (a small
# registry, as in the tests, gets a short history).
HISTORY_PERSONS = 400
HISTORY_SHARE_OF_REGISTRY = 5
# The registry's first persons (by name) are the returns demo's own past-days arrivals.
SKIP_PERSONS = 40
# From the first of January two years before this one: whole calendar years, so that no year
# has so few persons that its figures, and with them the next year's, are withheld.
YEARS_BACK = 2
# Shares of persons who came back again, and of those who came back a third time.
RETURNED_AGAIN_SHARE = 0.3
THIRD_RETURN_SHARE = 0.3
# A later return comes 1 to 20 months after the one before.
LONGEST_GAP_DAYS = 600


@dataclass(frozen=True)
class HistoryDemoResult:
    persons: int
    arrivals: int


def returns_history_demo_load(
    *,
    officer: User,
    airport: ReceptionCentre,
    border: ReceptionCentre,
    today: datetime.date,
) -> HistoryDemoResult:
    rng = random.Random(HISTORY_SEED)
    # Its own generator, so that the returns drawn stay those of earlier demos.
    registration_minutes = random.Random(HISTORY_SEED + 1)
    united_states = Country.objects.get(pk="US")
    mexico = Country.objects.get(pk="MX")
    registry = people_visible_to(user=officer).filter(
        is_child=False, nationality_id="HN", birth_year__isnull=False
    )
    wanted = min(HISTORY_PERSONS, registry.count() // HISTORY_SHARE_OF_REGISTRY)
    persons = list(
        registry.order_by("first_surname", "given_names", "pk")[
            SKIP_PERSONS : SKIP_PERSONS + wanted
        ]
    )
    earliest = datetime.date(today.year - YEARS_BACK, 1, 1)
    span = (today - earliest).days - 30  # the first return at least a month ago
    arrivals = 0
    for number, person in enumerate(persons):
        day = earliest + datetime.timedelta(days=rng.randrange(span))
        returns = [day]
        if rng.random() < RETURNED_AGAIN_SHARE:
            returns.append(day + datetime.timedelta(days=rng.randint(30, LONGEST_GAP_DAYS)))
            if rng.random() < THIRD_RETURN_SHARE:
                later = returns[-1] + datetime.timedelta(days=rng.randint(30, LONGEST_GAP_DAYS))
                returns.append(later)
        for index, returned_on in enumerate(day for day in returns if day < today):
            by_air = rng.random() < 0.6
            arrived_at = timezone.make_aware(
                datetime.datetime.combine(returned_on, datetime.time(rng.randint(7, 18)))
            )
            arrival = arrival_register(
                actor=officer,
                centre=airport if by_air else border,
                idempotency_key=f"demo-history-{number:04d}-{index}",
                arrived_at=arrived_at,
                confirmed_person=person,
                returned_from=united_states if by_air else mexico,
                means="air" if by_air else "land",
            )
            # Registered minutes after arriving, not when the demo ran (the service stamps
            # that moment), or the centres' intake times would count days to register.
            Arrival.objects.filter(pk=arrival.pk).update(
                registered_at=arrived_at
                + datetime.timedelta(minutes=registration_minutes.randint(6, 40))
            )
            arrivals += 1
    return HistoryDemoResult(persons=len(persons), arrivals=arrivals)
