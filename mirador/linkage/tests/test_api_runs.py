"""Linkage runs through the API: POST files (202), the task runs the engine in the background,
GET follows it and downloads pairs and clusters; bad input is a 4xx or a failed run with the
command's message, never a traceback; administrators only."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from django.test import Client

from mirador.accounts.models import Role, User
from mirador.accounts.services import api_token_issue
from mirador.core.models import AuditEntry
from mirador.flows.tasks import run_pending_tasks
from mirador.linkage import runs, synthetic
from mirador.linkage.models import LinkageRun
from mirador.linkage.services import linkage_model_save

pytestmark = pytest.mark.django_db

RUNS = "/api/v1/linkage/runs"


@pytest.fixture(autouse=True)
def data_dir(settings: Any, tmp_path: Path) -> Path:
    settings.DATA_DIR = tmp_path / "data"
    return settings.DATA_DIR


def token_client(user: User) -> Client:
    _, raw = api_token_issue(user=user)
    return Client(headers={"Authorization": f"Bearer {raw}"})


@pytest.fixture
def admin(make_user: Callable[..., User]) -> User:
    return make_user(username="admin.linkage", role=Role.ADMINISTRATOR, country=None)


@pytest.fixture
def api(admin: User) -> Client:
    return token_client(admin)


@pytest.fixture
def records(returnees: pd.DataFrame) -> pd.DataFrame:
    return returnees.head(600)


def csv_upload(frame: pd.DataFrame, name: str = "returnees.csv") -> io.BytesIO:
    handle = io.BytesIO(
        frame.drop(columns=["person_key"], errors="ignore").to_csv(index=False).encode()
    )
    handle.name = name
    return handle


def start(api: Client, *files: io.BytesIO, kind: str = "dedupe", **fields: Any) -> Any:
    data: dict[str, Any] = {"kind": kind, **fields}
    if files:
        data["file"] = files[0]
    if len(files) > 1:
        data["right"] = files[1]
    return api.post(RUNS, data)


def test_a_dedupe_run_finds_the_injected_duplicates_and_its_results_download(
    api: Client, records: pd.DataFrame, data_dir: Path
) -> None:
    response = start(api, csv_upload(records))
    assert response.status_code == 202, response.content
    run = response.json()
    assert run["status"] == "queued"
    assert run["inputs"][0]["name"] == "returnees.csv"
    assert len(run["inputs"][0]["sha256"]) == 64

    assert run_pending_tasks() == 1
    done = api.get(f"{RUNS}/{run['id']}").json()
    assert done["status"] == "done", done["message"]
    assert done["progress"] == 1.0
    assert done["rows_read"] == 600
    assert done["rows_skipped"] == 0

    pairs = pd.read_csv(io.BytesIO(api.get(done["results"]["pairs.csv"]).getvalue()), dtype=str)
    assert done["pairs"] == len(pairs)
    found = {tuple(sorted(p)) for p in zip(pairs["record_id_l"], pairs["record_id_r"], strict=True)}
    truth = synthetic.true_pairs(records)
    assert len(found & truth) / len(truth) > 0.8  # recall
    assert len(found & truth) / len(found) > 0.9  # precision

    response = api.get(done["results"]["clusters.parquet"])
    assert response.status_code == 200
    clusters = pd.read_parquet(io.BytesIO(response.getvalue()))
    assert len(clusters) == 600
    # The files are kept under DATA_DIR/linkage/<run id>/, not in the database.
    assert (data_dir / "linkage" / run["id"] / "pairs.parquet").is_file()
    # The uploaded records are not: gone once the run has ended, their name and digest kept.
    assert not (data_dir / "linkage" / run["id"] / "inputs").exists()
    assert done["inputs"] == run["inputs"]


def test_a_pairs_run_links_two_files_with_a_saved_model(
    api: Client, admin: User, records: pd.DataFrame, trained_model: dict[str, Any]
) -> None:
    linkage_model_save(actor=admin, name="returnees", settings=trained_model)
    left, right = records.iloc[:300], records.iloc[300:]
    response = start(
        api, csv_upload(left, "a.csv"), csv_upload(right, "b.csv"), kind="pairs", model="returnees"
    )
    assert response.status_code == 202, response.content
    assert response.json()["model_version"] == 1
    run_pending_tasks()
    done = api.get(f"{RUNS}/{response.json()['id']}").json()
    assert done["status"] == "done", done["message"]
    assert done["rows_read"] == 600
    assert done["pairs"] > 0


def test_the_start_and_each_download_are_audited_with_file_names_only(
    api: Client, records: pd.DataFrame
) -> None:
    run_id = start(api, csv_upload(records)).json()["id"]
    run_pending_tasks()
    api.get(f"{RUNS}/{run_id}/pairs.csv")
    entries = AuditEntry.objects.filter(object_type="linkage.LinkageRun", object_id=run_id)
    assert sorted(entries.values_list("action", flat=True)) == ["create", "export"]
    export = entries.get(action="export")
    assert export.details == {"file": "pairs.csv", "inputs": ["returnees.csv"]}


def test_results_of_an_unfinished_run_are_a_409(api: Client, records: pd.DataFrame) -> None:
    run_id = start(api, csv_upload(records)).json()["id"]
    response = api.get(f"{RUNS}/{run_id}/pairs.csv")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "run_not_done"


def test_a_file_missing_a_column_fails_with_the_commands_message(
    api: Client, data_dir: Path
) -> None:
    bad = io.BytesIO(b"record_id,birth_year\n1,1990\n2,1991\n")
    bad.name = "short.csv"
    run_id = start(api, bad).json()["id"]
    assert (data_dir / "linkage" / run_id / "inputs" / "1" / "short.csv").is_file()
    run_pending_tasks()
    assert not (data_dir / "linkage" / run_id / "inputs").exists()  # removed after a failure too
    run = api.get(f"{RUNS}/{run_id}").json()
    assert run["status"] == "failed"
    assert run["message"].startswith("short.csv: the column “given_names” is missing")
    assert "Traceback" not in run["message"]
    assert "/linkage/" not in run["message"]  # no server path


def test_the_memory_guard_fails_the_run_with_the_projected_pair_count(
    api: Client, records: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MIRADOR_LINKAGE_MAX_PAIRS", "10")
    run_id = start(api, csv_upload(records)).json()["id"]
    run_pending_tasks()
    run = api.get(f"{RUNS}/{run_id}").json()
    assert run["status"] == "failed"
    assert "The blocking rules would compare about" in run["message"]
    assert "more than the limit of 10" in run["message"]
    assert run["results"] == {}


@pytest.mark.parametrize(
    ("files", "fields", "status", "words"),
    [
        ([], {}, 422, "one file"),
        ([("x.txt", b"a,b\n1,2\n")], {}, 422, "only CSV"),
        ([("empty.csv", b"")], {}, 422, "empty"),
        ([("a.csv", b"a\n1\n")], {"kind": "pairs"}, 422, "two"),
        ([("a.csv", b"a\n1\n")], {"model": "nothing"}, 422, "no linkage model named"),
        ([("a.csv", b"a\n1\n")], {"threshold": "1.5"}, 422, "probability"),
        ([("a.csv", b"a\n1\n")], {"kind": "triples"}, 422, "dedupe or pairs"),
    ],
)
def test_bad_requests_are_refused_at_once_with_a_message(
    api: Client,
    files: list[tuple[str, bytes]],
    fields: dict[str, str],
    status: int,
    words: str,
) -> None:
    uploads = []
    for name, content in files:
        handle = io.BytesIO(content)
        handle.name = name
        uploads.append(handle)
    response = start(api, *uploads, **fields)
    assert response.status_code == status
    assert words in response.json()["error"]["message"]
    assert not LinkageRun.objects.exists()


def test_a_file_over_the_limit_is_a_413(api: Client, settings: Any, records: pd.DataFrame) -> None:
    settings.MIRADOR_LINKAGE_MAX_UPLOAD_MB = 1
    big = io.BytesIO(b"record_id\n" + b"x" * (1024 * 1024 + 1) + b"\n")
    big.name = "big.csv"
    response = start(api, big)
    assert response.status_code == 413
    assert "1 MB" in response.json()["error"]["message"]


def test_runs_are_listed_for_whoever_started_them_and_hidden_from_others(
    api: Client, make_user: Callable[..., User], records: pd.DataFrame
) -> None:
    run_id = start(api, csv_upload(records)).json()["id"]
    listed = api.get(RUNS).json()
    assert [item["id"] for item in listed["items"]] == [run_id]
    other = token_client(make_user(username="admin.other", role=Role.ADMINISTRATOR, country=None))
    assert other.get(RUNS).json()["count"] == 0
    assert other.get(f"{RUNS}/{run_id}").status_code == 404


def test_saved_models_are_listed_with_version_and_metrics(
    api: Client, admin: User, trained_model: dict[str, Any]
) -> None:
    linkage_model_save(actor=admin, name="returnees", settings=trained_model, metrics={"pairs": 3})
    models = api.get("/api/v1/linkage/models").json()
    assert [(m["name"], m["version"], m["metrics"]) for m in models] == [
        ("returnees", 1, {"pairs": 3})
    ]
    assert "settings" not in models[0]


@pytest.mark.parametrize("role", [Role.RECEPTION_OFFICER, Role.REGIONAL_ANALYST])
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", RUNS),
        ("post", RUNS),
        ("get", f"{RUNS}/00000000-0000-0000-0000-000000000000"),
        ("get", f"{RUNS}/00000000-0000-0000-0000-000000000000/pairs.csv"),
        ("get", "/api/v1/linkage/models"),
    ],
)
def test_only_administrators_run_linkage(
    make_user: Callable[..., User], role: str, method: str, path: str
) -> None:
    user = make_user(
        username=f"user.{role}", role=role, country=None if "regional" in role else "HN"
    )
    data = {"kind": "dedupe", "file": csv_upload(synthetic.returnee_records(5))}
    forbidden = getattr(token_client(user), method)(path, data if method == "post" else None)
    assert forbidden.status_code == 403
    assert forbidden.json()["error"]["code"] == "permission_denied"
    anonymous = getattr(Client(), method)(path, data if method == "post" else None)
    assert anonymous.status_code == 401
    assert not LinkageRun.objects.exists()


def test_progress_goes_through_the_engines_stages_and_blank_lines_are_counted(
    api: Client, records: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    stages: list[tuple[str, float]] = []
    update = runs._update

    def recording(run: LinkageRun, **fields: Any) -> None:
        update(run, **fields)
        stages.append((run.stage, run.progress))

    monkeypatch.setattr(runs, "_update", recording)
    text = records.drop(columns=["person_key"]).to_csv(index=False)
    upload = io.BytesIO((text + ",,,,,,,,\n\n").encode())
    upload.name = "with-blanks.csv"
    run_id = start(api, upload).json()["id"]
    run_pending_tasks()
    run = api.get(f"{RUNS}/{run_id}").json()
    assert run["status"] == "done", run["message"]
    assert [stage for stage, _ in stages] == [
        "reading",
        "preparing",
        "blocking",
        "training",
        "scoring",
        "writing",
        "done",
    ]
    fractions = [fraction for _, fraction in stages]
    assert fractions == sorted(fractions)
    assert (run["rows_read"], run["rows_skipped"]) == (602, 2)
    assert run["skipped_reasons"] == {"blank lines": 2}


def test_a_parquet_file_is_read_like_a_csv(api: Client, records: pd.DataFrame) -> None:
    upload = io.BytesIO()
    records.drop(columns=["person_key"]).to_parquet(upload, index=False)
    upload.seek(0)
    upload.name = "returnees.parquet"
    run_id = start(api, upload).json()["id"]
    run_pending_tasks()
    run = api.get(f"{RUNS}/{run_id}").json()
    assert (run["status"], run["rows_read"]) == ("done", 600), run["message"]
