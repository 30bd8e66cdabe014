"""The IOM Missing Migrants Project samples import through the format family "iom-mmp", each
by its own layout; their figures reconcile with the files and their incidents are kept."""

from __future__ import annotations

import csv
import datetime
from collections import Counter
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db.models import Sum

from conftest import SHARED_DATA
from mirador.flows.country_names import resolve_country, split_country_list
from mirador.flows.engine import (
    FORMATS_DIR,
    ImportFileError,
    LayoutUnknownError,
    MappingError,
    available_formats,
    format_mapping_path,
    format_name,
    load_mapping,
)
from mirador.flows.models import BatchStatus, ImportBatch, Incident, Observation
from mirador.flows.services import ImportOutcome, ImportReport, batch_import

pytestmark = pytest.mark.django_db

FAMILY = "iom-mmp"
SAMPLE_2020 = SHARED_DATA / "iom_mmp" / "MissingMigrants-Global-2020-01-08T14-05-32.csv"
SAMPLE_2023 = SHARED_DATA / "iom_mmp" / "mmp_global_2014_2023jul_kaggle.csv"
LAYOUT_2020 = "iom-mmp-2020"
LAYOUT_2023 = "iom-mmp-2023"
# The columns of each measure, as each layout names them.
MEASURES = {
    LAYOUT_2020: {
        "dead": "Number Dead",
        "missing": "Minimum Estimated Number of Missing",
        "survivors": "Number of Survivors",
        "females": "Number of Females",
        "males": "Number of Males",
        "children": "Number of Children",
    },
    LAYOUT_2023: {
        "dead": "Number of Dead",
        "missing": "Minimum Estimated Number of Missing",
        "survivors": "Number of Survivors",
        "females": "Number of Females",
        "males": "Number of Males",
        "children": "Number of Children",
    },
}
# What the 2023 layout writes for an origin that is not one country (see its mapping).
ORIGIN_WORDS = {"": "_U", "Unknown": "_U", "Mixed/Unknown": "_U", "Mixed": "_M"}
# IOM writes corrections of earlier incidents as negative missing or survivors: left out.
CORRECTION_COLUMNS = ("Minimum Estimated Number of Missing", "Number of Survivors")
SAMPLES = [(SAMPLE_2020, LAYOUT_2020), (SAMPLE_2023, LAYOUT_2023)]


