"""Standard reference rows kept per process: read once, given as new instances, forgotten
when this process changes one; an unknown code is asked again. Lookups by key whose query is
kept give what the ORM gives."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest
from django.db import connection
from django.db.models import Model
from django.test.utils import CaptureQueriesContext

from mirador.accounts.models import Role, User
from mirador.core import lookups
from mirador.core.audit import audit_record, request_context
from mirador.core.models import AuditEntry, Country, ReceptionCentre, Subdivision

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def nothing_kept() -> Iterator[None]:
    lookups.reference_rows_forget()
    yield
    lookups.reference_rows_forget()


def test_a_country_is_read_once_and_given_as_a_new_instance_each_time() -> None:
    with CaptureQueriesContext(connection) as first:
        honduras = lookups.country_by_code("HN")
    with CaptureQueriesContext(connection) as again:
        same = lookups.country_by_code("HN")

    assert len(first) == 1 and len(again) == 0
    assert honduras == same and honduras is not same
    assert same is not None and same.name_en == "Honduras" and not same._state.adding
    same.name_en = "changed by one caller"
    kept = lookups.country_by_code("HN")
    assert kept is not None and kept.name_en == "Honduras"


def test_an_unknown_code_is_asked_again_so_that_a_row_added_since_is_found() -> None:
    assert lookups.subdivision_by_code("HN-T7") is None

    Subdivision.objects.create(
        code="HN-T7", country_id="HN", category="department", name_en="T7", name_es="T7"
    )

    added = lookups.subdivision_by_code("HN-T7")
    assert added is not None and added.country_id == "HN"


def test_saving_a_row_in_this_process_forgets_what_was_kept() -> None:
    assert lookups.country_by_code("HN") is not None
    Country.objects.filter(pk="HN").update(name_es="Honduras (editado)")
    country = Country.objects.get(pk="HN")

    country.save()

    with CaptureQueriesContext(connection) as queries:
        read = lookups.country_by_code("HN")
    assert len(queries) == 1
    assert read is not None and read.name_es == "Honduras (editado)"


def test_a_kept_row_is_read_again_after_its_time(monkeypatch: pytest.MonkeyPatch) -> None:
    assert lookups.country_by_code("GT") is not None
    monkeypatch.setattr(lookups, "REFERENCE_TTL", 0.0)

    with CaptureQueriesContext(connection) as queries:
        assert lookups.country_by_code("GT") is not None
    assert len(queries) == 1


# --- a lookup by key whose query is kept -----------------------------------------------------


def _centre(name: str, *, country: str = "HN") -> ReceptionCentre:
    subdivision = Subdivision.objects.filter(country_id=country).order_by("code").first()
    assert subdivision is not None
    return ReceptionCentre.objects.create(
        country_id=country,
        name=name,
        subdivision=subdivision,
        city="Test city",
        kind="airport",
        daily_capacity=10,
    )


centre_by_key = lookups.KeyedLookup(
    lambda key: ReceptionCentre.objects.select_related("country", "operator").filter(pk=key),
    field="pk",
    examples=(uuid.UUID(int=1), uuid.UUID(int=2)),
)


def _values(instance: Model) -> dict[str, object]:
    return {field.attname: getattr(instance, field.attname) for field in instance._meta.fields}


def test_a_kept_lookup_gives_what_the_orm_gives_with_its_joined_rows() -> None:
    first, second = _centre("Test centre 1"), _centre("Test centre 2", country="GT")

    for centre in (first, second, first):
        with CaptureQueriesContext(connection) as queries:
            found = centre_by_key.get(centre.pk)
        expected = lookups.row_or_none(
            ReceptionCentre.objects.select_related("country", "operator").filter(pk=centre.pk)
        )
        assert len(queries) == 1
        assert found is not None and expected is not None
        assert _values(found) == _values(expected)
        assert not found._state.adding and found._state.db == "default"
        # The joined rows come with it, read as the ORM reads them (a missing one as None).
        assert ReceptionCentre.country.is_cached(found)
        assert _values(found.country) == _values(expected.country)
        assert ReceptionCentre.operator.is_cached(found)
        assert found.operator is None


def test_a_kept_lookup_gives_none_for_a_key_without_a_row() -> None:
    assert centre_by_key.get(uuid.uuid4()) is None


def test_values_are_converted_as_the_orm_converts_them(make_user: Callable[..., User]) -> None:
    officer = make_user(username="officer.hn", role=Role.RECEPTION_OFFICER, country="HN")
    with request_context(ip_address="203.0.113.7", channel="api"):
        entry = audit_record(
            actor=officer, action="read", object_type="people.Person", details={"a": [1, 2]}
        )
    entry_by_key = lookups.KeyedLookup(
        lambda key: AuditEntry.objects.filter(pk=key), field="pk", examples=(1, 2)
    )

    found = entry_by_key.get(entry.pk)

    assert found is not None
    assert _values(found) == _values(AuditEntry.objects.get(pk=entry.pk))
    assert found.details == {"a": [1, 2]} and found.at.tzinfo is not None


def test_a_lookup_whose_key_is_not_a_parameter_goes_through_the_orm() -> None:
    centre = _centre("Test centre 1")
    # The key does not reach the query: nothing to keep, the ORM answers every time.
    same_centre = lookups.KeyedLookup(
        lambda key: ReceptionCentre.objects.filter(pk=centre.pk),
        field="pk",
        examples=(uuid.UUID(int=1), uuid.UUID(int=2)),
    )

    found = same_centre.get(uuid.uuid4())

    assert found is not None and found.pk == centre.pk
