"""The returns API end to end: the officer's day (expected passengers, registration,
assistance, capacity), manifest upload with set-aside rows, error shapes and the schema."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from mirador.accounts.models import User
from mirador.core.models import AuditAction, AuditEntry, ReceptionCentre
from mirador.people.models import Person
from mirador.returns.models import Arrival, Manifest, ProtectionAlert
from mirador.returns.tests.conftest import csv_bytes, passenger, today_at

pytestmark = pytest.mark.django_db

BASE = "/api/v1/returns"
WALK_IN = {
    "given_names": "Édgar Josué",
    "first_surname": "Maradiaga",
    "second_surname": "Cruz",
    "birth_year": 1994,
    "birth_month": 6,
    "birth_day": 2,
    "sex": "M",
    "nationality": "HN",
}


def _post(client: Client, path: str, payload: dict[str, Any]) -> Any:
    return client.post(f"{BASE}{path}", data=json.dumps(payload), content_type="application/json")


@pytest.fixture
def flight(airport_hn: ReceptionCentre, make_manifest: Callable[..., Manifest]) -> Manifest:
    return make_manifest(
        airport_hn,
        [
            passenger("María Fernanda", "Gómez", "Ávila", document_number="G111"),
            passenger("Brayan", "Gómez", "Ávila", sex="M", birth_date="2012-05-05"),
            passenger("Ixchel", "K'iche'", "", birth_date="2010"),
        ],
        expected_at=today_at(6),
        reference="AAL1801",
    )


def test_the_officer_registers_the_days_flight_through_the_api(
    users: dict[str, User], flight: Manifest, client_for: Callable[[User], Client]
) -> None:
    client = client_for(users["officer.hn"])
    centre_id = str(flight.centre_id)

    expected = client.get(
        f"{BASE}/centres/{centre_id}/expected", {"day": today_at(6).date().isoformat()}
    )
    assert expected.status_code == 200
    rows = expected.json()
    assert [r["given_names"] for r in rows] == ["María Fernanda", "Brayan", "Ixchel"]
    mother_row, son_row, alone_row = rows

    key = str(uuid.uuid4())
    mother = _post(
        client,
        "/arrivals",
        {
            "centre_id": centre_id,
            "idempotency_key": key,
            "manifest_passenger_id": mother_row["id"],
            "migration_reasons": ["economic"],
            "consent_follow_up": True,
            "consent_tracing": True,
            "contacts": [{"kind": "phone", "value": "+504 9999-0000"}],
        },
    )
    assert mother.status_code == 201, mother.content
    body = mother.json()
    assert body["restricted"] is False and body["arrival"]["person"]["first_surname"] == "Gómez"
    retry = _post(
        client,
        "/arrivals",
        {"centre_id": centre_id, "idempotency_key": key, "manifest_passenger_id": mother_row["id"]},
    )
    assert retry.json()["id"] == body["id"]

    son = _post(
        client,
        "/arrivals",
        {
            "centre_id": centre_id,
            "idempotency_key": str(uuid.uuid4()),
            "manifest_passenger_id": son_row["id"],
            "travelling_with_arrival_id": body["id"],
            "relationship": "child",
        },
    )
    assert son.status_code == 201
    assert son.json()["restricted"] is True  # a child's record is for protection officers
    assert son.json()["is_unaccompanied"] is False

    alone = _post(
        client,
        "/arrivals",
        {
            "centre_id": centre_id,
            "idempotency_key": str(uuid.uuid4()),
            "manifest_passenger_id": alone_row["id"],
        },
    ).json()
    assert alone["is_unaccompanied"] is True and alone["protection_alerted"] is True
    assert alone["arrival"] is None

    given = _post(client, f"/arrivals/{body['id']}/assistance", {"kind": "food", "quantity": 1})
    assert given.status_code == 201
    detail = client.get(f"{BASE}/arrivals/{body['id']}").json()
    assert [a["kind"] for a in detail["assistance"]] == ["food"]
    # The same key again gives the arrival as it is now, with what was given since.
    replayed = _post(
        client,
        "/arrivals",
        {"centre_id": centre_id, "idempotency_key": key, "manifest_passenger_id": mother_row["id"]},
    ).json()
    assert [a["kind"] for a in replayed["arrival"]["assistance"]] == ["food"]
    assert client.get(f"{BASE}/arrivals/{alone['id']}").status_code == 404

    assert Arrival.objects.count() == 3
    today_iso = today_at(0).date().isoformat()
    page = client.get(
        f"{BASE}/centres/{centre_id}/arrivals", {"day": today_iso, "limit": "1"}
    ).json()
    assert [a["id"] for a in page] == [body["id"]]  # the son and the girl are protection's
    assert (
        client.get(f"{BASE}/centres/{centre_id}/arrivals", {"day": today_iso, "offset": "1"}).json()
        == []
    )
    left = client.get(
        f"{BASE}/centres/{centre_id}/expected", {"day": today_at(6).date().isoformat()}
    )
    assert left.json() == []
    listed = client.get(f"{BASE}/manifests", {"centre_id": centre_id}).json()
    assert [(m["passenger_count"], m["registered_count"]) for m in listed] == [(3, 3)]


def test_protection_officers_see_the_alert_and_the_childs_arrival(
    users: dict[str, User], flight: Manifest, client_for: Callable[[User], Client]
) -> None:
    officer = client_for(users["officer.hn"])
    alone_row = flight.passengers.get(row_number=3)
    registered = _post(
        officer,
        "/arrivals",
        {
            "centre_id": str(flight.centre_id),
            "idempotency_key": "child-alone-001",
            "manifest_passenger_id": str(alone_row.pk),
        },
    ).json()

    protection = client_for(users["protection.hn"])
    alerts = protection.get(f"{BASE}/alerts").json()
    assert [(a["arrival_id"], a["reason"]) for a in alerts] == [
        (registered["id"], "unaccompanied-minor")
    ]
    assert alerts[0]["person"]["given_names"] == "Ixchel"
    assert protection.get(f"{BASE}/arrivals/{registered['id']}").status_code == 200
    taken = protection.post(f"{BASE}/alerts/{alerts[0]['id']}/take")
    assert taken.json()["status"] == "acknowledged"

    for name in ("officer.hn", "caseworker.hn", "officer.gt", "analyst.hn"):
        assert client_for(users[name]).get(f"{BASE}/alerts").status_code == 403
    assert ProtectionAlert.objects.count() == 1


def test_a_manifest_upload_with_bad_rows_names_them_and_stores_nothing(
    users: dict[str, User], airport_hn: ReceptionCentre, client_for: Callable[[User], Client]
) -> None:
    client = client_for(users["officer.hn"])
    content = csv_bytes(
        [passenger("Ana", "Pérez"), passenger("Rosa", "Mejía", birth_date="1990-02-30")]
    )
    form = {
        "centre_id": str(airport_hn.pk),
        "sending_country": "US",
        "means": "air",
        "reference": "AAL900",
        "expected_at": today_at(16).isoformat(),
    }

    refused = client.post(
        f"{BASE}/manifests/import",
        data={**form, "file": SimpleUploadedFile("vuelo.csv", content, "text/csv")},
    )
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["code"] == "manifest_invalid"
    assert [(e["file"], e["row"], e["field"]) for e in error["details"]["errors"]] == [
        ("vuelo.csv", 3, "birth_date")
    ]
    assert not Manifest.objects.exists()

    kept = client.post(
        f"{BASE}/manifests/import",
        data={
            **form,
            "keep_valid": "true",
            "file": SimpleUploadedFile("vuelo.csv", content, "text/csv"),
        },
    )
    assert kept.status_code == 201, kept.content
    assert (kept.json()["stored"], kept.json()["set_aside"]) == (1, 1)
    download = client.get(kept.json()["set_aside_url"])
    assert download.status_code == 200
    lines = download.content.decode().splitlines()
    assert lines[1].startswith("3,Rosa,Mejía")


def test_a_manifest_entered_as_json_names_the_passenger_and_field(
    users: dict[str, User], airport_hn: ReceptionCentre, client_for: Callable[[User], Client]
) -> None:
    client = client_for(users["officer.hn"])
    payload = {
        "centre_id": str(airport_hn.pk),
        "sending_country": "MX",
        "means": "land",
        "reference": "BUS-77",
        "kind": "extraordinary",
        "expected_at": today_at(18, days=1).isoformat(),
        "passengers": [passenger("Ana", "Pérez"), passenger("Juan", "Cruz", nationality="XX")],
    }
    refused = _post(client, "/manifests", payload)
    assert refused.status_code == 422
    assert [(e["row"], e["field"]) for e in refused.json()["error"]["details"]["errors"]] == [
        (2, "nationality")
    ]
    payload["passengers"][1]["nationality"] = "GTM"  # type: ignore[index]
    created = _post(client, "/manifests", payload)
    assert created.status_code == 201
    detail = client.get(f"{BASE}/manifests/{created.json()['id']}").json()
    assert [p["nationality"] for p in detail["passengers"]] == ["HN", "GT"]
    assert _post(client, "/manifests", payload).status_code == 409  # the same trip twice


def test_contingency_registration_and_completion_through_the_api(
    users: dict[str, User], airport_hn: ReceptionCentre, client_for: Callable[[User], Client]
) -> None:
    client = client_for(users["officer.hn"])
    made = _post(
        client,
        "/arrivals/contingency",
        {
            "centre_id": str(airport_hn.pk),
            "idempotency_key": "contingency-api-1",
            "given_names": "Elvin",
            "first_surname": "Reyes",
            "sex": "M",
            "birth_year": 1990,
        },
    ).json()
    assert made["needs_completion"] is True
    done = _post(
        client,
        f"/arrivals/{made['id']}/complete",
        {"time_abroad": "1-5-years", "migration_reasons": ["economic"], "consent_tracing": True},
    )
    assert done.status_code == 200
    assert done.json()["needs_completion"] is False
    assert _post(client, f"/arrivals/{made['id']}/complete", {}).status_code == 409


def test_passenger_candidates_through_the_api_say_when_consent_is_missing(
    users: dict[str, User], flight: Manifest, client_for: Callable[[User], Client]
) -> None:
    client = client_for(users["officer.hn"])
    row = flight.passengers.get(row_number=2)
    without = client.get(f"{BASE}/passengers/{row.pk}/candidates").json()
    assert without["searched"] is False and without["message"]
    with_consent = client.get(
        f"{BASE}/passengers/{row.pk}/candidates", {"consent_tracing": "true"}
    ).json()
    assert with_consent == {"searched": True, "message": "", "candidates": []}


def test_a_walk_in_is_searched_among_earlier_returns_by_the_identity_given(
    users: dict[str, User], airport_hn: ReceptionCentre, client_for: Callable[[User], Client]
) -> None:
    client = client_for(users["officer.hn"])
    identity = WALK_IN
    earlier = _post(
        client,
        "/arrivals",
        {
            "centre_id": str(airport_hn.pk),
            "idempotency_key": "walk-in-earlier",
            "identity": identity,
            "consent_tracing": True,
        },
    ).json()
    again = {**identity, "first_surname": "Cruz", "second_surname": "Maradiaga"}

    found = _post(client, "/candidates/search", {"identity": again, "consent_tracing": True})

    assert found.status_code == 200
    (candidate,) = found.json()["candidates"]
    assert candidate["person"]["id"] == earlier["arrival"]["person"]["id"]
    assert "surnames-swapped" in [reason["code"] for reason in candidate["reasons"]]
    assert all(reason["label"] for reason in candidate["reasons"])
    refused = _post(client, "/candidates/search", {"identity": again})
    assert refused.json()["searched"] is False


def _walk_in(airport_hn: ReceptionCentre, key: str, **extra: Any) -> dict[str, Any]:
    return {
        "centre_id": str(airport_hn.pk),
        "idempotency_key": key,
        "identity": WALK_IN,
        "consent_tracing": True,
        **extra,
    }


def test_a_new_person_is_not_registered_while_earlier_returns_that_may_be_them_are_undecided(
    users: dict[str, User], airport_hn: ReceptionCentre, client_for: Callable[[User], Client]
) -> None:
    client = client_for(users["officer.hn"])
    earlier = _post(client, "/arrivals", _walk_in(airport_hn, "first-time")).json()
    earlier_person = earlier["arrival"]["person"]["id"]
    persons_before = Person.objects.count()

    # Registered as new without searching first: refused, with the candidate and its reasons.
    refused = _post(client, "/arrivals", _walk_in(airport_hn, "second-time"))

    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["code"] == "candidates_to_decide"
    (candidate,) = error["details"]["candidates"]
    assert candidate["person"]["id"] == earlier_person
    assert "same-birth-date" in [reason["code"] for reason in candidate["reasons"]]
    assert Person.objects.count() == persons_before
    assert not Arrival.objects.filter(idempotency_key="second-time").exists()
    # The candidate was shown: their read is on record although nothing was registered.
    assert AuditEntry.objects.filter(
        object_id=earlier_person, details__via="repeat-return candidates"
    ).exists()

    # The officer says it is someone else: a new person, the rejection recorded.
    rejected = _post(
        client,
        "/arrivals",
        _walk_in(airport_hn, "second-time", rejected_candidate_ids=[earlier_person]),
    )
    assert rejected.status_code == 201
    second = Arrival.objects.get(pk=rejected.json()["id"])
    assert str(second.person_id) != earlier_person
    assert list(second.decisions.values_list("decision", flat=True)) == ["rejected"]

    # A third registration must decide on both earlier persons, not only the one it names.
    partly = _post(
        client,
        "/arrivals",
        _walk_in(airport_hn, "third-time", rejected_candidate_ids=[earlier_person]),
    )
    assert partly.status_code == 409, partly.content
    assert {c["person"]["id"] for c in partly.json()["error"]["details"]["candidates"]} == {
        earlier_person,
        str(second.person_id),
    }
    confirmed = _post(
        client,
        "/arrivals",
        {
            "centre_id": str(airport_hn.pk),
            "idempotency_key": "third-time",
            "confirmed_person_id": earlier_person,
            "rejected_candidate_ids": [str(second.person_id)],
            "consent_tracing": True,
        },
    )
    assert confirmed.status_code == 201
    assert confirmed.json()["arrival"]["person"]["id"] == earlier_person


def test_a_registration_sent_again_is_not_refused_for_the_person_it_registered(
    users: dict[str, User], airport_hn: ReceptionCentre, client_for: Callable[[User], Client]
) -> None:
    client = client_for(users["officer.hn"])
    first = _post(client, "/arrivals", _walk_in(airport_hn, "double-click"))

    again = _post(client, "/arrivals", _walk_in(airport_hn, "double-click"))

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json()["id"] == first.json()["id"]


def test_without_consent_to_tracing_a_new_person_is_registered_without_a_search(
    users: dict[str, User], airport_hn: ReceptionCentre, client_for: Callable[[User], Client]
) -> None:
    client = client_for(users["officer.hn"])
    _post(client, "/arrivals", _walk_in(airport_hn, "with-consent"))

    response = _post(client, "/arrivals", _walk_in(airport_hn, "no-consent", consent_tracing=False))

    assert response.status_code == 201


def test_a_registration_in_one_transaction_writes_its_audit_entries_in_one_insert(
    users: dict[str, User], airport_hn: ReceptionCentre, client_for: Callable[[User], Client]
) -> None:
    client = client_for(users["officer.hn"])
    payload = {
        "centre_id": str(airport_hn.pk),
        "idempotency_key": "one-insert",
        "identity": {"given_names": "Dilcia", "first_surname": "Zelaya", "birth_year": 1988},
        "consent_follow_up": True,
        "consent_tracing": True,
    }

    with CaptureQueriesContext(connection) as queries:
        response = _post(client, "/arrivals", payload)

    assert response.status_code == 201
    audit_inserts = [
        query
        for query in queries.captured_queries
        if query["sql"].startswith(f'INSERT INTO "{AuditEntry._meta.db_table}"')
    ]
    assert len(audit_inserts) == 1
    arrival_id = response.json()["id"]
    # The person, the two consents, the arrival, and the arrival read back.
    assert AuditEntry.objects.filter(object_id=arrival_id, action=AuditAction.READ).exists()
    assert AuditEntry.objects.filter(object_id=arrival_id, action=AuditAction.CREATE).exists()


def test_a_registration_naming_a_person_out_of_scope_stores_nothing_but_the_refusal(
    users: dict[str, User],
    airport_hn: ReceptionCentre,
    airport_gt: ReceptionCentre,
    client_for: Callable[[User], Client],
) -> None:
    guatemalan = _post(
        client_for(users["officer.gt"]),
        "/arrivals",
        {
            "centre_id": str(airport_gt.pk),
            "idempotency_key": "gt-earlier",
            "identity": {"given_names": "Ixchel", "first_surname": "Tuyuc", "birth_year": 1991},
        },
    ).json()["arrival"]["person"]["id"]
    arrivals_before = Arrival.objects.count()

    response = _post(
        client_for(users["officer.hn"]),
        "/arrivals",
        {
            "centre_id": str(airport_hn.pk),
            "idempotency_key": "names-a-guatemalan",
            "identity": {"given_names": "Ixchel", "first_surname": "Tuyuc", "birth_year": 1991},
            "rejected_candidate_ids": [guatemalan],
        },
    )

    assert response.status_code == 404
    assert Arrival.objects.count() == arrivals_before
    refusal = AuditEntry.objects.get(
        actor_username="officer.hn", action=AuditAction.DENIED, object_id=guatemalan
    )
    assert refusal.object_type == "people.Person"


def test_capacity_and_intake_endpoints(
    users: dict[str, User], flight: Manifest, client_for: Callable[[User], Client]
) -> None:
    client = client_for(users["officer.hn"])
    capacity = client.get(f"{BASE}/centres/{flight.centre_id}/capacity", {"days": 2}).json()
    assert [day["expected"] for day in capacity["days"]][0] == flight.passengers.count()
    assert capacity["warning"] is False
    day = client.get(
        f"{BASE}/centres/{flight.centre_id}/day", {"day": today_at(6).date().isoformat()}
    )
    assert day.json()["still_expected"] == flight.passengers.count()
    intake = client.get(f"{BASE}/centres/{flight.centre_id}/intake")
    assert intake.status_code == 200 and len(intake.json()) == 7


def test_every_returns_endpoint_is_in_the_openapi_schema(
    users: dict[str, User], client_for: Callable[[User], Client]
) -> None:
    paths = client_for(users["officer.hn"]).get("/api/v1/openapi.json").json()["paths"]
    for path in (
        "/api/v1/returns/manifests",
        "/api/v1/returns/manifests/import",
        "/api/v1/returns/arrivals",
        "/api/v1/returns/arrivals/contingency",
        "/api/v1/returns/arrivals/{arrival_id}/assistance",
        "/api/v1/returns/passengers/{passenger_id}/candidates",
        "/api/v1/returns/centres/{centre_id}/capacity",
        "/api/v1/returns/centres/{centre_id}/intake",
        "/api/v1/returns/centres/{centre_id}/day",
        "/api/v1/returns/alerts",
        "/api/v1/returns/candidates/search",
    ):
        assert path in paths
    # A client learns from the schema that a registration may answer with candidates.
    answers = paths["/api/v1/returns/arrivals"]["post"]["responses"]
    assert set(answers) >= {"201", "409"}
    refusal = answers["409"]["content"]["application/json"]["schema"]["$ref"]
    assert refusal.endswith("/CandidatesToDecideOut")


def test_the_expected_list_costs_the_same_queries_for_any_number_of_passengers(
    users: dict[str, User],
    airport_hn: ReceptionCentre,
    make_manifest: Callable[..., Manifest],
    client_for: Callable[[User], Client],
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(users["officer.hn"])
    day = today_at(7).date().isoformat()
    make_manifest(
        airport_hn, [passenger("Ana", f"Pérez{i}") for i in range(3)], expected_at=today_at(7)
    )
    with CaptureQueriesContext(connection) as few:
        assert len(client.get(f"{BASE}/centres/{airport_hn.pk}/expected", {"day": day}).json()) == 3
    make_manifest(
        airport_hn, [passenger("Luis", f"Cruz{i}") for i in range(9)], expected_at=today_at(8)
    )
    with CaptureQueriesContext(connection) as more:
        assert (
            len(client.get(f"{BASE}/centres/{airport_hn.pk}/expected", {"day": day}).json()) == 12
        )
    assert len(more) == len(few)
