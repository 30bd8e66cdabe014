"""The identity documents pages through Django's test client: the arrival's section (record a
need, take it step by step, cancel it; with and without htmx), the queue (priority cases
marked and first, filters as a plain GET form and with htmx), in English and Spanish; who
gets 403 and 404."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from mirador.accounts.models import User
from mirador.core.models import ReceptionCentre
from mirador.documents.models import DocumentRequest, RequestStatus
from mirador.documents.tests.conftest import Users
from mirador.people.models import Person
from mirador.returns.models import Arrival

pytestmark = pytest.mark.django_db

Need = Callable[..., DocumentRequest]
QUEUE = reverse("documents:queue")


def _arrival_page(client: Client, arrival: Arrival) -> str:
    response = client.get(reverse("returns:arrival", args=[arrival.pk]))
    assert response.status_code == 200
    return response.content.decode()


def _speaks(user: User, language: str) -> None:
    user.preferred_language = language
    user.save(update_fields=["preferred_language"])


def test_the_arrival_section_records_a_need_and_takes_it_to_delivery_without_javascript(
    users: Users, client_for: Callable[[User], Client], adult_arrival: Arrival
) -> None:
    client = client_for(users["officer.hn"])
    page = _arrival_page(client, adult_arrival)
    assert 'id="documents-section"' in page
    assert "No document needed so far." in page
    assert '<label for="need-kind">' in page and 'id="need-kind"' in page

    recorded = client.post(
        reverse("documents:need", args=[adult_arrival.pk]),
        {
            "kind": "national-id",
            "note": "Lost",
            "next": reverse("returns:arrival", args=[adult_arrival.pk]),
        },
        follow=True,
    )
    assert recorded.redirect_chain[-1][0] == reverse("returns:arrival", args=[adult_arrival.pk])
    shown = recorded.content.decode()
    assert "Recorded: the person needs a National identity card." in shown
    assert "Mark as requested" in shown
    row = DocumentRequest.objects.get()
    assert row.arrival == adult_arrival and row.needed_by == users["officer.hn"]

    back = reverse("returns:arrival", args=[adult_arrival.pk])
    advance = reverse("documents:advance", args=[row.pk])
    client.post(advance, {"status": "requested", "issuing_authority": "RNP", "next": back})
    client.post(advance, {"status": "issued", "next": back})
    delivered = client.post(
        advance,
        {
            "status": "delivered",
            "delivery_place": "Centro",
            "document_number": "0801",
            "next": back,
        },
        follow=True,
    )

    row.refresh_from_db()
    assert row.status == RequestStatus.DELIVERED and row.issuing_authority == "RNP"
    assert row.delivery_place == "Centro" and row.document_number == "0801"
    assert "Marked as delivered." in delivered.content.decode()


def test_recording_the_same_need_twice_keeps_one_request_and_says_so(
    users: Users, client_for: Callable[[User], Client], adult_arrival: Arrival
) -> None:
    client = client_for(users["officer.hn"])
    url = reverse("documents:need", args=[adult_arrival.pk])
    client.post(url, {"kind": "passport"})
    again = client.post(url, {"kind": "passport"}, follow=True)

    assert DocumentRequest.objects.count() == 1
    assert "A request for a Passport is already open." in again.content.decode()


def test_with_htmx_the_section_comes_back_alone_with_the_change(
    users: Users, client_for: Callable[[User], Client], adult_arrival: Arrival, need: Need
) -> None:
    client = client_for(users["officer.hn"])
    row = need(adult_arrival.person, "passport", arrival=adult_arrival)

    response = client.post(
        reverse("documents:advance", args=[row.pk]),
        {"status": "requested", "arrival": str(adult_arrival.pk)},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 200
    body = response.content.decode()
    assert body.startswith('<section id="documents-section"')
    assert "<html" not in body
    assert "Marked as requested." in body and "Mark as issued" in body
    assert DocumentRequest.objects.get().status == RequestStatus.REQUESTED


def test_a_skipped_step_is_refused_with_a_message(
    users: Users, client_for: Callable[[User], Client], adult_arrival: Arrival, need: Need
) -> None:
    client = client_for(users["officer.hn"])
    row = need(adult_arrival.person, arrival=adult_arrival)

    response = client.post(
        reverse("documents:advance", args=[row.pk]),
        {"status": "delivered", "next": reverse("returns:arrival", args=[adult_arrival.pk])},
        follow=True,
    )

    assert "one step at a time" in response.content.decode()
    assert DocumentRequest.objects.get().status == RequestStatus.NEEDED


def test_cancelling_from_the_section_needs_a_reason(
    users: Users, client_for: Callable[[User], Client], adult_arrival: Arrival, need: Need
) -> None:
    client = client_for(users["officer.hn"])
    row = need(adult_arrival.person, arrival=adult_arrival)
    url = reverse("documents:cancel", args=[row.pk])

    client.post(url, {"reason": ""})
    assert DocumentRequest.objects.get().status == RequestStatus.NEEDED
    done = client.post(url, {"reason": "Has it already"}, follow=True)

    assert DocumentRequest.objects.get().status == RequestStatus.CANCELLED
    assert "The request was cancelled." in done.content.decode()


def test_other_countries_and_roles_cannot_act_on_a_request(
    users: Users,
    client_for: Callable[[User], Client],
    adult_arrival: Arrival,
    need: Need,
    share_with: Callable[..., None],
) -> None:
    row = need(adult_arrival.person, arrival=adult_arrival)
    share_with(adult_arrival.person, users["caseworker.hn"].organisation)
    guatemalan = client_for(users["officer.gt"])
    caseworker = client_for(users["caseworker.hn"])

    assert (
        guatemalan.post(
            reverse("documents:need", args=[adult_arrival.pk]), {"kind": "passport"}
        ).status_code
        == 404
    )
    assert (
        guatemalan.post(
            reverse("documents:advance", args=[row.pk]), {"status": "requested"}
        ).status_code
        == 404
    )
    assert (
        caseworker.post(
            reverse("documents:advance", args=[row.pk]), {"status": "requested"}
        ).status_code
        == 403
    )
    assert (
        caseworker.post(reverse("documents:cancel", args=[row.pk]), {"reason": "x"}).status_code
        == 403
    )
    assert DocumentRequest.objects.get().status == RequestStatus.NEEDED
    # The caseworker reads the queue, without buttons.
    listing = caseworker.get(QUEUE).content.decode()
    assert "Reyes" in listing and "Mark as requested" not in listing


def test_the_queue_marks_priority_cases_and_lists_them_first(
    users: Users,
    client_for: Callable[[User], Client],
    make_arrival: Callable[..., Arrival],
    make_person: Callable[..., Person],
    need: Need,
) -> None:
    adult = make_arrival("Wilmer", "Cruz")
    need(adult.person, "passport", arrival=adult)
    child = make_arrival("Dayana", "López", birth_year=timezone.localdate().year - 9)
    need(child.person, "birth-certificate", arrival=child)

    page = client_for(users["protection.hn"]).get(QUEUE).content.decode()

    assert page.index("López, Dayana") < page.index("Cruz, Wilmer")
    assert 'class="flag priority">Priority · Child</span>' in page
    officer_page = client_for(users["officer.hn"]).get(QUEUE).content.decode()
    assert "Cruz, Wilmer" in officer_page and "Dayana" not in officer_page


def test_the_queue_filters_without_javascript_and_with_htmx(
    users: Users,
    client_for: Callable[[User], Client],
    make_arrival: Callable[..., Arrival],
    border_hn: ReceptionCentre,
    need: Need,
) -> None:
    airport = make_arrival("Wilmer", "Cruz")
    border = make_arrival("Marta", "Flores", centre=border_hn)
    need(airport.person, "passport", arrival=airport)
    need(border.person, "birth-certificate", arrival=border)
    client = client_for(users["officer.hn"])

    by_kind = client.get(QUEUE, {"kind": "passport"}).content.decode()
    assert "Cruz, Wilmer" in by_kind and "Flores, Marta" not in by_kind
    by_centre = client.get(QUEUE, {"centre": str(border_hn.pk)}).content.decode()
    assert "Flores, Marta" in by_centre and "Cruz, Wilmer" not in by_centre
    delivered = client.get(QUEUE, {"status": "delivered"}).content.decode()
    assert "No request matches." in delivered

    partial = client.get(QUEUE, {"kind": "birth-certificate"}, HTTP_HX_REQUEST="true")
    body = partial.content.decode()
    assert "<html" not in body and "Flores, Marta" in body and "Cruz, Wilmer" not in body
    assert 'hx-get="/documents/"' in client.get(QUEUE).content.decode()


def test_wrong_filters_are_shown_as_errors_not_a_server_error(
    users: Users, client_for: Callable[[User], Client]
) -> None:
    client = client_for(users["officer.hn"])
    for params in ({"status": "lost"}, {"centre": "nope"}, {"kind": "visa"}, {"page": "-3"}):
        response = client.get(QUEUE, params)
        assert response.status_code == 200
        assert "Correct the filters" in response.content.decode()


def test_roles_without_personal_data_get_403_on_the_queue(
    users: Users, client_for: Callable[[User], Client]
) -> None:
    for username in ("analyst.hn", "analyst.regional"):
        assert client_for(users[username]).get(QUEUE).status_code == 403
    assert Client().get(QUEUE).status_code == 302


def test_the_pages_speak_spanish_and_english(
    users: Users, client_for: Callable[[User], Client], adult_arrival: Arrival, need: Need
) -> None:
    need(adult_arrival.person, "birth-certificate", arrival=adult_arrival)
    officer = users["officer.hn"]

    _speaks(officer, "es")
    client = client_for(officer)
    spanish_queue = client.get(QUEUE)
    spanish_section = _arrival_page(client, adult_arrival)
    assert spanish_queue["Content-Language"] == "es"
    assert "Documentos de identidad" in spanish_queue.content.decode()
    assert "Partida de nacimiento" in spanish_queue.content.decode()
    assert "Partida de nacimiento" in spanish_section

    _speaks(officer, "en")
    client = client_for(officer)
    english_queue = client.get(QUEUE)
    assert english_queue["Content-Language"] == "en"
    assert "Birth certificate" in english_queue.content.decode()
    assert "Birth certificate" in _arrival_page(client, adult_arrival)
