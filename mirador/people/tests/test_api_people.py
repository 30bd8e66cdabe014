"""The people API: paginated, filtered listing; the whole record; registration and changes;
bad input answered with the stable error shape, never a server error."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from mirador.accounts.models import Role, User
from mirador.accounts.services import api_token_issue
from mirador.core.models import AuditAction, AuditEntry, Organisation
from mirador.people.models import ConsentPurpose, DocumentKind, Person
from mirador.people.services import (
    DAY_WITHOUT_MONTH,
    DocumentData,
    consent_record,
    family_link_add,
)

pytestmark = pytest.mark.django_db

PEOPLE = "/api/v1/people/"


@pytest.fixture
def officer(make_user: Callable[..., User]) -> User:
    return make_user(username="officer.hn", role=Role.RECEPTION_OFFICER, country="HN")


@pytest.fixture
def protection(make_user: Callable[..., User]) -> User:
    return make_user(username="protection.hn", role=Role.PROTECTION_OFFICER, country="HN")


@pytest.fixture
def api(officer: User) -> Client:
    """A program calling with the officer's bearer token."""
    _, raw = api_token_issue(user=officer)
    return Client(headers={"Authorization": f"Bearer {raw}"})


def _registration(**fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "given_names": "Ana Lucía",
        "first_surname": "Mejía",
        "second_surname": "Banegas",
        "birth_year": 1994,
        "birth_month": 7,
        "birth_day": 3,
        "sex": "F",
        "nationality": "HN",
        "documents": [{"kind": "passport", "number": "E123456", "issuing_country": "HN"}],
        "contacts": [{"kind": "phone", "value": "+504 9999 0000"}],
        "reason": "arrival at the reception centre",
    }
    body.update(fields)
    return body


