"""The consular API: open a case (its person registered or reused), list with filters and
pages, read one with its actions, change its status, log an action; 422 names each wrong
field, 403 for roles that work no cases, 404 for a case out of scope, 401 without sign-in."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from mirador.consular import services
from mirador.consular.models import ConsularCase
from mirador.consular.tests.conftest import Consular
from mirador.linkage.tests.identification import signed_in

pytestmark = pytest.mark.django_db
API = "/api/v1/consular"


def payload(consular: Consular, **fields: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "consulate_id": str(consular.consulate.pk),
        "case_type": "hospitalisation",
        "locality": "Hospital General de Tapachula",
        "description": "Herido en un accidente del tren.",
        "person": {
            "given_names": "Marvin",
            "first_surname": "Castro",
            "birth_year": 1988,
            "sex": "M",
            "documents": [{"kind": "passport", "number": "G1234567", "issuing_country": "HN"}],
        },
        "consent_tracing": True,
    }
    values.update(fields)
    return values


def post(client: Client, path: str, data: dict[str, Any]) -> Any:
    return client.post(f"{API}{path}", data, content_type="application/json")


def test_a_case_is_opened_listed_read_moved_and_logged(consular: Consular) -> None:
    client = signed_in(consular.users["consular.hn"])

    created = post(client, "/cases", payload(consular))
    assert created.status_code == 201, created.json()
    case = created.json()
    assert (case["name"], case["status"], case["place_country"]) == ("Marvin Castro", "open", "MX")
    assert case["responsible"] == "consular.hn"
    assert case["restricted"] is False

    listed = client.get(f"{API}/cases", {"status": "open"}).json()
    assert listed["count"] == 1
    assert listed["items"][0]["id"] == case["id"]
    assert client.get(f"{API}/cases", {"status": "closed"}).json()["count"] == 0

    action = post(
        client, f"/cases/{case['id']}/actions", {"kind": "visit", "note": "Visita al hospital"}
    )
    assert action.status_code == 201
    assert action.json()["by"] == "consular.hn"

    closed = post(
        client, f"/cases/{case['id']}/status", {"status": "closed", "outcome": "returned"}
    )
    assert closed.status_code == 200
    detail = client.get(f"{API}/cases/{case['id']}").json()
    assert (detail["status"], detail["outcome"]) == ("closed", "returned")
    assert [a["kind"] for a in detail["actions"]] == ["status", "visit"]  # newest first

    moved = client.patch(
        f"{API}/cases/{case['id']}",
        {"locality": "Albergue Belén", "responsible": "protection.hn"},
        content_type="application/json",
    )
    assert (moved.json()["locality"], moved.json()["responsible"]) == (
        "Albergue Belén",
        "protection.hn",
    )


def test_the_list_is_paginated(consular: Consular) -> None:
    for given in ("Ana", "Berta", "Carla"):
        consular.open(person=services.PersonData(given_names=given, first_surname="Ramos"))
    client = signed_in(consular.users["consular.hn"])

    first = client.get(f"{API}/cases", {"limit": 2}).json()
    rest = client.get(f"{API}/cases", {"limit": 2, "offset": 2}).json()

    assert first["count"] == 3
    assert len(first["items"]) == 2
    assert len(rest["items"]) == 1


def test_a_case_for_a_person_of_the_registry(consular: Consular) -> None:
    person = consular.world.person("returnee", given_names="Óscar", first_surname="Reyes")
    client = signed_in(consular.users["consular.hn"])

    created = post(client, "/cases", payload(consular, person=None, person_id=str(person.pk)))

    assert created.status_code == 201
    assert created.json()["person_id"] == str(person.pk)


def test_wrong_fields_are_named_with_422(consular: Consular) -> None:
    client = signed_in(consular.users["consular.hn"])
    tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()

    response = post(
        client,
        "/cases",
        payload(consular, consulate_id=str(consular.consulate_gt.pk), opened_on=tomorrow),
    )

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_failed"
    assert set(error["details"]["fields"]) == {"consulate_id", "opened_on"}
    assert not ConsularCase.objects.exists()

    schema = post(client, "/cases", payload(consular, case_type="shipwreck"))
    assert schema.status_code == 422

    case = consular.open()
    no_outcome = post(client, f"/cases/{case.pk}/status", {"status": "closed"})
    assert no_outcome.status_code == 422
    assert no_outcome.json()["error"]["details"]["fields"] == {
        "outcome": [str(services.OUTCOME_REQUIRED)]
    }


def test_roles_that_work_no_cases_get_403_and_anonymous_401(consular: Consular) -> None:
    case = consular.open()
    for who in ("officer.hn", "caseworker.hn", "analyst.hn"):
        client = signed_in(consular.users[who])
        assert client.get(f"{API}/cases").status_code == 403
        assert post(client, "/cases", payload(consular)).status_code == 403
        assert client.get(f"{API}/cases/{case.pk}").status_code == 403
    assert Client().get(f"{API}/cases").status_code == 401


def test_another_countrys_officer_gets_404(consular: Consular) -> None:
    case = consular.open()
    client = signed_in(consular.users["consular.gt"])

    assert client.get(f"{API}/cases").json()["count"] == 0
    for response in (
        client.get(f"{API}/cases/{case.pk}"),
        post(client, f"/cases/{case.pk}/status", {"status": "in-progress"}),
        post(client, f"/cases/{case.pk}/actions", {"kind": "call"}),
    ):
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"


def test_a_child_case_opened_by_a_consular_officer_shows_them_its_id_only(
    consular: Consular,
) -> None:
    client = signed_in(consular.users["consular.hn"])

    created = post(client, "/cases", payload(consular, case_type="unaccompanied-child"))

    body = created.json()
    assert created.status_code == 201
    assert (body["name"], body["restricted"]) == ("", True)
    assert client.get(f"{API}/cases/{body['id']}").status_code == 404
    protection = signed_in(consular.users["protection.hn"])
    assert protection.get(f"{API}/cases/{body['id']}").json()["name"] == "Marvin Castro"
