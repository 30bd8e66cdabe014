"""The people pages: searching (a whole page, or only the table for htmx; always posted, so no
name or other filter value ever appears in a URL), a record, and the registration form."""

from __future__ import annotations

from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.template import Context, Template
from django.test import Client, RequestFactory

from mirador.accounts.models import Role, User
from mirador.core.models import AuditAction, AuditEntry, Organisation
from mirador.people import views
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


class _PageParser(HTMLParser):
    """The URLs a page holds (links, form targets, htmx requests, `next` fields) and its forms
    with their hidden fields and submit buttons."""

    URL_ATTRIBUTES = frozenset(
        {"href", "src", "action", "formaction", "hx-get", "hx-post", "hx-push-url"}
    )

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.forms: list[dict[str, Any]] = []
        self.in_form = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        self.urls += [value for name, value in attributes.items() if name in self.URL_ATTRIBUTES]
        if tag == "form":
            self.forms.append({**attributes, "hidden": {}, "buttons": {}})
            self.in_form = True
        elif tag == "input" and attributes.get("type") == "hidden":
            if attributes.get("name") == "next":
                self.urls.append(attributes.get("value", ""))
            if self.in_form:
                self.forms[-1]["hidden"][attributes["name"]] = attributes.get("value", "")
        elif tag == "button" and self.in_form and attributes.get("name"):
            self.forms[-1]["buttons"][attributes["name"]] = attributes.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.in_form = False


def _parse(response: Any) -> _PageParser:
    parser = _PageParser()
    parser.feed(response.content.decode())
    return parser


def _search(client: Client, **filters: object) -> Any:
    return client.post("/people/", filters)


def _next_page(client: Client, response: Any, *, htmx: bool = False) -> Any:
    """Press the page's Next button: post its form's hidden fields and the button's value."""
    form = next(form for form in _parse(response).forms if form["buttons"].get("page"))
    assert form["method"] == "post"
    assert form["hx-post"] == form["action"] == "/people/"
    return client.post(
        form["action"],
        {**form["hidden"], "page": form["buttons"]["page"]},
        headers={"HX-Request": "true"} if htmx else {},
    )


def _shown(response: Any, *persons: Person) -> set[str]:
    html = response.content.decode()
    return {person.first_surname for person in persons if str(person.pk) in html}


def test_the_search_narrows_the_list(
    officer: User, make_person: Callable[..., Person], signed_in: Callable[[User], Client]
) -> None:
    ana = make_person(given_names="Ana", first_surname="Mejía")
    carlos = make_person(given_names="Carlos", first_surname="Zelaya", sex="M")

    response = _search(signed_in(officer), surname="zel")

    assert response.status_code == 200
    assert _shown(response, ana, carlos) == {"Zelaya"}
    assert '<form class="filters" method="post"' in response.content.decode()


def test_a_search_is_audited_with_the_names_of_its_filters_not_their_values(
    officer: User, make_person: Callable[..., Person], signed_in: Callable[[User], Client]
) -> None:
    make_person(given_names="Carlos", first_surname="Zelaya", birth_year=1987)

    _search(signed_in(officer), surname="Zelaya", birth_year="1987", given_name="")

    listing = AuditEntry.objects.get(action=AuditAction.LIST)
    assert listing.details == {"count": 1, "filters": ["surname", "birth_year"]}
    assert "Zelaya" not in str(listing.details)


def test_a_search_puts_no_name_or_other_filter_value_in_any_url(
    officer: User, make_person: Callable[..., Person], signed_in: Callable[[User], Client]
) -> None:
    carlos = make_person(given_names="Carlos", first_surname="Zelaya", birth_year=1987)
    filters = {"surname": "Zelaya", "given_name": "Carlos", "birth_year": "1987", "sex": carlos.sex}

    response = signed_in(officer).post("/people/", filters, follow=True)

    assert response.status_code == 200
    assert str(carlos.pk) in response.content.decode()
    assert response.redirect_chain == []
    assert response.request["PATH_INFO"] == "/people/"
    assert response.request["QUERY_STRING"] == ""
    urls = _parse(response).urls
    assert "/people/" in urls  # the search form's action and hx-post, at least
    for url in urls:
        parts = urlsplit(url)
        assert "Zelaya" not in url and "Carlos" not in url, url
        assert not set(parse_qs(parts.query)) & set(filters), url
        assert "1987" not in parts.query, url