def _assert_error_shape(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert error["code"] == code
    assert set(error) == {"code", "message", "details"}
    return error


# --- listing ------------------------------------------------------------------------------


def test_the_list_is_paginated_by_limit_and_offset(
    api: Client, make_person: Callable[..., Person]
) -> None:
    for surname in ("Alvarado", "Bonilla", "Castillo"):
        make_person(first_surname=surname)

    first = api.get(PEOPLE, {"limit": 2}).json()
    rest = api.get(PEOPLE, {"limit": 2, "offset": 2}).json()

    assert first["count"] == rest["count"] == 3
    assert [p["first_surname"] for p in first["items"]] == ["Alvarado", "Bonilla"]
    assert [p["first_surname"] for p in rest["items"]] == ["Castillo"]


def test_the_list_filters_by_surname_sex_and_year(
    api: Client, make_person: Callable[..., Person]
) -> None:
    make_person(given_names="Ana", first_surname="Mejía", birth_year=1985)
    make_person(given_names="Carlos", first_surname="Mejía", sex="M", birth_year=1990)

    query: dict[str, Any] = {"surname": "mejía", "sex": "M", "birth_year": 1990}
    body = api.get(PEOPLE, query).json()

    assert [p["given_names"] for p in body["items"]] == ["Carlos"]
    entry = AuditEntry.objects.get(action=AuditAction.LIST)
    assert entry.details == {"count": 1, "filters": ["surname", "birth_year", "sex"]}
    assert entry.channel == "api"


def test_a_protection_officer_filters_by_the_child_flag(
    protection: User, make_person: Callable[..., Person], signed_in: Callable[[User], Client]
) -> None:
    make_person(given_names="Kevin", birth_year=2016)
    make_person(given_names="Ana", birth_year=1990)

    body = signed_in(protection).get(PEOPLE, {"is_child": "true"}).json()

    assert [(p["given_names"], p["is_child"]) for p in body["items"]] == [("Kevin", True)]


@pytest.mark.parametrize(
    "query",
    [
        {"birth_year": "nineteen-ninety"},
        {"limit": 0},
        {"limit": "ten"},
        {"offset": -1},
        {"sex": "Z"},
        {"is_child": "perhaps"},
        {"nationality": "Honduras"},
    ],
)
def test_query_parameters_of_the_wrong_type_give_422(api: Client, query: dict[str, Any]) -> None:
    _assert_error_shape(api.get(PEOPLE, query), 422, "validation_failed")


def test_a_role_without_personal_data_gets_403_on_the_list(
    make_user: Callable[..., User], signed_in: Callable[[User], Client]
) -> None:
    analyst = make_user(username="analyst.hn", role=Role.NATIONAL_ANALYST, country="HN")
    _assert_error_shape(signed_in(analyst).get(PEOPLE), 403, "permission_denied")


def test_an_unknown_or_revoked_token_gets_401() -> None:
    response = Client(headers={"Authorization": "Bearer not-a-token"}).get(PEOPLE)
    _assert_error_shape(response, 401, "not_authenticated")


# --- one record ---------------------------------------------------------------------------


def test_the_record_holds_identity_documents_contacts_relatives_and_consents(
    protection: User, make_person: Callable[..., Person], signed_in: Callable[[User], Client]
) -> None:
    person = make_person(
        birth_month=None,
        birth_day=None,
        documents=[DocumentData(kind=DocumentKind.PASSPORT, number="E1", issuing_country="HN")],
    )
    child = make_person(given_names="Sofía", birth_year=2016)
    family_link_add(actor=protection, person=person, relative=child, relationship="parent")
    consent_record(
        actor=protection, person=person, purpose=ConsentPurpose.FOLLOW_UP_CONTACT, granted=True
    )

    body = signed_in(protection).get(f"{PEOPLE}{person.pk}").json()

    assert body["birth_date"] == "1990"
    assert (body["country"], body["nationality"], body["is_child"]) == ("HN", "HN", False)
    assert [(d["kind"], d["number"], d["issuing_country"]) for d in body["documents"]] == [
        ("passport", "E1", "HN")
    ]
    assert body["relatives"] == [
        {"person_id": str(child.pk), "relationship": "child", "name": child.full_name}
    ]
    assert [(c["purpose"], c["granted"]) for c in body["consents"]] == [("follow-up-contact", True)]


def test_a_relative_out_of_reach_is_listed_without_a_name(
    api: Client, protection: User, make_person: Callable[..., Person]
) -> None:
    mother = make_person(given_names="Marta")
    child = make_person(given_names="Sofía", birth_year=2016)
    family_link_add(actor=protection, person=mother, relative=child, relationship="parent")

    body = api.get(f"{PEOPLE}{mother.pk}").json()

    assert body["relatives"] == [
        {"person_id": str(child.pk), "relationship": "child", "name": None}
    ]
    assert "Sofía" not in str(body)


def test_a_malformed_id_gives_422_not_500(api: Client) -> None:
    _assert_error_shape(api.get(f"{PEOPLE}not-a-uuid"), 422, "validation_failed")


def test_a_role_without_personal_data_gets_404_on_a_record(
    make_user: Callable[..., User],
    make_person: Callable[..., Person],
    signed_in: Callable[[User], Client],
) -> None:
    employer = make_user(username="employer.hn", role=Role.EMPLOYER, country="HN")
    person = make_person()
    _assert_error_shape(signed_in(employer).get(f"{PEOPLE}{person.pk}"), 404, "not_found")


# --- registration -------------------------------------------------------------------------


def test_registering_answers_201_with_the_record(api: Client, officer: User) -> None:
    response = api.post(PEOPLE, _registration(), content_type="application/json")

    assert response.status_code == 201
    body = response.json()
    assert body["restricted"] is False
    person = Person.objects.get(pk=body["id"])
    assert person.country_id == "HN"
    assert body["person"]["documents"][0]["number"] == "E123456"
    assert AuditEntry.objects.get(action=AuditAction.CREATE).actor == officer


def test_registering_a_child_keeps_it_from_a_reception_officer(api: Client) -> None:
    response = api.post(
        PEOPLE,
        _registration(birth_year=2016, documents=[], contacts=[]),
        content_type="application/json",
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["restricted"], body["person"]) == (True, None)
    assert Person.objects.get(pk=body["id"]).is_child
    assert api.get(f"{PEOPLE}{body['id']}").status_code == 404


def test_registering_with_a_day_but_no_month_is_refused(api: Client) -> None:
    response = api.post(
        PEOPLE,
        _registration(birth_month=None, birth_day=3),
        content_type="application/json",
    )

    error = _assert_error_shape(response, 422, "validation_failed")
    assert error["details"]["fields"]["birth_day"] == [str(DAY_WITHOUT_MONTH)]
    assert not Person.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        _registration(nationality="ZZ"),
        _registration(given_names=""),
        _registration(documents=[{"kind": "library-card", "number": "1", "issuing_country": "HN"}]),
        {"given_names": "Ana"},
    ],
)
def test_invalid_registrations_give_422(api: Client, body: dict[str, Any]) -> None:
    response = api.post(PEOPLE, body, content_type="application/json")
    _assert_error_shape(response, 422, "validation_failed")
    assert not Person.objects.exists()


