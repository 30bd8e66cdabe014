"""Mirador refuses a wrong configuration or a wrong command in one sentence that says what to
do, exits non-zero and leaves nothing behind; its health check, API schema and API docs are
served as operators and client programs expect."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

LONG_SECRET = "s" * 64
PRODUCTION = {
    "MIRADOR_MODE": "production",
    "MIRADOR_SECRET_KEY": LONG_SECRET,
    "MIRADOR_ALLOWED_HOSTS": "mirador.example.org",
    "MIRADOR_DATABASE_URL": "postgresql://mirador@127.0.0.1:5432/mirador",
}


def mirador(*arguments: str, data_dir: Path, **variables: str) -> subprocess.CompletedProcess[str]:
    """Run the `mirador` command in a fresh process with only the given MIRADOR_* variables."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("MIRADOR_", "DJANGO_"))
    }
    environment.update(MIRADOR_DATA_DIR=str(data_dir), **variables)
    return subprocess.run(  # noqa: S603 (our own command)
        [sys.executable, "-m", "mirador.cli", *arguments],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def assert_refused_in_one_sentence(
    result: subprocess.CompletedProcess[str], *, mentions: str
) -> None:
    message = result.stderr.strip()
    assert result.returncode != 0
    assert len(message.splitlines()) == 1, f"expected one line on stderr, got:\n{message}"
    assert message.startswith("mirador"), message
    assert message.endswith("."), message
    assert mentions in message, message
    assert "Traceback" not in message


def nothing_created_in(data_dir: Path) -> bool:
    return not data_dir.exists() or not any(data_dir.iterdir())


def test_a_fresh_demo_configuration_passes_the_checks(tmp_path: Path) -> None:
    result = mirador("check", data_dir=tmp_path / "data")
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("database_url", "mentions"),
    [
        ("mysql://mirador@127.0.0.1/mirador", "'mysql'"),
        ("not a database url", "MIRADOR_DATABASE_URL"),
        ("postgresql://postgres@127.0.0.1:5432/", "names no database"),
        ("postgresql://postgres@127.0.0.1:5432", "names no database"),
    ],
    ids=["unsupported-scheme", "no-scheme", "no-database-name", "no-path"],
)
def test_a_malformed_database_url_is_refused_and_nothing_is_created(
    tmp_path: Path, database_url: str, mentions: str
) -> None:
    data_dir = tmp_path / "data"
    result = mirador("check", data_dir=data_dir, MIRADOR_DATABASE_URL=database_url)
    assert_refused_in_one_sentence(result, mentions=mentions)
    assert nothing_created_in(data_dir)


def test_a_complete_production_configuration_passes_the_checks(tmp_path: Path) -> None:
    result = mirador("check", data_dir=tmp_path / "data", **PRODUCTION)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("missing", "mentions"),
    [
        ("MIRADOR_SECRET_KEY", "MIRADOR_SECRET_KEY is not set"),
        ("MIRADOR_ALLOWED_HOSTS", "MIRADOR_ALLOWED_HOSTS is not set"),
        ("MIRADOR_DATABASE_URL", "MIRADOR_DATABASE_URL is not set"),
    ],
)
def test_production_without_a_required_variable_is_refused(
    tmp_path: Path, missing: str, mentions: str
) -> None:
    data_dir = tmp_path / "data"
    variables = {name: value for name, value in PRODUCTION.items() if name != missing}
    result = mirador("check", data_dir=data_dir, **variables)
    assert_refused_in_one_sentence(result, mentions=mentions)
    assert nothing_created_in(data_dir)