def test_an_htmx_search_returns_only_the_table(
    officer: User, make_person: Callable[..., Person], signed_in: Callable[[User], Client]
) -> None:
    carlos = make_person(given_names="Carlos", first_surname="Zelaya")

    response = signed_in(officer).post("/people/", {"surname": "zel"}, HTTP_HX_REQUEST="true")

    html = response.content.decode()
    assert response.status_code == 200
    assert str(carlos.pk) in html
    assert "<html" not in html
    assert '<form class="filters"' not in html
    assert "Zelaya" not in "".join(_parse(response).urls)


def test_paging_through_a_search_keeps_its_filters(
    officer: User,
    make_person: Callable[..., Person],
    signed_in: Callable[[User], Client],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    zelayas = [make_person(first_surname=f"Zelaya{n}") for n in "ABC"]
    others = [make_person(first_surname=f"Mejía{n}") for n in "ABC"]
    client = signed_in(officer)

    first = _search(client, surname="zelaya")
    second = _next_page(client, first)
    second_by_htmx = _next_page(client, first, htmx=True)

    assert second.status_code == second_by_htmx.status_code == 200
    assert len(_shown(first, *zelayas)) == 2
    assert _shown(first, *zelayas) | _shown(second, *zelayas) == {p.first_surname for p in zelayas}
    assert _shown(second_by_htmx, *zelayas) == _shown(second, *zelayas)
    assert not _shown(first, *others) | _shown(second, *others)
    assert "<html" not in second_by_htmx.content.decode()
    for response in (first, second):
        assert not any("zelaya" in url.lower() for url in _parse(response).urls)


def test_a_get_lists_the_first_page_unfiltered_even_with_filters_in_the_query_string(
    officer: User,
    make_person: Callable[..., Person],
    signed_in: Callable[[User], Client],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    persons = [make_person(first_surname=name) for name in ("Alvarado", "Bonilla", "Zelaya")]
    client = signed_in(officer)

    plain = client.get("/people/")
    old_link = client.get("/people/", {"surname": "Zelaya", "page": "2"})

    assert plain.status_code == old_link.status_code == 200
    assert _shown(plain, *persons) == _shown(old_link, *persons) == {"Alvarado", "Bonilla"}
    assert [entry.details for entry in AuditEntry.objects.filter(action=AuditAction.LIST)] == [
        {"count": 3, "filters": []},
        {"count": 3, "filters": []},
    ]


def test_a_search_without_the_csrf_token_is_refused(
    officer: User, make_person: Callable[..., Person]
) -> None:
    make_person(first_surname="Zelaya")
    client = Client(enforce_csrf_checks=True)
    client.force_login(officer, backend="django.contrib.auth.backends.ModelBackend")

    response = client.post("/people/", {"surname": "Zelaya"})

    assert response.status_code == 403
    assert "Zelaya" not in response.content.decode()
    assert not AuditEntry.objects.filter(action=AuditAction.LIST).exists()


def test_a_search_with_the_csrf_token_of_the_page_is_accepted(
    officer: User, make_person: Callable[..., Person]
) -> None:
    carlos = make_person(first_surname="Zelaya")
    client = Client(enforce_csrf_checks=True)
    client.force_login(officer, backend="django.contrib.auth.backends.ModelBackend")
    form = next(f for f in _parse(client.get("/people/")).forms if f.get("class") == "filters")

    response = client.post("/people/", {**form["hidden"], "surname": "Zelaya"})

    assert response.status_code == 200
    assert str(carlos.pk) in response.content.decode()


def test_a_search_of_the_wrong_type_shows_the_error_and_lists_nothing(
    officer: User, make_person: Callable[..., Person], signed_in: Callable[[User], Client]
) -> None:
    person = make_person()

    response = _search(signed_in(officer), birth_year="nineteen")

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
