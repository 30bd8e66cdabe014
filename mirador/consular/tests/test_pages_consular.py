"""The consular pages: the list (its filters swapped in by htmx) and a case with its actions
log and status, in Spanish and English; a case opened from the form; an action logged with
htmx; the navigation link for those who work cases; 403 for other roles, 404 out of scope."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from mirador.consular.models import CaseAction, ConsularCase
from mirador.consular.tests.conftest import Consular
from mirador.linkage.tests.identification import signed_in

pytestmark = pytest.mark.django_db


def new_case(consular: Consular, **fields: object) -> dict[str, object]:
    """What the new-case form posts."""
    return {
        "consulate": consular.consulate.pk,
        "case_type": "detention",
        "given_names": "Wilmer",
        "first_surname": "Flores",
        "sex": "M",
        **fields,
    }


@pytest.mark.parametrize(("language", "status_label"), [("es", "Estado"), ("en", "Status")])
def test_the_list_and_a_case_speak_the_users_language(
    consular: Consular, language: str, status_label: str
) -> None:
    case = consular.open()
    officer = consular.users["consular.hn"]
    officer.preferred_language = language
    officer.save(update_fields=["preferred_language"])
    client = signed_in(officer)

    listed = client.get(reverse("consular:cases"))
    detail = client.get(reverse("consular:case", args=[case.pk]))

    for response in (listed, detail):
        assert response.status_code == 200
        assert f'<html lang="{language}">' in response.text
        assert status_label in response.text
        assert "Carlos Alberto Mejía Paz" in response.text
    assert reverse("consular:case", args=[case.pk]) in listed.text


def test_the_filters_come_back_as_a_table_with_htmx(consular: Consular) -> None:
    consular.open()
    client = signed_in(consular.users["consular.hn"])

    response = client.get(reverse("consular:cases"), {"status": "closed"}, HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert "<html" not in response.text
    assert "Carlos Alberto" not in response.text
    assert "Carlos Alberto" in client.get(reverse("consular:cases"), {"status": "open"}).text


def test_a_case_is_opened_from_the_form(consular: Consular) -> None:
    client = signed_in(consular.users["consular.hn"])
    assert client.get(reverse("consular:case_new")).status_code == 200

    response = client.post(
        reverse("consular:case_new"),
        new_case(consular, consent_tracing="yes", locality="Estación Migratoria Siglo XXI"),
    )

    case = ConsularCase.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("consular:case", args=[case.pk])
    assert case.person.full_name == "Wilmer Flores"


def test_the_form_shows_the_services_errors(consular: Consular) -> None:
    client = signed_in(consular.users["consular.hn"])
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)

    response = client.post(
        reverse("consular:case_new"), new_case(consular, opened_on=tomorrow.isoformat())
    )

    assert response.status_code == 200
    assert "The date is in the future." in response.text
    assert not ConsularCase.objects.exists()


def test_a_child_case_sends_the_consular_officer_back_to_the_list(consular: Consular) -> None:
    client = signed_in(consular.users["consular.hn"])

    response = client.post(
        reverse("consular:case_new"),
        new_case(
            consular, case_type="unaccompanied-child", given_names="Kevin", first_surname="Álvarez"
        ),
    )

    assert response["Location"] == reverse("consular:cases")
    case = ConsularCase.objects.get()
    assert client.get(reverse("consular:case", args=[case.pk])).status_code == 404
    protection = signed_in(consular.users["protection.hn"])
    assert "Kevin Álvarez" in protection.get(reverse("consular:case", args=[case.pk])).text


def test_an_action_is_logged_with_htmx_and_the_status_changed(consular: Consular) -> None:
    case = consular.open()
    client = signed_in(consular.users["consular.hn"])

    logged = client.post(
        reverse("consular:case_action", args=[case.pk]),
        {"kind": "call", "note": "Llamada a la madre"},
        HTTP_HX_REQUEST="true",
    )
    assert logged.status_code == 200
    assert "<html" not in logged.text
    assert "Llamada a la madre" in logged.text
    assert CaseAction.objects.filter(case=case, kind="call").exists()

    refused = client.post(reverse("consular:case_status", args=[case.pk]), {"status": "closed"})
    assert refused.status_code == 422
    assert "Say how the case ended to close it." in refused.text
    closed = client.post(
        reverse("consular:case_status", args=[case.pk]),
        {"status": "closed", "outcome": "released"},
    )
    assert closed.status_code == 302
    case.refresh_from_db()
    assert (case.status, case.outcome) == ("closed", "released")


def test_the_navigation_links_the_cases_for_those_who_work_them(consular: Consular) -> None:
    link = f'href="{reverse("consular:cases")}"'
    home = reverse("core:home")
    assert link in signed_in(consular.users["consular.hn"]).get(home).text
    assert link in signed_in(consular.users["protection.hn"]).get(home).text
    assert link not in signed_in(consular.users["officer.hn"]).get(home).text


@pytest.mark.parametrize("who", ["officer.hn", "caseworker.hn", "analyst.hn", "admin"])
def test_roles_that_work_no_cases_get_403(consular: Consular, who: str) -> None:
    case = consular.open()
    client = signed_in(consular.users[who])
    assert client.get(reverse("consular:cases")).status_code == 403
    assert client.get(reverse("consular:case_new")).status_code == 403
    assert client.get(reverse("consular:case", args=[case.pk])).status_code == 403


def test_another_countrys_officer_gets_404_on_a_case(consular: Consular) -> None:
    case = consular.open()
    client = signed_in(consular.users["consular.gt"])

    assert client.get(reverse("consular:case", args=[case.pk])).status_code == 404
    assert "Carlos Alberto" not in client.get(reverse("consular:cases")).text
    action = client.post(reverse("consular:case_action", args=[case.pk]), {"kind": "call"})
    assert action.status_code == 404


def test_the_list_is_paged_keeping_its_filters(
    consular: Consular, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("mirador.consular.views.PAGE_SIZE", 1)
    consular.open()
    consular.open(person_id=consular.open().person_id, case_type="documents")
    client = signed_in(consular.users["consular.hn"])

    first = client.get(reverse("consular:cases"), {"status": "open"})

    assert "Page 1 of 3" in first.text
    assert "?status=open&amp;page=2" in first.text


def test_a_case_is_opened_for_a_person_of_the_registry(consular: Consular) -> None:
    returnee = consular.world.person("returnee", given_names="Óscar", first_surname="Reyes")
    client = signed_in(consular.users["consular.hn"])
    url = f"{reverse('consular:case_new')}?person={returnee.pk}"

    form = client.get(url)
    assert "Óscar Reyes" in form.text
    assert 'name="given_names"' not in form.text
    response = client.post(
        url, {"consulate": consular.consulate.pk, "case_type": "documents", "person_id": "x"}
    )

    case = ConsularCase.objects.get()
    assert response["Location"] == reverse("consular:case", args=[case.pk])
    assert case.person_id == returnee.pk


def test_a_person_out_of_scope_gets_404_on_the_new_case_form(consular: Consular) -> None:
    guatemalan = consular.world.person("gt", country="GT")
    client = signed_in(consular.users["consular.hn"])

    response = client.get(f"{reverse('consular:case_new')}?person={guatemalan.pk}")

    assert response.status_code == 404


def test_the_details_are_changed_from_the_case_page(consular: Consular) -> None:
    case = consular.open()
    client = signed_in(consular.users["consular.hn"])
    url = reverse("consular:case_details", args=[case.pk])
    details = {
        "place_country": "MX",
        "locality": "Hospital General de Tapachula",
        "description": "Trasladado al hospital.",
        "responsible": consular.users["protection.hn"].pk,
    }

    changed = client.post(url, details)
    refused = client.post(url, {**details, "place_country": ""})

    assert changed.status_code == 302
    case.refresh_from_db()
    assert (case.locality, case.responsible) == (
        "Hospital General de Tapachula",
        consular.users["protection.hn"],
    )
    assert refused.status_code == 422
