"""The demo's consular cases, as its users meet them: five cases of Honduras's consulates, the
detained young man matched with his mother's report (an alert for its responsible officer),
the child's case for protection officers only; loading it again adds nothing."""

from __future__ import annotations

import pytest
from django.utils import timezone

from mirador.accounts.demo import demo_accounts_ensure
from mirador.accounts.models import User
from mirador.consular.demo import (
    ConsularDemoResult,
    consular_demo_is_loaded,
    consular_demo_load,
)
from mirador.consular.models import ConsularCase
from mirador.consular.selectors import cases_visible_to
from mirador.linkage import missing
from mirador.linkage.demo import linkage_demo_load
from mirador.linkage.models import MatchAlert
from mirador.people.demo import DEFAULT_SEED
from mirador.people.demo_load import demo_region_load
from mirador.returns.demo import returns_demo_load

pytestmark = pytest.mark.django_db


def test_the_demo_cases_match_the_missing_young_man_and_load_once(settings: object) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # type: ignore[attr-defined]
    demo_region_load(actor=None, size=400, seed=DEFAULT_SEED, reference_date=timezone.localdate())
    demo_accounts_ensure()
    returns_demo_load()
    linkage_demo_load()
    alerts_before = set(MatchAlert.objects.values_list("pk", flat=True))

    result = consular_demo_load()

    assert (result.cases, result.alerts) == (5, 1)
    assert consular_demo_is_loaded()
    alert = MatchAlert.objects.exclude(pk__in=alerts_before).get()
    detention = ConsularCase.objects.get(case_type="detention")
    pair = alert.pair
    assert detention.person_id in {pair.left_person_id, pair.right_person_id}
    protection = User.objects.get(username="protection.hn")
    assert alert in missing.match_alerts_for(user=protection)
    assert cases_visible_to(user=protection).count() == 5
    # Without a consular demo account the cases are opened by the protection officer; the
    # child's case is restricted either way.
    child = ConsularCase.objects.get(case_type="unaccompanied-child")
    assert child.person.is_child
    assert not cases_visible_to(user=User.objects.get(username="officer.hn")).exists()

    assert consular_demo_load() == ConsularDemoResult(cases=0, alerts=0)
    assert ConsularCase.objects.count() == 5
