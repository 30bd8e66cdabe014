"""Recognising a repeat returnee: candidates found by blocking keys, each with the reasons it
matched, only with consent to tracing and matching; the officer confirms or rejects."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mirador.accounts.models import User
from mirador.core.errors import PermissionDeniedError
from mirador.core.models import AuditAction, AuditEntry, ReceptionCentre
from mirador.people.models import ConsentPurpose, Person
from mirador.people.selectors import person_get
from mirador.people.services import DocumentData, consent_record
from mirador.returns import matching, selectors
from mirador.returns.models import Arrival, CandidateDecision
from mirador.returns.selectors import (
    NO_TRACING_CONSENT,
    passenger_identity,
    person_repeat_candidates,
    repeat_candidates,
)
from mirador.returns.services import (
    CandidatesToDecideError,
    IdentityData,
    arrival_register,
    candidate_reject,
)
from mirador.returns.tests.conftest import passenger

pytestmark = pytest.mark.django_db


def _earlier_return(
    users: dict[str, User],
    centre: ReceptionCentre,
    key: str,
    *,
    given_names: str = "José Luis",
    first_surname: str = "Martínez",
    second_surname: str = "Flores",
    birth: tuple[int, int, int] = (1992, 3, 8),
    consent_tracing: bool = True,
    documents: tuple[DocumentData, ...] = (),
) -> Arrival:
    def register(rejected: list[Person]) -> Arrival:
        return arrival_register(
            actor=users["officer.hn"],
            centre=centre,
            idempotency_key=key,
            identity=IdentityData(
                given_names=given_names,
                first_surname=first_surname,
                second_surname=second_surname,
                birth_year=birth[0],
                birth_month=birth[1],
                birth_day=birth[2],
                sex="M",
                nationality="HN",
                documents=documents,
            ),
            rejected_candidates=rejected,
            consent_tracing=consent_tracing,
        )

    try:
        return register([])
    except CandidatesToDecideError as error:
        # A namesake registered before: the officer says it is someone else.
        return register([candidate.person for candidate in error.candidates])


@pytest.mark.parametrize(
    ("row", "expected_reasons"),
    [
        (
            passenger("JOSE LUIS", "Martinez", "Flores", birth_date="1992-03-08", sex="M"),
            [
                matching.REASON_GIVEN_NAMES,
                matching.REASON_SURNAMES,
                matching.REASON_BIRTH_DATE,
                matching.REASON_SEX,
            ],
        ),
        (
            passenger("José Luis", "Flores", "Martínez", birth_date="1992-08-03", sex="M"),
            [
                matching.REASON_GIVEN_NAMES,
                matching.REASON_SURNAMES_SWAPPED,
                matching.REASON_BIRTH_DAY_MONTH_SWAPPED,
                matching.REASON_SEX,
            ],
        ),
        (
            passenger("José Luis", "Martínez", "", birth_date="1992", sex="M"),
            [
                matching.REASON_GIVEN_NAMES,
                matching.REASON_SURNAME_DROPPED,
                matching.REASON_BIRTH_YEAR,
                matching.REASON_SEX,
            ],
        ),
    ],
    ids=["accents-and-case", "surnames-and-day-month-swapped", "one-surname-dropped"],
)
def test_a_passenger_who_returned_before_is_found_with_the_reasons(
    users: dict[str, User],
    airport_hn: ReceptionCentre,
    make_manifest: Callable[..., object],
    row: dict[str, str],
    expected_reasons: list[str],
) -> None:
    earlier = _earlier_return(users, airport_hn, "earlier-1")
    _earlier_return(users, airport_hn, "other-1", given_names="Ana", first_surname="Flores")
    manifest = make_manifest(airport_hn, [row])
    passenger_row = manifest.passengers.get()  # type: ignore[attr-defined]

    result = repeat_candidates(
        user=users["officer.hn"], identity=passenger_identity(passenger_row), consent_tracing=True
    )

    assert result.searched
    assert [(c.person.pk, c.reasons) for c in result.candidates] == [
        (earlier.person_id, expected_reasons)
    ]
    assert result.candidates[0].earlier_arrivals == 1


def test_the_same_document_number_matches_whatever_the_names(
    users: dict[str, User], airport_hn: ReceptionCentre
) -> None:
    earlier = arrival_register(
        actor=users["officer.hn"],
        centre=airport_hn,
        idempotency_key="doc-earlier",
        identity=IdentityData(
            given_names="Kevin",
            first_surname="Paz",
            documents=[DocumentData(kind="passport", number="C0912345", issuing_country="HN")],
        ),
        consent_tracing=True,
    )
    identity = matching.Identity("Kevin Alexis", "Paz", "", None, None, None, "M", ("c-0912345",))

    result = repeat_candidates(user=users["officer.hn"], identity=identity, consent_tracing=True)

    assert [c.person.pk for c in result.candidates] == [earlier.person_id]
    assert matching.REASON_DOCUMENT in result.candidates[0].reasons


def test_without_the_returnees_consent_nothing_is_searched_and_the_officer_is_told(
    users: dict[str, User], airport_hn: ReceptionCentre
) -> None:
    _earlier_return(users, airport_hn, "earlier-2")
    identity = matching.Identity("José Luis", "Martínez", "Flores", 1992, 3, 8, "M")

    result = repeat_candidates(user=users["officer.hn"], identity=identity, consent_tracing=False)

    assert not result.searched and result.candidates == []
    assert result.message == str(NO_TRACING_CONSENT)


def test_a_person_who_withdrew_consent_is_no_longer_a_candidate(
    users: dict[str, User], airport_hn: ReceptionCentre
) -> None:
    earlier = _earlier_return(users, airport_hn, "earlier-3")
    consent_record(
        actor=users["officer.hn"],
        person=earlier.person,
        purpose=ConsentPurpose.TRACING_MATCHING,
        granted=False,
    )
    identity = matching.Identity("José Luis", "Martínez", "Flores", 1992, 3, 8, "M")

    result = repeat_candidates(user=users["officer.hn"], identity=identity, consent_tracing=True)

    assert result.searched and result.candidates == []


def test_an_officer_of_another_country_finds_no_honduran_candidates(
    users: dict[str, User], airport_hn: ReceptionCentre
) -> None:
    _earlier_return(users, airport_hn, "earlier-4")
    identity = matching.Identity("José Luis", "Martínez", "Flores", 1992, 3, 8, "M")

    result = repeat_candidates(user=users["officer.gt"], identity=identity, consent_tracing=True)

    assert result.candidates == []
    with pytest.raises(PermissionDeniedError):
        repeat_candidates(user=users["analyst.hn"], identity=identity, consent_tracing=True)


def test_confirming_a_candidate_adds_the_arrival_to_their_history_and_records_the_decision(
    users: dict[str, User], airport_hn: ReceptionCentre, make_manifest: Callable[..., object]
) -> None:
    officer = users["officer.hn"]
    earlier = _earlier_return(users, airport_hn, "earlier-5")
    decoy = _earlier_return(users, airport_hn, "decoy-5", second_surname="", birth=(1992, 3, 8))
    manifest = make_manifest(
        airport_hn, [passenger("José Luis", "Martínez", "Flores", birth_date="1992-03-08")]
    )
    passenger_row = manifest.passengers.get()  # type: ignore[attr-defined]
    candidates = repeat_candidates(
        user=officer, identity=passenger_identity(passenger_row), consent_tracing=True
    ).candidates
    assert {c.person.pk for c in candidates} == {earlier.person_id, decoy.person_id}
    best = candidates[0]
    assert best.person.pk == earlier.person_id  # the stronger match first

    again = arrival_register(
        actor=officer,
        centre=airport_hn,
        idempotency_key="repeat-5",
        manifest_passenger=passenger_row,
        confirmed_person=person_get(user=officer, person_id=earlier.person_id),
        candidate_reasons=best.reasons,
        rejected_candidates=[person_get(user=officer, person_id=decoy.person_id)],
        consent_tracing=True,
    )

    assert again.person_id == earlier.person_id
    assert Person.objects.filter(first_surname="Martínez").count() == 2  # no new person
    assert list(Arrival.objects.filter(person_id=earlier.person_id).order_by("arrived_at")) == [
        earlier,
        again,
    ]
    decisions = {
        (d.candidate_id, d.decision, d.created_by_id)
        for d in CandidateDecision.objects.filter(arrival=again)
    }
    assert decisions == {
        (earlier.person_id, CandidateDecision.CONFIRMED, officer.pk),
        (decoy.person_id, CandidateDecision.REJECTED, officer.pk),
    }
    assert person_repeat_candidates(user=officer, person=again.person).candidates[0].person.pk == (
        decoy.person_id
    )


def test_a_rejected_candidate_is_kept_for_audit(
    users: dict[str, User], airport_hn: ReceptionCentre
) -> None:
    earlier = _earlier_return(users, airport_hn, "earlier-6")
    decision = candidate_reject(
        actor=users["officer.hn"], candidate=earlier.person, reasons=["same-given-names"]
    )
    assert decision.decision == CandidateDecision.REJECTED


def test_the_candidate_search_uses_a_fixed_number_of_queries(
    users: dict[str, User], airport_hn: ReceptionCentre
) -> None:
    for index in range(6):
        _earlier_return(users, airport_hn, f"many-{index}", birth=(1992, 3, 1 + index))
    identity = matching.Identity("José Luis", "Martínez", "Flores", 1992, 3, 8, "M")
    shown = AuditEntry.objects.filter(
        action=AuditAction.READ,
        object_type="people.Person",
        details__via="repeat-return candidates",
    )

    before = shown.count()
    with CaptureQueriesContext(connection) as few:
        small = repeat_candidates(user=users["officer.hn"], identity=identity, consent_tracing=True)
    shown_small = shown.count() - before
    for index in range(6, 12):
        _earlier_return(users, airport_hn, f"many-{index}", birth=(1992, 3, 1 + index))
    before = shown.count()
    with CaptureQueriesContext(connection) as more:
        large = repeat_candidates(user=users["officer.hn"], identity=identity, consent_tracing=True)
    shown_large = shown.count() - before

    assert len(large.candidates) == 2 * len(small.candidates) == 12
    # One query for the persons, one for their documents, one audit insert for all.
    assert len(more) == len(few)
    # Each candidate shown is audited as a read of their record.
    assert (shown_small, shown_large) == (len(small.candidates), len(large.candidates))


def test_persons_who_only_share_a_name_are_compared_without_reading_their_records(
    users: dict[str, User], airport_hn: ReceptionCentre
) -> None:
    for index, year in enumerate((1970, 1975, 1980)):
        _earlier_return(users, airport_hn, f"namesake-{index}", birth=(year, 3, 8))
    identity = matching.Identity("José Luis", "Martínez", "Flores", 1992, 3, 8, "M")
    before = AuditEntry.objects.count()

    with CaptureQueriesContext(connection) as queries:
        none = repeat_candidates(user=users["officer.hn"], identity=identity, consent_tracing=True)

    assert none.searched and none.candidates == []
    # The blocking keys, then what matching compares of the three namesakes: no record (with
    # its consent and earlier arrivals) is read, and nothing shown is audited.
    assert len(queries) == 2
    assert AuditEntry.objects.count() == before

    same = _earlier_return(users, airport_hn, "same-person", birth=(1992, 3, 8))
    found = repeat_candidates(user=users["officer.hn"], identity=identity, consent_tracing=True)
    assert [candidate.person.pk for candidate in found.candidates] == [same.person_id]
    assert found.candidates[0].earlier_arrivals == 1


def test_the_holder_of_the_returnees_document_is_found_among_many_namesakes(
    users: dict[str, User], airport_hn: ReceptionCentre, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A common name is shared by more persons than a search compares or reads (limits made
    # small here, instead of registering thousands of namesakes).
    monkeypatch.setattr(selectors, "MAX_COMPARED", 4)
    monkeypatch.setattr(selectors, "MAX_CANDIDATES", 1)
    for index in range(30):
        _earlier_return(users, airport_hn, f"namesake-{index}", birth=(1992, 3, 8))
    holder = _earlier_return(
        users,
        airport_hn,
        "document-holder",
        documents=(DocumentData(kind="passport", number="F1234567", issuing_country="HN"),),
    )
    identity = matching.Identity("José Luis", "Martínez", "Flores", 1992, 3, 8, "M", ("F1234567",))

    result = repeat_candidates(user=users["officer.hn"], identity=identity, consent_tracing=True)

    assert [candidate.person.pk for candidate in result.candidates] == [holder.person_id]
    assert matching.REASON_DOCUMENT in result.candidates[0].reasons
