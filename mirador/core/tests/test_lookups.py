"""Standard reference rows kept per process: read once, given as new instances, forgotten
when this process changes one; an unknown code is asked again."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mirador.core import lookups
from mirador.core.models import Country, Subdivision

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
