"""Who sees and changes document requests: the government officials of the person's country
(a child's or trafficking victim's request needs the protection role, like their record);
caseworkers of an organisation the record was shared with read but do not change; another
country's officer gets 404; analysts see none."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from mirador.accounts.services import api_token_issue
from mirador.core.models import AuditAction, AuditEntry
from mirador.documents.models import DocumentRequest, RequestStatus
from mirador.documents.selectors import document_queue
from mirador.documents.services import REQUEST_OBJECT_TYPE
from mirador.documents.tests.conftest import Users
from mirador.people.models import Person
from mirador.returns.models import Arrival

pytestmark = pytest.mark.django_db

DOCUMENTS = "/api/v1/documents"
Need = Callable[..., DocumentRequest]


def _api(users: Users, username: str) -> Client:
    _, raw = api_token_issue(user=users[username])
    return Client(headers={"Authorization": f"Bearer {raw}"})


def _queue_ids(client: Client) -> list[str]:
    response = client.get(f"{DOCUMENTS}/requests")
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["items"]]


def _advance(client: Client, row: DocumentRequest) -> int:
    response = client.post(
        f"{DOCUMENTS}/requests/{row.pk}/advance",
        {"status": "requested"},
        content_type="application/json",
    )
    return response.status_code


@pytest.mark.parametrize(
    ("username", "reads", "changes"),
    [
        ("officer.hn", 200, 200),
        ("protection.hn", 200, 200),
        ("officer.gt", 404, 404),
        ("caseworker.hn", 404, 404),  # the record was not shared with their organisation
        ("analyst.hn", 404, 404),
        ("analyst.regional", 404, 404),
    ],
)
def test_access_matrix_of_an_adults_request(
    users: Users, adult_arrival: Arrival, need: Need, username: str, reads: int, changes: int
) -> None:
    row = need(adult_arrival.person)
    client = _api(users, username)

    assert client.get(f"{DOCUMENTS}/requests/{row.pk}").status_code == reads
    assert _advance(client, row) == changes
    expected = RequestStatus.REQUESTED if changes == 200 else RequestStatus.NEEDED
    assert DocumentRequest.objects.get(pk=row.pk).status == expected


def test_another_countrys_officer_gets_404_on_a_honduran_persons_requests(
    users: Users, adult_arrival: Arrival, need: Need
) -> None:
    row = need(adult_arrival.person)
    guatemalan = _api(users, "officer.gt")

    for url in (
        f"{DOCUMENTS}/requests/{row.pk}",
        f"{DOCUMENTS}/people/{adult_arrival.person_id}/requests",
        f"{DOCUMENTS}/arrivals/{adult_arrival.pk}/requests",
    ):
        response = guatemalan.get(url)
        assert response.status_code == 404, url
        assert "Reyes" not in response.content.decode()
    cancel = guatemalan.post(
        f"{DOCUMENTS}/requests/{row.pk}/cancel", {"reason": "x"}, content_type="application/json"
    )
    assert cancel.status_code == 404
    assert _queue_ids(guatemalan) == []
    assert AuditEntry.objects.filter(
        object_type=REQUEST_OBJECT_TYPE, action=AuditAction.DENIED, object_id=str(row.pk)
    ).exists()


def test_a_reception_officer_does_not_see_a_childs_request_a_protection_officer_does(
    users: Users, adult_arrival: Arrival, child_arrival: Arrival, need: Need
) -> None:
    adult = need(adult_arrival.person)
    child = need(child_arrival.person)
    officer = _api(users, "officer.hn")
    protection = _api(users, "protection.hn")

    assert _queue_ids(officer) == [str(adult.pk)]
    assert officer.get(f"{DOCUMENTS}/requests/{child.pk}").status_code == 404
    assert _advance(officer, child) == 404
    assert _queue_ids(protection) == [str(child.pk), str(adult.pk)]
    assert protection.get(f"{DOCUMENTS}/requests/{child.pk}").status_code == 200
    assert _advance(protection, child) == 200


def test_a_trafficking_victims_request_is_for_the_protection_role_only(
    users: Users, make_person: Callable[..., Person], need: Need
) -> None:
    row = need(make_person(given_names="Karla", is_trafficking_victim=True))

    assert _api(users, "officer.hn").get(f"{DOCUMENTS}/requests/{row.pk}").status_code == 404
    assert _api(users, "protection.hn").get(f"{DOCUMENTS}/requests/{row.pk}").status_code == 200


def test_caseworkers_of_an_organisation_the_person_was_shared_with_read_but_do_not_change(
    users: Users,
    adult_arrival: Arrival,
    need: Need,
    share_with: Callable[..., None],
) -> None:
    row = need(adult_arrival.person)
    share_with(adult_arrival.person, users["caseworker.hn"].organisation)
    caseworker = _api(users, "caseworker.hn")

    assert caseworker.get(f"{DOCUMENTS}/requests/{row.pk}").status_code == 200
    assert _queue_ids(caseworker) == [str(row.pk)]
    people = caseworker.get(f"{DOCUMENTS}/people/{adult_arrival.person_id}/requests")
    assert [item["id"] for item in people.json()] == [str(row.pk)]
    assert _advance(caseworker, row) == 403
    cancel = caseworker.post(
        f"{DOCUMENTS}/requests/{row.pk}/cancel", {"reason": "x"}, content_type="application/json"
    )
    assert cancel.status_code == 403
    need_again = caseworker.post(
        f"{DOCUMENTS}/needs",
        {"person_id": str(adult_arrival.person_id), "kind": "passport"},
        content_type="application/json",
    )
    assert need_again.status_code == 403
    assert DocumentRequest.objects.get().status == RequestStatus.NEEDED


def test_a_record_shared_twice_is_listed_once(
    users: Users,
    adult_arrival: Arrival,
    need: Need,
    share_with: Callable[..., None],
    make_organisation: Callable[..., object],
) -> None:
    """The rule's filter joins the person's shares: a request must not repeat per share."""
    row = need(adult_arrival.person)
    share_with(adult_arrival.person, users["caseworker.hn"].organisation)
    share_with(adult_arrival.person, make_organisation(country="HN", name="ACNUR"))

    assert [r.pk for r in document_queue(user=users["officer.hn"]).rows] == [row.pk]
    assert document_queue(user=users["officer.hn"]).counts["needed"] == 1


def test_analysts_see_no_request(users: Users, adult_arrival: Arrival, need: Need) -> None:
    row = need(adult_arrival.person)
    for username in ("analyst.hn", "analyst.gt", "analyst.regional"):
        client = _api(users, username)
        assert client.get(f"{DOCUMENTS}/requests").status_code == 403
        assert client.get(f"{DOCUMENTS}/requests/{row.pk}").status_code == 404