def test_production_with_a_short_secret_key_is_refused(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    variables = {**PRODUCTION, "MIRADOR_SECRET_KEY": "too-short"}
    result = mirador("check", data_dir=data_dir, **variables)
    assert_refused_in_one_sentence(result, mentions="MIRADOR_SECRET_KEY is too short")
    assert nothing_created_in(data_dir)


def test_production_on_sqlite_is_refused(tmp_path: Path) -> None:
    variables = {**PRODUCTION, "MIRADOR_DATABASE_URL": f"sqlite:///{tmp_path}/mirador.sqlite3"}
    result = mirador("check", data_dir=tmp_path / "data", **variables)
    assert_refused_in_one_sentence(result, mentions="SQLite")


def test_an_unknown_mode_is_refused(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    result = mirador("check", data_dir=data_dir, MIRADOR_MODE="staging")
    assert_refused_in_one_sentence(result, mentions="MIRADOR_MODE='staging'")
    assert nothing_created_in(data_dir)


def test_a_debug_flag_that_is_not_yes_or_no_is_refused(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    result = mirador("check", data_dir=data_dir, MIRADOR_DEBUG="maybe")
    assert_refused_in_one_sentence(result, mentions="MIRADOR_DEBUG='maybe'")
    assert nothing_created_in(data_dir)


def test_the_time_zone_days_are_counted_in_is_read_from_the_environment(tmp_path: Path) -> None:
    result = mirador(
        "diffsettings", data_dir=tmp_path / "data", MIRADOR_TIME_ZONE="America/Tegucigalpa"
    )
    assert result.returncode == 0, result.stderr
    assert "TIME_ZONE = 'America/Tegucigalpa'" in result.stdout.splitlines()


def test_an_unknown_time_zone_is_refused(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    result = mirador("check", data_dir=data_dir, MIRADOR_TIME_ZONE="America/Tegucigalpita")
    assert_refused_in_one_sentence(result, mentions="MIRADOR_TIME_ZONE='America/Tegucigalpita'")
    assert nothing_created_in(data_dir)


def test_an_unknown_command_is_refused_with_a_pointer_to_the_list(tmp_path: Path) -> None:
    result = mirador("frobnicate", data_dir=tmp_path / "data")
    assert_refused_in_one_sentence(result, mentions="'frobnicate' is not a Mirador command")
    assert "mirador help" in result.stderr


def test_a_mistyped_command_gets_a_suggestion(tmp_path: Path) -> None:
    result = mirador("migrat", data_dir=tmp_path / "data")
    assert_refused_in_one_sentence(result, mentions="did you mean 'migrate'?")


def test_an_unknown_option_is_refused_with_a_pointer_to_the_help(tmp_path: Path) -> None:
    result = mirador("check", "--frobnicate", data_dir=tmp_path / "data")
    assert_refused_in_one_sentence(result, mentions="unrecognized arguments: --frobnicate")
    assert "mirador check --help" in result.stderr


def test_help_lists_mirador_commands(tmp_path: Path) -> None:
    result = mirador("help", data_dir=tmp_path / "data")
    assert result.returncode == 0
    assert "mirador demo" in result.stdout
    assert "migrate" in result.stdout


def closed_port() -> int:
    """A local TCP port on which nothing listens (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_database_that_does_not_answer_is_reported_in_one_sentence(tmp_path: Path) -> None:
    url = f"postgresql://postgres@127.0.0.1:{closed_port()}/mirador"
    result = mirador("migrate", data_dir=tmp_path / "data", MIRADOR_DATABASE_URL=url)
    assert_refused_in_one_sentence(result, mentions="the database did not answer")


@pytest.mark.django_db
def test_health_check_answers_200_when_the_database_is_reachable(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


HEALTH_CHECK_THROUGH_THE_STACK = """
import json, django
django.setup()
from django.test import Client
response = Client().get("/healthz", HTTP_HOST="localhost")
print(json.dumps({"status": response.status_code, "body": response.json()}))
"""


def test_health_check_answers_503_when_the_database_does_not_answer(tmp_path: Path) -> None:
    # A real PostgreSQL connection attempt to a port nobody listens on, through the whole
    # middleware stack, in a process of its own so this session's database is untouched.
    url = f"postgresql://postgres@127.0.0.1:{closed_port()}/mirador"
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("MIRADOR_", "DJANGO_"))
    }
    environment.update(
        DJANGO_SETTINGS_MODULE="mirador.settings",
        MIRADOR_DATA_DIR=str(tmp_path / "data"),
        MIRADOR_DATABASE_URL=url,
    )
    result = subprocess.run(  # noqa: S603 (our own interpreter)
        [sys.executable, "-c", HEALTH_CHECK_THROUGH_THE_STACK],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer == {"status": 503, "body": {"status": "unavailable", "database": "unreachable"}}


@pytest.mark.django_db
def test_openapi_schema_is_served_and_lists_the_token_endpoint(client: Client) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["info"]["title"] == "Mirador API"
    assert "post" in schema["paths"]["/api/v1/auth/token"]


@pytest.mark.django_db
def test_api_docs_render_from_local_static_files_without_any_cdn(client: Client) -> None:
    response = client.get("/api/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html.lower()
    assert "/api/v1/openapi.json" in html
    for outside in ("http://", "https://", "//cdn", "unpkg", "jsdelivr", "cdnjs"):
        assert outside not in html, f"/api/docs refers to {outside!r}"
    scripts = [part.split('"', 1)[0] for part in html.split('src="')[1:]]
    assert scripts, "no script found in /api/docs"
    for script in scripts:
        assert script.startswith("/static/"), script
        assert client.get(script).status_code == 200, f"{script} is not served"
