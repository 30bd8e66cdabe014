"""Corrected revisions of a source, their rollback, and every earlier state reproduced.

The files are parts of the published CBP sample (some fiscal years of it), written to a
temporary directory; a "corrected" file changes its counts so that it is another file."""

from __future__ import annotations

import csv
import datetime
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.db.models import Sum
from django.test import Client
from django.utils import timezone

from conftest import SHARED_DATA
from mirador.accounts.models import Role, User
from mirador.accounts.services import api_token_issue
from mirador.core.models import AuditEntry
from mirador.flows.models import (
    BatchStatus,
    HistoryReason,
    ImportBatch,
    Incident,
    Observation,
    ObservationHistory,
)
from mirador.flows.selectors import (
    FIGURE_FIELDS,
    batch_replaced_batches,
    observation_lineage,
    observation_sources,
    observations_as_of,
)
from mirador.flows.services import (
    BatchStateError,
    ImportOutcome,
    ImportReport,
    batch_import,
    batch_rollback,
    describe_periods,
    may_roll_back,
)
from mirador.flows.tasks import run_pending_tasks

pytestmark = pytest.mark.django_db

CBP_SAMPLE = SHARED_DATA / "cbp" / "sbo-encounters-fy22-fy25-aug.csv"
FORMAT = "cbp-sbo-encounters"
NEW = "/observatory/imports/"
IMPORTS = "/api/v1/imports/"
MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]


def sample() -> tuple[list[str], list[dict[str, str]]]:
    with CBP_SAMPLE.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def fiscal_year(row: dict[str, str]) -> int:
    return int(row["Fiscal Year"][:4])


def calendar_month(row: dict[str, str]) -> datetime.date:
    month = MONTHS.index(row["Month (abbv)"]) + 1
    year = fiscal_year(row) - 1 if month >= 10 else fiscal_year(row)
    return datetime.date(year, month, 1)


def write_part(
    path: Path,
    years: set[int],
    change: Callable[[int], int] = lambda count: count,
) -> tuple[Path, list[dict[str, str]]]:
    """The sample's rows of these fiscal years, each count changed by `change`."""
    header, rows = sample()
    part = [dict(row) for row in rows if fiscal_year(row) in years]
    for row in part:
        row["Encounter Count"] = str(change(int(row["Encounter Count"])))
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerows(part)
    return path, part


def totals_by_month(rows: list[dict[str, str]]) -> Counter[datetime.date]:
    totals: Counter[datetime.date] = Counter()
    for row in rows:
        totals[calendar_month(row)] += int(row["Encounter Count"])
    return totals


def stored_totals_by_month() -> Counter[datetime.date]:
    stored = Observation.objects.values_list("period").annotate(total=Sum("value"))
    return Counter({period: total for period, total in stored})


def imported(report: ImportReport) -> ImportBatch:
    assert report.outcome == ImportOutcome.IMPORTED, (report.summary(), report.issues[:3])
    assert report.batch is not None
    return report.batch


def snapshot() -> set[tuple[object, ...]]:
    """What the Observation table holds now, as observations_as_of gives it."""
    return {
        tuple(row[name] for name in FIGURE_FIELDS)
        for row in Observation.objects.values(*FIGURE_FIELDS)
    }


def as_of(when: datetime.datetime) -> set[tuple[object, ...]]:
    dataset = ImportBatch.objects.filter(format_code=FORMAT).first()
    assert dataset is not None
    rows = list(observations_as_of(dataset=dataset.dataset, when=when))
    as_set = {tuple(row[name] for name in FIGURE_FIELDS) for row in rows}
    assert len(as_set) == len(rows)  # no figure twice
    return as_set


@pytest.fixture
def first_version(tmp_path: Path) -> tuple[ImportBatch, list[dict[str, str]]]:
    path, rows = write_part(tmp_path / "fy22-fy23.csv", {2022, 2023})
    return imported(batch_import(actor=None, format_code=FORMAT, path=path)), rows


