"""The audit log page: administrators list and filter it, nobody else sees it."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from mirador.accounts.models import Role, User
from mirador.core.audit import audit_record, request_context
from mirador.core.models import AuditAction, AuditEntry
from mirador.core.views import AUDIT_PAGE_SIZE

pytestmark = pytest.mark.django_db

AUDIT = reverse("core:audit_list")


@pytest.fixture(autouse=True)
def demo_settings(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MIRADOR_REQUIRE_TWO_FACTOR = False


@pytest.fixture
def officer(make_user: Callable[..., User]) -> User:
    return make_user(username="officer.hn", role=Role.RECEPTION_OFFICER)


@pytest.fixture
def caseworker(make_user: Callable[..., User]) -> User:
    return make_user(username="caseworker.hn", role=Role.CASEWORKER)


@pytest.fixture
def administrator(make_user: Callable[..., User]) -> Client:
    client = Client()
    client.force_login(make_user(username="admin", role=Role.ADMINISTRATOR, country=None))
    return client


def record(
    actor: User, action: str, object_type: str = "people.Person", object_id: str = "1"
) -> AuditEntry:
    with request_context(ip_address="203.0.113.7", channel="web"):
        return audit_record(
            actor=actor, action=action, object_type=object_type, object_id=object_id
        )


def listed(response: Any) -> list[int]:
    assert response.status_code == 200
    return [entry.pk for entry in response.context["page"].object_list]


def test_a_visitor_who_has_not_signed_in_is_sent_to_sign_in(client: Client) -> None:
    response = client.get(AUDIT)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize(
    "role",
    [Role.RECEPTION_OFFICER, Role.PROTECTION_OFFICER, Role.REGIONAL_ANALYST, Role.EMPLOYER],
)
def test_users_who_are_not_administrators_are_refused(
    client: Client, make_user: Callable[..., User], role: str
) -> None:
    client.force_login(make_user(username="someone", role=role))

    assert client.get(AUDIT).status_code == 403


def test_an_administrator_sees_the_entries_newest_first(
    administrator: Client, officer: User
) -> None:
    first = record(officer, AuditAction.READ)
    second = record(officer, AuditAction.UPDATE)
    third = record(officer, AuditAction.EXPORT)

    response = administrator.get(AUDIT)

    assert listed(response) == [third.pk, second.pk, first.pk]
    html = response.content.decode()
    assert "officer.hn" in html
    assert "203.0.113.7" in html


def test_a_superuser_sees_the_audit_log_too(client: Client, make_user: Callable[..., User]) -> None:
    client.force_login(
        make_user(username="root", role=Role.REGIONAL_ANALYST, country=None, is_superuser=True)
    )

    assert client.get(AUDIT).status_code == 200


def test_entries_are_filtered_by_user(
    administrator: Client, officer: User, caseworker: User
) -> None:
    mine = record(officer, AuditAction.READ)
    record(caseworker, AuditAction.READ)

    assert listed(administrator.get(AUDIT, {"actor_username": "officer.hn"})) == [mine.pk]


def test_entries_are_filtered_by_action(administrator: Client, officer: User) -> None:
    record(officer, AuditAction.READ)
    export = record(officer, AuditAction.EXPORT)

    assert listed(administrator.get(AUDIT, {"action": AuditAction.EXPORT})) == [export.pk]


def test_entries_are_filtered_by_record_type_and_record(
    administrator: Client, officer: User
) -> None:
    record(officer, AuditAction.READ, "people.Person", "a")
    wanted = record(officer, AuditAction.READ, "people.Person", "b")
    record(officer, AuditAction.READ, "returns.Arrival", "b")

    by_type = listed(administrator.get(AUDIT, {"object_type": "returns.Arrival"}))
    by_both = listed(administrator.get(AUDIT, {"object_type": "people.Person", "object_id": "b"}))

    assert len(by_type) == 1
    assert by_both == [wanted.pk]


def test_entries_are_filtered_by_dates_with_both_ends_included(
    administrator: Client, officer: User
) -> None:
    entry = record(officer, AuditAction.READ)
    today = timezone.localdate(entry.at)
    yesterday, tomorrow = today - datetime.timedelta(days=1), today + datetime.timedelta(days=1)

    def between(start: datetime.date | str, end: datetime.date | str) -> list[int]:
        query = {"date_from": str(start), "date_to": str(end)}
        return listed(administrator.get(AUDIT, query))

    assert between(today, today) == [entry.pk]
    assert between(yesterday, tomorrow) == [entry.pk]
    assert between(tomorrow, "") == []
    assert between("", yesterday) == []


def test_a_date_range_that_ends_before_it_starts_is_pointed_out(
    administrator: Client, officer: User
) -> None:
    record(officer, AuditAction.READ)

    response = administrator.get(AUDIT, {"date_from": "2026-03-10", "date_to": "2026-03-01"})

    assert response.status_code == 200
    assert "date_to" in response.context["form"].errors


def test_the_log_is_shown_fifty_entries_a_page_keeping_the_filters(
    administrator: Client, officer: User
) -> None:
    entries = [record(officer, AuditAction.READ) for _ in range(AUDIT_PAGE_SIZE + 1)]

    first_page = administrator.get(AUDIT, {"action": AuditAction.READ})
    second_page = administrator.get(AUDIT, {"action": "read", "page": "2"})

    assert AUDIT_PAGE_SIZE == 50
    assert len(listed(first_page)) == AUDIT_PAGE_SIZE
    assert listed(second_page) == [entries[0].pk]
    assert "action=read&amp;page=2" in first_page.content.decode()


def test_an_htmx_request_gets_only_the_results(administrator: Client, officer: User) -> None:
    record(officer, AuditAction.READ)

    response = administrator.get(AUDIT, {"action": AuditAction.READ}, HTTP_HX_REQUEST="true")

    html = response.content.decode()
    assert response.status_code == 200
    assert "<table" in html
    assert "<html" not in html


def test_reading_the_audit_log_adds_nothing_to_it(administrator: Client, officer: User) -> None:
    record(officer, AuditAction.READ)

    administrator.get(AUDIT)

    assert AuditEntry.objects.count() == 1


def test_in_production_an_administrator_must_give_the_second_factor_first(
    settings: Any, administrator: Client
) -> None:
    settings.MIRADOR_REQUIRE_TWO_FACTOR = True

    response = administrator.get(AUDIT)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:two_factor"))
