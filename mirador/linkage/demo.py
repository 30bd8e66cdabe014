"""Demo identification work, loaded after the demo returns (mirador.returns.demo) and stored
through the real services, so that it is validated, matched and audited like real work:

- a few returnees registered again during a busy afternoon, in contingency mode (where the
  desk searches no earlier return and leaves that to the review queue), as if they were new
  (accents lost, surnames swapped, day and month of birth swapped), their registrations
  completed later: the repeat-return search puts each of them in the review queue beside the
  earlier record, with the model's reasons;
- a family's report, received through the consulate in Tapachula, of a son who went missing on
  the way north, and who came back through San Pedro Sula in the last days: the matching finds
  his return, and the protection officer (the report's responsible officer) gets the alert.

The matching runs here at once (as the background task would), so that `mirador demo
--no-serve` leaves the queue and the alert ready. Loaded once: nothing is added when a
missing-person report exists.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils import timezone

from mirador.accounts.models import User
from mirador.core.models import Consulate, ReceptionCentre
from mirador.linkage import missing
from mirador.linkage.models import MissingPersonReport, ReviewPair
from mirador.people.models import Person
from mirador.people.selectors import people_visible_to
from mirador.returns.models import Arrival
from mirador.returns.services import IdentityData, arrival_complete, arrival_register

RECEPTION_OFFICER = "officer.hn"
TRACING_OFFICER = "protection.hn"
AIRPORT_CENTRE = "San Pedro Sula"
REGISTERED_AGAIN = 4


@dataclass(frozen=True)
class LinkageDemoResult:
    pairs: int
    reports: int
    alerts: int


def linkage_demo_is_loaded() -> bool:
    return MissingPersonReport.objects.exists()


def _fold(text: str) -> str:
    """As a form filled in a hurry, or by a system without accents, writes it."""
    import unicodedata

    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def _registered_again(person: Person, variant: int) -> IdentityData:
    """The person as a second registration wrote them: each variant one kind of error."""
    given, first, second = person.given_names, person.first_surname, person.second_surname
    year, month, day = person.birth_year, person.birth_month, person.birth_day
    if variant == 0:
        given, first, second = _fold(given).upper(), _fold(first).upper(), _fold(second).upper()
    elif variant == 1 and second:
        first, second = second, first
    elif variant == 2 and month and day:
        # Day and month swapped where both could be a month, else one digit of the day wrong.
        if day <= 12 and day != month:
            month, day = day, month
        else:
            day = day + 1 if day < 28 else day - 1
    else:
        second = ""
    return IdentityData(
        given_names=given,
        first_surname=first,
        second_surname=second,
        birth_year=year,
        birth_month=month,
        birth_day=day,
        sex=person.sex,
        nationality=person.nationality_id,
    )


def linkage_demo_load(*, today: datetime.date | None = None) -> LinkageDemoResult:
    officer = User.objects.filter(username=RECEPTION_OFFICER).first()
    tracer = User.objects.filter(username=TRACING_OFFICER).first()
    airport = (
        ReceptionCentre.objects.filter(country_id="HN", name__contains=AIRPORT_CENTRE)
        .order_by("name")
        .first()
    )
    if officer is None or tracer is None or airport is None:
        return LinkageDemoResult(0, 0, 0)
    today = today or timezone.localdate()
    # Adults who came back in the demo's last days, with consent to tracing and matching.
    returned = list(
        people_visible_to(user=officer)
        .filter(
            arrivals__centre=airport,
            is_child=False,
            birth_year__isnull=False,
            birth_month__isnull=False,
            birth_day__isnull=False,
        )
        .exclude(second_surname="")
        .order_by("first_surname", "given_names", "pk")
        .distinct()[: REGISTERED_AGAIN + 1]
    )
    if len(returned) < 2:
        return LinkageDemoResult(0, 0, 0)
    sought, again = returned[0], returned[1:]
    now = timezone.now()
    for index, person in enumerate(again):
        last = person.arrivals.order_by("-arrived_at").first()
        arrived_at = now - datetime.timedelta(hours=5, minutes=7 * index)
        arrival = arrival_register(
            actor=officer,
            centre=airport,
            idempotency_key=f"demo-again-{index:02d}",
            arrived_at=arrived_at,
            identity=_registered_again(person, index),
            returned_from=last.returned_from if last else None,
            consent_follow_up=True,
            consent_tracing=True,
            contingency=True,
        )
        # Registered in minutes that afternoon (the service stamps the moment the demo
        # runs), completed now.
        Arrival.objects.filter(pk=arrival.pk).update(
            registered_at=arrived_at + datetime.timedelta(minutes=12)
        )
        arrival_complete(actor=officer, arrival=arrival)
        missing.arrival_match(arrival_id=arrival.pk)

    consulate = (
        Consulate.objects.filter(
            sending_country_id="HN", host_country_id="MX", city__icontains="Tapachula"
        ).first()
        or Consulate.objects.filter(sending_country_id="HN", host_country_id="MX").first()
    )
    report = missing.missing_report_file(
        actor=tracer,
        # What the mother knew: his first given name, his father's surname, the year he was
        # born; not his document.
        given_names=sought.given_names.split()[0],
        first_surname=sought.first_surname,
        birth_year=sought.birth_year,
        sex=sought.sex,
        nationality="HN",
        reporter_name="María Elena " + sought.first_surname,
        reporter_relationship="parent",
        reporter_contact="+504 9000-0000",
        reported_on=today - datetime.timedelta(days=75),
        consulate_id=consulate.pk if consulate else None,
        last_seen_on=today - datetime.timedelta(days=110),
        last_seen_place="Tapachula, Chiapas",
        last_seen_country="MX",
        route="San Pedro Sula – Agua Caliente – Tecún Umán – Tapachula",
        circumstances="Llamó desde un albergue en Tapachula; desde entonces no se sabe de él.",
    )
    missing.report_match(report_id=report.pk)
    return LinkageDemoResult(
        pairs=ReviewPair.objects.count(),
        reports=MissingPersonReport.objects.count(),
        alerts=report.alerts.count(),
    )
