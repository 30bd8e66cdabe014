"""Private linkage through the API: a country's Mirador encodes a file with the agreement's key
it holds (never sent, stored, handed to the task or written beside the results), whoever
matches compares two encoded files without a key; runs in the background with progress, the
results downloadable; files of different keys or schemas refused with the command's message;
administrators only."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from django.test import Client
from django_tasks_db.models import DBTaskResult

from mirador.accounts.models import Role, User
from mirador.accounts.services import api_token_issue
from mirador.core.models import AuditEntry
from mirador.flows.tasks import run_pending_tasks
from mirador.linkage import privacy, privacy_synthetic, private_runs
from mirador.linkage.models import LinkageRun
from mirador.linkage.privacy_command import error_message

pytestmark = pytest.mark.django_db

PRIVATE_RUNS = "/api/v1/linkage/private-runs"
RUNS = "/api/v1/linkage/runs"
Countries = tuple[pd.DataFrame, pd.DataFrame, set[tuple[str, str]]]


@pytest.fixture(autouse=True)
def data_dir(settings: Any, tmp_path: Path) -> Path:
    settings.DATA_DIR = tmp_path / "data"
    return settings.DATA_DIR


@pytest.fixture(scope="module")
def countries() -> Countries:
    return privacy_synthetic.country_files(500, seed=29)


@pytest.fixture
def key_text(monkeypatch: pytest.MonkeyPatch) -> str:
    """The agreement's key this server holds, in the variable a deployment sets."""
    text = privacy.key_generate()
    monkeypatch.delenv(private_runs.KEY_FILE_VARIABLE, raising=False)
    monkeypatch.setenv(privacy.KEY_ENVIRONMENT, text)
    return text


@pytest.fixture
def no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(private_runs.KEY_FILE_VARIABLE, raising=False)
    monkeypatch.delenv(privacy.KEY_ENVIRONMENT, raising=False)


def token_client(user: User) -> Client:
    _, raw = api_token_issue(user=user)
    return Client(headers={"Authorization": f"Bearer {raw}"})


@pytest.fixture
def api(make_user: Callable[..., User]) -> Client:
    return token_client(make_user(username="admin.private", role=Role.ADMINISTRATOR, country=None))


def upload(content: bytes, name: str) -> io.BytesIO:
    handle = io.BytesIO(content)
    handle.name = name
    return handle


def csv_upload(frame: pd.DataFrame, name: str) -> io.BytesIO:
    return upload(frame.to_csv(index=False).encode(), name)


def encoded_upload(
    frame: pd.DataFrame, key: privacy.LinkageKey, name: str, tmp_path: Path, **schema: Any
) -> io.BytesIO:
    """A file of encodings as `mirador link encode` writes it, made here with `key`."""
    path = tmp_path / name
    encoded = privacy.encode(frame, key=key, schema=privacy.EncodingSchema(**schema))
    privacy.write_encoded(path, encoded, source=name)
    return upload(path.read_bytes(), name)


def start(api: Client, kind: str, *files: io.BytesIO, **fields: Any) -> Any:
    data: dict[str, Any] = {"kind": kind, **fields}
    for field, file in zip(("file", "right"), files, strict=False):
        data[field] = file
    return api.post(PRIVATE_RUNS, data)


def finished(api: Client, run_id: str) -> dict[str, Any]:
    run_pending_tasks()
    return api.get(f"{RUNS}/{run_id}").json()


def encode_through_api(api: Client, frame: pd.DataFrame, name: str) -> tuple[dict, bytes]:
    response = start(api, "encode", csv_upload(frame, name))
    assert response.status_code == 202, response.content
    assert response.json()["status"] == "queued"
    run = finished(api, response.json()["id"])
    assert run["status"] == "done", run["message"]
    download = api.get(run["results"]["encoded.parquet"])
    assert download.status_code == 200
    return run, download.getvalue()


def test_a_country_encodes_its_file_with_the_key_its_server_holds_and_no_name_leaves(
    api: Client, countries: Countries, key_text: str, tmp_path: Path, data_dir: Path
) -> None:
    left = countries[0]
    run, content = encode_through_api(api, left, "hn.csv")
    assert run["kind"] == "encode"
    assert list(run["results"]) == ["encoded.parquet"]
    assert (run["rows_read"], run["rows_skipped"], run["progress"]) == (len(left), 0, 1.0)
    fingerprint = privacy.key_parse(key_text).fingerprint
    assert run["summary"]["key_fingerprint"] == fingerprint
    assert run["summary"]["records"] == len(left)

    (tmp_path / "hn.encoded.parquet").write_bytes(content)
    encoded = privacy.read_encoded(tmp_path / "hn.encoded.parquet")
    assert encoded.fingerprint == fingerprint
    assert encoded.records == len(left)
    assert set(pd.read_parquet(tmp_path / "hn.encoded.parquet").columns) == set(
        privacy.ENCODED_COLUMNS
    )
    names = {
        value
        for column in ("given_names", "first_surname", "second_surname")
        for value in left[column].dropna().astype(str)
        if len(value) >= 4
    }
    assert names
    lowered = content.lower()
    assert not [name for name in names if name.lower().encode() in lowered]
    # Nor do they stay on the server: the uploaded file is removed once encoded.
    assert not (data_dir / "linkage" / run["id"] / "inputs").exists()


