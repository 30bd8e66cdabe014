"""Administrators manage accounts in the admin; nobody else, and nobody raises their own powers."""

from __future__ import annotations

import pytest
from django.test import Client

from mirador.accounts.models import Role, User

pytestmark = pytest.mark.django_db


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_administrator_creates_a_reception_officer_with_country_and_organisation(
    make_user, make_organisation
) -> None:
    admin_user = make_user(username="admin.regional", role=Role.ADMINISTRATOR, country=None)
    admin_user.is_staff = True
    admin_user.save(update_fields=["is_staff"])
    organisation = make_organisation(country="GT")
    response = signed_in(admin_user).post(
        "/admin/accounts/user/add/",
        {
            "username": "new.officer.gt",
            "password1": "a-long-enough-passphrase-2026",
            "password2": "a-long-enough-passphrase-2026",
            "usable_password": "true",
            "role": Role.RECEPTION_OFFICER,
            "country": "GT",
            "organisation": str(organisation.pk),
            "preferred_language": "es",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    created = User.objects.get(username="new.officer.gt")
    assert (created.role, created.country_id, created.organisation_id) == (
        Role.RECEPTION_OFFICER,
        "GT",
        organisation.pk,
    )
    assert not created.is_superuser


def test_administrator_cannot_make_themselves_superuser(make_user) -> None:
    admin_user = make_user(username="admin.regional", role=Role.ADMINISTRATOR, country=None)
    admin_user.is_staff = True
    admin_user.save(update_fields=["is_staff"])
    client = signed_in(admin_user)
    page = client.get(f"/admin/accounts/user/{admin_user.pk}/change/")
    assert page.status_code == 200
    assert 'name="is_superuser"' not in page.content.decode()


def test_reception_officer_marked_staff_cannot_open_the_user_admin(make_user) -> None:
    officer = make_user(username="officer.staff.hn", role=Role.RECEPTION_OFFICER)
    officer.is_staff = True
    officer.save(update_fields=["is_staff"])
    response = signed_in(officer).get("/admin/accounts/user/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
