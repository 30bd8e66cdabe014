"""The audit log records who did what, when and from where, and nothing can change it after."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from mirador.accounts.models import Role, User
from mirador.core.audit import audit_batch, audit_record, audited_atomic, request_context
from mirador.core.models import AuditAction, AuditEntry

pytestmark = pytest.mark.django_db

TABLE = AuditEntry._meta.db_table
APPEND_ONLY = "append-only"


@pytest.fixture
def entry(make_user: Callable[..., User]) -> AuditEntry:
    officer = make_user(username="officer.hn", role=Role.RECEPTION_OFFICER, country="HN")
    with request_context(ip_address="203.0.113.7", channel="web"):
        return audit_record(
            actor=officer, action=AuditAction.READ, object_type="people.Person", object_id="p-1"
        )


def test_audit_record_writes_who_what_when_and_from_where(
    make_user: Callable[..., User],
) -> None:
    officer = make_user(username="officer.hn", role=Role.RECEPTION_OFFICER, country="HN")
    person_id = uuid.uuid4()
    before = timezone.now()
    with request_context(ip_address="203.0.113.7", channel="web"):
        audit_record(
            actor=officer,
            action=AuditAction.READ,
            object_type="people.Person",
            object_id=person_id,
            reason="Reception interview",
            details={"fields": ["given_names", "birth_year"]},
        )
    after = timezone.now()

    entry = AuditEntry.objects.get()
    assert (entry.actor_id, entry.actor_username) == (officer.pk, "officer.hn")
    assert (entry.action, entry.object_type, entry.object_id) == (
        AuditAction.READ,
        "people.Person",
        str(person_id),
    )
    assert entry.reason == "Reception interview"
    assert entry.details == {"fields": ["given_names", "birth_year"]}
    assert before <= entry.at <= after
    assert (entry.ip_address, entry.channel) == ("203.0.113.7", "web")


def test_an_access_outside_a_request_is_recorded_as_from_the_system() -> None:
    entry = audit_record(actor=None, action=AuditAction.EXPORT, object_type="people.Person")
    assert (entry.actor_username, entry.ip_address, entry.channel) == (
        "(anonymous)",
        None,
        "system",
    )


def test_the_request_context_ends_with_its_block(make_user: Callable[..., User]) -> None:
    with request_context(ip_address="198.51.100.4", channel="api"):
        pass
    entry = audit_record(actor=None, action=AuditAction.LIST, object_type="people.Person")
    assert entry.channel == "system"


def test_an_entry_cannot_be_changed_through_the_model(entry: AuditEntry) -> None:
    entry.reason = "rewritten"
    with pytest.raises(RuntimeError, match=APPEND_ONLY):
        entry.save()
    assert AuditEntry.objects.get(pk=entry.pk).reason == ""


def test_an_entry_cannot_be_deleted_through_the_model(entry: AuditEntry) -> None:
    with pytest.raises(RuntimeError, match=APPEND_ONLY):
        entry.delete()
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_the_database_refuses_a_queryset_update(entry: AuditEntry) -> None:
    if connection.vendor not in {"postgresql", "sqlite"}:
        pytest.skip("The append-only triggers exist for PostgreSQL and SQLite only.")
    with pytest.raises(DatabaseError, match=APPEND_ONLY), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).update(actor_username="someone else")
    assert AuditEntry.objects.get(pk=entry.pk).actor_username == "officer.hn"


def test_the_database_refuses_an_sql_update(entry: AuditEntry) -> None:
    if connection.vendor not in {"postgresql", "sqlite"}:
        pytest.skip("The append-only triggers exist for PostgreSQL and SQLite only.")
    with (
        pytest.raises(DatabaseError, match=APPEND_ONLY),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(f"UPDATE {TABLE} SET reason = %s WHERE id = %s", ["rewritten", entry.pk])  # noqa: S608 (table name is ours)
    assert AuditEntry.objects.get(pk=entry.pk).reason == ""


def test_postgresql_refuses_an_sql_delete(entry: AuditEntry) -> None:
    if connection.vendor != "postgresql":
        # Migration core 0002: SQLite refuses UPDATE only, since Django's test flush empties
        # tables with DELETE there.
        pytest.skip("Only PostgreSQL refuses DELETE on the audit log.")
    with (
        pytest.raises(DatabaseError, match=APPEND_ONLY),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(f"DELETE FROM {TABLE} WHERE id = %s", [entry.pk])  # noqa: S608 (table name is ours)
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_postgresql_refuses_a_queryset_delete(entry: AuditEntry) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("Only PostgreSQL refuses DELETE on the audit log.")
    with pytest.raises(DatabaseError, match=APPEND_ONLY), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).delete()
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


class _Refused(Exception):
    pass


def _record(action: str, object_id: str) -> None:
    audit_record(actor=None, action=action, object_type="people.Person", object_id=object_id)


def test_an_audited_transaction_writes_its_entries_in_one_insert() -> None:
    with CaptureQueriesContext(connection) as queries, audited_atomic():
        _record(AuditAction.READ, "read-first")
        with transaction.atomic(), audit_batch():
            _record(AuditAction.CREATE, "created")
        _record(AuditAction.READ, "read-after")
    inserts = [q for q in queries.captured_queries if q["sql"].startswith("INSERT")]
    assert len(inserts) == 1
    assert sorted(AuditEntry.objects.values_list("object_id", flat=True)) == [
        "created",
        "read-after",
        "read-first",
    ]


def test_a_failed_audited_transaction_keeps_refusals_and_reads_not_its_writes() -> None:
    with pytest.raises(_Refused), audited_atomic():
        _record(AuditAction.READ, "read")
        with transaction.atomic(), audit_batch():
            _record(AuditAction.CREATE, "created-then-rolled-back")
        with transaction.atomic():
            _record(AuditAction.UPDATE, "changed-then-rolled-back")
        _record(AuditAction.DENIED, "refused")
        raise _Refused
    assert sorted(AuditEntry.objects.values_list("object_id", flat=True)) == ["read", "refused"]


def test_a_failed_batch_inside_an_audited_transaction_drops_only_its_own_entries() -> None:
    with audited_atomic():
        _record(AuditAction.READ, "read")
        with pytest.raises(_Refused), transaction.atomic(), audit_batch():
            _record(AuditAction.CREATE, "created-then-rolled-back")
            raise _Refused
        with transaction.atomic(), audit_batch():
            _record(AuditAction.CREATE, "created")
    assert sorted(AuditEntry.objects.values_list("object_id", flat=True)) == ["created", "read"]
