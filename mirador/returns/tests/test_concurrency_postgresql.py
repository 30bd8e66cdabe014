"""Two requests registering the same arrival at the same moment (a double click that reaches
two server threads) create one arrival and one person, on PostgreSQL, where the requests
really run in parallel."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection, connections

from mirador.accounts.models import User
from mirador.core.models import ReceptionCentre
from mirador.people.models import Person
from mirador.returns.models import Arrival, Manifest
from mirador.returns.services import arrival_register
from mirador.returns.tests.conftest import passenger

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="SQLite serialises writers; nothing races"
    ),
]


def test_two_concurrent_submissions_with_one_key_create_one_arrival(
    users: dict[str, User], airport_hn: ReceptionCentre, make_manifest: Callable[..., Manifest]
) -> None:
    manifest = make_manifest(airport_hn, [passenger("Lesly Paola", "Amaya", "Cáceres")])
    row = manifest.passengers.get()
    officer = users["officer.hn"]
    start = threading.Barrier(2)
    results: list[object] = []

    def submit() -> None:
        try:
            start.wait()
            arrival = arrival_register(
                actor=officer,
                centre=airport_hn,
                idempotency_key="same-key-from-two-threads",
                manifest_passenger=row,
            )
            results.append(arrival.pk)
        except Exception as error:  # noqa: BLE001 (reported by the assertion below)
            results.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert len(results) == 2 and len(set(results)) == 1, results
    assert Arrival.objects.count() == 1
    assert Person.objects.filter(first_surname="Amaya").count() == 1
