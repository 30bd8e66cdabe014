"""The statistical model: seeded code lists and datasets, and observations that do not fit
their dataset refused."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from mirador.flows.engine import ParsedObservation, ReadResult
from mirador.flows.models import (
    OBSERVATION_DIMENSIONS,
    BatchStatus,
    Dataset,
    ImportBatch,
    Observation,
    PeriodType,
    Series,
)
from mirador.flows.series import SeriesRegistry, blocks_from_rows
from mirador.flows.storage import store

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


def store_observations(observations: list[Observation]) -> None:
    """Write observations as an import does (flows.storage), past the engine's checks."""
    registry = SeriesRegistry()
    rows = [
        ParsedObservation(
            observation.period,
            observation.period_type,
            tuple(getattr(observation, name) for name in OBSERVATION_DIMENSIONS),
            observation.value,
            index + 2,
            observation.source_sheet,
        )
        for index, observation in enumerate(observations)
    ]
    batch = observations[0].batch
    store(batch, batch.dataset, blocks_from_rows(rows, registry), registry, ReadResult())


def test_the_database_refuses_a_negative_count() -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        store_observations([make_observation(value=-1)])


def test_one_observation_per_coordinates_in_a_batch() -> None:
    first = make_observation()
    with pytest.raises(IntegrityError), transaction.atomic():
        store_observations([first, make_observation(batch=first.batch, value=7)])
    november = make_observation(batch=first.batch, period=datetime.date(2024, 11, 1))
    store_observations([first, november])
    assert Observation.objects.filter(batch=first.batch).count() == 2


def test_one_series_per_coordinates_in_a_batch() -> None:
    first = make_observation()
    store_observations([first])
    series = Series.objects.get(batch=first.batch)
    assert series.citizenship == first.citizenship and series.period_type == PeriodType.MONTH
    fields = {name: getattr(series, name) for name in OBSERVATION_DIMENSIONS}
    with pytest.raises(IntegrityError), transaction.atomic():
        Series.objects.create(
            dataset=series.dataset, batch=series.batch, period_type=series.period_type, **fields
        )


def test_an_observation_reads_back_what_its_series_and_value_hold() -> None:
    observation = make_observation(period=datetime.date(1899, 10, 1), value=123)
    store_observations([observation])
    stored = Observation.objects.get(batch=observation.batch)
    assert (stored.period, stored.value, stored.source_row) == (observation.period, 123, 2)
    assert stored.series.batch_id == observation.batch.pk
    # The view's id: the series and the period's day offset from 1800-01-01.
    offset = (observation.period - datetime.date(1800, 1, 1)).days
    assert stored.id == (stored.series_id << 18) | offset
    assert Observation.objects.get(pk=stored.id).value == 123