def test_a_file_covering_periods_already_imported_is_refused_naming_them(
    first_version: tuple[ImportBatch, list[dict[str, str]]], tmp_path: Path
) -> None:
    batch_a, _rows = first_version
    before = snapshot()
    path, corrected = write_part(tmp_path / "fy23-corrected.csv", {2023}, lambda c: c + 1)
    report = batch_import(actor=None, format_code=FORMAT, path=path)
    assert report.outcome == ImportOutcome.REVISION_REFUSED
    assert not report.ok
    message = report.summary()
    assert "2022-10 to 2023-09" in message
    assert str(batch_a.pk) in message and "fy22-fy23.csv" in message
    assert "--replace" in message and "replace=true" in message
    assert report.revision.observations == len(corrected)
    assert snapshot() == before
    assert ImportBatch.objects.count() == 1


def test_a_dry_run_says_what_a_revision_would_replace(
    first_version: tuple[ImportBatch, list[dict[str, str]]], tmp_path: Path
) -> None:
    batch_a, rows = first_version
    path, corrected = write_part(tmp_path / "fy23-corrected.csv", {2023}, lambda c: c + 1)
    report = batch_import(actor=None, format_code=FORMAT, path=path, dry_run=True)
    assert report.outcome == ImportOutcome.VALID
    replaced_rows = [row for row in rows if fiscal_year(row) == 2023]
    assert report.revision.observations == len(replaced_rows)
    assert report.revision.periods == sorted({calendar_month(row) for row in replaced_rows})
    assert [entry[0] for entry in report.revision.batches] == [str(batch_a.pk)]
    assert "would replace" in report.summary()
    assert not ObservationHistory.objects.exists()


def test_a_revision_replaces_its_periods_and_keeps_the_old_figures_in_history(
    first_version: tuple[ImportBatch, list[dict[str, str]]], tmp_path: Path
) -> None:
    batch_a, rows = first_version
    path, corrected = write_part(tmp_path / "fy23-corrected.csv", {2023}, lambda c: c + 1)
    batch_b = imported(batch_import(actor=None, format_code=FORMAT, path=path, replace=True))
    kept = [row for row in rows if fiscal_year(row) == 2022]
    replaced = [row for row in rows if fiscal_year(row) == 2023]
    assert batch_b.replaced_count == len(replaced)
    assert batch_b.source == batch_a.source == FORMAT
    assert stored_totals_by_month() == totals_by_month(kept) + totals_by_month(corrected)
    assert Observation.objects.filter(batch=batch_a).count() == len(kept)
    history = ObservationHistory.objects.filter(batch=batch_a)
    assert history.count() == len(replaced)
    assert set(history.values_list("reason", "ended_by", "valid_from", "valid_to")) == {
        (HistoryReason.REVISED, batch_b.pk, batch_a.finished_at, batch_b.finished_at)
    }
    assert list(batch_replaced_batches(batch=batch_b)) == [batch_a]
    assert AuditEntry.objects.filter(object_id=str(batch_b.pk), reason="revision").exists()


def test_rolling_back_a_revision_restores_what_it_replaced(
    first_version: tuple[ImportBatch, list[dict[str, str]]], tmp_path: Path
) -> None:
    batch_a, rows = first_version
    path, corrected = write_part(tmp_path / "fy23-corrected.csv", {2023}, lambda c: c + 1)
    batch_b = imported(batch_import(actor=None, format_code=FORMAT, path=path, replace=True))
    removed = batch_rollback(actor=None, batch=batch_b)
    batch_b.refresh_from_db()
    assert removed == len(corrected)
    assert batch_b.status == BatchStatus.ROLLED_BACK and batch_b.rolled_back_at is not None
    assert stored_totals_by_month() == totals_by_month(rows)
    assert not Observation.objects.filter(batch=batch_b).exists()
    restored = Observation.objects.filter(batch=batch_a, current_since__isnull=False)
    assert restored.count() == len([row for row in rows if fiscal_year(row) == 2023])
    assert set(restored.values_list("current_since", flat=True)) == {batch_b.rolled_back_at}
    rolled = ObservationHistory.objects.filter(batch=batch_b)
    assert rolled.count() == len(corrected)
    assert set(rolled.values_list("reason", "ended_by", "valid_to")) == {
        (HistoryReason.ROLLED_BACK, None, batch_b.rolled_back_at)
    }
    assert AuditEntry.objects.filter(object_id=str(batch_b.pk), reason="rollback").exists()
    with pytest.raises(BatchStateError):
        batch_rollback(actor=None, batch=batch_b)


