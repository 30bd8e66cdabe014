"""Storing the valid rows and setting the rest aside, only when asked (keep_valid); a problem
of the file itself still stores nothing. And the command line's --keep-valid, --replace and
--rollback."""

from __future__ import annotations

import csv
from collections.abc import Callable
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Sum
from django.test import Client

from conftest import SHARED_DATA
from mirador.accounts.models import Role, User
from mirador.accounts.services import api_token_issue
from mirador.flows import services, uploads
from mirador.flows.models import BatchStatus, ImportBatch, Observation, ObservationHistory
from mirador.flows.services import ImportOutcome, batch_import
from mirador.flows.tasks import run_pending_tasks

pytestmark = pytest.mark.django_db

CBP_SAMPLE = SHARED_DATA / "cbp" / "sbo-encounters-fy22-fy25-aug.csv"
FORMAT = "cbp-sbo-encounters"
NEW = "/observatory/imports/"
IMPORTS = "/api/v1/imports/"
SHIPPED_MAPPING = Path(__file__).resolve().parents[1] / "formats" / "cbp_sbo_encounters.toml"
# Data rows (0-based, under the header) spoilt by `spoilt_sample`, each in one cell.
SPOILT = {5: ("Encounter Count", "-3"), 40: ("Citizenship Grouping", "Atlantis"), 41: None}


