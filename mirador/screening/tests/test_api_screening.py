"""The screening API end to end: the questionnaire in the request's language, recording an
arrival's screening (PUT and POST), per-question errors, the arrival's screening and flags,
the open flags with filters, closing a flag, and the confirmation when a case goes to
protection."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from mirador.accounts.models import User
from mirador.core.models import ReceptionCentre
from mirador.returns.models import Arrival
from mirador.screening.questionnaire import QUESTIONS, UNKNOWN_QUESTION
from mirador.screening.services import SCREENING_SAVED_CASE_WITH_PROTECTION

pytestmark = pytest.mark.django_db

Users = dict[str, User]
BASE = "/api/v1/screening"


def _send(client: Client, method: str, path: str, payload: dict[str, Any]) -> Any:
    return getattr(client, method)(
        f"{BASE}{path}", data=json.dumps(payload), content_type="application/json"
    )


def test_the_questionnaire_lists_every_question_with_the_flags_of_risky_answers(
    users: Users, client_for: Callable[[User], Client]
) -> None:
    response = client_for(users["officer.hn"]).get(f"{BASE}/questionnaire")

    assert response.status_code == 200
    body = response.json()
    assert [q["code"] for q in body["questions"]] == [q.code for q in QUESTIONS]
    medical = body["questions"][0]
    urgent = next(c for c in medical["choices"] if c["code"] == "urgent")
    assert urgent["flag"]["urgency"] == "now"
    assert urgent["flag"]["action_text"] == "Medical care before leaving the centre"
    assert next(c for c in medical["choices"] if c["code"] == "no")["flag"] is None
    assert body["not_asked"] == "not-asked"


def test_the_questionnaire_comes_in_the_requests_language(
    users: Users, client_for: Callable[[User], Client]
) -> None:
    users["officer.hn"].preferred_language = "es"
    users["officer.hn"].save(update_fields=["preferred_language"])

    body = client_for(users["officer.hn"]).get(f"{BASE}/questionnaire").json()

    labels = {kind["code"]: kind["label"] for kind in body["kinds"]}
    distress = next(q for q in body["questions"] if q["code"] == "distress")
    first_aid = next(c for c in distress["choices"] if c["code"] == "yes")["flag"]
    # Strings Mirador already translates; the rest are translated by the lead.
    assert first_aid["action_text"] == "Primeros auxilios psicológicos"
    assert next(c for c in distress["choices"] if c["code"] == "no")["label"] == "No"
    assert labels["health"]


def test_the_officer_records_a_screening_and_reads_its_flags_urgent_first(
    users: Users, adult: Arrival, client_for: Callable[[User], Client]
) -> None:
    client = client_for(users["officer.hn"])

    saved = _send(
        client,
        "put",
        f"/arrivals/{adult.pk}",
        {"answers": {"pregnancy": "yes", "medical_care": "urgent", "disability": ["mobility"]}},
    )

    assert saved.status_code == 200, saved.content
    body = saved.json()
    assert body["raised"] == 3 and not body["restricted"] and body["screening"]["screened"]
    shown = client.get(f"{BASE}/arrivals/{adult.pk}").json()
    assert [flag["urgency"] for flag in shown["flags"]] == ["now", "today", "today"]
    assert shown["flags"][0]["action"] == "medical-care-now"
    assert shown["answers"]["disability"] == ["mobility"]
    assert shown["screened_by"] == "officer.hn"


def test_posting_the_same_answers_again_raises_nothing_new(
    users: Users, adult: Arrival, client_for: Callable[[User], Client]
) -> None:
    client = client_for(users["officer.hn"])
    answers = {"answers": {"fear_of_return": "fear"}}

    first = _send(client, "post", f"/arrivals/{adult.pk}", answers).json()
    second = _send(client, "post", f"/arrivals/{adult.pk}", answers).json()

    assert first["raised"] == 1 and first["referred_to_protection"]
    assert second["raised"] == 0 and second["closed"] == 0


def test_wrong_answers_are_refused_naming_each_question(
    users: Users, adult: Arrival, client_for: Callable[[User], Client]
) -> None:
    response = _send(
        client_for(users["officer.hn"]),
        "put",
        f"/arrivals/{adult.pk}",
        {"answers": {"shoe_size": "42", "medical_care": "sometimes"}},
    )

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_failed"
    assert error["details"]["fields"]["shoe_size"] == [str(UNKNOWN_QUESTION)]
    assert "sometimes" in error["details"]["fields"]["medical_care"][0]


def test_trafficking_indicators_answer_with_a_confirmation_not_the_record(
    users: Users, adult: Arrival, client_for: Callable[[User], Client]
) -> None:
    client = client_for(users["officer.hn"])

    response = _send(
        client, "put", f"/arrivals/{adult.pk}", {"answers": {"trafficking": ["deceived"]}}
    )

    body = response.json()
    assert response.status_code == 200
    assert body["restricted"] and body["referred_to_protection"] and body["screening"] is None
    assert body["message"] == str(SCREENING_SAVED_CASE_WITH_PROTECTION)
    assert client.get(f"{BASE}/arrivals/{adult.pk}").status_code == 404
    protection = client_for(users["protection.hn"]).get(f"{BASE}/arrivals/{adult.pk}").json()
    assert [flag["kind"] for flag in protection["flags"]] == ["trafficking"]
    assert protection["flags"][0]["is_restricted"]


def test_open_flags_filter_by_centre_kind_and_urgency(
    users: Users,
    register: Callable[..., Arrival],
    border_hn: ReceptionCentre,
    client_for: Callable[[User], Client],
) -> None:
    client = client_for(users["officer.hn"])
    at_airport = register("Marta")
    at_border = register("Rosa", centre=border_hn)
    _send(client, "put", f"/arrivals/{at_airport.pk}", {"answers": {"medical_care": "urgent"}})
    _send(client, "put", f"/arrivals/{at_border.pk}", {"answers": {"pregnancy": "yes"}})

    everything = client.get(f"{BASE}/flags").json()
    health = client.get(f"{BASE}/flags", {"kind": "health"}).json()
    border = client.get(f"{BASE}/flags", {"centre": str(border_hn.pk)}).json()
    later = client.get(f"{BASE}/flags", {"urgency": "follow-up"}).json()
    wrong = client.get(f"{BASE}/flags", {"kind": "astrology"})

    assert [flag["action"] for flag in everything] == ["medical-care-now", "prenatal-check"]
    assert everything[0]["person"]["given_names"] == "Marta"
    assert [flag["action"] for flag in health] == ["medical-care-now"]
    assert [flag["action"] for flag in border] == ["prenatal-check"]
    assert later == []
    assert wrong.status_code == 422 and "kind" in wrong.json()["error"]["details"]["fields"]


def test_closing_a_flag_through_the_api(
    users: Users, adult: Arrival, client_for: Callable[[User], Client]
) -> None:
    client = client_for(users["officer.hn"])
    _send(client, "put", f"/arrivals/{adult.pk}", {"answers": {"special_needs": ["infant"]}})
    [flag] = client.get(f"{BASE}/flags").json()

    closed = _send(client, "post", f"/flags/{flag['id']}/close", {"note": "Kit given."})

    assert closed.status_code == 200
    assert closed.json()["status"] == "done" and closed.json()["closed_by"] == "officer.hn"
    assert client.get(f"{BASE}/flags").json() == []


def test_a_restricted_flag_is_not_closed_without_a_note(
    users: Users, child: Arrival, client_for: Callable[[User], Client]
) -> None:
    client = client_for(users["protection.hn"])
    _send(client, "put", f"/arrivals/{child.pk}", {"answers": {"distress": "yes"}})
    [flag] = client.get(f"{BASE}/flags").json()

    refused = _send(client, "post", f"/flags/{flag['id']}/close", {"note": ""})

    assert refused.status_code == 422
    assert "note" in refused.json()["error"]["details"]["fields"]


def test_the_schema_documents_the_screening_endpoints(
    users: Users, client_for: Callable[[User], Client]
) -> None:
    schema = client_for(users["officer.hn"]).get("/api/v1/openapi.json").json()

    paths = schema["paths"]
    assert {"put", "post", "get"} <= set(paths["/api/v1/screening/arrivals/{arrival_id}"])
    assert "/api/v1/screening/flags/{flag_id}/close" in paths
    assert "/api/v1/screening/questionnaire" in paths
