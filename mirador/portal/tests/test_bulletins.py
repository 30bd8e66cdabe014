"""The bulletins page, public: editions by month with their PDFs in both languages, earlier
editions kept; the generate button for administrators and regional analysts only (others get
403, visitors are sent to sign in), a month without figures said on the page."""

from __future__ import annotations

import datetime
import hashlib
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from mirador.accounts.models import Role, User
from mirador.analytics import bulletins
from mirador.analytics.models import BulletinEdition, BulletinStatus
from mirador.analytics.tests.bulletin_data import import_rows, region_rows
from mirador.flows.models import ImportBatch
from mirador.flows.tasks import run_pending_tasks

pytestmark = pytest.mark.django_db

MONTH = "2024-03"


@pytest.fixture
def batch(tmp_path: Path) -> ImportBatch:
    return import_rows(region_rows(last=MONTH), tmp_path)


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_page_lists_every_edition_by_month_with_both_languages_for_anyone(
    batch: ImportBatch,
) -> None:
    bulletins.bulletin_generate_now(month=MONTH)
    bulletins.bulletin_generate_now(month=MONTH, languages=["es"])
    page = Client().get(reverse("portal:bulletins"), HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    html = page.content.decode()
    assert "March 2024" in html
    editions = list(bulletins.published_editions())
    assert len(editions) == 3
    for edition in editions:
        url = reverse("portal:bulletin_download", args=[edition.pk])
        assert url in html
        assert edition.sha256 in html
        download = Client().get(url)
        assert download.status_code == 200
        assert download["Content-Type"] == "application/pdf"
        assert hashlib.sha256(download.content).hexdigest() == edition.sha256
    assert "1 earlier edition" in html
    assert "Generate bulletin" not in html  # visitors see no button


def test_the_page_says_when_nothing_is_published_yet() -> None:
    html = Client().get(reverse("portal:bulletins"), HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Aún no se ha publicado ningún boletín." in html


def test_a_regional_analyst_generates_from_the_page(batch: ImportBatch, make_user: Any) -> None:
    analyst = make_user(username="analyst.regional", role=Role.REGIONAL_ANALYST, country=None)
    client = signed_in(analyst)
    assert "Generate bulletin" in client.get(reverse("portal:bulletins")).content.decode()
    response = client.post(
        reverse("portal:bulletin_generate"), {"month": MONTH, "language": ["es", "en"]}
    )
    assert response.status_code == 302
    assert {edition.status for edition in BulletinEdition.objects.all()} == {BulletinStatus.QUEUED}
    page = client.get(reverse("portal:bulletins")).content.decode()
    assert "Queued" in page and 'hx-trigger="every' in page  # followed while under way
    run_pending_tasks()
    page = client.get(reverse("portal:bulletins")).content.decode()
    assert 'hx-trigger="every' not in page
    assert BulletinEdition.objects.filter(status=BulletinStatus.PUBLISHED).count() == 2


def test_the_page_stops_following_an_edition_no_worker_took_for_an_hour(
    batch: ImportBatch, make_user: Any
) -> None:
    client = signed_in(make_user(username="admin", role=Role.ADMINISTRATOR, country=None))
    [edition] = bulletins.bulletin_request(actor=None, month=MONTH, languages=["en"])
    assert 'hx-trigger="every' in client.get(reverse("portal:bulletins")).content.decode()
    BulletinEdition.objects.filter(pk=edition.pk).update(
        created_at=timezone.now() - bulletins.UNDER_WAY_FOR_AT_MOST - datetime.timedelta(minutes=1)
    )
    page = client.get(reverse("portal:bulletins")).content.decode()
    assert 'hx-trigger="every' not in page
    assert "Queued" in page  # still listed, for the operators to see


def test_a_month_without_figures_is_said_on_the_page(batch: ImportBatch, make_user: Any) -> None:
    administrator = make_user(username="admin", role=Role.ADMINISTRATOR, country=None)
    response = signed_in(administrator).post(
        reverse("portal:bulletin_generate"), {"month": "2019-05", "language": ["en"]}
    )
    assert response.status_code == 400
    with_message = response.content.decode()
    assert "There are no figures for May 2019" in with_message
    assert not BulletinEdition.objects.exists()


@pytest.mark.parametrize("role", [Role.NATIONAL_ANALYST, Role.PROTECTION_OFFICER, Role.EMPLOYER])
def test_other_roles_may_not_generate_from_the_page(
    batch: ImportBatch, make_user: Any, role: str
) -> None:
    client = signed_in(make_user(username="someone", role=role))
    assert "Generate bulletin" not in client.get(reverse("portal:bulletins")).content.decode()
    response = client.post(reverse("portal:bulletin_generate"), {"month": MONTH})
    assert response.status_code == 403
    assert not BulletinEdition.objects.exists()


def test_visitors_who_post_are_sent_to_sign_in(batch: ImportBatch) -> None:
    response = Client().post(reverse("portal:bulletin_generate"), {"month": MONTH})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
    assert not BulletinEdition.objects.exists()


def test_an_unpublished_or_unknown_edition_is_a_404(batch: ImportBatch) -> None:
    [edition] = bulletins.bulletin_request(actor=None, month=MONTH, languages=["en"])
    assert Client().get(reverse("portal:bulletin_download", args=[edition.pk])).status_code == 404
