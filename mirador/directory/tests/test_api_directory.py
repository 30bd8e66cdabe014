"""The directory API: public search, keeping providers and services, referrals and their
answers; errors in the house shape, wrong parameter types 4xx, never 500."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from mirador.accounts.models import User
from mirador.directory.models import Referral
from mirador.directory.tests.conftest import Directory
from mirador.people.models import PersonShare
from mirador.returns.models import Arrival

pytestmark = pytest.mark.django_db
API = "/api/v1/directory"


def post(client: Client, path: str, body: dict[str, Any] | None = None) -> Any:
    return client.post(f"{API}{path}", body or {}, content_type="application/json")


def patch(client: Client, path: str, body: dict[str, Any]) -> Any:
    return client.patch(f"{API}{path}", body, content_type="application/json")


def referral_body(arrival: Arrival, service_id: object, **extra: object) -> dict[str, Any]:
    return {
        "person_id": str(arrival.person_id),
        "arrival_id": str(arrival.pk),
        "service_id": str(service_id),
        "due_date": (timezone.localdate() + datetime.timedelta(days=7)).isoformat(),
        "note": "Busca curso de soldadura",
        "consent_to_share": True,
        **extra,
    }


def test_the_public_search_filters_and_pages(directory: Directory) -> None:
    client = Client()
    response = client.get(f"{API}/services", {"subdivision": "HN-CR", "category": "training"})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    welding = next(item for item in body["items"] if item["name_en"] == "Welding")
    assert welding["subdivisions"] == ["HN-CR"]
    assert welding["languages"] == ["es", "en"]
    assert welding["provider"]["acronym"] == "CADERH"
    paged = client.get(f"{API}/services", {"limit": 1, "offset": 1}).json()
    assert paged["count"] == 4 and len(paged["items"]) == 1
    providers = client.get(f"{API}/providers", {"country": "GT"}).json()
    assert [item["name"] for item in providers["items"]] == ["Casa del Migrante"]
    assert client.get(f"{API}/services", {"language": "quc"}).json()["count"] == 1


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/services", {"category": "magic"}),
        ("/services", {"provider": "not-a-uuid"}),
        ("/services", {"limit": "many"}),
        ("/services", {"country": "Honduras"}),
        ("/providers", {"sector": "church"}),
        ("/services/not-a-uuid", {}),
    ],
)
def test_wrong_parameter_types_are_4xx_in_the_house_shape(
    directory: Directory, path: str, params: dict[str, str]
) -> None:
    response = Client().get(f"{API}{path}", params)
    assert 400 <= response.status_code < 500
    assert set(response.json()["error"]) == {"code", "message", "details"}


def test_an_unknown_service_is_404(directory: Directory) -> None:
    response = Client().get(f"{API}/services/00000000-0000-0000-0000-000000000000")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_administrators_add_providers_and_staff_change_their_own(
    admin: User,
    staff: dict[str, User],
    directory: Directory,
    client_for: Callable[[User], Client],
) -> None:
    administrator = client_for(admin)
    created = post(
        administrator,
        "/providers",
        {"name": "Casa Alianza", "sector": "civil-society", "country": "HN"},
    )
    assert created.status_code == 201, created.content
    provider_id = created.json()["id"]
    service = post(
        administrator,
        "/services",
        {
            "provider_id": provider_id,
            "category": "shelter",
            "name_es": "Albergue juvenil",
            "name_en": "Youth shelter",
            "subdivisions": ["HN-FM"],
            "languages": ["es", "miq"],
        },
    )
    assert service.status_code == 201, service.content
    assert service.json()["subdivisions"] == ["HN-FM"]

    caderh = client_for(staff["caderh.hn"])
    changed = patch(caderh, f"/providers/{directory.caderh.pk}", {"phone": "+504 2550 0000"})
    assert changed.status_code == 200 and changed.json()["phone"] == "+504 2550 0000"
    coverage = patch(caderh, f"/services/{directory.training.pk}", {"subdivisions": []})
    assert coverage.status_code == 200 and coverage.json()["subdivisions"] == []
    refused = patch(caderh, f"/providers/{provider_id}", {"phone": "1"})
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "permission_denied"
    wrong = post(
        administrator,
        "/services",
        {
            "provider_id": provider_id,
            "category": "shelter",
            "name_es": "Otro",
            "name_en": "Other",
            "subdivisions": ["GT-01"],
        },
    )
    assert wrong.status_code == 422


def test_a_referral_through_the_api_from_sending_to_completing(
    users: dict[str, User],
    staff: dict[str, User],
    directory: Directory,
    adult_arrival: Arrival,
    client_for: Callable[[User], Client],
) -> None:
    officer = client_for(users["officer.hn"])
    body = referral_body(adult_arrival, directory.training.pk)
    created = post(officer, "/referrals", body)
    assert created.status_code == 201, created.content
    referral = created.json()
    assert referral["status"] == "sent"
    assert referral["provider_name"] == "CADERH"
    assert referral["person"]["id"] == str(adult_arrival.person_id)
    again = post(officer, "/referrals", body)
    assert again.status_code == 200 and again.json()["id"] == referral["id"]
    assert Referral.objects.count() == 1
    assert PersonShare.objects.filter(person=adult_arrival.person).count() == 1

    provider = client_for(staff["caderh.hn"])
    received = provider.get(f"{API}/referrals", {"box": "received"}).json()
    assert [item["id"] for item in received["items"]] == [referral["id"]]
    assert post(provider, f"/referrals/{referral['id']}/accept").json()["status"] == "accepted"
    no_reason = post(provider, f"/referrals/{referral['id']}/decline", {"reason": ""})
    assert no_reason.status_code == 422
    done = post(provider, f"/referrals/{referral['id']}/complete", {"note": "Inscrito"})
    assert done.json()["status"] == "completed"
    assert done.json()["completion_note"] == "Inscrito"
    late = post(provider, f"/referrals/{referral['id']}/decline", {"reason": "Lleno"})
    assert late.status_code == 409
    assert late.json()["error"]["code"] == "referral_status"
    sent = officer.get(f"{API}/referrals", {"box": "sent"}).json()["items"]
    assert [item["status"] for item in sent] == ["completed"]
    assert officer.get(f"{API}/referrals/counts").json()["sent_open"] == 0


def test_a_referral_without_consent_is_refused(
    users: dict[str, User],
    directory: Directory,
    adult_arrival: Arrival,
    client_for: Callable[[User], Client],
) -> None:
    response = post(
        client_for(users["officer.hn"]),
        "/referrals",
        referral_body(adult_arrival, directory.training.pk, consent_to_share=False),
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "consent_required"
    assert not Referral.objects.exists()


def test_overdue_referrals_through_the_api(
    users: dict[str, User],
    directory: Directory,
    adult_arrival: Arrival,
    client_for: Callable[[User], Client],
) -> None:
    officer = client_for(users["officer.hn"])
    late = post(officer, "/referrals", referral_body(adult_arrival, directory.training.pk)).json()
    post(officer, "/referrals", referral_body(adult_arrival, directory.employment.pk))
    Referral.objects.filter(pk=late["id"]).update(
        due_date=timezone.localdate() - datetime.timedelta(days=1)
    )
    overdue = officer.get(f"{API}/referrals", {"box": "sent", "overdue": "true"}).json()
    assert [(item["id"], item["is_overdue"]) for item in overdue["items"]] == [(late["id"], True)]
    assert officer.get(f"{API}/referrals", {"overdue": "perhaps"}).status_code == 422
    assert officer.get(f"{API}/referrals", {"box": "inbox"}).status_code == 422


def test_another_countrys_officer_cannot_refer_a_honduran_through_the_api(
    users: dict[str, User],
    directory: Directory,
    adult_arrival: Arrival,
    client_for: Callable[[User], Client],
) -> None:
    response = post(
        client_for(users["officer.gt"]),
        "/referrals",
        referral_body(adult_arrival, directory.shelter_gt.pk),
    )
    assert response.status_code == 404
    assert not Referral.objects.exists()
