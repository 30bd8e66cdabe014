"""The identity documents API: recording a need (once), the queue with its filters, counts
and pages, one request, advancing and cancelling; wrong input answered with the stable error
shape, never a server error; what the caller may not see answered 404."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from mirador.accounts.models import User
from mirador.accounts.services import api_token_issue
from mirador.core.models import ReceptionCentre
from mirador.documents.api import router
from mirador.documents.models import DocumentRequest, RequestStatus
from mirador.documents.tests.conftest import Users
from mirador.people.models import Person
from mirador.returns.models import Arrival

pytestmark = pytest.mark.django_db

DOCUMENTS = "/api/v1/documents"
Need = Callable[..., DocumentRequest]


@pytest.fixture
def api_for() -> Callable[[User], Client]:
    def client(user: User) -> Client:
        _, raw = api_token_issue(user=user)
        return Client(headers={"Authorization": f"Bearer {raw}"})

    return client


def _error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert error["code"] == code
    assert set(error) == {"code", "message", "details"}
    return error


def _post(client: Client, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, body, content_type="application/json")


def test_recording_a_need_twice_gives_one_request_201_then_200(
    users: Users, api_for: Callable[[User], Client], adult_arrival: Arrival
) -> None:
    api = api_for(users["officer.hn"])
    body = {
        "person_id": str(adult_arrival.person_id),
        "kind": "national-id",
        "arrival_id": str(adult_arrival.pk),
        "note": "Lost in Mexico",
    }

    first = _post(api, f"{DOCUMENTS}/needs", body)
    second = _post(api, f"{DOCUMENTS}/needs", body)

    assert first.status_code == 201, first.content
    assert second.status_code == 200
    assert first.json()["created"] is True and second.json()["created"] is False
    shown = first.json()["request"]
    assert second.json()["request"]["id"] == shown["id"]
    assert shown["status"] == "needed" and shown["kind"] == "national-id"
    assert shown["person_name"] == "Ana Lucía Reyes"
    assert shown["centre_id"] == str(adult_arrival.centre_id)
    assert shown["needed"]["by"] == "officer.hn" and shown["requested"]["at"] is None
    assert DocumentRequest.objects.count() == 1


@pytest.mark.parametrize(
    "body",
    [
        {"person_id": None, "kind": "passport"},
        {"person_id": "not-a-uuid", "kind": "passport"},
        {"kind": "driving-licence"},
        {"kind": "consular-id"},
        {"kind": "passport", "note": "x" * 1001},
    ],
)
def test_a_wrong_need_is_a_422(
    users: Users, api_for: Callable[[User], Client], adult_arrival: Arrival, body: dict[str, Any]
) -> None:
    body = {"person_id": str(adult_arrival.person_id), **body}
    body = {name: value for name, value in body.items() if value is not None}
    response = _post(api_for(users["officer.hn"]), f"{DOCUMENTS}/needs", body)

    _error(response, 422, "validation_failed")
    assert not DocumentRequest.objects.exists()


def test_a_need_for_a_person_out_of_scope_or_unknown_is_a_404(
    users: Users, api_for: Callable[[User], Client], adult_arrival: Arrival
) -> None:
    guatemalan = api_for(users["officer.gt"])
    for person_id in (adult_arrival.person_id, uuid.uuid4()):
        response = _post(
            guatemalan, f"{DOCUMENTS}/needs", {"person_id": str(person_id), "kind": "passport"}
        )
        _error(response, 404, "not_found")
    assert not DocumentRequest.objects.exists()


def test_the_queue_puts_children_and_trafficking_victims_first_then_the_oldest(
    users: Users,
    api_for: Callable[[User], Client],
    make_arrival: Callable[..., Arrival],
    make_person: Callable[..., Person],
    need: Need,
) -> None:
    oldest = need(make_arrival("Wilmer", "Cruz").person, "passport")
    newer = need(make_arrival("Marta", "Flores").person, "passport")
    child = need(make_arrival("Dayana", "López", birth_year=2020).person, "birth-certificate")
    victim = need(make_person(given_names="Karla", is_trafficking_victim=True), "national-id")

    body = api_for(users["protection.hn"]).get(f"{DOCUMENTS}/requests").json()

    ids = [item["id"] for item in body["items"]]
    assert ids == [str(child.pk), str(victim.pk), str(oldest.pk), str(newer.pk)]
    assert [item["priority"] for item in body["items"]] == [True, True, False, False]
    assert body["count"] == 4
    assert body["counts"] == {
        "needed": 4,
        "requested": 0,
        "issued": 0,
        "delivered": 0,
        "cancelled": 0,
    }
    assert all(item["days_waited"] == 0 for item in body["items"])


def test_the_queue_filters_by_status_kind_and_centre_and_pages(
    users: Users,
    api_for: Callable[[User], Client],
    make_arrival: Callable[..., Arrival],
    border_hn: ReceptionCentre,
    need: Need,
) -> None:
    airport = make_arrival("Wilmer", "Cruz")
    border = make_arrival("Marta", "Flores", centre=border_hn)
    other = make_arrival("José", "Paz")
    at_airport = need(airport.person, "passport", arrival=airport)
    at_border = need(border.person, "passport", arrival=border)
    certificate = need(other.person, "birth-certificate", arrival=other)
    api = api_for(users["officer.hn"])
    api_advance = f"{DOCUMENTS}/requests/{at_airport.pk}/advance"
    assert _post(api, api_advance, {"status": "requested"}).status_code == 200

    def ids(**params: Any) -> list[str]:
        response = api.get(f"{DOCUMENTS}/requests", params)
        assert response.status_code == 200, response.content
        return [item["id"] for item in response.json()["items"]]

    assert ids(status="requested") == [str(at_airport.pk)]
    assert ids(status="needed") == [str(at_border.pk), str(certificate.pk)]
    assert ids(kind="birth-certificate") == [str(certificate.pk)]
    assert ids(centre_id=str(border_hn.pk)) == [str(at_border.pk)]
    assert ids(status="delivered") == []
    page = api.get(f"{DOCUMENTS}/requests", {"limit": 2, "offset": 2}).json()
    assert page["count"] == 3 and len(page["items"]) == 1
    counts = api.get(f"{DOCUMENTS}/requests", {"kind": "passport"}).json()["counts"]
    assert counts["needed"] == 1 and counts["requested"] == 1


@pytest.mark.parametrize(
    "params",
    [
        {"status": "lost"},
        {"kind": "visa"},
        {"centre_id": "not-a-uuid"},
        {"limit": 0},
        {"limit": 10_000},
        {"offset": -1},
        {"limit": "many"},
    ],
)
def test_wrong_queue_parameters_are_a_422(
    users: Users, api_for: Callable[[User], Client], params: dict[str, Any]
) -> None:
    response = api_for(users["officer.hn"]).get(f"{DOCUMENTS}/requests", params)
    _error(response, 422, "validation_failed")


def test_an_analyst_gets_403_on_the_queue_and_404_on_a_request(
    users: Users, api_for: Callable[[User], Client], adult_arrival: Arrival, need: Need
) -> None:
    row = need(adult_arrival.person)
    analyst = api_for(users["analyst.hn"])

    _error(analyst.get(f"{DOCUMENTS}/requests"), 403, "permission_denied")
    _error(analyst.get(f"{DOCUMENTS}/requests/{row.pk}"), 404, "not_found")


def test_advancing_through_the_api_one_step_at_a_time(
    users: Users, api_for: Callable[[User], Client], adult_arrival: Arrival, need: Need
) -> None:
    row = need(adult_arrival.person, "passport")
    api = api_for(users["officer.hn"])
    url = f"{DOCUMENTS}/requests/{row.pk}/advance"

    skipped = _post(api, url, {"status": "delivered"})
    _error(skipped, 409, "step_not_allowed")
    requested = _post(api, url, {"status": "requested", "issuing_authority": "RNP"})
    assert requested.status_code == 200, requested.content
    assert requested.json()["issuing_authority"] == "RNP"
    assert requested.json()["requested"]["by"] == "officer.hn"
    assert _post(api, url, {"status": "issued"}).status_code == 200
    delivered = _post(
        api, url, {"status": "delivered", "delivery_place": "Centro", "document_number": "E77"}
    )
    assert delivered.status_code == 200
    assert delivered.json()["status"] == "delivered"
    assert delivered.json()["document_number"] == "E77"
    _error(_post(api, url, {"status": "needed"}), 422, "validation_failed")
    _error(
        _post(api, f"{DOCUMENTS}/requests/{row.pk}/cancel", {"reason": "x"}), 409, "request_closed"
    )


def test_cancelling_through_the_api_needs_a_reason(
    users: Users, api_for: Callable[[User], Client], adult_arrival: Arrival, need: Need
) -> None:
    row = need(adult_arrival.person)
    api = api_for(users["officer.hn"])
    url = f"{DOCUMENTS}/requests/{row.pk}/cancel"

    _error(_post(api, url, {"reason": ""}), 422, "validation_failed")
    _error(_post(api, url, {}), 422, "validation_failed")
    cancelled = _post(api, url, {"reason": "Found the original"})

    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["cancel_reason"] == "Found the original"
    assert DocumentRequest.objects.get().status == RequestStatus.CANCELLED


def test_a_persons_and_an_arrivals_requests(
    users: Users, api_for: Callable[[User], Client], adult_arrival: Arrival, need: Need
) -> None:
    open_one = need(adult_arrival.person, "passport", arrival=adult_arrival)
    api = api_for(users["officer.hn"])

    person = api.get(f"{DOCUMENTS}/people/{adult_arrival.person_id}/requests")
    arrival = api.get(f"{DOCUMENTS}/arrivals/{adult_arrival.pk}/requests")

    assert [item["id"] for item in person.json()] == [str(open_one.pk)]
    assert [item["id"] for item in arrival.json()] == [str(open_one.pk)]
    guatemalan = api_for(users["officer.gt"])
    _error(guatemalan.get(f"{DOCUMENTS}/arrivals/{adult_arrival.pk}/requests"), 404, "not_found")
    _error(
        guatemalan.get(f"{DOCUMENTS}/people/{adult_arrival.person_id}/requests"), 404, "not_found"
    )


def test_every_endpoint_is_documented_with_its_schemas() -> None:
    """What /api/v1/openapi.json shows of this router: each operation with a summary, and its
    parameter and body schemas complete (pydantic can write them out)."""
    paths = {
        path: [operation for operation in view.operations]
        for path, view in router.path_operations.items()
    }

    assert set(paths) == {
        "/needs",
        "/requests",
        "/requests/{request_id}",
        "/requests/{request_id}/advance",
        "/requests/{request_id}/cancel",
        "/people/{person_id}/requests",
        "/arrivals/{arrival_id}/requests",
    }
    for operations in paths.values():
        for operation in operations:
            assert operation.summary
            for model in operation.models:
                assert model.model_json_schema()["properties"] is not None
