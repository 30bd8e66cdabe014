"""The reception pages through Django's test client: who sees which centre, the day with its
expected passengers and capacity warning, registering (once, whatever the double submits),
the protection banner, field errors and one-click assistance."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable
from typing import Any

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from mirador.accounts.models import User
from mirador.core.models import ReceptionCentre
from mirador.returns.models import (
    Arrival,
    AssistanceGiven,
    CandidateDecision,
    Manifest,
    ProtectionAlert,
)
from mirador.returns.services import IdentityData, arrival_register
from mirador.returns.tests.conftest import passenger, today_at
from mirador.screening.services import screening_record

Users = dict[str, User]


def _day_url(centre: ReceptionCentre) -> str:
    return reverse("returns:centre", args=[centre.pk])


def _register_url(centre: ReceptionCentre) -> str:
    return reverse("returns:register", args=[centre.pk])


def _form_data(**values: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "idempotency_key": uuid.uuid4().hex,
        "given_names": "Ana Lucía",
        "first_surname": "Reyes",
        "second_surname": "Mejía",
        "birth_year": "1990",
        "birth_month": "4",
        "birth_day": "",
        "sex": "F",
        "nationality": "HN",
        "document_kind": "",
        "document_number": "",
        "returned_from": "US",
        "means": "air",
        "time_abroad": "1-5-years",
        "migration_reasons": ["economic", "violence-insecurity"],
        "action": "register",
    }
    data.update(values)
    return data


def test_each_officer_sees_only_the_centres_of_their_country(
    users: Users,
    client_for: Callable[[User], Client],
    airport_hn: ReceptionCentre,
    border_hn: ReceptionCentre,
    airport_gt: ReceptionCentre,
) -> None:
    honduran = client_for(users["officer.hn"]).get(reverse("returns:centres")).content.decode()
    assert airport_hn.name in honduran and border_hn.name in honduran
    assert airport_gt.name not in honduran

    guatemalan = client_for(users["officer.gt"])
    listing = guatemalan.get(reverse("returns:centres")).content.decode()
    assert airport_gt.name in listing
    assert airport_hn.name not in listing and border_hn.name not in listing
    assert guatemalan.get(_day_url(airport_hn)).status_code == 404
    assert guatemalan.get(_register_url(airport_hn)).status_code == 404
    assert guatemalan.post(_register_url(airport_hn), _form_data()).status_code == 404
    assert not Arrival.objects.exists()
    assert guatemalan.get(_day_url(airport_gt)).status_code == 200


def test_roles_without_reception_work_get_no_centre(
    users: Users, client_for: Callable[[User], Client], airport_hn: ReceptionCentre
) -> None:
    for username in ("caseworker.hn", "analyst.hn"):
        client = client_for(users[username])
        assert airport_hn.name not in client.get(reverse("returns:centres")).content.decode()
        assert client.get(_day_url(airport_hn)).status_code == 404
    assert Client().get(_day_url(airport_hn)).status_code == 302  # to the sign-in page


def test_the_day_shows_expected_passengers_and_the_capacity_warning(
    users: Users,
    client_for: Callable[[User], Client],
    airport_hn: ReceptionCentre,
    make_manifest: Callable[..., Manifest],
) -> None:
    today_rows = [passenger("Marta", "Flores"), passenger("José", "Cruz", sex="M")]
    make_manifest(airport_hn, today_rows, reference="TODAY1")
    tomorrow_rows = [
        passenger(f"Pasajero{number}", "Tomorrow")
        for number in range(airport_hn.daily_capacity + 4)
    ]
    make_manifest(airport_hn, tomorrow_rows, reference="TMRW1", expected_at=today_at(9, days=1))

    page = client_for(users["officer.hn"]).get(_day_url(airport_hn)).content.decode()

    for row in today_rows:
        assert f"{row['given_names']} {row['first_surname']}" in page
    assert page.count(">Register</a>") == len(today_rows)
    assert "Pasajero0" not in page  # tomorrow's passengers are tomorrow's
    warning = page[page.index('role="alert"') :]
    assert (
        f"Tomorrow: {len(tomorrow_rows)} expected for {airport_hn.daily_capacity} places"
        in (warning[: warning.index("</div>")])
    )
    # Today is within capacity: no warning for it.
    assert "Today:" not in warning[: warning.index("</div>")]

    listing = client_for(users["officer.hn"]).get(reverse("returns:centres")).content.decode()
    assert (
        f"Tomorrow: {len(tomorrow_rows)} expected for {airport_hn.daily_capacity} places" in listing
    )

    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    next_day = client_for(users["officer.hn"]).get(
        _day_url(airport_hn), {"date": tomorrow.isoformat()}
    )
    assert "Pasajero0" in next_day.content.decode()


def test_a_passenger_registered_through_the_form_twice_gives_one_arrival(
    users: Users,
    client_for: Callable[[User], Client],
    airport_hn: ReceptionCentre,
    make_manifest: Callable[..., Manifest],
) -> None:
    manifest = make_manifest(airport_hn, [passenger("Marta", "Flores", birth_date="1988-02-03")])
    row = manifest.passengers.get()
    client = client_for(users["officer.hn"])

    form_page = client.get(_register_url(airport_hn), {"passenger": str(row.pk)}).content.decode()
    assert 'value="Marta"' in form_page and 'value="Flores"' in form_page
    key = form_page.split('name="idempotency_key" value="')[1].split('"')[0]

    data = _form_data(
        idempotency_key=key, passenger=str(row.pk), given_names="Marta", first_surname="Flores"
    )
    first = client.post(_register_url(airport_hn), data)
    second = client.post(_register_url(airport_hn), data)

    arrival = Arrival.objects.get()
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] == reverse("returns:arrival", args=[arrival.pk])
    assert arrival.manifest_passenger_id == row.pk
    assert sorted(arrival.migration_reasons) == ["economic", "violence-insecurity"]
    shown = client.get(first["Location"]).content.decode()
    assert "Marta Flores" in shown and "The arrival was registered." in shown
    day = client.get(_day_url(airport_hn)).content.decode()
    assert "No passenger is still expected on this day." in day
    assert reverse("returns:arrival", args=[arrival.pk]) in day


def test_an_unaccompanied_child_shows_the_protection_banner(
    users: Users,
    client_for: Callable[[User], Client],
    airport_hn: ReceptionCentre,
    make_manifest: Callable[..., Manifest],
) -> None:
    born = timezone.localdate().year - 11
    manifest = make_manifest(airport_hn, [passenger("Kevin", "Soto", birth_date=f"{born}-05-01")])
    row = manifest.passengers.get()
    data = _form_data(
        passenger=str(row.pk),
        given_names="Kevin",
        first_surname="Soto",
        birth_year=str(born),
        birth_month="5",
        birth_day="1",
        sex="M",
    )

    response = client_for(users["officer.hn"]).post(_register_url(airport_hn), data, follow=True)

    arrival = Arrival.objects.get()
    assert arrival.is_unaccompanied
    assert ProtectionAlert.objects.filter(arrival=arrival).count() == 1
    page = response.content.decode()
    assert "Unaccompanied child" in page and "protection officers were alerted" in page
    # The child's record opens for protection officers, with the banner on it.
    protection = client_for(users["protection.hn"])
    detail = protection.get(reverse("returns:arrival", args=[arrival.pk])).content.decode()
    assert "Unaccompanied child: routed to protection." in detail


def test_errors_are_shown_next_to_their_fields(
    users: Users,
    client_for: Callable[[User], Client],
    airport_hn: ReceptionCentre,
    make_manifest: Callable[..., Manifest],
) -> None:
    client = client_for(users["officer.hn"])
    response = client.post(
        _register_url(airport_hn), _form_data(given_names="", migration_reasons=["tourism"])
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert "given_names" in form.errors and "migration_reasons" in form.errors
    assert 'role="alert"' in response.content.decode()
    assert not Arrival.objects.exists()

    # A service refusal (the passenger is already registered) is shown too.
    row = make_manifest(airport_hn, [passenger("Marta", "Flores")]).passengers.get()
    client.post(_register_url(airport_hn), _form_data(passenger=str(row.pk)))
    again = client.post(_register_url(airport_hn), _form_data(passenger=str(row.pk)))
    assert again.status_code == 200
    assert "This passenger is already registered." in again.content.decode()
    assert Arrival.objects.count() == 1


def test_contingency_mode_takes_the_essential_fields_only(
    users: Users, client_for: Callable[[User], Client], airport_hn: ReceptionCentre
) -> None:
    client = client_for(users["officer.hn"])
    form = client.get(_register_url(airport_hn), {"contingency": "1"}).content.decode()
    assert 'name="given_names"' in form and 'name="consent_tracing"' not in form
    response = client.post(
        _register_url(airport_hn),
        {
            "contingency": "1",
            "idempotency_key": uuid.uuid4().hex,
            "given_names": "Rosa",
            "first_surname": "Paz",
            "birth_year": "1979",
            "sex": "F",
            "action": "register",
        },
    )
    arrival = Arrival.objects.get()
    assert response.status_code == 302
    assert arrival.is_contingency and arrival.needs_completion


def test_assistance_is_recorded_with_one_click(
    users: Users, client_for: Callable[[User], Client], airport_hn: ReceptionCentre
) -> None:
    client = client_for(users["officer.hn"])
    arrival_url = client.post(_register_url(airport_hn), _form_data())["Location"]
    arrival = Arrival.objects.get()
    assistance_url = reverse("returns:assistance", args=[arrival.pk])
    assert assistance_url in client.get(arrival_url).content.decode()

    client.post(assistance_url, {"kind": "food"})
    client.post(assistance_url, {"kind": "hygiene-kit"})

    assert sorted(AssistanceGiven.objects.values_list("kind", flat=True)) == [
        "food",
        "hygiene-kit",
    ]
    assert client_for(users["officer.gt"]).post(assistance_url, {"kind": "food"}).status_code == 404
    assert AssistanceGiven.objects.count() == 2


def test_a_repeat_returnee_is_found_and_confirmed_before_registering(
    users: Users, client_for: Callable[[User], Client], airport_hn: ReceptionCentre
) -> None:
    client = client_for(users["officer.hn"])
    identity = {"document_kind": "passport", "document_number": "F8812345"}
    client.post(_register_url(airport_hn), _form_data(consent_tracing="on", **identity))
    earlier = Arrival.objects.get()

    shown = client.post(_register_url(airport_hn), _form_data(consent_tracing="on", **identity))
    assert shown.status_code == 200
    candidates = shown.context["search"].candidates
    assert [candidate.person.pk for candidate in candidates] == [earlier.person_id]
    page = shown.content.decode()
    assert f'value="{earlier.person_id}"' in page
    assert "confirm one or choose none" in page
    assert Arrival.objects.count() == 1

    confirmed = client.post(
        _register_url(airport_hn),
        _form_data(
            consent_tracing="on",
            candidates_searched="1",
            shown_candidate=str(earlier.person_id),
            confirmed_person=str(earlier.person_id),
            **identity,
        ),
    )
    assert confirmed.status_code == 302
    assert list(Arrival.objects.values_list("person_id", flat=True)) == [earlier.person_id] * 2
    # The decision keeps the reasons the officer was shown.
    decision = CandidateDecision.objects.get(decision=CandidateDecision.CONFIRMED)
    assert decision.candidate_id == earlier.person_id
    assert decision.reasons == candidates[0].reasons and "same-document" in decision.reasons


def test_the_reasons_a_candidate_matched_are_shown_in_the_officers_language(
    users: Users, client_for: Callable[[User], Client], airport_hn: ReceptionCentre
) -> None:
    officer = users["officer.hn"]
    client = client_for(officer)
    identity = {"document_kind": "passport", "document_number": "F8812347"}
    client.post(_register_url(airport_hn), _form_data(consent_tracing="on", **identity))
    officer.preferred_language = "es"
    officer.save(update_fields=["preferred_language"])
    client.cookies["django_language"] = "es"

    shown = client.post(_register_url(airport_hn), _form_data(consent_tracing="on", **identity))

    label = shown.content.decode().split('for="candidate-1">')[1].split("</label>")[0]
    assert "Mismo número de documento" in label
    assert "same-document" not in label  # the code, which an officer cannot read


def test_a_candidate_registered_after_the_search_is_shown_before_registering(
    users: Users, client_for: Callable[[User], Client], airport_hn: ReceptionCentre
) -> None:
    client = client_for(users["officer.hn"])
    # The officer searched and was shown no candidate; meanwhile another desk registered
    # the same person.
    earlier = arrival_register(
        actor=users["officer.hn"],
        centre=airport_hn,
        idempotency_key="other-desk",
        identity=IdentityData(
            given_names="Ana Lucía",
            first_surname="Reyes",
            second_surname="Mejía",
            birth_year=1990,
            birth_month=4,
            sex="F",
            nationality="HN",
        ),
        consent_tracing=True,
    )

    response = client.post(
        _register_url(airport_hn), _form_data(consent_tracing="on", candidates_searched="1")
    )

    assert response.status_code == 200
    assert [c.person.pk for c in response.context["search"].candidates] == [earlier.person_id]
    assert "confirm one or choose none" in response.content.decode()
    assert Arrival.objects.count() == 1


def test_the_candidates_area_refreshes_through_htmx(
    users: Users, client_for: Callable[[User], Client], airport_hn: ReceptionCentre
) -> None:
    client = client_for(users["officer.hn"])
    identity = {"document_kind": "passport", "document_number": "F8812346"}
    client.post(_register_url(airport_hn), _form_data(consent_tracing="on", **identity))
    earlier = Arrival.objects.get()
    form = client.get(_register_url(airport_hn)).content.decode()
    assert 'id="candidates-area"' in form and "change from:#id_consent_tracing" in form

    refreshed = client.post(
        _register_url(airport_hn),
        _form_data(consent_tracing="on", action="candidates", **identity),
        headers={"HX-Request": "true"},
    )
    area = refreshed.content.decode().split('id="candidates-area"')[1]
    assert f'value="{earlier.person_id}"' in area
    without_consent = client.post(
        _register_url(airport_hn),
        _form_data(action="candidates", **identity),
        headers={"HX-Request": "true"},
    ).content.decode()
    assert f'value="{earlier.person_id}"' not in without_consent
    assert Arrival.objects.count() == 1


def test_the_day_shows_the_intake_times_of_the_last_seven_days(
    users: Users, client_for: Callable[[User], Client], airport_hn: ReceptionCentre
) -> None:
    now = timezone.now()
    minutes = 1 if now - datetime.timedelta(minutes=12) < now.replace(hour=0, minute=0) else 12
    arrival_register(
        actor=users["officer.hn"],
        centre=airport_hn,
        idempotency_key="intake-page",
        identity=IdentityData(given_names="Ana", first_surname="Reyes", birth_year=1990),
        arrived_at=now - datetime.timedelta(minutes=minutes),
    )

    page = client_for(users["officer.hn"]).get(_day_url(airport_hn)).content.decode()

    intake = page[page.index('id="intake-heading"') :]
    rows = intake[intake.index("<tbody>") : intake.index("</tbody>")].split("<tr>")[1:]
    assert len(rows) == 7
    today = rows[-1]
    assert "<td>1</td>" in today
    assert f"<td>{float(minutes)}</td>" in today


def test_the_day_counts_the_open_risk_flags_and_those_to_act_on_now(
    users: Users, client_for: Callable[[User], Client], airport_hn: ReceptionCentre
) -> None:
    officer = users["officer.hn"]
    arrivals = [
        arrival_register(
            actor=officer,
            centre=airport_hn,
            idempotency_key=f"flags-{name}",
            identity=IdentityData(given_names=name, first_surname="Reyes", birth_year=1990),
        )
        for name in ("Ana", "Berta")
    ]
    screening_record(actor=officer, arrival=arrivals[0], answers={"medical_care": "urgent"})
    screening_record(actor=officer, arrival=arrivals[1], answers={"medical_care": "not-urgent"})

    page = client_for(officer).get(_day_url(airport_hn)).content.decode()

    assert "2 risk flags open" in page
    assert "1 to act on now" in page
    assert page.index('role="alert" class="warning"><a href="/screening/flags/?centre=') > 0
    # Another country's officer does not get the page at all.
    assert client_for(users["officer.gt"]).get(_day_url(airport_hn)).status_code == 404
