"""Consular cases as a source of missing-person matching (linkage.missing): the persons of a
country's cases are compared with its open missing-person reports when a case is opened (or
taken up again) and when a report is filed; a pair goes to the review queue and the report's
responsible officer gets a match alert, as for a return.

Which persons may be matched (docs/linkage.md, "Missing migrants"):
- those of cases not closed, of every type but an enquiry about a missing relative (whose
  person is the one sought, not found: that is a missing-person report's work);
- a person the consulate is in touch with (held, in hospital, a victim, asking for a
  document...) can be asked: they are matched only while their consent to tracing and
  matching is in force, as a returnee is; not asked, not matched;
- a national who died abroad cannot be asked: they are matched under the consulate's duty to
  identify them and tell their family, unless a refusal is recorded for them.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from mirador.consular.models import CaseType, ConsularCase
from mirador.core.audit import request_context
from mirador.linkage.missing import (
    MATCHING_REASON,
    MatchSource,
    match_source_register,
    records_match,
)
from mirador.people.models import Person
from mirador.people.selectors import CONSENT_GRANTED, CONSENT_NOT_REFUSED, people_for_matching

SOURCE = "consular"


def case_persons(*, country_id: str, ids: Sequence[uuid.UUID] | None = None) -> list[Person]:
    """The persons of `country_id`'s cases who may be matched (the module's rule)."""
    cases = (
        ConsularCase.objects.open()
        .filter(consulate__sending_country_id=country_id, person__country_id=country_id)
        .exclude(case_type=CaseType.MISSING_RELATIVE)
    )
    if ids is not None:
        cases = cases.filter(person_id__in=list(ids))
    found: dict[uuid.UUID, Person] = {}
    for consent, chosen in (
        (CONSENT_GRANTED, cases.exclude(case_type=CaseType.DEATH)),
        (CONSENT_NOT_REFUSED, cases.filter(case_type=CaseType.DEATH)),
    ):
        person_ids = chosen.values("person_id")
        if ids is not None and not person_ids.exists():
            continue
        for person in people_for_matching(
            country_id=country_id, consent=consent, person_ids=person_ids, reason=MATCHING_REASON
        ):
            found.setdefault(person.pk, person)
    return list(found.values())


match_source_register(MatchSource(SOURCE, case_persons))


def case_match(*, case_id: uuid.UUID | str) -> str:
    """The task's work for a new case: its person against the open reports of the country."""
    case = (
        ConsularCase.objects.filter(pk=case_id)
        .only("pk", "person_id", "person__country_id")
        .select_related("person")
        .first()
    )
    if case is None:
        return "missing"
    return person_match(person_id=case.person_id, country_id=case.person.country_id)


def person_match(*, person_id: uuid.UUID | str, country_id: str | None = None) -> str:
    """A case's person against the open reports of their country (on a new case, or once
    their consent to tracing is recorded)."""
    if country_id is None:
        person = Person.objects.filter(pk=person_id).only("pk", "country_id").first()
        if person is None:
            return "missing"
        country_id = person.country_id
    with request_context(ip_address=None, channel="task"):
        pairs = records_match(source=SOURCE, country_id=country_id, ids=[uuid.UUID(str(person_id))])
    return f"{len(pairs)} missing-person pairs"
