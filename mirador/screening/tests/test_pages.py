"""The screening pages through Django's test client, in English and Spanish: the arrival
page's section (the questionnaire as radio groups and checkboxes with legends; saving it
shows the flags with their required actions, urgent ones in an alert), the confirmation when
a case goes to protection, htmx, and the open flags page with its filter and closing."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from mirador.accounts.models import User
from mirador.returns.models import Arrival
from mirador.screening.models import FlagStatus, RiskFlag
from mirador.screening.questionnaire import QUESTIONS
from mirador.screening.services import (
    SCREENING_SAVED,
    SCREENING_SAVED_CASE_WITH_PROTECTION,
    screening_record,
)

pytestmark = pytest.mark.django_db

Users = dict[str, User]


def _arrival_url(arrival: Arrival) -> str:
    return reverse("returns:arrival", args=[arrival.pk])


def _save_url(arrival: Arrival) -> str:
    return reverse("screening:save", args=[arrival.pk])


def _in_spanish(user: User) -> User:
    user.preferred_language = "es"
    user.save(update_fields=["preferred_language"])
    return user


def test_the_arrival_page_shows_the_questionnaire_as_fieldsets_with_legends(
    users: Users, adult: Arrival, client_for: Callable[[User], Client]
) -> None:
    page = client_for(users["officer.hn"]).get(_arrival_url(adult)).content.decode()

    assert 'id="screening"' in page
    assert page.count("<legend>") == len(QUESTIONS)
    assert 'type="radio" name="medical_care" value="urgent"' in page
    assert 'type="checkbox" name="trafficking" value="documents-withheld"' in page
    # "Not asked" is preselected, so that an unanswered question raises nothing.
    assert 'name="medical_care" value="not-asked" checked' in page


def test_saving_the_form_shows_the_flags_urgent_first_in_an_alert(
    users: Users, adult: Arrival, client_for: Callable[[User], Client]
) -> None:
    client = client_for(users["officer.hn"])

    response = client.post(
        _save_url(adult),
        {"medical_care": "urgent", "pregnancy": "yes", "special_needs": ["older-person"]},
        follow=True,
    )

    page = response.content.decode()
    assert response.redirect_chain[-1][0].startswith(_arrival_url(adult))
    assert str(SCREENING_SAVED) in page
    alert = re.search(r'<div class="screening-flags urgent" role="alert".*?</div>', page, re.S)
    assert alert is not None
    actions = alert.group(0)
    assert actions.index("Medical care before leaving the centre") < actions.index("Prenatal check")
    assert "Seat, water and food first" in actions
    # The answers are shown again as stored.
    assert 'name="medical_care" value="urgent" checked' in page
    assert 'name="special_needs" value="older-person" checked' in page


def test_flags_that_are_not_urgent_are_listed_without_an_alert(
    users: Users, adult: Arrival, client_for: Callable[[User], Client]
) -> None:
    client = client_for(users["officer.hn"])

    page = client.post(_save_url(adult), {"pregnancy": "yes"}, follow=True).content.decode()

    assert "Prenatal check" in page
    assert 'role="alert"' not in page.split('id="screening"')[1].split("<form")[0]


def test_a_wrong_answer_is_shown_beside_its_question(
    users: Users, adult: Arrival, client_for: Callable[[User], Client]
) -> None:
    response = client_for(users["officer.hn"]).post(_save_url(adult), {"pregnancy": "perhaps"})

    assert response.status_code == 422
    page = response.content.decode()
    assert 'id="error-pregnancy"' in page and "perhaps" in page
    assert not RiskFlag.objects.filter(arrival=adult).exists()


def test_trafficking_indicators_send_the_officer_to_the_day_with_a_confirmation(
    users: Users, adult: Arrival, client_for: Callable[[User], Client]
) -> None:
    client = client_for(users["officer.hn"])

    response = client.post(_save_url(adult), {"trafficking": ["forced-work"]}, follow=True)

    page = response.content.decode()
    assert response.redirect_chain[-1][0] == reverse("returns:centre", args=[adult.centre_id])
    assert str(SCREENING_SAVED_CASE_WITH_PROTECTION) in page
    assert "Reyes" not in page and "Forced work" not in page
    assert client.get(_arrival_url(adult)).status_code == 404


def test_with_htmx_the_section_alone_comes_back(
    users: Users, adult: Arrival, client_for: Callable[[User], Client]
) -> None:
    response = client_for(users["officer.hn"]).post(
        _save_url(adult), {"distress": "yes"}, HTTP_HX_REQUEST="true"
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert page.lstrip().startswith('<section id="screening"')
    assert "Psychosocial first aid" in page and 'role="alert"' in page


def test_with_htmx_a_case_gone_to_protection_redirects(
    users: Users, adult: Arrival, client_for: Callable[[User], Client]
) -> None:
    response = client_for(users["officer.hn"]).post(
        _save_url(adult), {"trafficking": ["debt"]}, HTTP_HX_REQUEST="true"
    )

    assert response["HX-Redirect"] == reverse("returns:centre", args=[adult.centre_id])


def test_the_section_and_saving_work_in_spanish(
    users: Users, adult: Arrival, client_for: Callable[[User], Client]
) -> None:
    client = client_for(_in_spanish(users["officer.hn"]))

    page = client.post(_save_url(adult), {"distress": "yes"}, follow=True).content.decode()

    assert '<html lang="es">' in page
    assert "Primeros auxilios psicológicos" in page
    assert RiskFlag.objects.filter(arrival=adult, action="psychosocial-first-aid").exists()


def test_the_open_flags_page_lists_filters_and_closes_flags(
    users: Users,
    register: Callable[..., Arrival],
    client_for: Callable[[User], Client],
) -> None:
    officer = users["officer.hn"]
    first, second = register("Marta"), register("Rosa")
    screening_record(actor=officer, arrival=first, answers={"medical_care": "urgent"})
    screening_record(actor=officer, arrival=second, answers={"special_needs": ["infant"]})
    client = client_for(officer)

    listing = client.get(reverse("screening:flags")).content.decode()
    health = client.get(reverse("screening:flags"), {"kind": "health"}).content.decode()
    flag = RiskFlag.objects.get(arrival=second)
    closed = client.post(
        reverse("screening:flag_close", args=[flag.pk]),
        {"note": "Kit given", "kind": "special-needs"},
        follow=True,
    )

    assert listing.index("Marta") < listing.index("Rosa")
    assert "Marta" in health and "Rosa" not in health
    assert closed.redirect_chain[-1][0] == reverse("screening:flags") + "?kind=special-needs"
    assert "Rosa" not in closed.content.decode()
    flag.refresh_from_db()
    assert flag.status == FlagStatus.DONE and flag.note == "Kit given"


def test_the_open_flags_page_works_in_spanish(
    users: Users, adult: Arrival, client_for: Callable[[User], Client]
) -> None:
    screening_record(actor=users["officer.hn"], arrival=adult, answers={"distress": "yes"})

    page = client_for(_in_spanish(users["officer.hn"])).get(reverse("screening:flags"))

    text = page.content.decode()
    assert page.status_code == 200 and '<html lang="es">' in text
    assert "Primeros auxilios psicológicos" in text and "Centro" in text


def test_a_flag_is_closed_from_the_arrival_page(
    users: Users, adult: Arrival, client_for: Callable[[User], Client]
) -> None:
    officer = users["officer.hn"]
    [flag] = screening_record(actor=officer, arrival=adult, answers={"pregnancy": "yes"}).raised

    response = client_for(officer).post(
        reverse("screening:flag_close", args=[flag.pk]), {"note": "", "back": "arrival"}
    )

    assert response["Location"] == _arrival_url(adult) + "#screening"
    assert RiskFlag.objects.get(pk=flag.pk).status == FlagStatus.DONE
