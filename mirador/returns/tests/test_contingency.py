"""A centre's contingency mode (D-R4): switched on with a reason by the centre's officers,
it shortens registration to the essential fields until switched off; the arrivals registered
meanwhile are listed to complete, and completing them fills in the return."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from mirador.accounts.models import User
from mirador.core.errors import PermissionDeniedError, ValidationFailedError
from mirador.core.models import AuditEntry, ReceptionCentre, Subdivision
from mirador.returns import services
from mirador.returns.models import Arrival, ContingencyPeriod
from mirador.returns.services import ContingencyNotOnError

Users = dict[str, User]


def _essential(**values: str) -> dict[str, str]:
    data = {
        "idempotency_key": uuid.uuid4().hex,
        "given_names": "Rosa",
        "first_surname": "Paz",
        "birth_year": "1979",
        "sex": "F",
        "action": "register",
    }
    data.update(values)
    return data


def test_switching_on_needs_a_reason_and_twice_is_one_period(
    users: Users, airport_hn: ReceptionCentre
) -> None:
    officer = users["officer.hn"]
    with pytest.raises(ValidationFailedError) as error:
        services.centre_contingency_start(actor=officer, centre=airport_hn, reason="  ")
    fields = error.value.details["fields"]
    assert isinstance(fields, dict) and "reason" in fields
    first = services.centre_contingency_start(
        actor=officer, centre=airport_hn, reason="Two extraordinary flights"
    )
    again = services.centre_contingency_start(actor=officer, centre=airport_hn, reason="Again")
    assert again.pk == first.pk
    assert ContingencyPeriod.objects.filter(centre=airport_hn).count() == 1
    assert AuditEntry.objects.filter(
        object_type="returns.ContingencyPeriod", object_id=str(first.pk), action="create"
    ).exists()


def test_switching_off_ends_the_period_and_off_twice_is_refused(
    users: Users, airport_hn: ReceptionCentre
) -> None:
    officer = users["officer.hn"]
    services.centre_contingency_start(actor=officer, centre=airport_hn, reason="Crowd")
    ended = services.centre_contingency_end(actor=officer, centre=airport_hn)
    assert ended.ended_at is not None and ended.ended_by == officer
    with pytest.raises(ContingencyNotOnError):
        services.centre_contingency_end(actor=officer, centre=airport_hn)
    # A new period can start after the last one ended.
    services.centre_contingency_start(actor=officer, centre=airport_hn, reason="Again")
    assert ContingencyPeriod.objects.filter(centre=airport_hn).count() == 2


def test_an_officer_of_another_country_cannot_switch_the_centre(
    users: Users, airport_hn: ReceptionCentre, client_for: Callable[[User], Client]
) -> None:
    with pytest.raises(PermissionDeniedError):
        services.centre_contingency_start(
            actor=users["officer.gt"], centre=airport_hn, reason="Not mine"
        )
    response = client_for(users["officer.gt"]).post(
        reverse("returns:contingency", args=[airport_hn.pk]), {"reason": "Not mine"}
    )
    assert response.status_code == 404
    assert not ContingencyPeriod.objects.exists()


def test_in_contingency_mode_the_form_asks_the_essential_fields_until_switched_off(
    users: Users, airport_hn: ReceptionCentre, client_for: Callable[[User], Client]
) -> None:
    client = client_for(users["officer.hn"])
    switch = reverse("returns:contingency", args=[airport_hn.pk])
    register = reverse("returns:register", args=[airport_hn.pk])
    day = reverse("returns:centre", args=[airport_hn.pk])

    assert 'name="consent_tracing"' in client.get(register).content.decode()
    client.post(switch, {"action": "start", "reason": "Three flights at once"})
    page = client.get(day).content.decode()
    assert "Three flights at once" in page and "Back to full registration" in page
    form = client.get(register).content.decode()
    assert 'name="given_names"' in form and 'name="consent_tracing"' not in form
    # The full form stays at hand for one person who needs it.
    assert 'name="consent_tracing"' in client.get(register, {"contingency": "0"}).content.decode()

    response = client.post(register, _essential())
    assert response.status_code == 302
    arrival = Arrival.objects.get()
    assert arrival.is_contingency and arrival.needs_completion
    assert "Rosa Paz" in client.get(day).content.decode().replace("</a>", "")

    client.post(switch, {"action": "end"})
    assert 'name="consent_tracing"' in client.get(register).content.decode()


def test_completing_an_arrival_fills_in_the_return_and_clears_the_mark(
    users: Users, airport_hn: ReceptionCentre, client_for: Callable[[User], Client]
) -> None:
    department = Subdivision.objects.get(code="HN-T1")
    client = client_for(users["officer.hn"])
    client.post(reverse("returns:register", args=[airport_hn.pk]), _essential(contingency="1"))
    arrival = Arrival.objects.get()
    complete = reverse("returns:complete", args=[arrival.pk])
    assert client.get(complete).status_code == 200
    assert client_for(users["officer.gt"]).get(complete).status_code == 404

    response = client.post(
        complete,
        {
            "returned_from": "US",
            "means": "air",
            "home_subdivision": department.pk,
            "time_abroad": "1-5-years",
            "migration_reasons": ["economic"],
            "consent_follow_up": "on",
        },
    )
    assert response.status_code == 302
    arrival.refresh_from_db()
    assert not arrival.needs_completion and arrival.completed_at is not None
    assert arrival.returned_from_id == "US" and arrival.home_subdivision_id == "HN-T1"
    assert arrival.migration_reasons == ["economic"] and arrival.consent_follow_up
    # Completed once: the page now sends back to the arrival.
    assert client.get(complete).status_code == 302


def test_completion_refuses_a_department_of_another_country(
    users: Users, airport_hn: ReceptionCentre
) -> None:
    other = Subdivision.objects.create(
        code="GT-T9", country_id="GT", category="department", name_en="X", name_es="X"
    )
    arrival = services.arrival_register_contingency(
        actor=users["officer.hn"],
        centre=airport_hn,
        idempotency_key=uuid.uuid4().hex,
        given_names="Rosa",
        first_surname="Paz",
        sex="F",
        birth_year=1979,
        is_child=False,
    )
    with pytest.raises(ValidationFailedError) as error:
        services.arrival_complete(
            actor=users["officer.hn"], arrival=arrival, home_subdivision=other
        )
    fields = error.value.details["fields"]
    assert isinstance(fields, dict) and "home_subdivision" in fields


def test_the_api_switches_contingency_on_and_off(
    users: Users, airport_hn: ReceptionCentre, client_for: Callable[[User], Client]
) -> None:
    client = client_for(users["officer.hn"])
    url = f"/api/v1/returns/centres/{airport_hn.pk}/contingency"
    assert client.get(url).json()["active"] is False
    started = client.post(url, {"reason": "Storm"}, content_type="application/json")
    assert started.status_code == 200 and started.json()["active"] is True
    assert client.get(url).json()["reason"] == "Storm"
    assert client.delete(url).json()["active"] is False
    assert client.delete(url).status_code == 409
    refused = client_for(users["officer.gt"]).post(
        url, {"reason": "Storm"}, content_type="application/json"
    )
    assert refused.status_code == 404


def test_the_full_form_records_the_department_and_a_telephone(
    users: Users, airport_hn: ReceptionCentre, client_for: Callable[[User], Client]
) -> None:
    client = client_for(users["officer.hn"])
    response = client.post(
        reverse("returns:register", args=[airport_hn.pk]),
        {
            "idempotency_key": uuid.uuid4().hex,
            "given_names": "Jesús Ángel",
            "first_surname": "O'Connor",
            "second_surname": "Núñez-Ávila",
            "birth_year": "1988",
            "sex": "M",
            "nationality": "HN",
            "returned_from": "US",
            "means": "air",
            "home_subdivision": "HN-T1",
            "time_abroad": "1-5-years",
            "phone": "+504 9999-0000",
            "action": "register",
        },
    )
    assert response.status_code == 302
    arrival = Arrival.objects.select_related("person").get()
    assert arrival.home_subdivision_id == "HN-T1"
    assert arrival.person.second_surname == "Núñez-Ávila"
    assert list(arrival.person.contacts.values_list("kind", "value")) == [
        ("phone", "+504 9999-0000")
    ]
