"""Who sees what of a Honduran centre's returns, role by role. Reading the table: officer.gt
(reception officer of Guatemala) sees none of it: the centre is not among theirs, and its
manifest, passengers, arrivals and figures answer 404 as if they did not exist.

Columns: centre (listed among the user's centres), manifest (detail), expected (the day's
passengers), adult / child (an arrival's detail), figures (capacity, intake, the day in
counts), alerts (protection alerts listed).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from mirador.accounts.models import User
from mirador.core.models import AuditEntry, ReceptionCentre
from mirador.returns.models import Arrival, Manifest
from mirador.returns.services import arrival_register
from mirador.returns.tests.conftest import passenger, today_at

pytestmark = pytest.mark.django_db

BASE = "/api/v1/returns"

ACCESS_TABLE = """
user              centre  manifest  expected  adult  child  figures  alerts
officer.hn        yes     yes       yes       yes    no     yes      no
protection.hn     yes     yes       yes       yes    yes    yes      yes
officer.gt        no      no        no        no     no     no       no
caseworker.hn     no      no        no        no     no     no       no
analyst.hn        no      no        no        no     no     yes      no
analyst.gt        no      no        no        no     no     no       no
analyst.regional  no      no        no        no     no     yes      no
"""


def _parse(table: str) -> dict[str, dict[str, bool]]:
    lines = [line.split() for line in table.strip().splitlines()]
    header, rows = lines[0], lines[1:]
    return {
        row[0]: dict(zip(header[1:], (cell == "yes" for cell in row[1:]), strict=True))
        for row in rows
    }


ACCESS = _parse(ACCESS_TABLE)


@pytest.fixture
def honduran_day(
    users: dict[str, User], airport_hn: ReceptionCentre, make_manifest: Callable[..., Manifest]
) -> dict[str, object]:
    manifest = make_manifest(
        airport_hn,
        [
            passenger("Reina Isabel", "Cárcamo", "Oseguera"),
            passenger("Josué", "Cárcamo", "", birth_date="2011-02-02", sex="M"),
            passenger("Dilcia", "Bonilla", "Zúniga"),
        ],
        expected_at=today_at(5),
    )
    rows = list(manifest.passengers.order_by("row_number"))
    adult, child = (
        arrival_register(
            actor=users["officer.hn"],
            centre=airport_hn,
            idempotency_key=f"matrix-{index}",
            manifest_passenger=row,
        )
        for index, row in enumerate(rows[:2])
    )
    return {"centre": airport_hn, "manifest": manifest, "adult": adult, "child": child}


def _sees(client: Client, column: str, day: dict[str, object]) -> bool:
    centre = day["centre"]
    assert isinstance(centre, ReceptionCentre)
    manifest, adult, child = day["manifest"], day["adult"], day["child"]
    assert isinstance(manifest, Manifest)
    assert isinstance(adult, Arrival) and isinstance(child, Arrival)
    if column == "centre":
        return str(centre.pk) in {c["id"] for c in client.get(f"{BASE}/centres").json()}
    if column == "manifest":
        return client.get(f"{BASE}/manifests/{manifest.pk}").status_code == 200
    if column == "expected":
        response = client.get(
            f"{BASE}/centres/{centre.pk}/expected", {"day": today_at(5).date().isoformat()}
        )
        return response.status_code == 200 and len(response.json()) == 1
    if column in ("adult", "child"):
        arrival = adult if column == "adult" else child
        return client.get(f"{BASE}/arrivals/{arrival.pk}").status_code == 200
    if column == "figures":
        capacity = client.get(f"{BASE}/centres/{centre.pk}/capacity").status_code
        intake = client.get(f"{BASE}/centres/{centre.pk}/intake").status_code
        summary = client.get(f"{BASE}/centres/{centre.pk}/day").status_code
        assert (capacity == 200) == (intake == 200) == (summary == 200)
        return capacity == 200
    if column == "alerts":
        response = client.get(f"{BASE}/alerts")
        return response.status_code == 200 and len(response.json()) == 1
    raise AssertionError(column)


@pytest.mark.parametrize("username", list(ACCESS))
def test_each_role_sees_exactly_what_the_table_says(
    username: str,
    users: dict[str, User],
    honduran_day: dict[str, object],
    client_for: Callable[[User], Client],
) -> None:
    client = client_for(users[username])
    seen = {column: _sees(client, column, honduran_day) for column in ACCESS[username]}
    assert seen == ACCESS[username]


def test_refused_reads_of_an_arrival_are_audited(
    users: dict[str, User], honduran_day: dict[str, object], client_for: Callable[[User], Client]
) -> None:
    adult = honduran_day["adult"]
    assert isinstance(adult, Arrival)
    client_for(users["officer.gt"]).get(f"{BASE}/arrivals/{adult.pk}")
    assert AuditEntry.objects.filter(
        actor=users["officer.gt"], action="denied", object_id=str(adult.pk)
    ).exists()