def test_a_body_that_is_not_json_gives_an_error_not_500(api: Client) -> None:
    response = api.post(PEOPLE, "{not json", content_type="application/json")
    assert response.status_code in (400, 422)
    assert "error" in response.json()


def test_a_caseworker_may_not_register(
    make_user: Callable[..., User],
    civil_society: Organisation,
    signed_in: Callable[[User], Client],
) -> None:
    caseworker = make_user(username="cw", role=Role.CASEWORKER, organisation=civil_society)
    response = signed_in(caseworker).post(PEOPLE, _registration(), content_type="application/json")
    _assert_error_shape(response, 403, "permission_denied")


# --- changes ------------------------------------------------------------------------------


def test_patch_changes_only_the_fields_sent(
    api: Client, make_person: Callable[..., Person]
) -> None:
    person = make_person(given_names="Ana", second_surname="Reyes")

    response = api.patch(
        f"{PEOPLE}{person.pk}",
        {"given_names": "Ana María", "reason": "spelling"},
        content_type="application/json",
    )

    assert response.status_code == 200
    assert (response.json()["given_names"], response.json()["second_surname"]) == (
        "Ana María",
        "Reyes",
    )
    entry = AuditEntry.objects.get(action=AuditAction.UPDATE)
    assert (entry.details, entry.reason) == ({"fields": ["given_names"]}, "spelling")


def test_patch_to_an_out_of_scope_record_gives_404(
    make_user: Callable[..., User],
    make_person: Callable[..., Person],
    signed_in: Callable[[User], Client],
) -> None:
    officer_gt = make_user(username="officer.gt", role=Role.RECEPTION_OFFICER, country="GT")
    person = make_person(given_names="Ana")

    response = signed_in(officer_gt).patch(
        f"{PEOPLE}{person.pk}", {"given_names": "X"}, content_type="application/json"
    )

    _assert_error_shape(response, 404, "not_found")
    person.refresh_from_db()
    assert person.given_names == "Ana"
    assert AuditEntry.objects.get(actor=officer_gt).action == AuditAction.DENIED


def test_a_caseworker_gets_403_changing_a_shared_record(
    make_user: Callable[..., User],
    make_person: Callable[..., Person],
    civil_society: Organisation,
    share_with: Callable[[Person, Organisation], None],
    signed_in: Callable[[User], Client],
) -> None:
    caseworker = make_user(username="cw", role=Role.CASEWORKER, organisation=civil_society)
    person = make_person()
    share_with(person, civil_society)

    response = signed_in(caseworker).patch(
        f"{PEOPLE}{person.pk}", {"given_names": "X"}, content_type="application/json"
    )

    _assert_error_shape(response, 403, "permission_denied")


def test_flagging_a_record_out_of_ones_own_reach_answers_204(
    api: Client, make_person: Callable[..., Person]
) -> None:
    person = make_person()

    response = api.patch(
        f"{PEOPLE}{person.pk}", {"is_trafficking_victim": True}, content_type="application/json"
    )

    assert response.status_code == 204
    person.refresh_from_db()
    assert person.is_trafficking_victim


def test_patch_with_an_unknown_nationality_gives_422(
    api: Client, make_person: Callable[..., Person]
) -> None:
    person = make_person()
    response = api.patch(
        f"{PEOPLE}{person.pk}", {"nationality": "ZZ"}, content_type="application/json"
    )
    error = _assert_error_shape(response, 422, "validation_failed")
    assert "nationality" in error["details"]["fields"]
