"""The review queue and missing-person API: decisions through the API, conflicts as 409,
out-of-scope pairs as 404, roles that review nothing as 403, and bad input as 422 naming
what is wrong, never a 500."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mirador.linkage.models import MissingPersonReport, ReviewStatus, UnidentifiedPerson
from mirador.linkage.tests.identification import Identification, signed_in

pytestmark = pytest.mark.django_db

API = "/api/v1/linkage"


def post(client: Any, path: str, payload: dict[str, Any]) -> Any:
    return client.post(f"{API}{path}", data=json.dumps(payload), content_type="application/json")


@pytest.fixture
def adults(world: Identification) -> Any:
    for name in ("a", "b", "c"):
        world.person(name, given_names="Rosa")
    return world


def test_a_reviewer_lists_and_accepts_a_pair_through_the_api(adults: Identification) -> None:
    pair = adults.pair("a", "b")
    client = signed_in(adults.users["officer.hn"])

    listed = client.get(f"{API}/review/pairs").json()
    decided = post(client, f"/review/pairs/{pair.pk}/decision", {"decision": "accept"})

    assert [item["id"] for item in listed] == [str(pair.pk)]
    assert {listed[0]["left"]["key"], listed[0]["right"]["key"]} == {
        f"p:{adults.persons['a'].pk}",
        f"p:{adults.persons['b'].pk}",
    }
    assert listed[0]["reasons"][0]["weight"] == max(r["weight"] for r in listed[0]["reasons"])
    assert decided.status_code == 200
    assert decided.json()["status"] == ReviewStatus.ACCEPTED
    links = client.get(f"{API}/records/p:{adults.persons['a'].pk}/same-person").json()
    assert [link["key"] for link in links] == [f"p:{adults.persons['b'].pk}"]


def test_a_conflicting_decision_answers_409_and_a_second_decision_409(
    adults: Identification,
) -> None:
    client = signed_in(adults.users["officer.hn"])
    first, second, closing = adults.pair("a", "b"), adults.pair("b", "c"), adults.pair("a", "c")
    for pair in (first, second):
        assert (
            post(client, f"/review/pairs/{pair.pk}/decision", {"decision": "accept"}).status_code
            == 200
        )

    conflict = post(client, f"/review/pairs/{closing.pk}/decision", {"decision": "reject"})
    again = post(client, f"/review/pairs/{first.pk}/decision", {"decision": "reject"})

    assert conflict.status_code == 409
    assert conflict.json()["error"]["code"] == "review_conflict"
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "review_already_decided"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"decision": "maybe"}, "decision"),
        ({"decision": "accept", "note": "x" * 301}, "note"),
        ({}, "decision"),
    ],
)
def test_a_malformed_decision_is_refused_with_422(
    adults: Identification, payload: dict[str, Any], field: str
) -> None:
    pair = adults.pair("a", "b")
    response = post(
        signed_in(adults.users["officer.hn"]), f"/review/pairs/{pair.pk}/decision", payload
    )

    assert response.status_code == 422
    assert field in json.dumps(response.json()["error"]["details"])
    pair.refresh_from_db()
    assert pair.status == ReviewStatus.PENDING


def test_a_pair_outside_the_scope_is_404_and_a_role_without_review_403(
    adults: Identification,
) -> None:
    adults.person("child", given_names="Rosa", is_child=True)
    pair = adults.pair("a", "child")

    officer = post(
        signed_in(adults.users["officer.hn"]),
        f"/review/pairs/{pair.pk}/decision",
        {"decision": "accept"},
    )
    caseworker = signed_in(adults.users["caseworker.hn"]).get(f"{API}/review/pairs")

    assert officer.status_code == 404
    assert caseworker.status_code == 403


@pytest.mark.parametrize("query", ["status=undecided", "source=rumour", "limit=many"])
def test_a_queue_asked_for_something_unknown_answers_422(
    adults: Identification, query: str
) -> None:
    response = signed_in(adults.users["officer.hn"]).get(f"{API}/review/pairs?{query}")

    assert response.status_code == 422


def test_a_record_key_that_is_not_one_answers_422(adults: Identification) -> None:
    response = signed_in(adults.users["officer.hn"]).get(f"{API}/records/person-1/same-person")

    assert response.status_code == 422
    assert "record_key" in response.json()["error"]["details"]["fields"]


REPORT = {
    "given_names": "Ana María",
    "first_surname": "Paz",
    "birth_year": 1999,
    "sex": "F",
    "reporter_name": "Rosa Paz",
    "reporter_relationship": "parent",
    "last_seen_place": "Tenosique, Tabasco",
}


def test_a_consular_officer_files_and_reads_a_report_through_the_api(world: Identification) -> None:
    client = signed_in(world.users["consular.hn"])

    created = post(client, "/missing-reports", REPORT)
    listed = client.get(f"{API}/missing-reports").json()

    assert created.status_code == 201
    assert created.json()["name"] == "Ana María Paz"
    assert created.json()["responsible"] == "consular.hn"
    assert [item["id"] for item in listed] == [created.json()["id"]]
    # The reception officer learns nothing of it.
    officer = signed_in(world.users["officer.hn"])
    assert officer.get(f"{API}/missing-reports").status_code == 403
    assert (
        signed_in(world.users["protection.gt"])
        .get(f"{API}/missing-reports/{created.json()['id']}")
        .status_code
        == 404
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"birth_month": 13}, "birth_month"),
        ({"reporter_relationship": "neighbour"}, "reporter_relationship"),
        ({"reporter_name": ""}, "reporter_name"),
        ({"last_seen_on": "2026-02-30"}, "last_seen_on"),
        ({"nationality": "ZZ"}, "nationality"),
        ({"consulate_id": "00000000-0000-0000-0000-000000000000"}, "consulate"),
    ],
)
def test_a_wrong_report_answers_422_naming_the_field_and_stores_nothing(
    world: Identification, change: dict[str, Any], field: str
) -> None:
    response = post(signed_in(world.users["consular.hn"]), "/missing-reports", {**REPORT, **change})

    assert response.status_code == 422
    assert field in json.dumps(response.json()["error"]["details"])
    assert not MissingPersonReport.objects.exists()


def test_an_unidentified_person_with_a_reversed_age_range_answers_422(
    world: Identification,
) -> None:
    response = post(
        signed_in(world.users["protection.hn"]),
        "/unidentified",
        {
            "reference": "SEMEFO-7",
            "condition": "deceased",
            "found_on": "2026-01-02",
            "found_place": "Altar, Sonora",
            "age_min": 40,
            "age_max": 30,
        },
    )

    assert response.status_code == 422
    assert "age_min" in response.json()["error"]["details"]["fields"]
    assert not UnidentifiedPerson.objects.exists()


def test_a_registry_run_of_an_unknown_country_answers_422(world: Identification) -> None:
    response = post(signed_in(world.users["admin"]), "/registry-runs", {"country": "ZZ"})
    refused = post(signed_in(world.users["officer.hn"]), "/registry-runs", {"country": "HN"})

    assert response.status_code == 422
    assert refused.status_code == 403
