"""A reception officer works the review queue with the keyboard alone, in Spanish: Tab to the
first pair, A to accept it (same person), J to the next, R to reject it; the decisions are
stored and audited, and the person's page then shows "same person as" the other record. A
protection officer, in English, sees the link to the child's record that the reception
officer may not see."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.urls import reverse
from playwright.sync_api import expect
from pytest_django.live_server_helper import LiveServer

from mirador.accounts.models import User
from mirador.core.models import AuditAction, AuditEntry, Organisation
from mirador.linkage.models import ReviewPair, ReviewStatus
from mirador.linkage.review import review_pair_decide
from mirador.linkage.tests.identification import make_identification
from tests.browser.conftest import Chromium, Screenshot
from tests.browser.test_reception import sign_in, tab_to

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_officer_accepts_and_rejects_pairs_by_keyboard_and_links_show_by_scope(
    live_server: LiveServer,
    chromium: Chromium,
    make_user: Callable[..., User],
    make_organisation: Callable[..., Organisation],
    screenshot: Screenshot,
    settings: Any,
) -> None:
    settings.MIRADOR_REQUIRE_TWO_FACTOR = False
    world = make_identification(make_user, make_organisation)
    officer = world.users["officer.hn"]
    officer.preferred_language = "es"
    officer.save(update_fields=["preferred_language"])
    world.person("carlos", given_names="Carlos Alberto", first_surname="Mejía")
    world.person("carlos again", given_names="CARLOS ALBERTO", first_surname="MEJIA")
    world.person("not carlos", given_names="Carla", first_surname="Mejía")
    world.person("carlos as a child", given_names="Carlos", first_surname="Mejía", is_child=True)
    first = world.pair("carlos", "carlos again", probability=0.99)
    second = world.pair("carlos", "not carlos", probability=0.71)
    # Decided earlier by the protection officer: the child's record is the same person.
    review_pair_decide(
        actor=world.users["protection.hn"],
        pair=world.pair("carlos", "carlos as a child"),
        decision="accept",
    )
    carlos = world.persons["carlos"]
    base = live_server.url

    with chromium() as browser:
        page = browser.new_page()
        sign_in(page, base, "officer.hn")
        page.goto(base + reverse("linkage:queue"))
        expect(page.get_by_role("heading", level=1)).to_have_text(
            "Identificación: cola de revisión"
        )
        # The child's pair is not in the officer's queue: two pairs, the likelier first.
        expect(page.locator("article.review-pair")).to_have_count(2)
        tab_to(page, f"#pair-{first.pk}")
        screenshot(page, "queue")
        page.keyboard.press("a")
        expect(page.locator(f"#pair-{first.pk} .decision-made")).to_contain_text("Misma persona")
        expect(page.locator(f"#pair-{first.pk}")).to_be_focused()
        page.keyboard.press("j")
        expect(page.locator(f"#pair-{second.pk}")).to_be_focused()
        page.keyboard.press("r")
        expect(page.locator(f"#pair-{second.pk} .decision-made")).to_contain_text(
            "No es la misma persona"
        )
        screenshot(page, "decided")

        page.goto(base + reverse("people:detail", kwargs={"person_id": carlos.pk}))
        links = page.locator("section[aria-labelledby=same-person-heading] li")
        expect(links).to_have_count(1)
        expect(links.first).to_contain_text("CARLOS ALBERTO MEJIA")
        page.context.clear_cookies()

        sign_in(page, base, "protection.hn")
        page.goto(base + reverse("people:detail", kwargs={"person_id": carlos.pk}))
        expect(page.get_by_role("heading", name="Same person as")).to_be_visible()
        expect(page.locator("section[aria-labelledby=same-person-heading] li")).to_have_count(2)
        screenshot(page, "person-page")
        page.close()

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (ReviewStatus.ACCEPTED, ReviewStatus.REJECTED)
    assert {first.decided_by, second.decided_by} == {officer}
    assert (
        AuditEntry.objects.filter(
            actor=officer,
            action=AuditAction.UPDATE,
            object_type="people.Person",
            object_id=str(carlos.pk),
        ).count()
        == 2
    )
    assert ReviewPair.objects.filter(status=ReviewStatus.PENDING).count() == 0
