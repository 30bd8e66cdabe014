"""The imports API: POST a file (202 and a job id), follow the job, read its report; the same
permission rule as the page, and the API's one error shape."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.db.models import Sum
from django.test import Client

from conftest import SHARED_DATA
from mirador.accounts.models import Role, User
from mirador.accounts.services import api_token_issue
from mirador.flows.models import Observation
from mirador.flows.tasks import run_pending_tasks

pytestmark = pytest.mark.django_db

CBP_SAMPLE = SHARED_DATA / "cbp" / "sbo-encounters-fy22-fy25-aug.csv"
FORMAT = "cbp-sbo-encounters"
IMPORTS = "/api/v1/imports/"
HEADER = (
    "Fiscal Year,Month Grouping,Month (abbv),Component,Demographic,Citizenship Grouping,"
    "Title of Authority,Encounter Type,Encounter Count"
)
GOOD = "2023,FYTD,OCT,U.S. Border Patrol,Single Adults,Honduras,Title 8,Apprehensions,120"
NEGATIVE = "2023,FYTD,OCT,U.S. Border Patrol,UAC,Guatemala,Title 8,Apprehensions,-45"


@pytest.fixture(autouse=True)
def data_dir(settings: Any, tmp_path: Path) -> None:
    settings.DATA_DIR = tmp_path / "data"


def token_client(user: User) -> Client:
    _, raw = api_token_issue(user=user)
    return Client(headers={"Authorization": f"Bearer {raw}"})


@pytest.fixture
def api(make_user: Callable[..., User]) -> Client:
    return token_client(
        make_user(username="analyst.regional", role=Role.REGIONAL_ANALYST, country=None)
    )


def post(api: Client, path: Path, **fields: Any) -> Any:
    with path.open("rb") as handle:
        return api.post(IMPORTS, {"file": handle, "format": FORMAT, **fields})


def sample_total() -> tuple[int, int]:
    with CBP_SAMPLE.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return len(rows), sum(int(row["Encounter Count"]) for row in rows)


def test_a_file_is_accepted_checked_and_stored_in_the_background(api: Client) -> None:
    response = post(api, CBP_SAMPLE)
    assert response.status_code == 202
    job = response.json()
    assert job["status"] == "queued" and not job["finished"] and not job["dry_run"]
    assert not Observation.objects.exists()

    run_pending_tasks()
    done = api.get(f"{IMPORTS}{job['id']}").json()
    rows, total = sample_total()
    assert done["status"] == "stored" and done["finished"] and done["progress"] == 100
    assert (done["rows_read"], done["observations"], done["total"]) == (rows, rows, total)
    assert done["issue_count"] == 0 and done["first_issues"] == []
    assert done["batch_id"]
    assert Observation.objects.aggregate(total=Sum("value"))["total"] == total


def test_a_dry_run_stores_nothing_until_asked(api: Client, tmp_path: Path) -> None:
    path = tmp_path / "good.csv"
    path.write_text(f"{HEADER}\n{GOOD}\n", encoding="utf-8")
    job = post(api, path, dry_run="true").json()
    run_pending_tasks()
    assert api.get(f"{IMPORTS}{job['id']}").json()["status"] == "valid"
    assert not Observation.objects.exists()

    stored = api.post(f"{IMPORTS}{job['id']}/store")
    assert stored.status_code == 202
    run_pending_tasks()
    assert api.get(f"{IMPORTS}{job['id']}").json()["status"] == "stored"
    assert Observation.objects.get().value == 120


def test_a_bad_file_stores_nothing_and_its_report_names_row_and_reason(
    api: Client, tmp_path: Path
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(f"{HEADER}\n{GOOD}\n{NEGATIVE}\n", encoding="utf-8")
    job = post(api, path).json()
    run_pending_tasks()
    done = api.get(f"{IMPORTS}{job['id']}").json()
    assert done["status"] == "invalid"
    assert done["issue_count"] == 1
    issue = done["first_issues"][0]
    assert (issue["file"], issue["row"], issue["column"], issue["value"]) == (
        "bad.csv",
        3,
        "Encounter Count",
        "-45",
    )
    assert "negative" in issue["reason"]
    assert not Observation.objects.exists()

    report = api.get(done["report_url"])
    assert report.status_code == 200
    text = b"".join(report.streaming_content).decode()  # type: ignore[attr-defined]
    assert "bad.csv,,3,Encounter Count,-45,A count cannot be negative." in text

    refused = api.post(f"{IMPORTS}{job['id']}/store")
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "upload_state"


def test_an_unknown_format_is_refused_in_the_error_shape(api: Client, tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text(f"{HEADER}\n{GOOD}\n", encoding="utf-8")
    response = post(api, path, format="no-such-format")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "format_unknown"
    assert FORMAT in error["message"]


def test_a_file_over_the_limit_is_refused_with_413(
    api: Client, settings: Any, tmp_path: Path
) -> None:
    settings.MIRADOR_MAX_UPLOAD_MB = 1
    path = tmp_path / "big.csv"
    path.write_bytes(b"x" * (1024 * 1024 + 10))
    response = post(api, path)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "upload_too_large"


@pytest.mark.parametrize("role", [Role.RECEPTION_OFFICER, Role.CASEWORKER, Role.EMPLOYER])
def test_roles_without_the_right_get_403(
    api: Client, make_user: Callable[..., User], role: str, tmp_path: Path
) -> None:
    path = tmp_path / "good.csv"
    path.write_text(f"{HEADER}\n{GOOD}\n", encoding="utf-8")
    job = post(api, path, dry_run="true").json()
    other = token_client(make_user(username="someone", role=role, country="HN"))
    refused = post(other, path)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "permission_denied"
    assert other.get(f"{IMPORTS}{job['id']}").status_code == 403
    assert other.get(f"{IMPORTS}{job['id']}/report.csv").status_code == 403


def test_another_importers_job_is_not_found(
    api: Client, make_user: Callable[..., User], tmp_path: Path
) -> None:
    path = tmp_path / "good.csv"
    path.write_text(f"{HEADER}\n{GOOD}\n", encoding="utf-8")
    job = post(api, path, dry_run="true").json()
    other = token_client(make_user(username="analyst.gt", role=Role.NATIONAL_ANALYST, country="GT"))
    response = other.get(f"{IMPORTS}{job['id']}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_without_credentials_the_api_answers_401(client: Client) -> None:
    assert client.get(f"{IMPORTS}00000000-0000-0000-0000-000000000000").status_code == 401


def test_a_table_comes_in_through_the_users_own_mapping(api: Client) -> None:
    """`format=custom` with the mapping file uploaded beside the table: the import guide's
    example returns table, whose figures the observatory then holds."""
    examples = Path(__file__).resolve().parents[3] / "docs" / "examples"
    table, mapping = examples / "returns_hn_2024q1.csv", examples / "returns_hn_2024q1.toml"
    with table.open("rb") as data, mapping.open("rb") as rules:
        response = api.post(IMPORTS, {"file": data, "format": "custom", "mapping": rules})
    assert response.status_code == 202, response.content
    run_pending_tasks()
    done = api.get(f"{IMPORTS}{response.json()['id']}").json()
    assert done["status"] == "stored", done
    assert done["observations"] > 0
    assert Observation.objects.aggregate(total=Sum("value"))["total"] == done["total"]
