"""The people pages: searching (a whole page, or only the table for htmx), a record, and the
registration form."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.template import Context, Template
from django.test import Client, RequestFactory

from mirador.accounts.models import Role, User
from mirador.core.models import AuditAction, AuditEntry, Organisation
from mirador.people.models import DocumentKind, Person
from mirador.people.services import DAY_WITHOUT_MONTH, DocumentData

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer(make_user: Callable[..., User]) -> User:
    return make_user(username="officer.hn", role=Role.RECEPTION_OFFICER, country="HN")


def _registration(**fields: object) -> dict[str, object]:
    data: dict[str, object] = {
        "given_names": "Ana Lucía",
        "first_surname": "Mejía",
        "second_surname": "",
        "birth_year": "1994",
        "birth_month": "7",
        "birth_day": "3",
        "sex": "F",
        "nationality": "HN",
        "document_kind": "national-id",
        "document_number": "0801-1994-01234",
        "document_country": "HN",
        "contact_kind": "",
        "contact_value": "",
        "reason": "arrival",
    }
    data.update(fields)
    return data


def test_the_search_narrows_the_list(
    officer: User, make_person: Callable[..., Person], signed_in: Callable[[User], Client]
) -> None:
    ana = make_person(given_names="Ana", first_surname="Mejía")
    carlos = make_person(given_names="Carlos", first_surname="Zelaya", sex="M")

    html = signed_in(officer).get("/people/", {"surname": "zel"}).content.decode()

    assert str(carlos.pk) in html
    assert str(ana.pk) not in html
    assert '<form class="filters"' in html


def test_an_htmx_search_returns_only_the_table(
    officer: User, make_person: Callable[..., Person], signed_in: Callable[[User], Client]
) -> None:
    carlos = make_person(given_names="Carlos", first_surname="Zelaya")

    response = signed_in(officer).get("/people/", {"surname": "zel"}, HTTP_HX_REQUEST="true")

    html = response.content.decode()
    assert response.status_code == 200
    assert str(carlos.pk) in html
    assert "<html" not in html
    assert '<form class="filters"' not in html


def test_a_search_of_the_wrong_type_shows_the_error_and_lists_nothing(
    officer: User, make_person: Callable[..., Person], signed_in: Callable[[User], Client]
) -> None:
    person = make_person()

    response = signed_in(officer).get("/people/", {"birth_year": "nineteen"})

    assert response.status_code == 200
    assert str(person.pk) not in response.content.decode()
    assert not AuditEntry.objects.filter(action=AuditAction.LIST).exists()


def test_the_flag_filters_are_offered_to_protection_officers_only(
    officer: User, make_user: Callable[..., User], signed_in: Callable[[User], Client]
) -> None:
    protection = make_user(username="protection.hn", role=Role.PROTECTION_OFFICER)

    assert 'name="is_child"' not in signed_in(officer).get("/people/").content.decode()
    assert 'name="is_child"' in signed_in(protection).get("/people/").content.decode()


def test_the_record_page_shows_identity_and_documents(
    officer: User, make_person: Callable[..., Person], signed_in: Callable[[User], Client]
) -> None:
    person = make_person(
        given_names="Ana",
        first_surname="Mejía",
        birth_month=None,
        birth_day=None,
        documents=[
            DocumentData(kind=DocumentKind.PASSPORT, number="E123456", issuing_country="HN")
        ],
    )

    html = signed_in(officer).get(f"/people/{person.pk}/").content.decode()

    assert "Ana Mejía" in html
    assert "1990" in html
    assert "E123456" in html


def test_a_reception_officer_registers_a_person_and_sees_the_record(
    officer: User, signed_in: Callable[[User], Client]
) -> None:
    client = signed_in(officer)
    assert client.get("/people/new/").status_code == 200

    response = client.post("/people/new/", _registration())

    person = Person.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/people/{person.pk}/"
    assert [d.number for d in person.documents.all()] == ["0801-1994-01234"]
    assert AuditEntry.objects.get(action=AuditAction.CREATE).channel == "web"


def test_registering_a_child_sends_a_reception_officer_back_to_the_list(
    officer: User, signed_in: Callable[[User], Client]
) -> None:
    response = signed_in(officer).post("/people/new/", _registration(birth_year="2016"))

    assert response.status_code == 302
    assert response["Location"] == "/people/"
    assert Person.objects.get().is_child


def test_a_day_without_a_month_is_shown_on_the_form(
    officer: User, signed_in: Callable[[User], Client]
) -> None:
    response = signed_in(officer).post("/people/new/", _registration(birth_month=""))

    assert response.status_code == 200
    assert str(DAY_WITHOUT_MONTH) in response.content.decode()
    assert not Person.objects.exists()


def test_a_half_filled_document_is_refused(
    officer: User, signed_in: Callable[[User], Client]
) -> None:
    response = signed_in(officer).post("/people/new/", _registration(document_country=""))
    assert response.status_code == 200
    assert not Person.objects.exists()


def test_the_registration_form_is_refused_to_caseworkers(
    make_user: Callable[..., User], civil_society: Organisation, signed_in: Callable[[User], Client]
) -> None:
    caseworker = make_user(username="cw", role=Role.CASEWORKER, organisation=civil_society)
    client = signed_in(caseworker)

    assert client.get("/people/new/").status_code == 403
    assert client.post("/people/new/", _registration()).status_code == 403
    assert not Person.objects.exists()


@pytest.mark.parametrize(
    ("role", "shown"),
    [
        (Role.RECEPTION_OFFICER, True),
        (Role.PROTECTION_OFFICER, True),
        (Role.NATIONAL_ANALYST, False),
        (Role.EMPLOYER, False),
    ],
)
def test_the_people_link_is_shown_to_roles_that_read_personal_data(
    make_user: Callable[..., User], role: str, shown: bool
) -> None:
    request = RequestFactory().get("/")
    request.user = make_user(username="someone", role=role)
    html = Template('{% include "people/partials/nav.html" %}').render(
        Context({"user": request.user, "request": request})
    )
    assert ('href="/people/"' in html) is shown
