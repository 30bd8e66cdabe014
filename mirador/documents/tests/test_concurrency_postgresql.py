"""Two submissions of the same need, or of the same step, at the same moment (a double click
that reaches two server threads) make one request and one step, on PostgreSQL, where the
requests really run in parallel."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection, connections

from mirador.core.models import AuditAction, AuditEntry
from mirador.documents.models import DocumentRequest, RequestStatus
from mirador.documents.services import (
    REQUEST_OBJECT_TYPE,
    document_need_record,
    document_request_advance,
)
from mirador.documents.tests.conftest import Users
from mirador.returns.models import Arrival

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="SQLite serialises writers; nothing races"
    ),
]


def _twice(work: Callable[[], object]) -> list[object]:
    start = threading.Barrier(2)
    results: list[object] = []

    def run() -> None:
        try:
            start.wait()
            results.append(work())
        except Exception as error:  # noqa: BLE001 (reported by the assertions)
            results.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def test_two_concurrent_needs_of_one_kind_make_one_request(
    users: Users, adult_arrival: Arrival
) -> None:
    def record() -> object:
        row, _created = document_need_record(
            actor=users["officer.hn"], person=adult_arrival.person, kind="passport"
        )
        return row.pk

    results = _twice(record)

    assert len(results) == 2 and len(set(results)) == 1, results
    assert DocumentRequest.objects.count() == 1


def test_two_concurrent_advances_to_one_step_make_one_step(
    users: Users, adult_arrival: Arrival
) -> None:
    row, _created = document_need_record(
        actor=users["officer.hn"], person=adult_arrival.person, kind="passport"
    )

    results = _twice(
        lambda: (
            document_request_advance(
                actor=users["officer.hn"], document_request=row, to_status="requested"
            ).status
        )
    )

    assert results == [RequestStatus.REQUESTED, RequestStatus.REQUESTED], results
    assert (
        AuditEntry.objects.filter(
            object_type=REQUEST_OBJECT_TYPE, action=AuditAction.UPDATE
        ).count()
        == 1
    )