def read_sample(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def is_correction(row: dict[str, str]) -> bool:
    return any(row.get(column, "").strip().startswith("-") for column in CORRECTION_COLUMNS)


def month_of(row: dict[str, str], layout: str) -> datetime.date:
    if layout == LAYOUT_2020:
        year, month = row["Reported Year"], row["Reported Month"]
        return datetime.datetime.strptime(f"{year} {month}", "%Y %b").date()  # noqa: DTZ007
    year, month = row["Incident year"], row["Reported Month"]
    return datetime.datetime.strptime(f"{year} {month}", "%Y %B").date()  # noqa: DTZ007


def origin_of(row: dict[str, str], layout: str) -> str:
    """The country of origin code of a row: one country, _U, or _M for several."""
    if layout == LAYOUT_2020:
        return "_U"  # the older layout has no country of origin
    cell = row["Country of Origin"].strip()
    if cell in ORIGIN_WORDS:
        return ORIGIN_WORDS[cell]
    codes = [ORIGIN_WORDS.get(name) or resolve_country(name) for name in split_country_list(cell)]
    assert all(codes), cell
    return "_M" if len(set(codes)) > 1 else str(codes[0])


def expected_totals(path: Path, layout: str) -> Counter[tuple[datetime.date, str, str]]:
    """(month, origin, measure) -> total, computed here from the file with the csv module:
    empty cells are not reported, correction rows are left out as the mapping says."""
    totals: Counter[tuple[datetime.date, str, str]] = Counter()
    for row in read_sample(path):
        if is_correction(row):
            continue
        for measure, column in MEASURES[layout].items():
            if row[column].strip():
                totals[(month_of(row, layout), origin_of(row, layout), measure)] += int(row[column])
    return totals


def import_file(path: Path, format_code: str = FAMILY, **options: object) -> ImportReport:
    return batch_import(actor=None, format_code=format_code, path=path, **options)  # type: ignore[arg-type]


@pytest.fixture(params=SAMPLES, ids=[LAYOUT_2020, LAYOUT_2023])
def imported(request: pytest.FixtureRequest, db: None) -> tuple[Path, str, ImportReport]:
    path, layout = request.param
    report = import_file(path)
    assert report.outcome == ImportOutcome.IMPORTED, report.issues[:5]
    return path, layout, report


def test_the_family_tells_each_samples_layout_and_the_summary_names_it(
    imported: tuple[Path, str, ImportReport],
) -> None:
    path, layout, report = imported
    rows = read_sample(path)
    assert report.format_code == layout
    assert report.batch is not None and report.batch.format_code == layout
    assert report.batch.status == BatchStatus.IMPORTED
    assert f"as {layout} into missing-migrants" in report.summary()
    assert report.result.rows_read == len(rows)
    assert report.result.rows_dropped == sum(1 for row in rows if is_correction(row))


def test_totals_by_month_origin_and_measure_equal_the_files(
    imported: tuple[Path, str, ImportReport],
) -> None:
    path, layout, report = imported
    stored = (
        Observation.objects.filter(dataset__code="missing-migrants", batch=report.batch)
        .values_list("period", "citizenship", "measure")
        .annotate(total=Sum("value"))
    )
    expected = expected_totals(path, layout)
    assert {(period, origin, measure): total for period, origin, measure, total in stored} == (
        dict(expected)
    )
    by_year_and_measure: Counter[tuple[int, str]] = Counter()
    by_origin: Counter[str] = Counter()
    for (month, origin, measure), total in expected.items():
        by_year_and_measure[(month.year, measure)] += total
        if measure == "dead":
            by_origin[origin] += total
    stored_by_year = (
        Observation.objects.filter(batch=report.batch)
        .values_list("period__year", "measure")
        .annotate(total=Sum("value"))
    )
    assert {(year, measure): total for year, measure, total in stored_by_year} == dict(
        by_year_and_measure
    )
    stored_dead_by_origin = (
        Observation.objects.filter(batch=report.batch, measure="dead")
        .values_list("citizenship")
        .annotate(total=Sum("value"))
    )
    assert dict(stored_dead_by_origin) == dict(by_origin)


def test_every_row_is_an_incident_with_its_coordinates(
    imported: tuple[Path, str, ImportReport],
) -> None:
    path, layout, report = imported
    rows = [row for row in read_sample(path) if not is_correction(row)]
    incidents = Incident.objects.filter(batch=report.batch)
    assert incidents.count() == len(rows)
    column = "Location Coordinates" if layout == LAYOUT_2020 else "Coordinates"
    without_position = sum(1 for row in rows if not row[column].strip())
    assert incidents.filter(latitude__isnull=True).count() == without_position
    first = incidents.get(source_row=2)
    latitude, longitude = (float(part) for part in rows[0][column].split(","))
    assert (first.latitude, first.longitude) == (latitude, longitude)
    assert first.period == month_of(rows[0], layout)
    dead = MEASURES[layout]["dead"]
    assert incidents.aggregate(total=Sum("dead"))["total"] == sum(
        int(row[dead]) for row in rows if row[dead].strip()
    )


def test_older_layout_incidents_keep_their_id_date_and_source_quality(db: None) -> None:
    report = import_file(SAMPLE_2020)
    first_row = read_sample(SAMPLE_2020)[0]
    incident = Incident.objects.get(batch=report.batch, source_row=2)
    assert incident.source_id == first_row["Web ID"]
    assert (
        incident.date
        == datetime.datetime.strptime(  # noqa: DTZ007
            first_row["Reported Date"], "%B %d, %Y"
        ).date()
    )
    assert incident.source_quality == int(first_row["Source Quality"])
    assert incident.origins == []


def test_an_incident_listing_several_origins_keeps_them_all(db: None) -> None:
    report = import_file(SAMPLE_2023)
    rows = read_sample(SAMPLE_2023)
    number, row = next(
        (number, row)
        for number, row in enumerate(rows, start=2)
        if row["Country of Origin"] == "Afghanistan,Syrian Arab Republic"
    )
    incident = Incident.objects.get(batch=report.batch, source_row=number)
    assert incident.origins == ["AF", "SY"]
    assert Observation.objects.filter(
        batch=report.batch, citizenship="_M", period=month_of(row, LAYOUT_2023)
    ).exists()
    honduras_and_unknown = next(
        number
        for number, row in enumerate(rows, start=2)
        if row["Country of Origin"] == "Honduras,Unknown"
    )
    assert Incident.objects.get(batch=report.batch, source_row=honduras_and_unknown).origins == [
        "HN",
        "_U",
    ]


def test_the_command_imports_through_the_family_and_a_second_time_changes_nothing(
    db: None,
) -> None:
    out = StringIO()
    call_command("import", FAMILY, str(SAMPLE_2023), stdout=out, stderr=StringIO())
    assert f"imported as {LAYOUT_2023}" in out.getvalue()
    observations, incidents = Observation.objects.count(), Incident.objects.count()
    again = StringIO()
    call_command("import", FAMILY, str(SAMPLE_2023), stdout=again, stderr=StringIO())
    assert "already imported" in again.getvalue()
    assert (Observation.objects.count(), Incident.objects.count()) == (observations, incidents)
    assert ImportBatch.objects.filter(format_code=LAYOUT_2023).count() == 1


def test_the_command_names_the_older_layout(db: None) -> None:
    out = StringIO()
    call_command("import", FAMILY, str(SAMPLE_2020), "--dry-run", stdout=out, stderr=StringIO())
    assert f"valid as {LAYOUT_2020}" in out.getvalue()
    assert not Incident.objects.exists() and not Observation.objects.exists()


# --- Small files made from the samples ---------------------------------------------------


def write_rows(
    directory: Path, source: Path, rows: int, changes: dict[int, dict[str, str]] | None = None
) -> Path:
    """The header and first `rows` data rows of a sample, with cells changed by data row
    index (0 is the file's row 2) and column name; a column changed to None is dropped."""
    with source.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        fields = list(reader.fieldnames or [])
        records = [record for _index, record in zip(range(rows), reader, strict=False)]
    for index, change in (changes or {}).items():
        records[index].update(change)
    path = directory / f"small-{source.name}"
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(records)
    return path


def without_column(path: Path, column: str) -> Path:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        records = list(csv.reader(handle))
    position = records[0].index(column)
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle).writerows(
            [cell for index, cell in enumerate(record) if index != position] for record in records
        )
    return path


