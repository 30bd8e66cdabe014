"""The duplicated-coordinate rule holds in long streams, where it keeps compact keys instead of
every coordinate: a repeated coordinate is reported naming both rows however far apart they
are, and distinct coordinates are never reported."""

from __future__ import annotations

import csv
import datetime
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from mirador.flows import duplicates, series
from mirador.flows.duplicates import MEMORY_KEYS, combine_duplicates
from mirador.flows.engine import ParsedObservation, ReadResult
from mirador.flows.models import (
    OBSERVATION_DIMENSIONS,
    BatchStatus,
    ImportBatch,
    Observation,
    PeriodType,
)
from mirador.flows.series import BLOCK_SIZE
from mirador.flows.services import ImportOutcome, batch_import
from mirador.flows.tests.test_import_cbp import CBP_SAMPLE, FORMAT

CITIZENSHIPS = ("HN", "GT", "SV", "MX", "_O")
DEMOGRAPHICS = ("single-adults", "family-units", "accompanied-minors", "unaccompanied-minors")
CITIZENSHIP_AT = OBSERVATION_DIMENSIONS.index("citizenship")
DEMOGRAPHIC_AT = OBSERVATION_DIMENSIONS.index("demographic")


def coordinates(citizenship: str, demographic: str) -> tuple[str, ...]:
    codes = [""] * len(OBSERVATION_DIMENSIONS)
    codes[CITIZENSHIP_AT] = citizenship
    codes[DEMOGRAPHIC_AT] = demographic
    return tuple(codes)


