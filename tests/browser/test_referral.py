"""A reception officer refers an adult returnee to a job-training service from the arrival's
page with the keyboard alone (Tab, typing in the service list, Space on the consent box,
Enter on Refer), in Spanish; the referral shows on the arrival's page; the training
provider's staff, in English, accept it from their received referrals."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect
from pytest_django.live_server_helper import LiveServer

from mirador.accounts.models import Role, User
from mirador.core.models import Country, Organisation, ReceptionCentre, Subdivision
from mirador.directory.models import Referral
from mirador.directory.services import provider_create, service_create
from mirador.returns.services import IdentityData, arrival_register
from tests.browser.conftest import Chromium, Screenshot
from tests.browser.test_reception import sign_in, tab_to

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_officer_refers_an_adult_to_job_training_by_keyboard_and_the_provider_accepts(
    live_server: LiveServer,
    chromium: Chromium,
    make_user: Callable[..., User],
    make_organisation: Callable[..., Organisation],
    screenshot: Screenshot,
) -> None:
    officer = make_user(username="officer.es", country="HN", preferred_language="es")
    caderh = make_organisation(country="HN", kind="civil-society", name="CADERH test")
    make_user(
        username="caderh.en",
        role=Role.CASEWORKER,
        organisation=caderh,
        preferred_language="en",
    )
    admin = make_user(username="admin.test", role=Role.ADMINISTRATOR, country=None)
    honduras = Country.objects.get(pk="HN")
    cortes = Subdivision.objects.get(code="HN-CR")
    provider = provider_create(
        actor=admin,
        name="Centro Asesor (prueba)",
        acronym="CADERH",
        sector="civil-society",
        country=honduras,
        organisation=caderh,
    )
    training = service_create(
        actor=admin,
        provider=provider,
        category="training",
        name_es="Soldadura industrial",
        name_en="Industrial welding",
        subdivisions=[cortes],
    )
    service_create(
        actor=admin,
        provider=provider,
        category="training",
        name_es="Electricidad",
        name_en="Electrical work",
    )
    centre = ReceptionCentre.objects.create(
        country_id="HN",
        name="Centro de prueba aeropuerto",
        subdivision=cortes,
        city="San Pedro Sula",
        kind="airport",
        daily_capacity=100,
    )
    arrival = arrival_register(
        actor=officer,
        centre=centre,
        idempotency_key=f"browser-{uuid.uuid4().hex[:10]}",
        identity=IdentityData(
            given_names="Wilmer Antonio", first_surname="Reyes", birth_year=1990, sex="M"
        ),
    )
    base_url = live_server.url
    arrival_url = base_url + reverse("returns:arrival", args=[arrival.pk])
    due = timezone.localdate() + datetime.timedelta(days=7)

    with chromium() as browser:
        context = browser.new_context(locale="es-HN")
        page = context.new_page()
        sign_in(page, base_url, "officer.es")
        page.goto(arrival_url)
        expect(page.locator("html")).to_have_attribute("lang", "es")

        tab_to(page, "#referral_service")
        page.keyboard.type("Sold")  # the list's type-ahead picks "Soldadura industrial"
        expect(page.locator("#referral_service")).to_have_value(str(training.pk))
        expect(page.locator("#referral_due_date")).to_have_value(due.isoformat())
        tab_to(page, "#referral_note")
        page.keyboard.type("Trabajó como soldador en Houston.")
        tab_to(page, "#referral_consent_to_share")
        page.keyboard.press("Space")
        expect(page.locator("#referral_consent_to_share")).to_be_checked()
        tab_to(page, "#referrals button[type=submit]")
        screenshot(page, "refer-form-es")
        page.keyboard.press("Enter")

        expect(page).to_have_url(arrival_url + "#referrals")
        expect(page.locator(".messages")).to_contain_text("Soldadura industrial")
        expect(page.locator("#referrals ul.referrals")).to_contain_text("Soldadura industrial")
        screenshot(page, "arrival-with-referral-es")
        context.close()

        context = browser.new_context(locale="en-HN")
        page = context.new_page()
        sign_in(page, base_url, "caderh.en")
        page.goto(base_url + reverse("directory:referrals") + "?box=received")
        expect(page.locator("table")).to_contain_text("Wilmer Antonio Reyes")
        expect(page.locator("table")).to_contain_text("Industrial welding")
        tab_to(page, "form[action$='/accept/'] button")
        page.keyboard.press("Enter")
        expect(page.locator(".messages")).to_contain_text("Accepted: Industrial welding.")
        expect(page.locator("table")).to_contain_text("Accepted")
        screenshot(page, "received-accepted-en")
        context.close()

    referral = Referral.objects.get()
    assert referral.arrival_id == arrival.pk
    assert referral.service_id == training.pk
    assert referral.due_date == due
    assert referral.note == "Trabajó como soldador en Houston."
    assert referral.status == "accepted"
    assert referral.answered_by is not None and referral.answered_by.username == "caderh.en"
    assert referral.person.shares.filter(organisation=caderh).exists()