def test_two_encoded_files_matched_through_the_api_give_the_true_pairs(
    api: Client, countries: Countries, key_text: str, settings: Any
) -> None:
    # Uploads written to temporary files, as large ones are: their footers are read there.
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1024
    left, right, truth = countries
    _, hn = encode_through_api(api, left, "hn.csv")
    _, gt = encode_through_api(api, right, "gt.csv")

    response = start(api, "match_encoded", upload(hn, "hn.parquet"), upload(gt, "gt.parquet"))
    assert response.status_code == 202, response.content
    run = finished(api, response.json()["id"])
    assert run["status"] == "done", run["message"]
    assert run["kind"] == "match_encoded"
    assert run["summary"]["records"] == [len(left), len(right)]
    assert run["summary"]["model"]["filters"] == ["given", "surnames", "birth", "document"]

    pairs = pd.read_csv(io.BytesIO(api.get(run["results"]["pairs.csv"]).getvalue()), dtype=str)
    assert run["pairs"] == len(pairs)
    found = set(zip(pairs["record_id_l"], pairs["record_id_r"], strict=True))
    assert len(found & truth) >= 0.9 * len(truth)  # recall
    assert len(found & truth) >= 0.97 * len(found)  # precision
    assert set(pairs["source_l"]) == {"hn.parquet"}
    clusters = pd.read_parquet(io.BytesIO(api.get(run["results"]["clusters.parquet"]).getvalue()))
    assert len(clusters) == len(left) + len(right)


