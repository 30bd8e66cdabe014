"""core.inserts.rows_insert writes new rows exactly as bulk_create does, in one statement;
row_insert one new row as save does."""

from __future__ import annotations

import datetime
from collections.abc import Callable

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import Model
from django.db.models.signals import post_save
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from mirador.accounts.models import Role, User
from mirador.core.inserts import MAX_PARAMETERS, row_insert, rows_insert
from mirador.core.models import AuditEntry, Country
from mirador.people.models import Consent, ConsentPurpose, IdentityDocument, Person
from mirador.returns.models import MatchKey

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer(make_user: Callable[..., User]) -> User:
    return make_user(username="officer.hn", role=Role.RECEPTION_OFFICER, country="HN")


@pytest.fixture
def person(officer: User) -> Person:
    return Person.objects.create(
        country_id="HN", given_names="Ana", first_surname="López", created_by=officer
    )


def _stored(model: type[Model], exclude: set[str]) -> list[tuple[object, ...]]:
    names = [f.attname for f in model._meta.concrete_fields if f.attname not in exclude]
    return sorted(tuple(row) for row in model._default_manager.values_list(*names))


def _consents(person: Person, officer: User) -> list[Consent]:
    return [
        Consent(
            person=person,
            purpose=purpose,
            granted=granted,
            created_by=officer,
            modified_by=officer,
        )
        for purpose, granted in (
            (ConsentPurpose.FOLLOW_UP_CONTACT, True),
            (ConsentPurpose.TRACING_MATCHING, False),
        )
    ]


def test_rows_are_stored_as_bulk_create_stores_them(person: Person, officer: User) -> None:
    Consent.objects.bulk_create(_consents(person, officer))
    by_bulk_create = _stored(Consent, {"id", "created_at", "modified_at"})
    Consent.objects.all().delete()
    before = timezone.now()

    rows = _consents(person, officer)
    with CaptureQueriesContext(connection) as queries:
        rows_insert(rows)

    assert len(queries) == 1
    assert _stored(Consent, {"id", "created_at", "modified_at"}) == by_bulk_create
    stored = {consent.pk: consent for consent in Consent.objects.all()}
    for row in rows:
        assert not row._state.adding
        assert row._state.db == "default"
        # The times auto_now gave the instance are the stored ones.
        assert stored[row.pk].created_at == row.created_at
        assert before <= row.created_at <= timezone.now()


def _entries(officer: User, count: int) -> list[AuditEntry]:
    return [
        AuditEntry(
            actor=officer,
            actor_username=officer.username,
            action="read",
            object_type="people.Person",
            object_id=f"p-{index}",
            ip_address="203.0.113.7",
            details={"index": index},
        )
        for index in range(count)
    ]


def test_ids_the_database_assigns_are_given_back_in_order(officer: User) -> None:
    entries = _entries(officer, 5)

    rows_insert(entries)

    for entry in entries:
        stored = AuditEntry.objects.get(pk=entry.pk)
        assert (stored.object_id, stored.details) == (entry.object_id, entry.details)
        assert stored.ip_address == "203.0.113.7"
        assert stored.at == entry.at


def test_conflicts_are_skipped_when_asked(person: Person) -> None:
    MatchKey.objects.create(person=person, key="name:ana:lopez")

    rows_insert(
        [MatchKey(person=person, key="name:ana:lopez"), MatchKey(person=person, key="doc:123")],
        ignore_conflicts=True,
    )

    assert sorted(MatchKey.objects.values_list("key", flat=True)) == [
        "doc:123",
        "name:ana:lopez",
    ]


def test_a_refused_row_raises_the_databases_integrity_error(person: Person, officer: User) -> None:
    honduras = Country.objects.get(pk="HN")

    def document() -> IdentityDocument:
        return IdentityDocument(
            person=person,
            kind="passport",
            number="P123",
            issuing_country=honduras,
            created_by=officer,
        )

    rows_insert([document()])
    with pytest.raises(IntegrityError), transaction.atomic():
        rows_insert([document()])
    assert IdentityDocument.objects.count() == 1


def test_an_unsaved_related_object_is_refused_as_bulk_create_refuses_it(officer: User) -> None:
    unsaved = Person(id=None, country_id="HN", given_names="Ana", first_surname="López")

    with pytest.raises(ValueError, match="unsaved related object"):
        rows_insert([MatchKey(person=unsaved, key="name:ana:lopez")])


def test_more_rows_than_one_statement_holds_go_through_bulk_create(officer: User) -> None:
    count = MAX_PARAMETERS // 10 + 5  # ten columns an entry
    at = timezone.now() - datetime.timedelta(minutes=1)
    entries = _entries(officer, count)

    rows_insert(entries)

    assert AuditEntry.objects.filter(at__gte=at).count() == count
    assert all(entry.pk is not None and not entry._state.adding for entry in entries)


def test_a_row_is_saved_as_save_saves_it(officer: User) -> None:
    saved = Person(country_id="HN", given_names="Ana", first_surname="López", created_by=officer)
    saved.save(force_insert=True)
    inserted = Person(
        country_id="HN", given_names="Berta", first_surname="López", created_by=officer
    )

    with CaptureQueriesContext(connection) as queries:
        row_insert(inserted)

    assert len(queries) == 1
    assert not inserted._state.adding and inserted._state.db == "default"
    stored = Person.objects.get(pk=inserted.pk)
    assert (stored.given_names, stored.created_at) == ("Berta", inserted.created_at)
    exclude = {"id", "given_names", "created_at", "modified_at"}
    assert _stored(Person, exclude)[0] == _stored(Person, exclude)[1]


def test_a_model_whose_saving_is_listened_to_is_saved_through_save(
    person: Person, officer: User
) -> None:
    heard: list[bool] = []

    def receiver(sender: object, created: bool, **kwargs: object) -> None:
        heard.append(created)

    post_save.connect(receiver, sender=Consent, dispatch_uid="test-row-insert")
    try:
        row_insert(_consents(person, officer)[0])
    finally:
        post_save.disconnect(dispatch_uid="test-row-insert", sender=Consent)

    assert heard == [True]
    assert Consent.objects.filter(person=person).count() == 1


def test_an_unsaved_related_object_is_refused_as_save_refuses_it() -> None:
    unsaved = Person(id=None, country_id="HN", given_names="Ana", first_surname="López")

    with pytest.raises(ValueError, match=r"save\(\) prohibited"):
        row_insert(MatchKey(person=unsaved, key="name:ana:lopez"))
