"""The demo's screenings and document requests, as `officer.hn` meets them: the last days'
arrivals at San Pedro Sula were screened, two still have open flags (one for the protection
officers), one was cared for; two persons wait for identity documents; all stamped at the
time of the work, not when the demo ran; loading again adds nothing."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from mirador.accounts.demo import demo_accounts_ensure
from mirador.accounts.models import User
from mirador.documents.demo import documents_demo_load
from mirador.documents.models import DocumentRequest, RequestStatus
from mirador.documents.selectors import document_queue
from mirador.people.demo import DEFAULT_SEED
from mirador.people.demo_load import demo_region_load
from mirador.returns.demo import returns_demo_load
from mirador.returns.models import AlertReason, ProtectionAlert
from mirador.screening.demo import screening_demo_load
from mirador.screening.models import FlagKind, FlagStatus, RiskFlag, Screening
from mirador.screening.selectors import open_flags

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(settings: object) -> datetime.date:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # type: ignore[attr-defined]
    today = timezone.localdate()
    demo_region_load(actor=None, size=400, seed=DEFAULT_SEED, reference_date=today)
    demo_accounts_ensure()
    returns_demo_load(today=today)
    assert screening_demo_load(today=today).screenings > 0
    assert documents_demo_load(today=today).requests == 2
    return today


def test_the_officer_has_open_flags_one_for_protection_and_one_done(demo: datetime.date) -> None:
    officer = User.objects.get(username="officer.hn")
    listed = open_flags(user=officer)
    assert {flag.kind for flag in listed} == {FlagKind.PROTECTION, FlagKind.HEALTH}
    assert RiskFlag.objects.filter(status=FlagStatus.DONE).count() == 1
    # Fear of return calls the protection officers.
    assert ProtectionAlert.objects.filter(reason=AlertReason.PROTECTION_RISK).count() == 1
    assert Screening.objects.count() > len(listed) + 1  # most had nothing to report


def test_two_persons_wait_for_documents_one_already_requested(demo: datetime.date) -> None:
    officer = User.objects.get(username="officer.hn")
    queue = document_queue(user=officer)
    assert {row.status for row in queue.rows} == {RequestStatus.NEEDED, RequestStatus.REQUESTED}


def test_the_work_is_stamped_when_it_was_done_after_the_arrival(demo: datetime.date) -> None:
    for screening in Screening.objects.select_related("arrival"):
        assert (
            screening.arrival.registered_at
            < screening.screened_at
            < timezone.now() - (datetime.timedelta(hours=1))
        )
    for row in DocumentRequest.objects.select_related("arrival"):
        assert row.arrival is not None and row.arrival.registered_at < row.needed_at
    for flag in RiskFlag.objects.filter(status=FlagStatus.DONE):
        assert flag.closed_at is not None and flag.closed_at > flag.created_at


def test_loading_again_adds_nothing(demo: datetime.date) -> None:
    counts = (Screening.objects.count(), RiskFlag.objects.count(), DocumentRequest.objects.count())
    assert screening_demo_load(today=demo).screenings == 0
    assert documents_demo_load(today=demo).requests == 0
    assert counts == (
        Screening.objects.count(),
        RiskFlag.objects.count(),
        DocumentRequest.objects.count(),
    )
