"""Reading document requests: the days each has waited, what an arrival's page lists, the
queue's order and counts, a constant number of queries whatever the queue's length, and the
audit entries of reads."""

from __future__ import annotations

import datetime
from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from mirador.accounts.models import User
from mirador.core.errors import NotFoundError, PermissionDeniedError, ValidationFailedError
from mirador.core.models import AuditAction, AuditEntry
from mirador.documents.models import DocumentRequest
from mirador.documents.selectors import (
    document_queue,
    document_request_get,
    document_requests_for_arrival,
)
from mirador.documents.services import (
    REQUEST_OBJECT_TYPE,
    document_request_advance,
    document_request_cancel,
)
from mirador.documents.tests.conftest import Users
from mirador.returns.models import Arrival

pytestmark = pytest.mark.django_db

Need = Callable[..., DocumentRequest]


def _noted_days_ago(row: DocumentRequest, days: int) -> None:
    DocumentRequest.objects.filter(pk=row.pk).update(
        needed_at=timezone.now() - datetime.timedelta(days=days, hours=1)
    )


def test_each_request_says_how_many_days_it_has_waited(
    users: Users, adult_arrival: Arrival, need: Need
) -> None:
    open_one = need(adult_arrival.person, "passport")
    delivered = need(adult_arrival.person, "national-id")
    _noted_days_ago(open_one, 12)
    _noted_days_ago(delivered, 30)
    delivered.refresh_from_db()
    for step in ("requested", "issued", "delivered"):
        delivered = document_request_advance(
            actor=users["officer.hn"], document_request=delivered, to_status=step
        )
    DocumentRequest.objects.filter(pk=delivered.pk).update(
        delivered_at=delivered.needed_at + datetime.timedelta(days=9)
    )

    assert document_request_get(user=users["officer.hn"], request_id=open_one.pk).days_waiting == 12
    assert document_request_get(user=users["officer.hn"], request_id=delivered.pk).days_waiting == 9


def test_the_oldest_comes_first_among_requests_of_equal_priority(
    users: Users, make_arrival: Callable[..., Arrival], need: Need
) -> None:
    recent = need(make_arrival("Wilmer", "Cruz").person)
    old = need(make_arrival("Marta", "Flores").person)
    _noted_days_ago(old, 20)

    queue = document_queue(user=users["officer.hn"])

    assert [row.pk for row in queue.rows] == [old.pk, recent.pk]
    assert [row.days_waiting for row in queue.rows] == [20, 0]


def test_an_arrivals_page_lists_open_requests_and_those_noted_at_it(
    users: Users, make_arrival: Callable[..., Arrival], need: Need
) -> None:
    earlier = make_arrival("Wilmer", "Cruz")
    person = earlier.person
    later = Arrival.objects.get(pk=earlier.pk)  # same person, another return
    later.pk = None
    later.idempotency_key = "second-return"
    later.save()
    still_open = need(person, "passport", arrival=earlier)
    closed_earlier = need(person, "national-id", arrival=earlier)
    document_request_cancel(
        actor=users["officer.hn"], document_request=closed_earlier, reason="found"
    )
    closed_now = need(person, "birth-certificate", arrival=later)
    document_request_cancel(actor=users["officer.hn"], document_request=closed_now, reason="x")

    shown = document_requests_for_arrival(user=users["officer.hn"], arrival=later)

    assert [row.pk for row in shown] == [still_open.pk, closed_now.pk]


def test_the_queue_counts_each_status_and_reads_are_audited(
    users: Users, make_arrival: Callable[..., Arrival], need: Need
) -> None:
    rows = [need(make_arrival(name, "Cruz").person) for name in ("Ana", "Berta", "Carla")]
    document_request_advance(
        actor=users["officer.hn"], document_request=rows[0], to_status="requested"
    )
    document_request_cancel(actor=users["officer.hn"], document_request=rows[1], reason="x")

    queue = document_queue(user=users["officer.hn"])

    assert queue.counts == {
        "needed": 1,
        "requested": 1,
        "issued": 0,
        "delivered": 0,
        "cancelled": 1,
    }
    assert queue.total == 2 and {row.pk for row in queue.rows} == {rows[0].pk, rows[2].pk}
    listing = AuditEntry.objects.filter(
        object_type=REQUEST_OBJECT_TYPE, action=AuditAction.LIST
    ).latest("id")
    assert listing.details["count"] == 2


def test_wrong_filters_and_roles_without_personal_data_are_refused(users: Users) -> None:
    with pytest.raises(ValidationFailedError):
        document_queue(user=users["officer.hn"], status="lost")
    with pytest.raises(ValidationFailedError):
        document_queue(user=users["officer.hn"], centre_id="nope")
    with pytest.raises(PermissionDeniedError):
        document_queue(user=users["analyst.hn"])
    with pytest.raises(NotFoundError):
        document_request_get(user=users["officer.hn"], request_id="not-a-uuid")


def test_the_queue_page_takes_as_many_queries_for_ten_requests_as_for_two(
    users: Users,
    client_for: Callable[[User], Client],
    make_arrival: Callable[..., Arrival],
    need: Need,
) -> None:
    client = client_for(users["officer.hn"])
    for name in ("Ana", "Berta"):
        arrival = make_arrival(name, "Cruz")
        need(arrival.person, arrival=arrival)
    with CaptureQueriesContext(connection) as two:
        assert client.get(reverse("documents:queue")).status_code == 200
    for name in ("Carla", "Diana", "Elena", "Fabiola", "Gloria", "Helena", "Irma", "Juana"):
        arrival = make_arrival(name, "Cruz")
        need(arrival.person, arrival=arrival)
    with CaptureQueriesContext(connection) as ten:
        page = client.get(reverse("documents:queue")).content.decode()

    assert page.count("data-request-id=") == 10
    assert len(ten.captured_queries) == len(two.captured_queries)