def test_a_file_that_fits_no_layout_is_refused_naming_each_layout_and_what_it_lacks(
    tmp_path: Path,
) -> None:
    path = without_column(write_rows(tmp_path, SAMPLE_2023, 5), "Coordinates")
    with pytest.raises(LayoutUnknownError) as refused:
        import_file(path)
    message = str(refused.value.message)
    assert f"{LAYOUT_2023} lacks “Coordinates”" in message
    assert f"{LAYOUT_2020} lacks" in message and "“Web ID”" in message
    assert not ImportBatch.objects.exists()


@pytest.mark.parametrize(("content", "reason"), [(None, "does not exist"), (b"", "is empty")])
def test_a_file_no_layout_can_read_is_refused_once_with_its_reason(
    tmp_path: Path, content: bytes | None, reason: str
) -> None:
    path = tmp_path / "incidents.csv"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ImportFileError) as refused:
        import_file(path)
    assert not isinstance(refused.value, LayoutUnknownError)
    assert reason in str(refused.value.message)


def test_a_layout_given_by_name_refuses_a_file_missing_one_of_its_columns(
    tmp_path: Path,
) -> None:
    path = without_column(write_rows(tmp_path, SAMPLE_2023, 5), "Number of Dead")
    report = import_file(path, LAYOUT_2023)
    assert report.outcome == ImportOutcome.FAILED
    # Named once per use of the column (a count, and the incident's field).
    assert {(issue.row, issue.column) for issue in report.issues} == {(1, "Number of Dead")}


def test_a_malformed_coordinate_is_reported_with_its_row_and_column(tmp_path: Path) -> None:
    path = write_rows(tmp_path, SAMPLE_2023, 5, {2: {"Coordinates": "31.5; -110.2"}})
    report = import_file(path)
    assert report.outcome == ImportOutcome.FAILED
    assert [(issue.row, issue.column, issue.value) for issue in report.issues] == [
        (4, "Coordinates", "31.5; -110.2")
    ]
    assert report.issues[0].file == path.name
    assert not Incident.objects.exists() and not Observation.objects.exists()


def test_a_coordinate_out_of_range_is_reported(tmp_path: Path) -> None:
    path = write_rows(tmp_path, SAMPLE_2020, 3, {0: {"Location Coordinates": "98.1, 26.6"}})
    report = import_file(path)
    assert [(issue.row, issue.column) for issue in report.issues] == [(2, "Location Coordinates")]


def test_a_negative_count_is_reported_with_its_row_and_column(tmp_path: Path) -> None:
    path = write_rows(tmp_path, SAMPLE_2023, 5, {1: {"Number of Dead": "-2"}})
    report = import_file(path)
    assert report.outcome == ImportOutcome.FAILED
    assert [(issue.row, issue.column, issue.value) for issue in report.issues] == [
        (3, "Number of Dead", "-2")
    ]
    assert "negative" in report.issues[0].reason


