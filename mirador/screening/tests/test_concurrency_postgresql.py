"""Two officers (or a double click reaching two server threads) saving the same arrival's
screening at the same moment make one screening, one flag per risk and one protection alert,
on PostgreSQL, where the requests really run in parallel."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from mirador.accounts.models import User
from mirador.returns.models import Arrival, ProtectionAlert
from mirador.screening.models import RiskFlag, Screening
from mirador.screening.services import screening_record

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="SQLite serialises writers; nothing races"
    ),
]


@pytest.mark.parametrize("screened_before", [False, True])
def test_two_concurrent_screenings_raise_each_flag_once(
    users: dict[str, User], adult: Arrival, screened_before: bool
) -> None:
    officer = users["officer.hn"]
    if screened_before:
        screening_record(actor=officer, arrival=adult, answers={"medical_care": "no"})
    answers = {"medical_care": "urgent", "fear_of_return": "threats"}
    start = threading.Barrier(2)
    results: list[object] = []

    def submit() -> None:
        try:
            start.wait()
            arrival = Arrival.objects.select_related("person", "centre").get(pk=adult.pk)
            results.append(screening_record(actor=officer, arrival=arrival, answers=answers))
        except Exception as error:  # noqa: BLE001 (reported by the assertion below)
            results.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert len(results) == 2 and not any(isinstance(r, Exception) for r in results), results
    assert Screening.objects.filter(arrival=adult).count() == 1
    assert sorted(RiskFlag.objects.filter(arrival=adult).values_list("action", flat=True)) == [
        "medical-care-now",
        "protection-assessment",
    ]
    assert ProtectionAlert.objects.filter(arrival=adult).count() == 1
