"""Demo consular cases, loaded after the demo's identification work (mirador.linkage.demo) and
stored through the real services, so that they are validated, matched and audited like real
work:

- the young man of the demo's missing-person report, held at the migration station in
  Tapachula and seen by the consulate there, who agreed to be traced: the matching finds his
  mother's report, and the report's responsible officer gets the alert;
- a woman in hospital in Houston, a child alone at a shelter in Mexico City (restricted to the
  protection officers), a national who died in Texas whose remains went home, a passport
  issued in New York.

The cases are opened by the demo's consular officer (`consular.hn`) where the demo accounts
include one, else by its protection officer; the child's by the protection officer. The
matching runs here at once (as the background task would), so that `mirador demo
--no-serve` leaves the alert ready. Loaded once: nothing is added when a case exists.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from mirador.accounts.models import User
from mirador.consular import matching, services
from mirador.consular.models import ConsularCase
from mirador.core.models import Consulate
from mirador.linkage import missing
from mirador.linkage.models import MatchAlert, MissingReportStatus
from mirador.people.services import DocumentData

CONSULAR_OFFICERS = ("consular.hn", "protection.hn")  # the first of these that exists
PROTECTION_OFFICER = "protection.hn"


@dataclass(frozen=True)
class ConsularDemoResult:
    cases: int
    alerts: int


def consular_demo_is_loaded() -> bool:
    return ConsularCase.objects.exists()


def _consulate(host: str, city: str) -> Consulate | None:
    return Consulate.objects.filter(
        sending_country_id="HN", host_country_id=host, city=city
    ).first()


def _sought(tracer: User) -> services.PersonData | None:
    """The demo's missing young man as the consulate in Tapachula recorded him (what his
    mother reported: first given name, surname, year of birth)."""
    reports = missing.missing_reports_list(user=tracer, status=MissingReportStatus.OPEN)
    if not reports:
        return None
    person = reports[0].person
    return services.PersonData(
        given_names=person.given_names,
        first_surname=person.first_surname,
        birth_year=person.birth_year,
        sex=person.sex,
        nationality="HN",
    )


def _case(
    actor: User,
    consulate: Consulate | None,
    *,
    today: datetime.date,
    days_ago: int,
    actions: tuple[tuple[str, int, str], ...] = (),
    status: tuple[str, str, str] | None = None,
    **fields: Any,
) -> ConsularCase | None:
    """Open a case `days_ago`, log its `actions` (kind, days after opening, note) and set
    its final `status` (status, outcome, note) on the day after the last action."""
    if consulate is None:
        return None
    opened_on = today - datetime.timedelta(days=days_ago)
    case = services.case_open(actor=actor, consulate_id=consulate.pk, opened_on=opened_on, **fields)
    after = 0
    for kind, after, note in actions:
        services.case_action_add(
            actor=actor,
            case_id=case.pk,
            kind=kind,
            taken_on=opened_on + datetime.timedelta(days=after),
            note=note,
        )
    if status is not None:
        new, outcome, note = status
        services.case_status_set(
            actor=actor,
            case_id=case.pk,
            status=new,
            outcome=outcome,
            note=note,
            on=min(today, opened_on + datetime.timedelta(days=after + 1)),
        )
    return case


def consular_demo_load(*, today: datetime.date | None = None) -> ConsularDemoResult:
    officer = next(
        (
            user
            for username in CONSULAR_OFFICERS
            if (user := User.objects.filter(username=username).first()) is not None
        ),
        None,
    )
    protection = User.objects.filter(username=PROTECTION_OFFICER).first()
    if officer is None or protection is None or consular_demo_is_loaded():
        return ConsularDemoResult(0, 0)
    today = today or timezone.localdate()
    alerts_before = MatchAlert.objects.count()
    opened: list[ConsularCase | None] = []

    sought = _sought(protection)
    if sought is not None:
        opened.append(
            _case(
                officer,
                _consulate("MX", "Tapachula"),
                today=today,
                days_ago=12,
                case_type="detention",
                person=sought,
                locality="Estación Migratoria Siglo XXI, Tapachula",
                description=(
                    "Detenido por el Instituto Nacional de Migración; en proceso de "
                    "deportación a Honduras. Pide que se avise a su familia."
                ),
                consent_tracing=True,
                actions=(
                    ("visit", 1, "Visita consular en la estación migratoria."),
                    ("document-requested", 2, "Constancia de nacionalidad para el retorno."),
                ),
                status=("in-progress", "", ""),
            )
        )
    opened.append(
        _case(
            officer,
            _consulate("US", "Houston"),
            today=today,
            days_ago=6,
            case_type="hospitalisation",
            person=services.PersonData(
                given_names="Ana Gabriela",
                first_surname="Murillo",
                second_surname="Sosa",
                birth_year=1992,
                birth_month=3,
                birth_day=11,
                sex="F",
            ),
            locality="Ben Taub Hospital, Houston",
            description="Ingresada tras un accidente laboral; estable.",
            consent_tracing=True,
            actions=(
                ("call", 0, "Llamada con la trabajadora social del hospital."),
                ("family-contacted", 1, "Se informó a su hermana en Choluteca."),
            ),
        )
    )
    opened.append(
        _case(
            protection,
            _consulate("MX", "Ciudad de México"),
            today=today,
            days_ago=4,
            case_type="unaccompanied-child",
            person=services.PersonData(
                given_names="Brayan Josué",
                first_surname="Mejía",
                birth_year=today.year - 15,
                sex="M",
            ),
            locality="Albergue del DIF, Ciudad de México",
            description="Viajaba solo; lo canalizó el DIF al consulado.",
            actions=(("interview", 0, "Entrevista con el niño en el albergue."),),
            status=("referred", "", "Referido a DINAF para su retorno acompañado."),
        )
    )
    opened.append(
        _case(
            officer,
            _consulate("US", "Houston"),
            today=today,
            days_ago=40,
            case_type="death",
            person=services.PersonData(
                given_names="Denis Orlando",
                first_surname="Cruz",
                second_surname="Alvarado",
                birth_year=1987,
                sex="M",
            ),
            place_country="US",
            locality="Condado de Brooks (Falfurrias, Texas)",
            description="Identificado por la oficina forense del condado.",
            actions=(
                ("authorities-contacted", 1, "Oficina forense del condado."),
                ("family-contacted", 2, "Se informó a su esposa en Olancho."),
            ),
            status=("closed", "remains-repatriated", "Restos repatriados a Juticalpa."),
        )
    )
    opened.append(
        _case(
            officer,
            _consulate("US", "New York"),
            today=today,
            days_ago=20,
            case_type="documents",
            person=services.PersonData(
                given_names="Karla Patricia",
                first_surname="Reyes",
                second_surname="Ávila",
                birth_year=1999,
                birth_month=8,
                birth_day=30,
                sex="F",
                documents=(DocumentData(kind="passport", number="E0000417", issuing_country="HN"),),
            ),
            locality="Queens, Nueva York",
            consent_tracing=False,
            actions=(("document-issued", 9, "Pasaporte entregado."),),
            status=("closed", "document-issued", ""),
        )
    )
    cases = [case for case in opened if case is not None]
    for case in cases:
        matching.case_match(case_id=case.pk)
    return ConsularDemoResult(cases=len(cases), alerts=MatchAlert.objects.count() - alerts_before)
