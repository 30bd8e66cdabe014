"""The demo's directory, as its users meet it: illustrative providers in Honduras, Guatemala
and El Salvador, job training in Cortés, an overdue referral sent from San Pedro Sula, one
that `caderh.hn` can answer, nothing of it for `officer.gt`; loading it again adds nothing."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from mirador.accounts import permissions
from mirador.accounts.demo import demo_accounts_ensure
from mirador.accounts.models import User
from mirador.directory.demo import directory_demo_is_loaded, directory_demo_load
from mirador.directory.models import Provider, Referral, Service
from mirador.directory.selectors import directory_services, referral_counts, referrals_list
from mirador.directory.services import referral_accept
from mirador.people.demo import DEFAULT_SEED
from mirador.people.demo_load import demo_region_load
from mirador.people.models import Person
from mirador.returns.demo import returns_demo_load

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(settings: object) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # type: ignore[attr-defined]
    demo_region_load(actor=None, size=400, seed=DEFAULT_SEED, reference_date=timezone.localdate())
    demo_accounts_ensure()
    returns_demo_load()
    result = directory_demo_load()
    assert result.providers > 10 and result.services > result.providers
    assert result.referrals == 2


def test_the_demo_directory_covers_three_countries_and_is_illustrative(demo: None) -> None:
    assert directory_demo_is_loaded()
    assert set(Provider.objects.values_list("country_id", flat=True)) == {"HN", "GT", "SV"}
    assert not Provider.objects.filter(is_illustrative=False).exists()
    assert set(Service.objects.values_list("category", flat=True)) == {
        "health",
        "psychosocial",
        "shelter",
        "transport-home",
        "legal-aid",
        "identity-documents",
        "employment",
        "training",
        "education",
        "credit",
        "housing",
    }
    in_cortes = directory_services(category="training", subdivision="HN-CR")
    assert {service.provider.acronym for service in in_cortes} >= {"INFOP", "CADERH"}


def test_officer_hn_has_an_overdue_referral_and_caderh_can_answer_its_own(demo: None) -> None:
    officer = User.objects.get(username="officer.hn")
    overdue = list(referrals_list(user=officer, box="sent", overdue=True))
    assert len(overdue) == 1
    assert "San Pedro Sula" in overdue[0].arrival.centre.name  # type: ignore[union-attr]
    assert overdue[0].created_at > overdue[0].arrival.arrived_at  # type: ignore[union-attr]
    # Overdue by days, for a return of the last week, not since the demo's history began.
    week_ago = timezone.localdate() - datetime.timedelta(days=7)
    assert all(r.due_date >= week_ago for r in Referral.objects.filter(sender=officer))
    assert referral_counts(user=officer).sent_overdue == 1

    caderh = User.objects.get(username="caderh.hn")
    received = referrals_list(user=caderh, box="received").get()
    assert referral_accept(actor=caderh, referral=received).status == "accepted"
    # CADERH's staff read the records shared with it, not Honduras's registry.
    assert list(Person.objects.filter(permissions.persons_visible_filter(caderh))) == [
        received.person
    ]


def test_officer_gt_sees_none_of_it(demo: None) -> None:
    officer_gt = User.objects.get(username="officer.gt")
    assert not referrals_list(user=officer_gt, box="sent").exists()
    assert not referrals_list(user=officer_gt, box="received").exists()


def test_loading_the_demo_directory_again_adds_nothing(demo: None) -> None:
    before = (Provider.objects.count(), Service.objects.count(), Referral.objects.count())
    result = directory_demo_load()
    assert (result.providers, result.services, result.referrals) == (0, 0, 0)
    assert (Provider.objects.count(), Service.objects.count(), Referral.objects.count()) == before
