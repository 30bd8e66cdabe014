"""Directory pages with the Django client: the public directory in Spanish and English (with
and without htmx), the referral lists, answering, and referring from an arrival's page."""

from __future__ import annotations

import datetime
from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from mirador.accounts.models import User
from mirador.directory.models import Referral
from mirador.directory.tests.conftest import Directory
from mirador.returns.models import Arrival

pytestmark = pytest.mark.django_db
Refer = Callable[..., Referral]


def test_the_public_directory_speaks_spanish_and_english(directory: Directory) -> None:
    spanish = Client(headers={"accept-language": "es"}).get(reverse("directory:index"))
    english = Client(headers={"accept-language": "en"}).get(reverse("directory:index"))

    assert '<html lang="es">' in spanish.content.decode()
    assert "Soldadura" in spanish.content.decode()
    with translation.override("es"):
        assert translation.gettext("Services directory") in spanish.content.decode()
    assert '<html lang="en">' in english.content.decode()
    page = english.content.decode()
    assert "Welding" in page and "Services directory" in page
    assert "CADERH" in page and "Cortés" in page  # provider and coverage
    assert "All of Honduras" in page  # a service listing no department


def test_filters_work_without_javascript_and_with_htmx(directory: Directory) -> None:
    client = Client(headers={"accept-language": "en"})
    filters = {"country": "HN", "subdivision": "HN-CR", "category": "training", "language": ""}

    full = client.get(reverse("directory:index"), filters).content.decode()
    assert "<form" in full
    results = full.split('id="directory-results"')[1]
    assert "Welding" in results and "Technical courses" in results
    assert "Job board" not in results and "Casa del Migrante" not in results

    partial = client.get(reverse("directory:index"), filters, headers={"hx-request": "true"})
    body = partial.content.decode()
    assert "<html" not in body and "<form" not in body
    assert "Welding" in body and "Job board" not in body
    by_language = client.get(
        reverse("directory:index"), {"language": "quc"}, headers={"hx-request": "true"}
    ).content.decode()
    assert "Casa del Migrante" in by_language and "Welding" not in by_language


def test_unknown_filter_values_show_the_form_errors_not_a_crash(directory: Directory) -> None:
    response = Client().get(reverse("directory:index"), {"category": "magic", "page": "x"})
    assert response.status_code == 200


def test_the_officer_refers_from_the_arrival_and_comes_back_with_a_confirmation(
    users: dict[str, User],
    directory: Directory,
    adult_arrival: Arrival,
    client_for: Callable[[User], Client],
) -> None:
    client = client_for(users["officer.hn"])
    arrival_url = reverse("returns:arrival", args=[adult_arrival.pk])
    page = client.get(arrival_url).content.decode()
    in_a_week = timezone.localdate() + datetime.timedelta(days=7)
    assert f'value="{in_a_week.isoformat()}"' in page  # due date defaults to a week
    assert "<optgroup" in page and "Welding" in page
    assert "Shelter" not in page  # only the centre's country's services

    response = client.post(
        reverse("directory:refer", args=[adult_arrival.pk]),
        {
            "service": str(directory.training.pk),
            "due_date": in_a_week.isoformat(),
            "note": "Soldadura",
            "consent_to_share": "on",
        },
        follow=True,
    )

    assert response.redirect_chain[-1][0] == arrival_url + "#referrals"
    body = response.content.decode()
    assert "Referred to Welding (CADERH)" in body
    referral = Referral.objects.get()
    assert referral.arrival == adult_arrival and referral.due_date == in_a_week
    assert "Sent" in body.split('id="referrals"')[1]


def test_a_referral_without_consent_comes_back_with_the_error(
    users: dict[str, User],
    directory: Directory,
    adult_arrival: Arrival,
    client_for: Callable[[User], Client],
) -> None:
    client = client_for(users["officer.hn"])
    response = client.post(
        reverse("directory:refer", args=[adult_arrival.pk]),
        {"service": str(directory.training.pk), "due_date": timezone.localdate().isoformat()},
    )
    assert response.status_code == 200
    assert "without their consent the referral cannot be made" in response.content.decode()
    assert not Referral.objects.exists()


def test_the_sender_sees_overdue_referrals_marked_and_counted(
    users: dict[str, User],
    directory: Directory,
    adult_arrival: Arrival,
    refer: Refer,
    client_for: Callable[[User], Client],
) -> None:
    late = refer(users["officer.hn"], adult_arrival, directory.training)
    refer(users["officer.hn"], adult_arrival, directory.employment)
    Referral.objects.filter(pk=late.pk).update(
        due_date=timezone.localdate() - datetime.timedelta(days=2)
    )
    client = client_for(users["officer.hn"])

    page = client.get(reverse("directory:referrals")).content.decode()
    assert "1 referral sent is overdue." in page
    assert page.count('class="flag"') == 1
    only_late = client.get(reverse("directory:referrals"), {"overdue": "1"}).content.decode()
    assert "Welding" in only_late and "Job board" not in only_late


def test_the_provider_accepts_and_declines_with_a_reason_on_the_page(
    users: dict[str, User],
    staff: dict[str, User],
    directory: Directory,
    adult_arrival: Arrival,
    refer: Refer,
    client_for: Callable[[User], Client],
) -> None:
    referral = refer(users["officer.hn"], adult_arrival, directory.training)
    client = client_for(staff["caderh.hn"])
    received = client.get(reverse("directory:referrals"), {"box": "received"}).content.decode()
    assert adult_arrival.person.full_name in received
    accept = reverse("directory:referral_answer", args=[referral.pk, "accept"])
    assert accept in received

    response = client.post(accept, follow=True)
    assert "Accepted: Welding." in response.content.decode()
    decline = reverse("directory:referral_answer", args=[referral.pk, "decline"])
    response = client.post(decline, {"reason": ""}, follow=True)
    assert "Say why the referral is declined." in response.content.decode()
    assert Referral.objects.get(pk=referral.pk).status == "accepted"
    client.post(decline, {"reason": "Curso lleno"})
    assert Referral.objects.get(pk=referral.pk).status == "declined"

    sender = client_for(users["officer.hn"])
    arrival_page = sender.get(reverse("returns:arrival", args=[adult_arrival.pk]))
    assert "Curso lleno" in arrival_page.content.decode()


def test_the_referral_pages_speak_spanish(
    users: dict[str, User],
    directory: Directory,
    adult_arrival: Arrival,
    refer: Refer,
    client_for: Callable[[User], Client],
) -> None:
    refer(users["officer.hn"], adult_arrival, directory.training)
    client = client_for(users["officer.hn"])
    client.cookies["django_language"] = "es"
    users["officer.hn"].preferred_language = "es"
    users["officer.hn"].save(update_fields=["preferred_language"])
    page = client.get(reverse("directory:referrals")).content.decode()
    assert '<html lang="es">' in page
    assert "Soldadura" in page