def sample() -> tuple[list[str], list[dict[str, str]]]:
    with CBP_SAMPLE.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def write(path: Path, header: list[str], rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    return path


def spoilt_sample(tmp_path: Path) -> tuple[Path, list[dict[str, str]], list[int]]:
    """The sample with a negative count, an unknown country and a non-numeric count; returns
    the file, the rows that stay valid and the file rows (1-based, header first) spoilt."""
    header, rows = sample()
    spoilt_rows = []
    for index in SPOILT:
        column, value = SPOILT[index] or ("Encounter Count", "many")
        rows[index] = {**rows[index], column: value}
        spoilt_rows.append(index + 2)
    valid = [row for index, row in enumerate(rows) if index not in SPOILT]
    return write(tmp_path / "spoilt.csv", header, rows), valid, spoilt_rows


def test_without_keep_valid_a_file_with_bad_rows_stores_nothing(tmp_path: Path) -> None:
    path, _valid, spoilt_rows = spoilt_sample(tmp_path)
    report = batch_import(actor=None, format_code=FORMAT, path=path)
    assert report.outcome == ImportOutcome.FAILED
    assert not Observation.objects.exists()
    assert report.set_aside_count == len(spoilt_rows)
    assert "could be set aside" in report.summary()


def test_keep_valid_stores_the_valid_rows_and_sets_the_others_aside(tmp_path: Path) -> None:
    path, valid, spoilt_rows = spoilt_sample(tmp_path)
    report = batch_import(actor=None, format_code=FORMAT, path=path, keep_valid=True)
    assert report.outcome == ImportOutcome.IMPORTED, report.summary()
    batch = report.batch
    assert batch is not None
    assert batch.status == BatchStatus.IMPORTED
    assert batch.set_aside_count == len(spoilt_rows)
    assert batch.observation_count == len(valid) == Observation.objects.count()
    stored = Observation.objects.aggregate(total=Sum("value"))["total"]
    assert stored == sum(int(row["Encounter Count"]) for row in valid)
    assert not Observation.objects.filter(source_row__in=spoilt_rows).exists()
    assert sorted({entry["row"] for entry in batch.error_report}) == spoilt_rows
    assert f"{len(spoilt_rows)} rows with problems were set aside" in report.summary()

    report_csv = tmp_path / "set-aside.csv"
    report.write_issues_csv(report_csv)
    with report_csv.open(encoding="utf-8", newline="") as handle:
        lines = list(csv.DictReader(handle))
    assert sorted(int(line["row"]) for line in lines) == spoilt_rows
    assert {line["value"] for line in lines} == {"-3", "Atlantis", "many"}
    assert all(line["file"] == "spoilt.csv" and line["reason"] for line in lines)


def test_a_missing_column_stores_nothing_even_with_keep_valid(tmp_path: Path) -> None:
    header, rows = sample()
    header = [name for name in header if name != "Demographic"]
    for row in rows:
        del row["Demographic"]
    path = write(tmp_path / "no-demographic.csv", header, rows)
    report = batch_import(actor=None, format_code=FORMAT, path=path, keep_valid=True)
    assert report.outcome == ImportOutcome.FAILED
    assert report.result.file_problems == 1
    assert not Observation.objects.exists()
    assert "problems of the file itself" in report.summary()


def test_a_wrong_constant_of_the_mapping_stores_nothing_even_with_keep_valid(
    tmp_path: Path,
) -> None:
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(
        SHIPPED_MAPPING.read_text().replace('reporting_country = "US"', 'reporting_country = "ZZ"')
    )
    report = batch_import(
        actor=None, format_code=FORMAT, path=CBP_SAMPLE, mapping_path=mapping, keep_valid=True
    )
    assert report.outcome == ImportOutcome.FAILED
    assert not Observation.objects.exists()


def test_a_file_unreadable_from_some_row_on_stores_nothing_even_with_keep_valid(
    tmp_path: Path,
) -> None:
    lines = CBP_SAMPLE.read_bytes().splitlines(keepends=True)
    path = tmp_path / "broken.csv"
    # Bytes that are not UTF-8 half-way: the rest of the file cannot be read as text.
    path.write_bytes(
        b"".join(lines[:100]) + b"2024,FYTD,OCT,\xff\xfe\xfa,\n" + b"".join(lines[100:])
    )
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(
        SHIPPED_MAPPING.read_text().replace('encoding = "auto"', 'encoding = "utf-8"')
    )
    report = batch_import(
        actor=None, format_code=FORMAT, path=path, mapping_path=mapping, keep_valid=True
    )
    assert report.outcome == ImportOutcome.FAILED, report.summary()
    assert not Observation.objects.exists()


def test_a_file_whose_rows_all_have_problems_stores_nothing(tmp_path: Path) -> None:
    header, rows = sample()
    for row in rows:
        row["Encounter Count"] = "n/a"
    path = write(tmp_path / "all-bad.csv", header, rows)
    report = batch_import(actor=None, format_code=FORMAT, path=path, keep_valid=True)
    assert report.outcome == ImportOutcome.FAILED
    assert not ImportBatch.objects.filter(status=BatchStatus.IMPORTED).exists()


def test_progress_is_reported_while_storing() -> None:
    seen: list[int] = []
    report = batch_import(actor=None, format_code=FORMAT, path=CBP_SAMPLE, progress=seen.append)
    assert report.outcome == ImportOutcome.IMPORTED
    assert seen and seen == sorted(seen)
    assert seen[-1] == report.result.rows_read


# --- The command line ------------------------------------------------------------------------


def run(*args: str) -> str:
    out = StringIO()
    call_command("import", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_the_command_keeps_valid_rows_when_asked_and_writes_the_set_aside_ones(
    tmp_path: Path,
) -> None:
    path, valid, spoilt_rows = spoilt_sample(tmp_path)
    with pytest.raises(CommandError, match="could be set aside"):
        run(FORMAT, str(path))
    errors = tmp_path / "errors.csv"
    output = run(FORMAT, str(path), "--keep-valid", "--errors-csv", str(errors))
    assert f"{len(valid)} observations stored" in output
    assert "set aside" in output
    with errors.open(encoding="utf-8", newline="") as handle:
        assert sorted(int(line["row"]) for line in csv.DictReader(handle)) == spoilt_rows


def test_the_command_refuses_a_revision_without_replace_and_rolls_back(tmp_path: Path) -> None:
    header, rows = sample()
    run(FORMAT, str(CBP_SAMPLE))
    corrected = [{**row, "Encounter Count": str(int(row["Encounter Count"]) + 1)} for row in rows]
    path = write(tmp_path / "corrected.csv", header, corrected)
    with pytest.raises(CommandError, match="--replace"):
        run(FORMAT, str(path))
    assert "would replace" in run(FORMAT, str(path), "--dry-run")
    run(FORMAT, str(path), "--replace")
    assert ObservationHistory.objects.count() == len(rows)
    revision = ImportBatch.objects.get(file_name="corrected.csv")
    output = run("--rollback", str(revision.pk))
    assert f"{len(rows)} observations removed" in output
    total = Observation.objects.aggregate(total=Sum("value"))["total"]
    assert total == sum(int(row["Encounter Count"]) for row in rows)
    with pytest.raises(CommandError, match="Only an imported batch"):
        run("--rollback", str(revision.pk))
    with pytest.raises(CommandError, match="no import batch"):
        run("--rollback", "not-a-batch")


# --- The upload page and the API --------------------------------------------------------------


@pytest.fixture
def data_dir(settings: Any, tmp_path: Path) -> Path:
    settings.DATA_DIR = tmp_path / "data"
    return settings.DATA_DIR


@pytest.fixture
def browser(client: Client, make_user: Callable[..., User], data_dir: Path) -> Client:
    client.force_login(
        make_user(username="analyst.regional", role=Role.REGIONAL_ANALYST, country=None)
    )
    return client


def upload_file(client: Client, path: Path) -> str:
    with path.open("rb") as handle:
        response = client.post(NEW, {"format": FORMAT, "file": handle})
    assert response.status_code == 302, response.content.decode()[:2000]
    return str(response["Location"])


def test_the_page_offers_to_store_the_valid_rows_and_does_so_only_when_asked(
    browser: Client, tmp_path: Path
) -> None:
    path, valid, spoilt_rows = spoilt_sample(tmp_path)
    url = upload_file(browser, path)
    run_pending_tasks()
    html = browser.get(url).content.decode()
    assert 'data-state="invalid"' in html
    button = f"Store the {len(valid)} valid rows and set the {len(spoilt_rows)} others aside"
    assert button in html
    assert browser.post(f"{url}store/").status_code == 409  # "Store" alone: all or nothing
    assert not Observation.objects.exists()

    assert browser.post(f"{url}store/", {"keep_valid": "1"}).status_code == 302
    run_pending_tasks()
    html = browser.get(url).content.decode()
    assert 'data-state="stored"' in html
    assert f'data-set-aside="{len(spoilt_rows)}"' in html
    assert Observation.objects.count() == len(valid)
    report = browser.get(f"{url}report.csv")
    lines = list(csv.DictReader(b"".join(report.streaming_content).decode().splitlines()))  # type: ignore[attr-defined]
    assert sorted(int(line["row"]) for line in lines) == spoilt_rows


def test_a_file_with_a_missing_column_is_not_offered_to_keep_valid_rows(
    browser: Client, tmp_path: Path
) -> None:
    header, rows = sample()
    header = [name for name in header if name != "Demographic"]
    for row in rows:
        del row["Demographic"]
    url = upload_file(browser, write(tmp_path / "no-demographic.csv", header, rows))
    run_pending_tasks()
    html = browser.get(url).content.decode()
    assert 'data-state="invalid"' in html and "data-keep-valid" not in html
    response = browser.post(f"{url}store/", {"keep_valid": "1"})
    assert response.status_code == 409
    assert "problems are of the file itself" in response.content.decode()
    run_pending_tasks()
    assert not Observation.objects.exists()


def test_the_api_stores_valid_rows_with_keep_valid(
    make_user: Callable[..., User], data_dir: Path, tmp_path: Path
) -> None:
    user = make_user(username="analyst.regional", role=Role.REGIONAL_ANALYST, country=None)
    _, raw = api_token_issue(user=user)
    api = Client(headers={"Authorization": f"Bearer {raw}"})
    path, valid, spoilt_rows = spoilt_sample(tmp_path)
    with path.open("rb") as handle:
        job = api.post(IMPORTS, {"file": handle, "format": FORMAT, "keep_valid": "true"}).json()
    assert job["keep_valid"] is True
    run_pending_tasks()
    job = api.get(f"{IMPORTS}{job['id']}").json()
    assert job["status"] == "stored", job["message"]
    assert job["set_aside_count"] == job["rows_with_problems"] == len(spoilt_rows)
    assert job["file_problems"] == 0
    assert Observation.objects.count() == len(valid)

    # The set-aside rows stay listed with the batch after the upload's directory is gone.
    report = api.get(f"{IMPORTS}batches/{job['batch_id']}/report.csv")
    assert report.status_code == 200
    assert report["Content-Disposition"].startswith("attachment")
    lines = list(csv.DictReader(report.content.decode().splitlines()))
    assert sorted(int(line["row"]) for line in lines) == spoilt_rows
    assert all(line["reason"] for line in lines)
    guatemalan = make_user(username="analyst.gt", role=Role.NATIONAL_ANALYST, country="GT")
    _, other = api_token_issue(user=guatemalan)
    other_api = Client(headers={"Authorization": f"Bearer {other}"})
    assert other_api.get(f"{IMPORTS}batches/{job['batch_id']}/report.csv").status_code == 404


def test_storing_shows_its_progress(
    browser: Client, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Every progress the job records while storing (written as often as it comes here), on
    the sample repeated over ten spans of four fiscal years (large enough to be read in
    several parts)."""
    header, rows = sample()
    repeated = [
        {**row, "Fiscal Year": str(int(row["Fiscal Year"][:4]) - 4 * span)}
        for span in range(10)
        for row in rows
    ]
    path = write(tmp_path / "forty-years.csv", header, repeated)
    monkeypatch.setattr(uploads, "_PROGRESS_EVERY_SECONDS", -1.0)
    monkeypatch.setattr(services, "PROGRESS_EVERY", 100)
    written: list[tuple[str, int]] = []
    write_job = uploads._write

    def recording(job: uploads.UploadJob) -> None:
        written.append((job.state, job.progress))
        write_job(job)

    monkeypatch.setattr(uploads, "_write", recording)
    url = upload_file(browser, path)
    run_pending_tasks()
    browser.post(f"{url}store/")
    run_pending_tasks()
    storing = [progress for state, progress in written if state == uploads.UploadState.STORING]
    assert storing == sorted(storing)
    assert len({progress for progress in storing if 0 < progress < 100}) >= 2
    assert written[-1] == (uploads.UploadState.STORED, 100)
    assert Observation.objects.count() == len(repeated)
