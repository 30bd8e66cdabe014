"""Registering, changing, sharing, deleting persons, and recording consent and family links:
each checks who may, validates, and leaves an audit entry without personal data in it."""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from mirador.accounts.models import Role, User
from mirador.core.errors import NotFoundError, PermissionDeniedError, ValidationFailedError
from mirador.core.models import AuditAction, AuditEntry, Country, Organisation
from mirador.people.models import (
    Consent,
    ConsentPurpose,
    ContactKind,
    DocumentKind,
    FamilyLink,
    IdentityDocument,
    Person,
    PersonShare,
    Relationship,
)
from mirador.people.selectors import PERSON_OBJECT_TYPE, people_visible_to
from mirador.people.services import (
    BIRTH_DATE_IN_FUTURE,
    BIRTH_DATE_NOT_IN_CALENDAR,
    DAY_WITHOUT_MONTH,
    FAMILY_LINK_TO_SELF,
    MONTH_WITHOUT_YEAR,
    REASON_REQUIRED,
    AlreadySharedError,
    ContactData,
    DocumentData,
    FamilyLinkExistsError,
    consent_record,
    family_link_add,
    person_delete,
    person_register,
    person_share,
    person_update,
    youngest_possible_age,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer(make_user: Callable[..., User]) -> User:
    return make_user(username="officer.hn", role=Role.RECEPTION_OFFICER, country="HN")


@pytest.fixture
def protection(make_user: Callable[..., User]) -> User:
    return make_user(username="protection.hn", role=Role.PROTECTION_OFFICER, country="HN")


@pytest.fixture
def caseworker(make_user: Callable[..., User], civil_society: Organisation) -> User:
    return make_user(username="caseworker.hn", role=Role.CASEWORKER, organisation=civil_society)


@pytest.fixture
def officer_gt(make_user: Callable[..., User]) -> User:
    return make_user(username="officer.gt", role=Role.RECEPTION_OFFICER, country="GT")


def _register(actor: User, **fields: object) -> Person:
    values: dict[str, object] = {
        "country": Country.objects.get(pk="HN"),
        "given_names": "Ana Lucía",
        "first_surname": "Mejía",
        "second_surname": "Banegas",
        "birth_year": 1994,
        "birth_month": 7,
        "birth_day": 3,
        "sex": "F",
        "nationality": Country.objects.get(pk="HN"),
        "reason": "arrival at the reception centre",
    }
    values.update(fields)
    return person_register(actor=actor, **values)  # type: ignore[arg-type]


def _years_ago(years: int) -> datetime.date:
    today = timezone.localdate()
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


def _field_errors(error: pytest.ExceptionInfo[ValidationFailedError]) -> dict[str, list[str]]:
    fields = error.value.details["fields"]
    assert isinstance(fields, dict)
    return fields


# --- registration -------------------------------------------------------------------------


def test_registering_stores_identity_documents_and_contacts(officer: User) -> None:
    person = _register(
        officer,
        documents=[
            DocumentData(
                kind=DocumentKind.NATIONAL_ID, number="0801-1994-01234", issuing_country="HN"
            )
        ],
        contacts=[ContactData(kind=ContactKind.PHONE, value="+504 9999 0000")],
    )

    person.refresh_from_db()
    assert (person.full_name, person.birth_date_display) == (
        "Ana Lucía Mejía Banegas",
        "1994-07-03",
    )
    assert person.country_id == "HN"
    assert person.registered_by_organisation == officer.organisation
    assert person.created_by == officer
    assert [d.number for d in person.documents.all()] == ["0801-1994-01234"]
    assert [c.value for c in person.contacts.all()] == ["+504 9999 0000"]


def test_registering_is_audited_with_field_names_and_never_their_values(officer: User) -> None:
    person = _register(
        officer,
        documents=[
            DocumentData(kind=DocumentKind.PASSPORT, number="E123456", issuing_country="HN")
        ],
    )

    entry = AuditEntry.objects.get(action=AuditAction.CREATE)
    assert (entry.actor, entry.object_type, entry.object_id) == (
        officer,
        PERSON_OBJECT_TYPE,
        str(person.pk),
    )
    assert entry.reason == "arrival at the reception centre"
    assert "given_names" in entry.details["fields"]
    assert entry.details["documents"] == 1
    logged = json.dumps(entry.details)
    for value in ("Ana", "Mejía", "Mej\\u00eda", "Banegas", "1994", "E123456"):
        assert value not in logged


@pytest.mark.parametrize(
    ("year", "month", "day", "field", "message"),
    [
        (2001, None, 5, "birth_day", DAY_WITHOUT_MONTH),
        (None, 5, None, "birth_month", MONTH_WITHOUT_YEAR),
        (2001, 2, 29, "birth_day", BIRTH_DATE_NOT_IN_CALENDAR),
        (2003, 4, 31, "birth_day", BIRTH_DATE_NOT_IN_CALENDAR),
    ],
)
def test_an_impossible_date_of_birth_is_refused(
    officer: User, year: int | None, month: int | None, day: int | None, field: str, message: str
) -> None:
    with pytest.raises(ValidationFailedError) as error:
        _register(officer, birth_year=year, birth_month=month, birth_day=day)

    assert _field_errors(error)[field] == [str(message)]
    assert not Person.objects.exists()


def test_a_date_of_birth_in_the_future_is_refused(officer: User) -> None:
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    next_year = timezone.localdate().year + 1

    for year, month, day in (
        (tomorrow.year, tomorrow.month, tomorrow.day),
        (next_year, None, None),
    ):
        with pytest.raises(ValidationFailedError) as error:
            _register(officer, birth_year=year, birth_month=month, birth_day=day)
        assert _field_errors(error)["birth_year"] == [str(BIRTH_DATE_IN_FUTURE)]


def test_a_leap_day_and_a_partial_date_are_accepted(officer: User) -> None:
    assert _register(officer, birth_year=2000, birth_month=2, birth_day=29).birth_day == 29
    year_only = _register(
        officer, given_names="Luis", birth_year=1985, birth_month=None, birth_day=None
    )
    assert year_only.birth_date_display == "1985"


def test_a_person_under_18_at_registration_is_flagged_child(protection: User) -> None:
    ten = _years_ago(10)
    child = _register(protection, birth_year=ten.year, birth_month=ten.month, birth_day=ten.day)
    adult = _register(protection, given_names="Adulta", birth_year=1980)

    assert child.is_child
    assert not adult.is_child


def test_someone_who_may_still_be_17_is_presumed_a_child() -> None:
    # Born "in 2007", or "in June 2007": on 15 June 2025 they may be 18, or still 17.
    on = datetime.date(2025, 6, 15)

    assert youngest_possible_age(year=2007, month=None, day=None, on=on) == 17
    assert youngest_possible_age(year=2007, month=6, day=None, on=on) == 17
    assert youngest_possible_age(year=2007, month=6, day=15, on=on) == 18
    assert youngest_possible_age(year=None, month=None, day=None, on=on) is None


def test_a_person_turning_18_today_is_not_a_child(protection: User) -> None:
    eighteen = _years_ago(18)
    person = _register(
        protection, birth_year=eighteen.year, birth_month=eighteen.month, birth_day=eighteen.day
    )
    assert not person.is_child


def test_an_unknown_date_of_birth_leaves_the_child_flag_as_given(protection: User) -> None:
    unknown = _register(protection, birth_year=None, birth_month=None, birth_day=None)
    looks_young = _register(
        protection,
        given_names="Niño",
        birth_year=None,
        birth_month=None,
        birth_day=None,
        is_child=True,
    )

    assert not unknown.is_child
    assert looks_young.is_child


@pytest.mark.parametrize("username", ["caseworker", "officer_gt"])
def test_only_registering_officials_of_the_country_may_register(
    username: str, request: pytest.FixtureRequest
) -> None:
    actor: User = request.getfixturevalue(username)

    with pytest.raises(PermissionDeniedError):
        _register(actor)

    assert not Person.objects.exists()
    denied = AuditEntry.objects.get(action=AuditAction.DENIED)
    assert (denied.actor, denied.details) == (actor, {"attempted": "create"})


def test_a_document_already_registered_is_refused_and_nothing_is_kept(officer: User) -> None:
    passport = DocumentData(kind=DocumentKind.PASSPORT, number="E123456", issuing_country="HN")
    _register(officer, documents=[passport])

    with pytest.raises(ValidationFailedError) as error:
        _register(officer, given_names="Otra", documents=[passport])

    assert any(field.startswith("documents.0.") for field in _field_errors(error))
    assert Person.objects.count() == 1


def _document_inserts(queries: CaptureQueriesContext) -> int:
    table = f'INSERT INTO "{IdentityDocument._meta.db_table}"'
    return sum(query["sql"].startswith(table) for query in queries.captured_queries)


def test_several_documents_are_checked_in_one_query_and_stored_in_one_insert(
    officer: User,
) -> None:
    documents = [
        DocumentData(kind=DocumentKind.NATIONAL_ID, number="0801-1994-01234", issuing_country="HN"),
        DocumentData(kind=DocumentKind.PASSPORT, number="F1234567", issuing_country="HN"),
        DocumentData(kind=DocumentKind.PASSPORT, number="G7654321", issuing_country="GT"),
    ]

    with CaptureQueriesContext(connection) as queries:
        person = _register(officer, documents=documents)

    assert sorted(person.documents.values_list("kind", "number", "issuing_country")) == [
        (DocumentKind.NATIONAL_ID, "0801-1994-01234", "HN"),
        (DocumentKind.PASSPORT, "F1234567", "HN"),
        (DocumentKind.PASSPORT, "G7654321", "GT"),
    ]
    assert _document_inserts(queries) == 1
    taken_checks = [
        query
        for query in queries.captured_queries
        if query["sql"].startswith("SELECT") and IdentityDocument._meta.db_table in query["sql"]
    ]
    assert len(taken_checks) == 1


def test_of_several_documents_the_one_already_registered_is_named_and_nothing_is_kept(
    officer: User,
) -> None:
    passport = DocumentData(kind=DocumentKind.PASSPORT, number="E123456", issuing_country="HN")
    _register(officer, documents=[passport])
    national_id = DocumentData(
        kind=DocumentKind.NATIONAL_ID, number="0801-1990-00001", issuing_country="HN"
    )

    with pytest.raises(ValidationFailedError) as error:
        _register(officer, given_names="Otra", documents=[national_id, passport])

    assert set(_field_errors(error)) == {"documents.1.__all__"}
    assert Person.objects.count() == 1
    assert not IdentityDocument.objects.filter(number=national_id.number).exists()


def test_a_document_given_twice_is_refused_at_its_second_place(officer: User) -> None:
    passport = DocumentData(kind=DocumentKind.PASSPORT, number="E123456", issuing_country="HN")

    with pytest.raises(ValidationFailedError) as error:
        _register(officer, documents=[passport, passport])

    assert set(_field_errors(error)) == {"documents.1.__all__"}
    assert not Person.objects.exists()


def test_of_several_documents_the_first_wrong_one_is_the_error(officer: User) -> None:
    passport = DocumentData(kind=DocumentKind.PASSPORT, number="E123456", issuing_country="HN")
    _register(officer, documents=[passport])
    unknown_kind = DocumentData(kind="library-card", number="77", issuing_country="HN")

    # The first is taken and the second is not a kind of document: the first is named, as
    # when each is checked in turn.
    with pytest.raises(ValidationFailedError) as error:
        _register(officer, given_names="Otra", documents=[passport, unknown_kind])

    assert set(_field_errors(error)) == {"documents.0.__all__"}
    with pytest.raises(ValidationFailedError) as error:
        _register(
            officer,
            given_names="Otra",
            documents=[
                DocumentData(kind=DocumentKind.PASSPORT, number="1", issuing_country="ZZ"),
                unknown_kind,
            ],
        )
    assert set(_field_errors(error)) == {"documents.0.issuing_country"}
    assert Person.objects.count() == 1


def test_a_document_of_an_unknown_country_is_refused(officer: User) -> None:
    with pytest.raises(ValidationFailedError) as error:
        _register(
            officer,
            documents=[DocumentData(kind=DocumentKind.PASSPORT, number="1", issuing_country="ZZ")],
        )
    assert "documents.0.issuing_country" in _field_errors(error)


# --- changes ------------------------------------------------------------------------------


def test_a_change_is_saved_and_audited_with_the_changed_field_names_only(officer: User) -> None:
    person = _register(officer)

    person_update(actor=officer, person=person, given_names="Ana María", sex="F", reason="typo")

    person.refresh_from_db()
    assert person.given_names == "Ana María"
    assert person.modified_by == officer
    entry = AuditEntry.objects.get(action=AuditAction.UPDATE)
    assert entry.details == {"fields": ["given_names"]}
    assert entry.reason == "typo"


def test_a_change_that_changes_nothing_is_not_recorded(officer: User) -> None:
    person = _register(officer)
    person_update(actor=officer, person=person, given_names="Ana Lucía")
    assert not AuditEntry.objects.filter(action=AuditAction.UPDATE).exists()


def test_correcting_the_date_of_birth_works_out_the_child_flag_again(protection: User) -> None:
    person = _register(protection, birth_year=1990)
    twelve = _years_ago(12)

    person_update(actor=protection, person=person, birth_year=twelve.year)

    person.refresh_from_db()
    assert person.is_child
    assert AuditEntry.objects.get(action=AuditAction.UPDATE).details == {
        "fields": ["birth_year", "is_child"]
    }


def test_a_change_to_an_impossible_date_is_refused(officer: User) -> None:
    person = _register(officer)
    with pytest.raises(ValidationFailedError):
        person_update(actor=officer, person=person, birth_month=None)
    person.refresh_from_db()
    assert person.birth_month == 7


def test_the_registry_country_cannot_be_changed(officer: User) -> None:
    person = _register(officer)
    with pytest.raises(ValidationFailedError) as error:
        person_update(actor=officer, person=person, country=Country.objects.get(pk="GT"))
    assert "country" in _field_errors(error)


def test_a_caseworker_may_read_a_shared_record_but_not_change_it(
    officer: User, caseworker: User, share_with: Callable[[Person, Organisation], None]
) -> None:
    person = _register(officer)
    assert caseworker.organisation is not None
    share_with(person, caseworker.organisation)

    with pytest.raises(PermissionDeniedError):
        person_update(actor=caseworker, person=person, given_names="X")

    assert AuditEntry.objects.filter(actor=caseworker, action=AuditAction.DENIED).count() == 1


def test_an_official_of_another_country_changing_a_record_gets_not_found(
    officer: User, officer_gt: User
) -> None:
    person = _register(officer)
    with pytest.raises(NotFoundError):
        person_update(actor=officer_gt, person=person, given_names="X")
    assert AuditEntry.objects.get(actor=officer_gt).action == AuditAction.DENIED


# --- sharing, consent, family -------------------------------------------------------------


def test_sharing_lets_the_organisation_read_the_record_and_is_audited(
    officer: User, caseworker: User, civil_society: Organisation
) -> None:
    person = _register(officer)
    assert not people_visible_to(user=caseworker).exists()

    person_share(actor=officer, person=person, organisation=civil_society, reason="referral")

    assert list(people_visible_to(user=caseworker)) == [person]
    entry = AuditEntry.objects.get(action=AuditAction.SHARE)
    assert entry.details == {"organisation": str(civil_society.pk)}
    with pytest.raises(AlreadySharedError):
        person_share(actor=officer, person=person, organisation=civil_society, reason="again")


def test_sharing_needs_a_reason(officer: User, civil_society: Organisation) -> None:
    person = _register(officer)
    with pytest.raises(ValidationFailedError) as error:
        person_share(actor=officer, person=person, organisation=civil_society, reason=" ")
    assert _field_errors(error)["reason"] == [str(REASON_REQUIRED)]
    assert not PersonShare.objects.exists()


def test_a_caseworker_with_the_record_records_consent(
    officer: User, caseworker: User, share_with: Callable[[Person, Organisation], None]
) -> None:
    person = _register(officer)
    assert caseworker.organisation is not None
    share_with(person, caseworker.organisation)

    consent_record(
        actor=caseworker, person=person, purpose=ConsentPurpose.FOLLOW_UP_CONTACT, granted=True
    )
    consent_record(
        actor=caseworker, person=person, purpose=ConsentPurpose.FOLLOW_UP_CONTACT, granted=False
    )

    in_force = Consent.objects.filter(person=person).first()
    assert in_force is not None and in_force.granted is False
    assert AuditEntry.objects.filter(actor=caseworker, action=AuditAction.UPDATE).count() == 2


def test_consent_for_an_unknown_purpose_is_refused(officer: User) -> None:
    person = _register(officer)
    with pytest.raises(ValidationFailedError):
        consent_record(actor=officer, person=person, purpose="marketing", granted=True)


def test_a_family_link_is_seen_from_both_records_and_audited_on_both(protection: User) -> None:
    mother = _register(protection, given_names="Marta")
    daughter = _register(protection, given_names="Sofía", birth_year=2016)

    family_link_add(
        actor=protection, person=mother, relative=daughter, relationship=Relationship.PARENT
    )

    link = FamilyLink.objects.get()
    assert (link.person, link.relative) == (mother, daughter)
    audited = set(
        AuditEntry.objects.filter(action=AuditAction.UPDATE).values_list("object_id", flat=True)
    )
    assert audited == {str(mother.pk), str(daughter.pk)}
    with pytest.raises(FamilyLinkExistsError):
        family_link_add(
            actor=protection, person=daughter, relative=mother, relationship=Relationship.CHILD
        )


def test_a_person_cannot_be_their_own_relative(officer: User) -> None:
    person = _register(officer)
    with pytest.raises(ValidationFailedError) as error:
        family_link_add(actor=officer, person=person, relative=person, relationship="sibling")
    assert _field_errors(error)["relative"] == [str(FAMILY_LINK_TO_SELF)]


def test_linking_to_a_record_out_of_reach_answers_not_found(
    officer: User, protection: User
) -> None:
    mother = _register(officer, given_names="Marta")
    child = _register(protection, given_names="Sofía", birth_year=2016)

    with pytest.raises(NotFoundError):
        family_link_add(actor=officer, person=mother, relative=child, relationship="parent")
    assert not FamilyLink.objects.exists()


# --- deletion -----------------------------------------------------------------------------


def test_a_reception_officer_deletes_a_record_with_everything_attached(officer: User) -> None:
    person = _register(
        officer,
        documents=[DocumentData(kind=DocumentKind.PASSPORT, number="E1", issuing_country="HN")],
    )
    person_id = person.pk

    person_delete(actor=officer, person=person, reason="registered twice")

    assert not Person.objects.filter(pk=person_id).exists()
    entry = AuditEntry.objects.get(action=AuditAction.DELETE)
    assert (entry.object_id, entry.reason) == (str(person_id), "registered twice")


def test_deleting_needs_a_reason(officer: User) -> None:
    person = _register(officer)
    with pytest.raises(ValidationFailedError):
        person_delete(actor=officer, person=person, reason="")
    assert Person.objects.filter(pk=person.pk).exists()


def test_a_caseworker_may_not_delete_a_shared_record(
    officer: User, caseworker: User, share_with: Callable[[Person, Organisation], None]
) -> None:
    person = _register(officer)
    assert caseworker.organisation is not None
    share_with(person, caseworker.organisation)

    with pytest.raises(PermissionDeniedError):
        person_delete(actor=caseworker, person=person, reason="no longer needed")

    assert Person.objects.filter(pk=person.pk).exists()
    assert AuditEntry.objects.get(actor=caseworker).details == {"attempted": "delete"}


def test_an_official_of_another_country_deleting_gets_not_found(
    officer: User, officer_gt: User
) -> None:
    person = _register(officer)
    with pytest.raises(NotFoundError):
        person_delete(actor=officer_gt, person=person, reason="x")
    assert Person.objects.filter(pk=person.pk).exists()