def test_rolling_back_a_revision_that_a_later_one_replaced_restores_nothing(
    first_version: tuple[ImportBatch, list[dict[str, str]]], tmp_path: Path
) -> None:
    batch_a, rows = first_version
    path_b, _b = write_part(tmp_path / "b.csv", {2023}, lambda c: c + 1)
    path_c, corrected_again = write_part(tmp_path / "c.csv", {2023}, lambda c: c + 2)
    batch_b = imported(batch_import(actor=None, format_code=FORMAT, path=path_b, replace=True))
    batch_c = imported(batch_import(actor=None, format_code=FORMAT, path=path_c, replace=True))
    assert batch_c.replaced_count == len(corrected_again)
    assert batch_rollback(actor=None, batch=batch_b) == 0
    kept = [row for row in rows if fiscal_year(row) == 2022]
    assert stored_totals_by_month() == totals_by_month(kept) + totals_by_month(corrected_again)
    assert not Observation.objects.filter(current_since__isnull=False).exists()


def test_a_rolled_back_first_import_is_not_restored_by_rolling_back_its_revision(
    first_version: tuple[ImportBatch, list[dict[str, str]]], tmp_path: Path
) -> None:
    batch_a, rows = first_version
    path_b, corrected = write_part(tmp_path / "b.csv", {2023}, lambda c: c + 1)
    batch_b = imported(batch_import(actor=None, format_code=FORMAT, path=path_b, replace=True))
    batch_rollback(actor=None, batch=batch_a)
    assert stored_totals_by_month() == totals_by_month(corrected)
    batch_rollback(actor=None, batch=batch_b)
    assert not Observation.objects.exists()


def test_every_earlier_state_is_reproduced(tmp_path: Path) -> None:
    """Import A, revise it with B, roll B back, import C (new periods), revise with D: at each
    moment captured on the way, observations_as_of gives what the table held then."""
    moments: list[tuple[datetime.datetime, set[tuple[object, ...]]]] = []

    def capture() -> None:
        moments.append((timezone.now(), snapshot()))

    capture()  # nothing yet
    path_a, _a = write_part(tmp_path / "a.csv", {2022, 2023})
    imported(batch_import(actor=None, format_code=FORMAT, path=path_a))
    capture()
    path_b, _b = write_part(tmp_path / "b.csv", {2023}, lambda c: c + 1)
    batch_b = imported(batch_import(actor=None, format_code=FORMAT, path=path_b, replace=True))
    capture()
    batch_rollback(actor=None, batch=batch_b)
    capture()
    path_c, _c = write_part(tmp_path / "c.csv", {2024})
    imported(batch_import(actor=None, format_code=FORMAT, path=path_c))
    capture()
    path_d, _d = write_part(tmp_path / "d.csv", {2023, 2024}, lambda c: c * 2)
    imported(batch_import(actor=None, format_code=FORMAT, path=path_d, replace=True))
    capture()
    states = [state for _when, state in moments]
    # Every step changed the figures, and the rollback gave back those of A.
    assert states[3] == states[1]
    assert len({frozenset(state) for state in states}) == len(states) - 1
    for when, state in moments[1:]:
        assert as_of(when) == state
    assert not as_of(moments[0][0])


def test_a_figure_is_traced_to_its_batch_file_hash_and_row(
    first_version: tuple[ImportBatch, list[dict[str, str]]], tmp_path: Path
) -> None:
    batch_a, rows = first_version
    observation = Observation.objects.filter(batch=batch_a).order_by("source_row").first()
    assert observation is not None
    lineage = observation_lineage(observation=observation)
    assert lineage.file_name == "fy22-fy23.csv"
    assert lineage.sha256 == batch_a.sha256
    assert lineage.batch_id == str(batch_a.pk)
    assert lineage.row == 2  # the first data row, under the header
    assert lineage.value == int(rows[0]["Encounter Count"])

    path, _corrected = write_part(tmp_path / "fy23-corrected.csv", {2023}, lambda c: c + 1)
    batch_b = imported(batch_import(actor=None, format_code=FORMAT, path=path, replace=True))
    revised = Observation.objects.filter(batch=batch_b).order_by("source_row").first()
    assert revised is not None
    coordinates = revised.coordinates()
    sources = observation_sources(
        dataset=revised.dataset,
        period=revised.period,
        include_history=True,
        coordinates=coordinates,
    )
    assert [(s.batch_id, s.reason_ended) for s in sources] == [
        (str(batch_a.pk), HistoryReason.REVISED),
        (str(batch_b.pk), ""),
    ]
    assert sources[1].value == sources[0].value + 1
    assert sources[0].ended_by_batch_id == str(batch_b.pk)
    assert sources[0].current_until == batch_b.finished_at
    before = observation_sources(
        dataset=revised.dataset,
        period=revised.period,
        when=batch_a.finished_at,
        coordinates=coordinates,
    )
    assert [s.batch_id for s in before] == [str(batch_a.pk)]