def test_progress_of_a_match_goes_through_its_stages(
    api: Client, countries: Countries, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stages: list[tuple[str, float]] = []
    update = private_runs._update

    def recording(run: LinkageRun, **fields: Any) -> None:
        update(run, **fields)
        stages.append((run.stage, run.progress))

    monkeypatch.setattr(private_runs, "_update", recording)
    key = privacy.key_parse(privacy.key_generate())
    files = [encoded_upload(countries[i], key, f"{i}.parquet", tmp_path) for i in (0, 1)]
    run = finished(api, start(api, "match_encoded", *files).json()["id"])
    assert run["status"] == "done", run["message"]
    assert [stage for stage, _ in stages] == [
        "preparing",
        "blocking",
        "comparing",
        "estimating",
        "writing",
        "done",
    ]
    assert [fraction for _, fraction in stages] == sorted(fraction for _, fraction in stages)


@pytest.mark.parametrize(
    ("schema", "code"),
    [({}, "key_mismatch"), ({"bucket_bits": 8}, "schema_mismatch")],
)
def test_files_of_different_keys_or_schemas_are_refused_with_the_commands_message(
    api: Client, countries: Countries, tmp_path: Path, schema: dict[str, Any], code: str
) -> None:
    key = privacy.key_parse(privacy.key_generate())
    other = key if schema else privacy.key_parse(privacy.key_generate())
    left = encoded_upload(countries[0].head(50), key, "hn.parquet", tmp_path)
    right = encoded_upload(countries[1].head(50), other, "gt.parquet", tmp_path, **schema)
    response = start(api, "match_encoded", left, right)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "linkage_files_incompatible"
    assert response.json()["error"]["message"] == error_message(
        privacy.PrivateLinkageError(code, "")
    )
    assert not LinkageRun.objects.exists()


def test_a_file_that_is_not_encodings_is_refused_naming_it(
    api: Client, countries: Countries, tmp_path: Path
) -> None:
    key = privacy.key_parse(privacy.key_generate())
    plain = io.BytesIO()
    countries[1].head(20).astype("string").to_parquet(plain)
    response = start(
        api,
        "match_encoded",
        encoded_upload(countries[0].head(20), key, "hn.parquet", tmp_path),
        upload(plain.getvalue(), "gt.parquet"),
    )
    assert response.status_code == 422
    message = response.json()["error"]["message"]
    assert message.startswith("gt.parquet is not a file of encodings written by")


def test_a_server_without_a_key_refuses_to_encode(
    api: Client, countries: Countries, no_key: None
) -> None:
    response = start(api, "encode", csv_upload(countries[0], "hn.csv"))
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "linkage_no_key"
    assert error["message"] == str(private_runs.NoServerKeyError.default_message)
    assert not LinkageRun.objects.exists()


def test_the_key_may_be_a_key_file_and_a_bad_one_is_refused(
    api: Client, countries: Countries, settings: Any, tmp_path: Path, no_key: None
) -> None:
    path = tmp_path / "agreement.key"
    privacy.key_write(path, privacy.key_generate())
    settings.MIRADOR_LINKAGE_KEY_FILE = str(path)
    run, _content = encode_through_api(api, countries[0].head(30), "hn.csv")
    assert run["summary"]["key_fingerprint"] == privacy.key_read(path=path).fingerprint

    settings.MIRADOR_LINKAGE_KEY_FILE = str(tmp_path / "absent.key")
    response = start(api, "encode", csv_upload(countries[0], "hn.csv"))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "linkage_bad_key"
    assert "absent.key" not in response.json()["error"]["message"]


def test_a_key_changed_before_the_task_runs_fails_the_run_unencoded(
    api: Client, countries: Countries, key_text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_id = start(api, "encode", csv_upload(countries[0], "hn.csv")).json()["id"]
    monkeypatch.setenv(privacy.KEY_ENVIRONMENT, privacy.key_generate())
    run = finished(api, run_id)
    assert run["status"] == "failed"
    assert "key changed after the run was started" in run["message"]
    assert run["results"] == {}
    assert api.get(f"{RUNS}/{run_id}/encoded.parquet").status_code == 409


def test_a_bad_file_to_encode_fails_the_run_with_the_commands_message(
    api: Client, key_text: str
) -> None:
    bad = upload(b"record_id,birth_year\n1,1990\n2,1991\n", "short.csv")
    run = finished(api, start(api, "encode", bad).json()["id"])
    assert run["status"] == "failed"
    assert run["message"].startswith("short.csv: the column “given_names” is missing")
    assert "/linkage/" not in run["message"]  # no server path


@pytest.mark.parametrize(
    ("kind", "files", "status", "words"),
    [
        ("encode", [], 422, "one file"),
        ("match_encoded", [("a.parquet", b"x")], 422, "two encoded files"),
        ("match_encoded", [("a.csv", b"a\n1\n"), ("b.csv", b"a\n1\n")], 422, "Parquet"),
        ("dedupe", [("a.csv", b"a\n1\n")], 422, "encode or match_encoded"),
    ],
)
def test_bad_requests_are_refused_at_once(
    api: Client, key_text: str, kind: str, files: list[tuple[str, bytes]], status: int, words: str
) -> None:
    response = start(api, kind, *[upload(content, name) for name, content in files])
    assert response.status_code == status
    assert words in response.json()["error"]["message"]
    assert not LinkageRun.objects.exists()


@pytest.mark.parametrize("role", [Role.RECEPTION_OFFICER, Role.REGIONAL_ANALYST])
def test_only_administrators_run_private_linkage(
    make_user: Callable[..., User], countries: Countries, key_text: str, role: str
) -> None:
    user = make_user(
        username=f"user.{role}", role=role, country=None if "regional" in role else "HN"
    )
    data = {"kind": "encode", "file": csv_upload(countries[0].head(10), "hn.csv")}
    forbidden = token_client(user).post(PRIVATE_RUNS, data)
    assert forbidden.status_code == 403
    assert forbidden.json()["error"]["code"] == "permission_denied"
    data["file"] = csv_upload(countries[0].head(10), "hn.csv")
    assert Client().post(PRIVATE_RUNS, data).status_code == 401
    assert not LinkageRun.objects.exists()


def test_the_key_is_nowhere_in_the_run_the_task_the_audit_the_results_or_the_logs(
    api: Client,
    countries: Countries,
    key_text: str,
    data_dir: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    encode_run, hn = encode_through_api(api, countries[0], "hn.csv")
    _, gt = encode_through_api(api, countries[1], "gt.csv")
    response = start(api, "match_encoded", upload(hn, "hn.parquet"), upload(gt, "gt.parquet"))
    match_run = finished(api, response.json()["id"])
    assert match_run["status"] == "done", match_run["message"]

    secret = bytes.fromhex(key_text)
    forms = [key_text.lower(), key_text.upper()]
    assert LinkageRun.objects.count() == 3
    for row in LinkageRun.objects.values():
        assert not any(form in str(row) for form in forms)
    tasks = list(DBTaskResult.objects.values())
    assert len(tasks) == 3
    for task in tasks:
        assert task["args_kwargs"] == {"args": [str(task["args_kwargs"]["args"][0])], "kwargs": {}}
        assert not any(form in str(task) for form in forms)
    for entry in AuditEntry.objects.values():
        assert not any(form in str(entry) for form in forms)
    written = [path for path in data_dir.rglob("*") if path.is_file()]
    assert any(path.name == "encoded.parquet" for path in written)
    assert any(path.name == "pairs.parquet" for path in written)
    for path in written:
        content = path.read_bytes()
        assert secret not in content
        assert key_text.lower().encode() not in content.lower()
    for run in (encode_run, match_run):
        assert not any(form in str(run) for form in forms)
    assert not any(form in record.getMessage() for record in caplog.records for form in forms)
