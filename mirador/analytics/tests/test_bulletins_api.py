"""The bulletins through the API: the published editions are public; generating one is for
administrators and regional analysts (202, then the task), refused to every other role (403)
and to anonymous callers (401); a month without figures is a 400 saying so."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from mirador.accounts.models import Role, User
from mirador.accounts.services import api_token_issue
from mirador.analytics import bulletins
from mirador.analytics.models import BulletinEdition
from mirador.analytics.tests.bulletin_data import import_rows, region_rows
from mirador.core.errors import PermissionDeniedError
from mirador.flows.models import ImportBatch
from mirador.flows.tasks import run_pending_tasks

pytestmark = pytest.mark.django_db

BULLETINS = "/api/v1/analytics/bulletins"
MONTH = "2024-03"


@pytest.fixture
def batch(tmp_path: Path) -> ImportBatch:
    return import_rows(region_rows(last=MONTH), tmp_path)


def token_client(user: User) -> Client:
    _, raw = api_token_issue(user=user)
    return Client(headers={"Authorization": f"Bearer {raw}"})


def test_a_regional_analyst_generates_a_month_and_anyone_downloads_it(
    batch: ImportBatch, make_user: Any
) -> None:
    analyst = make_user(username="analyst.regional", role=Role.REGIONAL_ANALYST, country=None)
    response = token_client(analyst).post(
        BULLETINS, {"month": MONTH}, content_type="application/json"
    )
    assert response.status_code == 202, response.content
    queued = response.json()
    assert {item["language"] for item in queued} == {"es", "en"}
    assert {item["status"] for item in queued} == {"queued"}
    assert all(item["download"] is None for item in queued)

    run_pending_tasks()
    followed = token_client(analyst).get(f"{BULLETINS}/{queued[0]['id']}").json()
    assert followed["status"] == "published" and followed["number"] == 1

    public = Client().get(BULLETINS).json()
    assert {(item["month"], item["language"], item["number"]) for item in public} == {
        (MONTH, "es", 1),
        (MONTH, "en", 1),
    }
    assert all(item["batches"] == [str(batch.pk)] for item in public)
    pdf = Client().get(public[0]["download"])
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert hashlib.sha256(pdf.content).hexdigest() == public[0]["sha256"]
    assert f"-{MONTH}-" in pdf["Content-Disposition"]


@pytest.mark.parametrize(
    "role", [Role.NATIONAL_ANALYST, Role.RECEPTION_OFFICER, Role.CASEWORKER, Role.EMPLOYER]
)
def test_other_roles_may_not_generate_a_bulletin(
    batch: ImportBatch, make_user: Any, role: str
) -> None:
    user = make_user(username="someone", role=role)
    response = token_client(user).post(BULLETINS, {"month": MONTH}, content_type="application/json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == PermissionDeniedError.code
    assert not BulletinEdition.objects.exists()


def test_anonymous_callers_may_not_generate_a_bulletin(batch: ImportBatch) -> None:
    response = Client().post(BULLETINS, {"month": MONTH}, content_type="application/json")
    assert response.status_code == 401
    assert not BulletinEdition.objects.exists()


def test_a_month_without_figures_is_a_400_that_says_so(batch: ImportBatch, make_user: Any) -> None:
    administrator = make_user(username="admin", role=Role.ADMINISTRATOR, country=None)
    response = token_client(administrator).post(
        BULLETINS, {"month": "2019-05"}, content_type="application/json"
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == bulletins.BulletinNoDataError.code
    assert "May 2019" in error["message"] or "mayo de 2019" in error["message"]
    assert not BulletinEdition.objects.exists()


def test_a_malformed_month_or_language_is_refused_with_a_message(
    batch: ImportBatch, make_user: Any
) -> None:
    administrator = make_user(username="admin", role=Role.ADMINISTRATOR, country=None)
    client = token_client(administrator)
    assert (
        client.post(BULLETINS, {"month": "03/2024"}, content_type="application/json").status_code
        == 422
    )
    response = client.post(
        BULLETINS, {"month": MONTH, "languages": ["fr"]}, content_type="application/json"
    )
    assert response.status_code == 422
    assert not BulletinEdition.objects.exists()


def test_an_unpublished_edition_is_not_downloadable(batch: ImportBatch) -> None:
    [edition] = bulletins.bulletin_request(actor=None, month=MONTH, languages=["en"])
    assert Client().get(f"{BULLETINS}/{edition.pk}/pdf").status_code == 404
    assert Client().get(f"{BULLETINS}/{edition.pk}").status_code == 401
