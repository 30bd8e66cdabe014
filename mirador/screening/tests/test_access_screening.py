"""Who sees what of screening at a Honduran centre, role by role. officer.gt (reception
officer of Guatemala) gets 404 on every Honduran arrival's screening and flag; a reception
officer does not see restricted flags (a child's, trafficking), a protection officer does;
caseworkers and analysts see no flags at all.

Columns: adult (an adult's screening through the API), adult_flags (the adult's flags among
the open flags listed), child (a child's screening), restricted (restricted flags among the
open flags listed), page (the adult's flag on the open flags page).
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from mirador.accounts.models import User
from mirador.returns.models import Arrival
from mirador.screening.models import RiskFlag
from mirador.screening.services import screening_record

pytestmark = pytest.mark.django_db

Users = dict[str, User]
BASE = "/api/v1/screening"

ACCESS_TABLE = """
user              adult  adult_flags  child  restricted  page
officer.hn        yes    yes          no     no          yes
protection.hn     yes    yes          yes    yes         yes
officer.gt        no     no           no     no          no
caseworker.hn     no     no           no     no          no
analyst.hn        no     no           no     no          no
analyst.gt        no     no           no     no          no
analyst.regional  no     no           no     no          no
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
def screened(users: Users, adult: Arrival, child: Arrival) -> dict[str, Arrival]:
    screening_record(actor=users["officer.hn"], arrival=adult, answers={"medical_care": "urgent"})
    screening_record(actor=users["protection.hn"], arrival=child, answers={"distress": "yes"})
    return {"adult": adult, "child": child}


def _sees(client: Client, column: str, screened: dict[str, Arrival]) -> bool:
    adult, child = screened["adult"], screened["child"]
    if column == "adult":
        return bool(client.get(f"{BASE}/arrivals/{adult.pk}").status_code == 200)
    if column == "child":
        return bool(client.get(f"{BASE}/arrivals/{child.pk}").status_code == 200)
    listed = client.get(f"{BASE}/flags")
    assert listed.status_code == 200
    flags = listed.json()
    if column == "adult_flags":
        return any(flag["arrival_id"] == str(adult.pk) for flag in flags)
    if column == "restricted":
        return any(flag["is_restricted"] for flag in flags)
    page = client.get(reverse("screening:flags"))
    return bool(page.status_code == 200 and "Medical care before" in page.content.decode())


@pytest.mark.parametrize("username", list(ACCESS))
def test_access_to_screening_follows_the_table(
    username: str,
    users: Users,
    screened: dict[str, Arrival],
    client_for: Callable[[User], Client],
) -> None:
    client = client_for(users[username])

    seen = {column: _sees(client, column, screened) for column in ACCESS[username]}

    assert seen == ACCESS[username]


def test_an_officer_of_another_country_gets_404_on_a_honduran_arrivals_screening(
    users: Users, screened: dict[str, Arrival], client_for: Callable[[User], Client]
) -> None:
    client = client_for(users["officer.gt"])
    adult = screened["adult"]
    flag = RiskFlag.objects.get(arrival=adult)
    payload = json.dumps({"answers": {"medical_care": "no"}})

    responses = [
        client.get(f"{BASE}/arrivals/{adult.pk}"),
        client.put(f"{BASE}/arrivals/{adult.pk}", payload, content_type="application/json"),
        client.post(f"{BASE}/arrivals/{adult.pk}", payload, content_type="application/json"),
        client.get(f"{BASE}/flags/{flag.pk}"),
        client.post(f"{BASE}/flags/{flag.pk}/close", json.dumps({"note": "x"}), "application/json"),
        client.post(reverse("screening:save", args=[adult.pk]), {"medical_care": "no"}),
        client.post(reverse("screening:flag_close", args=[flag.pk]), {"note": "x"}),
    ]

    assert [response.status_code for response in responses] == [404] * len(responses)
    assert response_has_no_details(responses[0].content.decode(), adult)
    assert RiskFlag.objects.get(pk=flag.pk).status == "open"


def response_has_no_details(body: str, arrival: Arrival) -> bool:
    return "Reyes" not in body and "medical" not in body


def test_a_reception_officer_does_not_see_restricted_flags_a_protection_officer_does(
    users: Users, screened: dict[str, Arrival], client_for: Callable[[User], Client]
) -> None:
    restricted = RiskFlag.objects.get(arrival=screened["child"])

    officer = client_for(users["officer.hn"]).get(f"{BASE}/flags/{restricted.pk}")
    protection = client_for(users["protection.hn"]).get(f"{BASE}/flags/{restricted.pk}")

    assert restricted.is_restricted
    assert officer.status_code == 404
    assert protection.status_code == 200 and protection.json()["is_restricted"]


def test_a_trafficking_flag_is_for_protection_officers_only(
    users: Users, register: Callable[..., Arrival], client_for: Callable[[User], Client]
) -> None:
    arrival = register("Sayra")
    [flag] = screening_record(
        actor=users["officer.hn"], arrival=arrival, answers={"trafficking": ["not-free"]}
    ).raised

    officer = client_for(users["officer.hn"])
    protection = client_for(users["protection.hn"])

    assert officer.get(f"{BASE}/flags/{flag.pk}").status_code == 404
    assert officer.get(f"{BASE}/flags").json() == []
    assert [f["id"] for f in protection.get(f"{BASE}/flags").json()] == [str(flag.pk)]
