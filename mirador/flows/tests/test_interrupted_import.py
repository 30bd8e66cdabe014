"""An interrupted import leaves nothing behind: `mirador import` killed while it writes, or its
database connection cut mid-COPY, stores no batch and no observation, as the whole import is
one transaction.

PostgreSQL only: the import writes there with COPY, and the tests find the importing backend
in pg_stat_activity. The command runs in a child process against the test database, which is
why these tests commit (transaction=True): the child sees only committed reference data.
"""

from __future__ import annotations

import csv
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from subprocess import Popen
from urllib.parse import quote

import pycountry
import pytest
from django.db import connection

from mirador.flows.country_names import resolve_country
from mirador.flows.models import ImportBatch, Observation
from mirador.flows.tests.test_import_cbp import CBP_SAMPLE, FORMAT

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="PostgreSQL only: the import writes with COPY, found in pg_stat_activity",
    ),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

MIRADOR = Path(sys.executable).with_name("mirador")
# Rows of the generated file: far more than are written before the test interrupts the import
# (it would take a minute to import), so that the import is always caught writing.
ROWS = 400_000
# Observations the COPY must have taken before the test interrupts it.
WRITTEN_BEFORE_INTERRUPTING = 20_000
WAIT_SECONDS = 60
# A line the logging configuration writes: "2026-11-23 13:26:20,607 WARNING psycopg ...".
LOG_RECORD = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ [A-Z]+ ")


def write_large_cbp_file(path: Path, rows: int) -> None:
    """A CBP-format file of `rows` distinct rows: the sample's Mexican rows for every country
    (by its ISO name), repeated four fiscal years earlier as often as needed."""
    with CBP_SAMPLE.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        citizenship_at = header.index("Citizenship Grouping")
        year_at = header.index("Fiscal Year")
        mexican = [row for row in reader if row[citizenship_at] == "Mexico"]
    names = [c.name for c in pycountry.countries if resolve_country(c.name) == c.alpha_2]
    written = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        shift = 0
        while written < rows:
            for name in names:
                for row in mexican:
                    moved = list(row)
                    moved[citizenship_at] = name
                    moved[year_at] = str(int(row[year_at][:4]) - shift)
                    writer.writerow(moved)
                    written += 1
                    if written == rows:
                        return
            shift += 4


@pytest.fixture
def large_file(tmp_path: Path) -> Path:
    path = tmp_path / "encounters-large.csv"
    write_large_cbp_file(path, ROWS)
    return path


def the_test_database_url() -> str:
    """The test database pytest-django created, as MIRADOR_DATABASE_URL."""
    settings = connection.settings_dict
    credentials = quote(settings["USER"] or "", safe="")
    if settings["PASSWORD"]:
        credentials += ":" + quote(settings["PASSWORD"], safe="")
    host = settings["HOST"] or "127.0.0.1"
    port = settings["PORT"] or "5432"
    return f"postgresql://{credentials}@{host}:{port}/{settings['NAME']}"


@pytest.fixture
def started() -> Iterator[list[Popen[str]]]:
    children: list[Popen[str]] = []
    yield children
    for child in children:  # never leave an import running into the next test
        if child.poll() is None:
            child.kill()
            child.wait()


def start(path: Path, data_dir: Path) -> Popen[str]:
    environment = {
        **os.environ,
        "MIRADOR_DATABASE_URL": the_test_database_url(),
        "MIRADOR_DATA_DIR": str(data_dir),
        "MIRADOR_LANGUAGE": "en",
    }
    return Popen(  # noqa: S603 (our own command)
        [str(MIRADOR), "import", FORMAT, str(path)],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def copying_backend(child: Popen[str]) -> int:
    """The process id of the PostgreSQL backend running the child's COPY, once the COPY has
    taken WRITTEN_BEFORE_INTERRUPTING rows."""
    deadline = time.monotonic() + WAIT_SECONDS
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            assert child.poll() is None, "the import ended before it could be interrupted"
            cursor.execute(
                """
                SELECT activity.pid, progress.tuples_processed
                FROM pg_stat_activity activity
                JOIN pg_stat_progress_copy progress ON progress.pid = activity.pid
                WHERE activity.datname = current_database()
                  AND activity.pid <> pg_backend_pid()
                  AND activity.query ILIKE 'COPY %%'
                """
            )
            found = cursor.fetchone()
            if found is not None and found[1] >= WRITTEN_BEFORE_INTERRUPTING:
                return int(found[0])
            time.sleep(0.05)
    raise AssertionError("the import did not start writing in time")


def wait_until_gone(backend: int) -> None:
    """Wait for the backend to end, so that its transaction has been rolled back."""
    deadline = time.monotonic() + WAIT_SECONDS
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [backend])
            if cursor.fetchone() is None:
                return
            time.sleep(0.05)
    raise AssertionError("the interrupted import's database session did not end")


def test_a_killed_import_leaves_no_batch_and_no_observation(
    large_file: Path, tmp_path: Path, started: list[Popen[str]]
) -> None:
    child = start(large_file, tmp_path)
    started.append(child)
    backend = copying_backend(child)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=WAIT_SECONDS)
    wait_until_gone(backend)
    assert child.returncode == -signal.SIGKILL
    assert not ImportBatch.objects.exists()
    assert not Observation.objects.exists()


def cut_the_connection_mid_copy(
    path: Path, data_dir: Path, started: list[Popen[str]]
) -> Popen[str]:
    """Start an import, end its database session (pg_terminate_backend) while it is writing,
    and wait until both the command and the session have ended."""
    child = start(path, data_dir)
    started.append(child)
    backend = copying_backend(child)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [backend])
    child.wait(timeout=WAIT_SECONDS)
    wait_until_gone(backend)
    return child


def test_a_lost_connection_leaves_no_batch_and_no_observation(
    large_file: Path, tmp_path: Path, started: list[Popen[str]]
) -> None:
    child = cut_the_connection_mid_copy(large_file, tmp_path, started)
    assert child.returncode != 0
    assert not ImportBatch.objects.exists()
    assert not Observation.objects.exists()


def test_a_lost_connection_is_told_in_one_line(
    large_file: Path, tmp_path: Path, started: list[Popen[str]]
) -> None:
    child = cut_the_connection_mid_copy(large_file, tmp_path, started)
    assert child.stderr is not None
    err = child.stderr.read()
    assert "Traceback" not in err, err[-3000:]
    # Library log records (psycopg warns that it could not end the COPY) are not the
    # command's message; the message itself is one line.
    message = [line for line in err.strip().splitlines() if not LOG_RECORD.match(line)]
    assert len(message) == 1, message[-5:]
    assert message[0].startswith("mirador") and "database" in message[0]