def distinct_observations(count: int) -> Iterator[ParsedObservation]:
    """`count` observations with distinct coordinates, on rows 2, 3, ...: every citizenship
    and demographic group of a month, month after month."""
    series = [coordinates(c, d) for c in CITIZENSHIPS for d in DEMOGRAPHICS]
    for index in range(count):
        months, position = divmod(index, len(series))
        period = datetime.date(1900 + months // 12, months % 12 + 1, 1)
        yield ParsedObservation(period, PeriodType.MONTH, series[position], 7, index + 2, "")


def combined(
    observations: Iterator[ParsedObservation],
) -> tuple[list[ParsedObservation], ReadResult]:
    result = ReadResult()
    kept = list(
        combine_duplicates(observations, sum_duplicates=False, result=result, file_name="f.csv")
    )
    return kept, result


def test_many_distinct_coordinates_are_all_kept_without_a_report() -> None:
    # More keys than are kept in memory, so that some are looked up in the temporary file.
    count = MEMORY_KEYS + 3 * BLOCK_SIZE + 5
    kept, result = combined(distinct_observations(count))
    assert result.issue_count == 0
    assert len(kept) == count
    assert [observation.row for observation in kept] == list(range(2, count + 2))


def test_the_same_date_as_a_month_and_as_a_year_are_different_coordinates() -> None:
    series = coordinates("HN", "single-adults")
    january = datetime.date(2024, 1, 1)
    kept, result = combined(
        iter(
            [
                ParsedObservation(january, PeriodType.MONTH, series, 1, 2, ""),
                ParsedObservation(january, PeriodType.YEAR, series, 12, 3, ""),
            ]
        )
    )
    assert result.issue_count == 0
    assert len(kept) == 2


def test_a_duplicate_far_apart_in_a_long_stream_names_both_rows() -> None:
    count = 3 * MEMORY_KEYS // 2
    first = next(distinct_observations(1))
    last_row = count + 2
    again = first._replace(value=99, row=last_row)
    stream = [*distinct_observations(count), again]
    kept, result = combined(iter(stream))
    assert len(kept) == count
    assert again not in kept
    assert result.issue_count == 1
    issue = result.issues[0]
    assert (issue.file, issue.row) == ("f.csv", last_row)
    assert f"row {first.row} " in issue.reason and "Duplicated coordinate" in issue.reason
    assert "1900-01" in issue.value and "citizenship=HN" in issue.value


def test_each_repeat_names_the_first_row_within_and_across_blocks() -> None:
    count = 3 * BLOCK_SIZE
    stream = list(distinct_observations(count))
    early, late = stream[10], stream[BLOCK_SIZE + 7]
    next_row = count + 2
    repeats = [
        early._replace(row=next_row),  # in the last block, of the first
        early._replace(row=next_row + 1),  # a third time: still names the first row
        late._replace(row=next_row + 2),
    ]
    # A repeat in the same block as its first row.
    stream.insert(12, early._replace(row=1_000_000))
    stream += repeats
    kept, result = combined(iter(stream))
    assert len(kept) == count
    assert [(issue.row, issue.reason.split(":")[1]) for issue in result.issues] == [
        (1_000_000, f" row {early.row} has the same period and dimensions."),
        (next_row, f" row {early.row} has the same period and dimensions."),
        (next_row + 1, f" row {early.row} has the same period and dimensions."),
        (next_row + 2, f" row {late.row} has the same period and dimensions."),
    ]


@pytest.fixture
def small_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks, runs and memory small enough for a short stream to go through every stage:
    merged runs, frozen runs, runs written to the temporary file."""
    monkeypatch.setattr(series, "BLOCK_SIZE", 1_000)
    monkeypatch.setattr(duplicates, "FROZEN_RUN", 4_000)
    monkeypatch.setattr(duplicates, "MEMORY_KEYS", 8_000)
    monkeypatch.setattr(duplicates, "SPARSE_EVERY", 64)


def by_the_rule(stream: list[ParsedObservation]) -> tuple[list[ParsedObservation], list[str]]:
    """The rule as a dictionary of every coordinate applies it: what is kept, and the issues
    as "row: earlier row"."""
    first_row: dict[tuple[object, ...], int] = {}
    kept, issues = [], []
    for observation in stream:
        key = (observation.period, observation.period_type, observation.coordinates)
        earlier = first_row.setdefault(key, observation.row)
        if earlier != observation.row:
            issues.append(f"{observation.row}: {earlier}")
        else:
            kept.append(observation)
    return kept, issues


@pytest.mark.usefixtures("small_runs")
@pytest.mark.parametrize("shuffled", [False, True], ids=["period by period", "shuffled"])
def test_the_rule_holds_through_runs_in_memory_and_in_the_temporary_file(shuffled: bool) -> None:
    randomness = random.Random(7)
    stream = list(distinct_observations(40_000))
    if shuffled:
        randomness.shuffle(stream)
    for number, original in enumerate(randomness.sample(stream, 60)):
        at = randomness.randrange(len(stream) + 1)
        stream.insert(at, original._replace(row=100_000 + number, value=1))
    kept, result = combined(iter(stream))
    expected_kept, expected_issues = by_the_rule(stream)
    assert len(expected_issues) == 60
    assert kept == expected_kept
    assert [
        f"{issue.row}: {issue.reason.split('row ')[1].split(' ')[0]}" for issue in result.issues
    ] == expected_issues


def test_summing_duplicates_adds_counts_far_apart() -> None:
    count = 2 * BLOCK_SIZE
    stream = list(distinct_observations(count))
    stream.append(stream[0]._replace(value=5, row=count + 2))
    result = ReadResult()
    kept = list(
        combine_duplicates(iter(stream), sum_duplicates=True, result=result, file_name="f.csv")
    )
    assert result.issue_count == 0
    assert len(kept) == count
    assert kept[0].value == stream[0].value + 5
    assert kept[0].row == stream[0].row


def write_long_cbp_file(path: Path, copies: int) -> list[list[str]]:
    """The CBP sample `copies` times, each copy four fiscal years earlier than the one before
    (the sample spans four), so that every row has coordinates of its own."""
    with CBP_SAMPLE.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        sample = list(reader)
    year_at = header.index("Fiscal Year")
    rows = []
    for copy in range(copies):
        for row in sample:
            moved = list(row)
            moved[year_at] = str(int(row[year_at][:4]) - 4 * copy)
            rows.append(moved)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return [header, *rows]


@pytest.mark.django_db
def test_a_file_with_a_duplicate_far_from_its_first_row_stores_nothing(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    lines = write_long_cbp_file(path, copies=3 * BLOCK_SIZE // 1_900 + 1)
    with path.open("a", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerow(lines[1])
    report = batch_import(actor=None, format_code=FORMAT, path=path)
    assert report.outcome == ImportOutcome.FAILED
    assert [(issue.row, issue.reason) for issue in report.issues] == [
        (len(lines) + 1, "Duplicated coordinate: row 2 has the same period and dimensions.")
    ]
    assert not Observation.objects.exists()
    assert ImportBatch.objects.get().status == BatchStatus.FAILED


@pytest.mark.django_db
def test_a_long_file_without_duplicates_is_stored_whole(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    lines = write_long_cbp_file(path, copies=3 * BLOCK_SIZE // 1_900 + 1)
    report = batch_import(actor=None, format_code=FORMAT, path=path)
    assert report.outcome == ImportOutcome.IMPORTED, report.issues[:3]
    assert Observation.objects.count() == len(lines) - 1
