"""Reading persons: scope, search, the whole record in a fixed number of queries, and an audit
entry for every read, listing and refusal, with no personal data in it."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from mirador.accounts.models import Role, User
from mirador.core.errors import NotFoundError, PermissionDeniedError
from mirador.core.models import AuditAction, AuditEntry, Organisation, OrganisationType
from mirador.people.models import ConsentPurpose, ContactKind, DocumentKind, Person, Relationship
from mirador.people.selectors import (
    DENIED_MISSING,
    DENIED_NO_ACCESS,
    DENIED_OUT_OF_SCOPE,
    PERSON_OBJECT_TYPE,
    people_list,
    people_visible_to,
    person_get,
    person_relatives,
)
from mirador.people.services import ContactData, DocumentData, consent_record, family_link_add

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer(make_user: Callable[..., User]) -> User:
    return make_user(username="officer.hn", role=Role.RECEPTION_OFFICER, country="HN")


@pytest.fixture
def protection(make_user: Callable[..., User]) -> User:
    return make_user(username="protection.hn", role=Role.PROTECTION_OFFICER, country="HN")


def test_a_record_shared_with_several_organisations_is_listed_once(
    officer: User,
    make_person: Callable[..., Person],
    make_organisation: Callable[..., Organisation],
    share_with: Callable[[Person, Organisation], None],
) -> None:
    person = make_person()
    for name in ("Pastoral de Movilidad Humana", "Casa Alianza"):
        share_with(
            person,
            make_organisation(country="HN", kind=OrganisationType.CIVIL_SOCIETY, name=name),
        )

    assert list(people_visible_to(user=officer)) == [person]
    assert people_list(user=officer).count() == 1


def test_anonymous_and_inactive_users_see_nobody(
    officer: User, make_person: Callable[..., Person]
) -> None:
    make_person()
    officer.is_active = False
    officer.save(update_fields=["is_active"])

    assert not people_visible_to(user=None).exists()
    assert not people_visible_to(user=officer).exists()


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"surname": "mejía"}, {"Ana"}),
        ({"surname": "reyes"}, {"Ana", "Carlos"}),  # matches the second surname too
        ({"given_name": "carl"}, {"Carlos"}),
        ({"birth_year": 1990}, {"Carlos"}),
        ({"sex": "M"}, {"Carlos", "Kevin"}),
        ({"nationality": "gt"}, {"Carlos"}),
        ({"is_child": True}, {"Kevin"}),
        ({"is_child": False, "is_trafficking_victim": False}, {"Ana", "Carlos"}),
        ({"is_trafficking_victim": True}, set()),
        ({"surname": "Mejía", "sex": "M"}, set()),
    ],
)
def test_the_list_filters_combine(
    protection: User,
    make_person: Callable[..., Person],
    filters: dict[str, Any],
    expected: set[str],
) -> None:
    make_person(given_names="Ana", first_surname="Mejía", second_surname="Reyes", birth_year=1985)
    make_person(
        given_names="Carlos",
        first_surname="Zelaya",
        second_surname="Reyes",
        birth_year=1990,
        sex="M",
        nationality="GT",
    )
    make_person(
        given_names="Kevin",
        first_surname="Alvarado",
        second_surname="Bonilla",
        birth_year=2015,
        sex="M",
    )

    found = {person.given_names for person in people_list(user=protection, **filters)}

    assert found == expected


def test_a_listing_is_audited_with_its_size_and_filter_names_but_not_the_names_searched(
    officer: User, make_person: Callable[..., Person]
) -> None:
    make_person(given_names="Ana", first_surname="Mejía")

    people_list(user=officer, surname="Mejía", given_name="Ana", birth_year=1990, reason="intake")

    entry = AuditEntry.objects.get(action=AuditAction.LIST)
    assert (entry.actor, entry.object_type, entry.reason) == (officer, PERSON_OBJECT_TYPE, "intake")
    assert entry.details == {"count": 1, "filters": ["surname", "given_name", "birth_year"]}
    assert "Mej" not in json.dumps(entry.details)
    assert "Ana" not in json.dumps(entry.details)


@pytest.mark.parametrize("role", [Role.NATIONAL_ANALYST, Role.EMPLOYER, Role.ADMINISTRATOR])
def test_roles_without_personal_data_are_refused_the_list_and_the_refusal_is_audited(
    make_user: Callable[..., User], role: str
) -> None:
    user = make_user(username="someone", role=role, country="HN")

    with pytest.raises(PermissionDeniedError):
        people_list(user=user, surname="Mejía")

    entry = AuditEntry.objects.get()
    assert (entry.actor, entry.action) == (user, AuditAction.DENIED)
    assert entry.details == {"outcome": DENIED_NO_ACCESS, "filters": ["surname"]}


def test_reading_a_record_loads_it_whole_in_a_fixed_number_of_queries(
    protection: User,
    make_person: Callable[..., Person],
    django_assert_num_queries: Any,
) -> None:
    person = make_person(
        documents=[DocumentData(kind=DocumentKind.PASSPORT, number="E1", issuing_country="HN")],
        contacts=[ContactData(kind=ContactKind.EMAIL, value="ana@example.org")],
    )
    relative = make_person(given_names="Sofía", birth_year=2016)
    family_link_add(actor=protection, person=person, relative=relative, relationship="parent")
    consent_record(
        actor=protection, person=person, purpose=ConsentPurpose.TRACING_MATCHING, granted=True
    )

    # Everything the record shows is loaded by person_get itself.
    loaded = person_get(user=protection, person_id=person.pk)
    with django_assert_num_queries(0):
        assert [d.issuing_country.alpha2 for d in loaded.documents.all()] == ["HN"]
        assert [c.value for c in loaded.contacts.all()] == ["ana@example.org"]
        assert [link.relative.given_names for link in loaded.family_links.all()] == ["Sofía"]
        assert [c.granted for c in loaded.consents.all()] == [True]
        assert loaded.nationality is not None and loaded.country.alpha2 == "HN"


def test_every_read_is_audited(officer: User, make_person: Callable[..., Person]) -> None:
    person = make_person()

    person_get(user=officer, person_id=person.pk, reason="follow-up call")

    entry = AuditEntry.objects.get(actor=officer)
    assert (entry.action, entry.object_id, entry.reason) == (
        AuditAction.READ,
        str(person.pk),
        "follow-up call",
    )


def test_a_missing_and_an_out_of_scope_id_give_the_same_error_both_audited(
    make_user: Callable[..., User], make_person: Callable[..., Person]
) -> None:
    officer_gt = make_user(username="officer.gt", role=Role.RECEPTION_OFFICER, country="GT")
    honduran = make_person()
    missing = uuid.uuid4()

    errors = []
    for person_id in (honduran.pk, missing):
        with pytest.raises(NotFoundError) as error:
            person_get(user=officer_gt, person_id=person_id)
        errors.append((error.value.code, error.value.message, error.value.details))

    assert errors[0] == errors[1]
    outcomes = dict(
        AuditEntry.objects.filter(actor=officer_gt, action=AuditAction.DENIED).values_list(
            "object_id", "details__outcome"
        )
    )
    assert outcomes == {str(honduran.pk): DENIED_OUT_OF_SCOPE, str(missing): DENIED_MISSING}


def test_a_malformed_id_is_not_found(officer: User) -> None:
    with pytest.raises(NotFoundError):
        person_get(user=officer, person_id="../../etc/passwd")
    assert AuditEntry.objects.get().action == AuditAction.DENIED


def test_a_child_record_needs_a_protection_role(
    officer: User, protection: User, make_person: Callable[..., Person]
) -> None:
    child = make_person(birth_year=2016)

    with pytest.raises(NotFoundError):
        person_get(user=officer, person_id=child.pk)
    assert person_get(user=protection, person_id=child.pk) == child


def test_relatives_are_named_only_where_the_reader_may_read_them(
    officer: User, protection: User, make_person: Callable[..., Person]
) -> None:
    mother = make_person(given_names="Marta", birth_year=1980)
    daughter = make_person(given_names="Sofía", birth_year=2016)
    family_link_add(actor=protection, person=mother, relative=daughter, relationship="parent")

    seen_by_officer = person_relatives(
        user=officer, person=person_get(user=officer, person_id=mother.pk)
    )
    seen_by_protection = person_relatives(
        user=protection, person=person_get(user=protection, person_id=mother.pk)
    )
    from_the_daughter = person_relatives(
        user=protection, person=person_get(user=protection, person_id=daughter.pk)
    )

    assert [(r.person_id, r.relationship, r.name) for r in seen_by_officer] == [
        (daughter.pk, Relationship.CHILD, "")
    ]
    assert [r.name for r in seen_by_protection] == [daughter.full_name]
    assert [(r.relationship, r.name) for r in from_the_daughter] == [
        (Relationship.PARENT, mother.full_name)
    ]


def test_showing_a_relatives_name_is_audited_as_a_read_of_their_record(
    protection: User, make_person: Callable[..., Person]
) -> None:
    mother = make_person(given_names="Marta", birth_year=1980)
    daughter = make_person(given_names="Sofía", birth_year=2016)
    family_link_add(actor=protection, person=mother, relative=daughter, relationship="parent")

    person_relatives(user=protection, person=person_get(user=protection, person_id=mother.pk))

    entry = AuditEntry.objects.get(
        actor=protection, action=AuditAction.READ, object_id=str(daughter.pk)
    )
    assert entry.details == {"fields": ["name"], "via": str(mother.pk)}