def test_a_cell_naming_several_countries_stores_several_and_the_incident_keeps_them(
    tmp_path: Path,
) -> None:
    several = {"Country of Origin": "Guatemala, Honduras", "Number of Dead": "3"}
    one = {"Country of Origin": "Honduras", "Number of Dead": "1"}
    same_month = {"Incident year": "2014", "Reported Month": "January"}
    path = write_rows(
        tmp_path, SAMPLE_2023, 2, {0: {**several, **same_month}, 1: {**one, **same_month}}
    )
    report = import_file(path)
    assert report.outcome == ImportOutcome.IMPORTED, report.issues
    dead = dict(
        Observation.objects.filter(measure="dead")
        .values_list("citizenship")
        .annotate(total=Sum("value"))
    )
    assert dead == {"_M": 3, "HN": 1}
    assert list(Incident.objects.order_by("source_row").values_list("origins", flat=True)) == [
        ["GT", "HN"],
        ["HN"],
    ]


def test_older_detailed_causes_fall_into_iom_categories(tmp_path: Path) -> None:
    causes = {
        0: {"Cause of Death": "Shot, Stabbed"},
        1: {"Cause of Death": "Sickness and lack of access to medicines, Dehydration"},
        2: {"Cause of Death": "Hit by train"},
    }
    path = write_rows(tmp_path, SAMPLE_2020, 3, causes)
    report = import_file(path)
    assert report.outcome == ImportOutcome.IMPORTED, report.issues
    assert list(Incident.objects.order_by("source_row").values_list("cause", flat=True)) == [
        "violence",
        "_M",
        "vehicle-hazardous-transport",
    ]


def test_a_cause_no_pattern_knows_is_reported(tmp_path: Path) -> None:
    path = write_rows(tmp_path, SAMPLE_2020, 2, {1: {"Cause of Death": "Drowning, Abducted"}})
    report = import_file(path)
    assert [(issue.row, issue.column) for issue in report.issues] == [(3, "Cause of Death")]
    assert "“Abducted”" in report.issues[0].reason


def test_empty_counts_are_not_reported_rather_than_zero(tmp_path: Path) -> None:
    empty = {"Number of Females": "", "Number of Males": "", "Number of Children": ""}
    path = write_rows(tmp_path, SAMPLE_2020, 1, {0: {**empty, "Number Dead": "2"}})
    report = import_file(path)
    assert report.outcome == ImportOutcome.IMPORTED, report.issues
    assert set(Observation.objects.values_list("measure", flat=True)) <= {
        "dead",
        "missing",
        "survivors",
    }
    incident = Incident.objects.get()
    assert (incident.dead, incident.females, incident.children) == (2, None, None)


def test_every_format_listed_has_a_mapping_that_loads() -> None:
    codes = available_formats()
    assert {FAMILY, LAYOUT_2020, LAYOUT_2023} <= set(codes)
    for code in codes:
        assert load_mapping(format_mapping_path(code)).name


def test_a_family_has_a_name_of_its_own_and_its_layouts_keep_theirs() -> None:
    newest = load_mapping(format_mapping_path(LAYOUT_2023))
    assert format_mapping_path(FAMILY) == newest.path
    assert "any published layout" in format_name(FAMILY)
    assert format_name(LAYOUT_2023) == newest.name != format_name(FAMILY)


@pytest.mark.parametrize(
    ("change", "refusal"),
    [
        (
            ('several = "_M"\n', 'several = "_M"\nseparator = ","\n'),
            "[dimensions.citizenship] separator",
        ),
        (
            ("[dimensions.cause]\n", '[dimensions.cause]\nseveral = "_M"\n'),
            "[dimensions.cause] several needs a separator",
        ),
        (
            ("[dimensions.cause]\n", '[dimensions.cause]\npatterns = ["(?i)drown"]\n'),
            "[dimensions.cause] patterns",
        ),
    ],
)
def test_list_and_pattern_options_are_refused_when_incomplete(
    tmp_path: Path, change: tuple[str, str], refusal: str
) -> None:
    text = (FORMATS_DIR / "iom_mmp_2023.toml").read_text(encoding="utf-8")
    assert change[0] in text
    path = tmp_path / "mapping.toml"
    path.write_text(text.replace(change[0], change[1], 1), encoding="utf-8")
    with pytest.raises(MappingError) as refused:
        load_mapping(path)
    assert refusal in str(refused.value.message)
