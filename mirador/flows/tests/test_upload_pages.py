"""The import page: upload, a background check with progress, a preview whose totals are the
file's, the validation report (also as CSV), and nothing stored until "Store" on a valid file.

Tasks go through the real database queue; `run_pending_tasks` is the worker run in-process."""

from __future__ import annotations

import csv
import datetime
import json
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Sum
from django.test import Client
from django.utils import timezone

from conftest import SHARED_DATA
from mirador.accounts.models import Role, User
from mirador.flows.models import BatchStatus, ImportBatch, Observation
from mirador.flows.tasks import run_pending_tasks
from mirador.flows.uploads import STALE_AFTER, UploadState, upload_get, upload_root

pytestmark = pytest.mark.django_db

REPO_ROOT = Path(__file__).resolve().parents[3]
CBP_SAMPLE = SHARED_DATA / "cbp" / "sbo-encounters-fy22-fy25-aug.csv"
FORMAT = "cbp-sbo-encounters"
NEW = "/observatory/imports/"
MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
HEADER = (
    "Fiscal Year,Month Grouping,Month (abbv),Component,Demographic,Citizenship Grouping,"
    "Title of Authority,Encounter Type,Encounter Count"
)
GOOD = "2023,FYTD,OCT,U.S. Border Patrol,Single Adults,Honduras,Title 8,Apprehensions,120"
NEGATIVE = "2023,FYTD,OCT,U.S. Border Patrol,UAC,Guatemala,Title 8,Apprehensions,-45"
UNKNOWN = "2023,FYTD,NOV,U.S. Border Patrol,Martians,Honduras,Title 8,Apprehensions,3"


@pytest.fixture(autouse=True)
def data_dir(settings: Any, tmp_path: Path) -> Path:
    settings.DATA_DIR = tmp_path / "data"
    return settings.DATA_DIR


@pytest.fixture
def analyst(make_user: Callable[..., User]) -> User:
    return make_user(username="analyst.regional", role=Role.REGIONAL_ANALYST, country=None)


@pytest.fixture
def browser(client: Client, analyst: User) -> Client:
    client.force_login(analyst)
    return client


def upload(client: Client, path: Path, *, format_code: str = FORMAT, **extra: object) -> str:
    with path.open("rb") as handle:
        response = client.post(NEW, {"format": format_code, "file": handle, **extra})
    assert response.status_code == 302, response.content.decode()[:2000]
    return str(response["Location"])


