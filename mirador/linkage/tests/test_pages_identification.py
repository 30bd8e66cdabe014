"""The identification pages: the queue decides pairs with htmx (a partial back) or a plain
form post (a redirect), in Spanish and English; reports and unidentified persons are filed
from their forms by tracing roles only; the person's and the arrival's pages show "same person
as" links within the reader's scope."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from mirador.linkage import review
from mirador.linkage.models import MissingPersonReport, ReviewStatus, UnidentifiedPerson
from mirador.linkage.tests.identification import Identification, identity, signed_in

pytestmark = pytest.mark.django_db


def test_a_pair_is_accepted_with_htmx_and_the_card_comes_back_decided(
    world: Identification,
) -> None:
    world.person("a", given_names="Rosa")
    world.person("b", given_names="Rosa")
    pair = world.pair("a", "b")
    client = signed_in(world.users["officer.hn"])

    response = client.post(
        reverse("linkage:pair_decide", args=[pair.pk]),
        {"decision": "accept", "note": "Same photo"},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 200
    assert f'id="pair-{pair.pk}"' in response.text
    assert "Reopen this decision" in response.text
    pair.refresh_from_db()
    assert (pair.status, pair.note) == (ReviewStatus.ACCEPTED, "Same photo")


def test_a_plain_post_redirects_to_the_queue_and_a_bad_decision_changes_nothing(
    world: Identification,
) -> None:
    world.person("a", given_names="Rosa")
    world.person("b", given_names="Rosa")
    pair = world.pair("a", "b")
    client = signed_in(world.users["officer.hn"])

    wrong = client.post(reverse("linkage:pair_decide", args=[pair.pk]), {"decision": "perhaps"})

    assert wrong.status_code == 302
    pair.refresh_from_db()
    assert pair.status == ReviewStatus.PENDING


@pytest.mark.parametrize(
    ("language", "heading"),
    [("es", "Identificación: cola de revisión"), ("en", "Identification: review queue")],
)
def test_the_queue_speaks_the_users_language(
    world: Identification, language: str, heading: str
) -> None:
    officer = world.users["officer.hn"]
    officer.preferred_language = language
    officer.save(update_fields=["preferred_language"])

    response = signed_in(officer).get(reverse("linkage:queue"))

    assert response.status_code == 200
    assert heading in response.text


@pytest.mark.parametrize("who", ["caseworker.hn", "analyst.hn", "admin"])
def test_roles_that_review_nothing_get_403_on_the_queue(world: Identification, who: str) -> None:
    assert signed_in(world.users[who]).get(reverse("linkage:queue")).status_code == 403


def test_a_consular_officer_files_a_report_from_the_form(world: Identification) -> None:
    client = signed_in(world.users["consular.hn"])
    response = client.post(
        reverse("linkage:report_new"),
        {
            "given_names": "Kevin",
            "first_surname": "Ramírez",
            "birth_year": "2002",
            "sex": "M",
            "reporter_name": "Dora Ramírez",
            "reporter_relationship": "parent",
            "last_seen_place": "Reynosa, Tamaulipas",
        },
    )

    report = MissingPersonReport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("linkage:report", args=[report.pk])
    page = client.get(response["Location"])
    assert "Kevin Ramírez" in page.text
    assert "Reynosa, Tamaulipas" in page.text
    assert signed_in(world.users["officer.hn"]).get(response["Location"]).status_code == 403


def test_a_wrong_report_form_shows_the_field_errors(world: Identification) -> None:
    response = signed_in(world.users["consular.hn"]).post(
        reverse("linkage:report_new"),
        {
            "given_names": "Kevin",
            "first_surname": "Ramírez",
            "birth_year": "2002",
            "birth_day": "4",
            "sex": "M",
            "reporter_name": "Dora Ramírez",
            "reporter_relationship": "parent",
        },
    )

    assert response.status_code == 200
    assert "A day of birth needs a month of birth." in response.text
    assert not MissingPersonReport.objects.exists()


def test_a_protection_officer_records_an_unidentified_person(world: Identification) -> None:
    client = signed_in(world.users["protection.hn"])
    response = client.post(
        reverse("linkage:unidentified_new"),
        {
            "reference": "MOR-2026-3",
            "condition": "alive",
            "found_on": (timezone.localdate() - datetime.timedelta(days=2)).isoformat(),
            "found_place": "Albergue, Tenosique",
            "sex": "F",
            "age_min": "25",
            "age_max": "35",
        },
    )

    record = UnidentifiedPerson.objects.get()
    assert response["Location"] == reverse("linkage:unidentified", args=[record.pk])
    assert "MOR-2026-3" in client.get(response["Location"]).text
    assert client.get(reverse("linkage:unidentified_list")).status_code == 200


def test_the_arrival_page_links_the_earlier_record_of_the_same_person(
    world: Identification,
) -> None:
    earlier = world.person("earlier", given_names="Juan", first_surname="Paz")
    arrival = world.arrival(identity("Juan", "Paz"), consent_tracing=False)
    world.persons["returned"] = arrival.person
    review.review_pair_decide(
        actor=world.users["officer.hn"], pair=world.pair("earlier", "returned"), decision="accept"
    )

    page = signed_in(world.users["officer.hn"]).get(reverse("returns:arrival", args=[arrival.pk]))
    person_page = signed_in(world.users["officer.hn"]).get(
        reverse("people:detail", args=[earlier.pk])
    )

    assert "Same person as" in page.text
    assert reverse("people:detail", args=[earlier.pk]) in page.text
    assert reverse("people:detail", args=[arrival.person_id]) in person_page.text