def test_incidents_of_replaced_periods_are_superseded_and_restored_on_rollback(
    first_version: tuple[ImportBatch, list[dict[str, str]]], tmp_path: Path
) -> None:
    batch_a, _rows = first_version
    in_revised = Incident.objects.create(
        dataset=batch_a.dataset, batch=batch_a, source_row=2, period=datetime.date(2023, 1, 1)
    )
    outside = Incident.objects.create(
        dataset=batch_a.dataset, batch=batch_a, source_row=3, period=datetime.date(2022, 1, 1)
    )
    path, _corrected = write_part(tmp_path / "fy23-corrected.csv", {2023}, lambda c: c + 1)
    batch_b = imported(batch_import(actor=None, format_code=FORMAT, path=path, replace=True))
    in_revised.refresh_from_db()
    outside.refresh_from_db()
    assert in_revised.superseded_by == batch_b and in_revised.superseded_at is not None
    assert outside.superseded_at is None
    batch_rollback(actor=None, batch=batch_b)
    in_revised.refresh_from_db()
    assert in_revised.superseded_at is None and in_revised.superseded_by is None
    batch_rollback(actor=None, batch=batch_a)
    outside.refresh_from_db()
    assert outside.superseded_at is not None


def test_periods_are_named_as_ranges() -> None:
    months = [datetime.date(2022, m, 1) for m in (1, 2, 3, 7)] + [datetime.date(2023, 1, 1)]
    assert describe_periods(months, "month") == "2022-01 to 2022-03, 2022-07, 2023-01"
    years = [datetime.date(y, 1, 1) for y in (2015, 2016, 2019)]
    assert describe_periods(years, "year") == "2015 to 2016, 2019"


# --- The upload page and the API --------------------------------------------------------------


@pytest.fixture
def data_dir(settings: Any, tmp_path: Path) -> Path:
    settings.DATA_DIR = tmp_path / "data"
    return settings.DATA_DIR


@pytest.fixture
def regional(make_user: Callable[..., User]) -> User:
    return make_user(username="analyst.regional", role=Role.REGIONAL_ANALYST, country=None)


def bearer(user: User) -> Client:
    _, raw = api_token_issue(user=user)
    return Client(headers={"Authorization": f"Bearer {raw}"})


def upload_file(client: Client, path: Path, **extra: object) -> str:
    with path.open("rb") as handle:
        response = client.post(NEW, {"format": FORMAT, "file": handle, **extra})
    assert response.status_code == 302, response.content.decode()[:2000]
    return str(response["Location"])


def test_the_upload_page_previews_a_revision_and_stores_it_only_when_asked(
    client: Client, regional: User, data_dir: Path, tmp_path: Path
) -> None:
    client.force_login(regional)
    path_a, rows = write_part(tmp_path / "a.csv", {2022, 2023})
    first = upload_file(client, path_a)
    run_pending_tasks()
    client.post(f"{first}store/")
    run_pending_tasks()
    batch_a = ImportBatch.objects.get(status=BatchStatus.IMPORTED)

    path_b, corrected = write_part(tmp_path / "b.csv", {2023}, lambda c: c + 1)
    url = upload_file(client, path_b)
    run_pending_tasks()
    html = client.get(url).content.decode()
    assert 'data-state="valid"' in html
    assert f'data-revision="{len(corrected)}"' in html
    assert "2022-10 to 2023-09" in html and "a.csv" in html and str(batch_a.pk) in html
    assert 'name="replace"' in html

    client.post(f"{url}store/", {"replace_shown": "1"})  # not ticked: refused, nothing stored
    run_pending_tasks()
    html = client.get(url).content.decode()
    assert 'data-state="valid"' in html and "--replace" in html
    assert not ObservationHistory.objects.exists()

    client.post(f"{url}store/", {"replace_shown": "1", "replace": "1"})
    run_pending_tasks()
    assert 'data-state="stored"' in client.get(url).content.decode()
    batch_b = ImportBatch.objects.get(file_name="b.csv")
    assert batch_b.replaced_count == len(corrected)
    kept = [row for row in rows if fiscal_year(row) == 2022]
    assert stored_totals_by_month() == totals_by_month(kept) + totals_by_month(corrected)


