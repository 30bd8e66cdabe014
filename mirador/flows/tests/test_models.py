"""The statistical model: seeded code lists and datasets, and observations that do not fit
their dataset refused."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from mirador.flows.models import BatchStatus, Dataset, ImportBatch, Observation, PeriodType

pytestmark = pytest.mark.django_db

ENCOUNTER = {
    "reporting_country": "US",
    "citizenship": "HN",
    "demographic": "single-adults",
    "component": "us-cbp-usbp",
    "authority": "us-title-8",
    "encounter_type": "apprehension",
}


def make_batch(dataset: Dataset) -> ImportBatch:
    return ImportBatch.objects.create(
        dataset=dataset,
        format_code="test",
        file_name="test.csv",
        sha256="0" * 64,
        size=1,
        status=BatchStatus.IMPORTED,
        started_at=timezone.now(),
    )


def make_observation(**overrides: object) -> Observation:
    dataset = Dataset.objects.get(code="border-encounters")
    fields: dict[str, object] = {
        "dataset": dataset,
        "period": datetime.date(2024, 10, 1),
        "period_type": PeriodType.MONTH,
        "value": 5,
        **ENCOUNTER,
    }
    fields.update(overrides)
    if "batch" not in fields:
        fields["batch"] = make_batch(dataset)
    return Observation(**fields)


def test_the_border_encounters_dataset_declares_its_dimensions() -> None:
    dataset = Dataset.objects.get(code="border-encounters")
    assert set(dataset.dimensions.values_list("code", flat=True)) == set(ENCOUNTER)


def test_an_observation_that_fits_its_dataset_is_valid() -> None:
    make_observation().full_clean()


def test_other_citizenships_are_a_code_of_the_citizenship_dimension() -> None:
    make_observation(citizenship="_O").full_clean()


def test_an_observation_with_a_dimension_its_dataset_does_not_declare_is_refused() -> None:
    with pytest.raises(ValidationError) as error:
        make_observation(sex="F").full_clean()
    assert "sex" in error.value.message_dict


def test_an_observation_missing_a_declared_dimension_is_refused() -> None:
    with pytest.raises(ValidationError) as error:
        make_observation(citizenship="").full_clean()
    assert "citizenship" in error.value.message_dict


def test_an_observation_with_a_code_outside_its_code_list_is_refused() -> None:
    with pytest.raises(ValidationError) as error:
        make_observation(citizenship="XX", demographic="adults").full_clean()
    assert {"citizenship", "demographic"} <= set(error.value.message_dict)


def test_a_period_is_the_first_day_of_its_month() -> None:
    with pytest.raises(ValidationError) as error:
        make_observation(period=datetime.date(2024, 10, 2)).full_clean()
    assert "period" in error.value.message_dict


def test_the_database_refuses_a_negative_count() -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        make_observation(value=-1).save()


def test_one_observation_per_coordinates_in_a_batch() -> None:
    first = make_observation()
    first.save()
    with pytest.raises(IntegrityError), transaction.atomic():
        make_observation(batch=first.batch).save()