def page(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def file_totals() -> tuple[int, Counter[str]]:
    """Computed here with csv, independently of the engine: October to December of fiscal
    year N are in calendar year N - 1."""
    by_month: Counter[str] = Counter()
    with CBP_SAMPLE.open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            year = int(row["Fiscal Year"][:4])
            month = MONTHS.index(row["Month (abbv)"]) + 1
            period = datetime.date(year - 1 if month >= 10 else year, month, 1)
            by_month[f"{period:%Y-%m}"] += int(row["Encounter Count"])
    return sum(by_month.values()), by_month


def bad_file(tmp_path: Path) -> Path:
    path = tmp_path / "bad.csv"
    path.write_text("\n".join([HEADER, GOOD, NEGATIVE, UNKNOWN]) + "\n", encoding="utf-8")
    return path


def test_the_sample_is_previewed_with_the_files_totals_and_stored_only_on_store(
    browser: Client,
) -> None:
    url = upload(browser, CBP_SAMPLE)
    waiting = page(browser, url)
    assert 'hx-trigger="every 2s"' in waiting
    assert 'data-state="queued"' in waiting
    polled = browser.get(url, headers={"HX-Request": "true"}).content.decode()
    assert polled.startswith('<section id="upload-status"') and "<html" not in polled

    run_pending_tasks()
    preview = page(browser, url)
    total, by_month = file_totals()
    assert 'data-state="valid"' in preview
    assert "hx-trigger" not in preview
    assert f'data-total="{total}"' in preview
    for month, count in by_month.items():
        assert f'data-period="{month}">{count}<' in preview
    assert not Observation.objects.exists()
    assert not ImportBatch.objects.exists()

    response = browser.post(f"{url}store/")
    assert response.status_code == 302
    assert 'data-state="store_queued"' in page(browser, url)
    run_pending_tasks()
    stored = page(browser, url)
    assert 'data-state="stored"' in stored
    assert Observation.objects.aggregate(total=Sum("value"))["total"] == total
    assert ImportBatch.objects.get().status == BatchStatus.IMPORTED


def test_the_same_file_again_says_so_and_stores_nothing(browser: Client) -> None:
    first = upload(browser, CBP_SAMPLE)
    run_pending_tasks()
    browser.post(f"{first}store/")
    run_pending_tasks()
    stored = Observation.objects.count()

    again = upload(browser, CBP_SAMPLE)
    run_pending_tasks()
    html = page(browser, again)
    assert 'data-state="already_imported"' in html
    assert "already imported" in html
    assert browser.post(f"{again}store/").status_code == 409
    assert Observation.objects.count() == stored
    assert ImportBatch.objects.count() == 1


def test_a_bad_file_is_reported_by_row_and_reason_and_cannot_be_stored(
    browser: Client, tmp_path: Path
) -> None:
    url = upload(browser, bad_file(tmp_path))
    run_pending_tasks()
    html = page(browser, url)
    assert 'data-state="invalid"' in html
    assert "<td>3</td><td>Encounter Count</td><td>-45</td><td>A count cannot be negative." in html
    assert "<td>4</td><td>Demographic</td><td>Martians</td>" in html

    report = browser.get(f"{url}report.csv")
    assert report.status_code == 200
    assert report["Content-Disposition"].startswith("attachment")
    rows = list(csv.reader(b"".join(report.streaming_content).decode().splitlines()))  # type: ignore[attr-defined]
    assert rows[0] == ["file", "sheet", "row", "column", "value", "reason"]
    assert rows[1][:5] == ["bad.csv", "", "3", "Encounter Count", "-45"]
    assert "negative" in rows[1][5]
    assert rows[2][2:5] == ["4", "Demographic", "Martians"]

    assert browser.post(f"{url}store/").status_code == 409
    run_pending_tasks()
    assert not Observation.objects.exists()
    assert not ImportBatch.objects.exists()


def test_a_file_over_the_size_limit_is_refused_with_the_limit_named(
    browser: Client, settings: Any, data_dir: Path
) -> None:
    settings.MIRADOR_MAX_UPLOAD_MB = 1
    big = SimpleUploadedFile("big.csv", (HEADER + "\n").encode() + b"x" * (1024 * 1024 + 1))
    response = browser.post(NEW, {"format": FORMAT, "file": big})
    assert response.status_code == 400
    assert "more than 1 MB" in response.content.decode()
    assert not (data_dir / "uploads").exists() or not any((data_dir / "uploads").iterdir())


def test_my_own_mapping_is_used_when_uploaded_with_the_file(
    browser: Client, tmp_path: Path
) -> None:
    mapping = tmp_path / "mine.toml"
    shipped = REPO_ROOT / "mirador" / "flows" / "formats" / "cbp_sbo_encounters.toml"
    mapping.write_text(
        shipped.read_text(encoding="utf-8").replace(
            'code = "cbp-sbo-encounters"', 'code = "my-cbp"'
        ),
        encoding="utf-8",
    )
    data = tmp_path / "good.csv"
    data.write_text(f"{HEADER}\n{GOOD}\n", encoding="utf-8")
    with mapping.open("rb") as handle:
        url = upload(browser, data, format_code="custom", mapping=handle)
    run_pending_tasks()
    assert 'data-state="valid"' in page(browser, url)


def test_choosing_my_own_mapping_without_giving_it_is_refused(
    browser: Client, tmp_path: Path
) -> None:
    with bad_file(tmp_path).open("rb") as handle:
        response = browser.post(NEW, {"format": "custom", "file": handle})
    assert response.status_code == 400
    assert "mapping file" in response.content.decode()


def test_a_national_analyst_cannot_upload_a_format_of_another_countrys_figures(
    client: Client, make_user: Callable[..., User], tmp_path: Path
) -> None:
    national = make_user(username="analyst.hn", role=Role.NATIONAL_ANALYST, country="HN")
    client.force_login(national)
    data = tmp_path / "us.csv"
    data.write_text(f"{HEADER}\n{GOOD}\n", encoding="utf-8")
    with data.open("rb") as handle:
        response = client.post(NEW, {"format": FORMAT, "file": handle})
    assert response.status_code == 400
    assert "you may import only figures reported by HN" in response.content.decode()


def test_a_national_analyst_cannot_import_rows_another_country_reports(
    client: Client, make_user: Callable[..., User], tmp_path: Path
) -> None:
    """A mapping that reads the reporting country from a column: rows of other countries
    make the whole file invalid."""
    national = make_user(username="analyst.hn", role=Role.NATIONAL_ANALYST, country="HN")
    client.force_login(national)
    shipped = REPO_ROOT / "mirador" / "flows" / "formats" / "cbp_sbo_encounters.toml"
    mapping = tmp_path / "by-column.toml"
    mapping.write_text(
        shipped.read_text(encoding="utf-8").replace(
            '[constants]\nreporting_country = "US"',
            '[dimensions.reporting_country]\ncolumn = "Month Grouping"\n'
            'map = { "FYTD" = "HN", "Remaining" = "US" }',
        ),
        encoding="utf-8",
    )
    data = tmp_path / "two.csv"
    data.write_text(f"{HEADER}\n{GOOD}\n{GOOD.replace('FYTD,OCT', 'Remaining,NOV')}\n")
    with mapping.open("rb") as handle:
        url = upload(client, data, format_code="custom", mapping=handle)
    run_pending_tasks()
    html = page(client, url)
    assert 'data-state="invalid"' in html
    assert "You may import only figures reported by HN" in html
    assert "<td>3</td><td>reporting_country</td><td>US</td>" in html
    assert not Observation.objects.exists()


@pytest.mark.parametrize(
    "role", [Role.RECEPTION_OFFICER, Role.CASEWORKER, Role.PROTECTION_OFFICER, Role.EMPLOYER]
)
def test_roles_without_the_right_get_403_on_every_page(
    client: Client, make_user: Callable[..., User], analyst: User, role: str, tmp_path: Path
) -> None:
    other = Client()
    other.force_login(analyst)
    url = upload(other, bad_file(tmp_path))
    client.force_login(make_user(username="someone", role=role, country="HN"))
    assert client.get(NEW).status_code == 403
    assert client.get(url).status_code == 403
    assert client.get(f"{url}report.csv").status_code == 403
    assert client.post(f"{url}store/").status_code == 403


def test_another_importers_upload_is_not_found(
    client: Client, make_user: Callable[..., User], browser: Client, tmp_path: Path
) -> None:
    url = upload(browser, bad_file(tmp_path))
    assert url in page(browser, NEW)  # among the uploader's recent uploads
    client.force_login(make_user(username="analyst.gt", role=Role.NATIONAL_ANALYST, country="GT"))
    assert url not in page(client, NEW)
    assert client.get(url).status_code == 404


def test_an_administrator_sees_any_upload(
    make_user: Callable[..., User], browser: Client, analyst: User, tmp_path: Path
) -> None:
    url = upload(browser, bad_file(tmp_path))
    admin = make_user(username="admin", role=Role.ADMINISTRATOR, country=None)
    job_id = url.rstrip("/").rsplit("/", 1)[-1]
    assert upload_get(actor=admin, job_id=job_id).state == UploadState.QUEUED


def test_the_nav_link_is_shown_to_importers_only(
    client: Client, make_user: Callable[..., User], browser: Client
) -> None:
    from django.template.loader import render_to_string
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.user = make_user(username="officer", role=Role.RECEPTION_OFFICER, country="HN")
    assert "Import figures" not in render_to_string("flows/partials/nav.html", request=request)
    request.user = make_user(username="analyst.sv", role=Role.NATIONAL_ANALYST, country="SV")
    assert NEW in render_to_string("flows/partials/nav.html", request=request)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_worker_thread_of_the_demo_server_runs_uploads(
    make_user: Callable[..., User], tmp_path: Path
) -> None:
    from mirador.flows.tasks import start_worker_thread
    from mirador.flows.uploads import upload_create

    analyst = make_user(username="analyst.thread", role=Role.REGIONAL_ANALYST, country=None)
    data = tmp_path / "good.csv"
    data.write_text(f"{HEADER}\n{GOOD}\n", encoding="utf-8")
    job = upload_create(
        actor=analyst,
        format_code=FORMAT,
        file=SimpleUploadedFile("good.csv", data.read_bytes()),
        store_when_valid=True,
    )
    thread = start_worker_thread(interval=0.1)
    try:
        deadline = time.monotonic() + 30
        while upload_get(actor=analyst, job_id=job.id).running and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        thread.stop()
    assert upload_get(actor=analyst, job_id=job.id).state == UploadState.STORED
    assert Observation.objects.get().value == 120


def _age(job_id: str, *, state: str | None = None, days: float = 0, minutes: float = 0) -> None:
    """Make a job look as if it was last changed that long ago (as an old job.json is)."""
    job_file = upload_root() / job_id / "job.json"
    raw = json.loads(job_file.read_text(encoding="utf-8"))
    changed = timezone.now() - datetime.timedelta(days=days, minutes=minutes)
    raw["updated_at"] = changed.isoformat()
    if state is not None:
        raw["state"] = state
    job_file.write_text(json.dumps(raw), encoding="utf-8")


def test_uploads_older_than_the_retention_period_are_removed_on_a_new_upload(
    browser: Client, settings: Any
) -> None:
    settings.MIRADOR_UPLOAD_RETENTION_DAYS = 7
    old = upload(browser, CBP_SAMPLE).rstrip("/").rsplit("/", 1)[-1]
    recent = upload(browser, CBP_SAMPLE).rstrip("/").rsplit("/", 1)[-1]
    run_pending_tasks()
    _age(old, days=8)
    _age(recent, days=6)
    upload(browser, CBP_SAMPLE)
    assert not (upload_root() / old).exists()
    assert (upload_root() / recent / "job.json").is_file()
    assert browser.get(f"{NEW}{old}/").status_code == 404


def test_a_job_whose_worker_died_is_shown_as_failed(browser: Client) -> None:
    url = upload(browser, CBP_SAMPLE)
    job_id = url.rstrip("/").rsplit("/", 1)[-1]
    _age(job_id, state=UploadState.VALIDATING, minutes=STALE_AFTER.total_seconds() / 60 + 1)
    html = page(browser, url)
    assert 'data-state="failed"' in html
    assert "stopped without finishing" in html
    assert "hx-trigger" not in html


def test_a_job_at_work_is_not_taken_for_dead(browser: Client) -> None:
    url = upload(browser, CBP_SAMPLE)
    job_id = url.rstrip("/").rsplit("/", 1)[-1]
    _age(job_id, state=UploadState.STORING, minutes=1)
    assert 'data-state="storing"' in page(browser, url)


def test_incidents_are_previewed_per_measure_never_adding_dead_to_survivors(
    browser: Client,
) -> None:
    sample = SHARED_DATA / "iom_mmp" / "MissingMigrants-Global-2020-01-08T14-05-32.csv"
    dead_by_month: Counter[str] = Counter()
    with sample.open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["Number Dead"].strip():
                number = MONTHS.index(row["Reported Month"].strip().upper()[:3]) + 1
                month = f"{int(row['Reported Year']):04d}-{number:02d}"
                dead_by_month[month] += int(float(row["Number Dead"]))
    url = upload(browser, sample, format_code="iom-mmp")
    run_pending_tasks()
    preview = page(browser, url)
    assert 'data-state="valid"' in preview, preview[:3000]
    assert "data-total=" not in preview
    for month, dead in list(dead_by_month.items())[:24]:
        assert f'data-period="{month} · dead">{dead}<' in preview