def test_the_api_stores_a_revision_with_replace_and_rolls_it_back(
    regional: User, make_user: Callable[..., User], data_dir: Path, tmp_path: Path
) -> None:
    api = bearer(regional)
    path_a, rows = write_part(tmp_path / "a.csv", {2022, 2023})
    path_b, corrected = write_part(tmp_path / "b.csv", {2023}, lambda c: c + 1)
    with path_a.open("rb") as handle:
        assert api.post(IMPORTS, {"file": handle, "format": FORMAT}).status_code == 202
    run_pending_tasks()
    with path_b.open("rb") as handle:
        refused = api.post(IMPORTS, {"file": handle, "format": FORMAT}).json()
    run_pending_tasks()
    refused = api.get(f"{IMPORTS}{refused['id']}").json()
    assert refused["status"] == "valid" and "replace=true" in refused["message"]
    assert refused["revision"]["observations"] == len(corrected)
    with path_b.open("rb") as handle:
        job = api.post(IMPORTS, {"file": handle, "format": FORMAT, "replace": "true"}).json()
    run_pending_tasks()
    job = api.get(f"{IMPORTS}{job['id']}").json()
    assert job["status"] == "stored" and job["replaced_count"] == len(corrected)

    rollback = f"{IMPORTS}batches/{job['batch_id']}/rollback"
    guatemalan = make_user(username="analyst.gt", role=Role.NATIONAL_ANALYST, country="GT")
    assert bearer(guatemalan).post(rollback).status_code == 403
    caseworker = make_user(username="caseworker", role=Role.CASEWORKER, country="HN")
    assert bearer(caseworker).post(rollback).status_code == 403
    done = api.post(rollback)
    assert done.status_code == 200, done.content
    assert done.json()["observations_removed"] == len(corrected)
    assert done.json()["status"] == BatchStatus.ROLLED_BACK
    assert stored_totals_by_month() == totals_by_month(rows)
    assert api.post(rollback).status_code == 409
    missing = f"{IMPORTS}batches/00000000-0000-0000-0000-000000000000/rollback"
    assert api.post(missing).status_code == 404


def test_a_national_analyst_rolls_back_batches_of_their_own_country_only(
    make_user: Callable[..., User], tmp_path: Path
) -> None:
    path, _rows = write_part(tmp_path / "a.csv", {2023})
    batch = imported(batch_import(actor=None, format_code=FORMAT, path=path))
    assert not may_roll_back(
        make_user(username="gt", role=Role.NATIONAL_ANALYST, country="GT"), batch
    )
    assert may_roll_back(make_user(username="us", role=Role.NATIONAL_ANALYST, country="US"), batch)


def test_replace_ticked_at_upload_stores_the_file_as_a_revision(
    client: Client, regional: User, data_dir: Path, tmp_path: Path
) -> None:
    client.force_login(regional)
    path_a, _rows = write_part(tmp_path / "a.csv", {2023})
    imported(batch_import(actor=None, format_code=FORMAT, path=path_a))
    path_b, corrected = write_part(tmp_path / "b.csv", {2023}, lambda c: c + 1)
    assert 'name="replace"' in client.get(NEW).content.decode()
    url = upload_file(client, path_b, replace="on")
    run_pending_tasks()
    assert "checked" in client.get(url).content.decode()
    client.post(f"{url}store/")  # a client posting without the form's fields
    run_pending_tasks()
    assert 'data-state="stored"' in client.get(url).content.decode()
    assert ImportBatch.objects.get(file_name="b.csv").replaced_count == len(corrected)
