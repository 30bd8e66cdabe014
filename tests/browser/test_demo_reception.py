"""Issue 5's "done means", on the demo's own data and accounts: officer.hn signs in with the
demo password, sees the capacity warning for tomorrow beside the family centre, opens the
San Pedro Sula centre and today's expected flight, registers a passenger, registers the
child travelling alone (flagged unaccompanied and routed to protection), refers an adult to
a job-training service from the arrival's page; officer.gt sees none of it."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from mirador.accounts.demo import DEMO_PASSWORD, demo_accounts_ensure
from mirador.accounts.models import User
from mirador.core.models import ReceptionCentre
from mirador.directory.demo import directory_demo_load
from mirador.directory.models import Referral, Service
from mirador.people.demo_load import demo_region_load
from mirador.returns.demo import AIRPORT_CENTRE, FAMILY_CENTRE, returns_demo_load
from mirador.returns.models import Arrival, Manifest, ProtectionAlert
from tests.browser.conftest import Chromium, Screenshot

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

FLIGHT = "ICE-DEMO-1401"


def _sign_in(page: Page, base_url: str, username: str) -> None:
    page.goto(base_url + reverse("accounts:login"))
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.press("input[name=password]", "Enter")
    expect(page).to_have_url(base_url + reverse("core:home"))


def _register_passenger(page: Page, passenger_id: object) -> None:
    page.click(f"a[href$='passenger={passenger_id}']")
    page.click("button[name=action][value=register]")


def test_the_demo_walkthrough_of_a_reception_officer(
    live_server: LiveServer, chromium: Chromium, screenshot: Screenshot
) -> None:
    demo_accounts_ensure()
    demo_region_load(actor=None, size=600, seed=2016, reference_date=timezone.localdate())
    returns_demo_load()
    directory_demo_load()
    # The walkthrough reads English; the demo's accounts otherwise follow the browser.
    User.objects.filter(username__in=["officer.hn", "officer.gt"]).update(preferred_language="en")
    airport = ReceptionCentre.objects.get(name__contains=AIRPORT_CENTRE)
    family_centre = ReceptionCentre.objects.get(name__contains=FAMILY_CENTRE)
    flight = Manifest.objects.get(reference=FLIGHT)
    rows = list(flight.passengers.order_by("row_number"))
    # The flight lists a family first, then the child travelling alone, then adults: the
    # child alone is the last minor on the list.
    youngest_adult_year = timezone.localdate().year - 17
    child = [row for row in rows if (row.birth_year or 0) > youngest_adult_year][-1]
    adult = rows[-1]
    training = Service.objects.filter(category="training", provider__country_id="HN").first()
    assert training is not None, "the demo directory has a job-training service in Honduras"
    base_url = live_server.url

    with chromium() as browser:
        page = browser.new_page()
        _sign_in(page, base_url, "officer.hn")
        page.goto(base_url + reverse("returns:centres"))
        family_item = page.locator("li", has_text=family_centre.name).first
        expect(family_item.locator("[role=alert]")).to_contain_text(
            re.compile(r"Tomorrow: \d+ expected for \d+ places")
        )
        screenshot(page, "demo-centres")

        page.click(f"a:has-text('{airport.name}')")
        expect(page.locator("caption", has_text=FLIGHT)).to_be_visible()

        _register_passenger(page, child.pk)
        expect(page.locator(".messages")).to_contain_text("Unaccompanied child")
        screenshot(page, "demo-child-routed")

        page.goto(base_url + reverse("returns:centre", args=[airport.pk]))
        _register_passenger(page, adult.pk)
        expect(page.locator("h1")).to_contain_text(adult.given_names)
        arrival_url = page.url

        page.select_option("#referral_service", value=str(training.pk))
        page.check("#referral_consent_to_share")
        page.click("#referrals button[type=submit]")
        expect(page.locator("#referrals ul.referrals")).to_contain_text("Sent")
        screenshot(page, "demo-referral")
        page.close()

        page = browser.new_page()
        _sign_in(page, base_url, "officer.gt")
        page.goto(base_url + reverse("returns:centres"))
        expect(page.locator("main")).not_to_contain_text(airport.name)
        assert page.goto(arrival_url).status == 404
        assert page.goto(base_url + reverse("returns:centre", args=[airport.pk])).status == 404
        page.goto(base_url + reverse("directory:referrals"))
        expect(page.locator("main")).not_to_contain_text(adult.first_surname)
        page.close()

    child_arrival = Arrival.objects.get(manifest_passenger=child)
    assert child_arrival.is_unaccompanied
    assert ProtectionAlert.objects.filter(
        arrival=child_arrival, reason="unaccompanied-minor"
    ).exists()
    referral = Referral.objects.get(arrival__manifest_passenger=adult)
    assert referral.service.category == "training"
    assert referral.status == "sent"
