"""Failed sign-ins are logged by django-axes; the log must not hold the user name or address."""

from __future__ import annotations

import logging

import pytest
from django.test import Client

from conftest import TEST_PASSWORD

pytestmark = pytest.mark.django_db


def test_failed_and_locked_out_sign_ins_log_neither_user_name_nor_address(
    make_user, caplog: pytest.LogCaptureFixture, settings
) -> None:
    make_user(username="ana.lopez.hn")
    client = Client(REMOTE_ADDR="203.0.113.77")
    with caplog.at_level(logging.DEBUG):
        for _ in range(settings.AXES_FAILURE_LIMIT + 1):
            client.post(
                "/accounts/login/", {"username": "ana.lopez.hn", "password": "wrong-password"}
            )
        client.post("/accounts/login/", {"username": "ana.lopez.hn", "password": TEST_PASSWORD})
    assert caplog.records, "axes logged nothing: the test would prove nothing"
    for record in caplog.records:
        message = record.getMessage()
        assert "ana.lopez.hn" not in message
        assert "203.0.113.77" not in message
