"""An interrupted import leaves nothing behind: `mirador import` killed, or its database
connection cut, once it has written every row of a large file but before it commits, stores no
batch, no observation and no table, as the whole import is one transaction.

PostgreSQL only. A large import writes its figures into a table of its own, then attaches it to
flows_seriesvalue as a partition (flows.storage), which waits for a lock this test holds: the
import is caught there, every row written, always (no race with a fast import). The command
runs in a child process against the test database, which is why these tests commit
(transaction=True): the child sees only committed reference data.
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
from contextlib import contextmanager
from pathlib import Path
from subprocess import Popen
from urllib.parse import quote

import pycountry
import pytest
from django.db import connection, transaction

from mirador.flows.country_names import resolve_country
from mirador.flows.models import ImportBatch, Observation, Series
from mirador.flows.storage import PARTITION_ROWS
from mirador.flows.tests.test_import_cbp import CBP_SAMPLE, FORMAT

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="PostgreSQL only: a large import attaches a partition, found in pg_stat_activity",
    ),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

MIRADOR = Path(sys.executable).with_name("mirador")
# Rows of the generated file: more than an import writes into the shared partition.
ROWS = PARTITION_ROWS + 20_000
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


@contextmanager
def attaching_held_up() -> Iterator[None]:
    """Hold the lock that attaching a partition to flows_seriesvalue waits for, until the
    block ends (its transaction commits)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("LOCK TABLE flows_seriesvalue IN SHARE UPDATE EXCLUSIVE MODE")
        yield


def attaching_backend(child: Popen[str]) -> int:
    """The process id of the PostgreSQL backend of the child's import, once it waits to
    attach its partition: every row is written, nothing committed."""
    deadline = time.monotonic() + WAIT_SECONDS
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            assert child.poll() is None, "the import ended before it could be interrupted"
            # Within a transaction (the lock's), pg_stat_activity is read once and kept: read
            # it afresh each time.
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                """
                SELECT pid FROM pg_stat_activity
                WHERE datname = current_database() AND pid <> pg_backend_pid()
                  AND wait_event_type = 'Lock' AND query ILIKE '%%ATTACH PARTITION%%'
                """
            )
            found = cursor.fetchone()
            if found is not None:
                return int(found[0])
            time.sleep(0.05)
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT state, wait_event_type, wait_event, left(query, 120) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        sessions = cursor.fetchall()
    raise AssertionError(f"the import did not reach its last step in time: {sessions}")


def partitions() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname FROM pg_class WHERE relname LIKE 'flows\\_seriesvalue\\_%%'")
        return {name for (name,) in cursor.fetchall()}


def wait_until_gone(backend: int) -> None:
    """Wait for the backend to end, so that its transaction has been rolled back."""
    deadline = time.monotonic() + WAIT_SECONDS
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [backend])
            if cursor.fetchone() is None:
                return
            time.sleep(0.05)
    raise AssertionError("the interrupted import's database session did not end")


def test_a_killed_import_leaves_no_batch_and_no_observation(
    large_file: Path, tmp_path: Path, started: list[Popen[str]]
) -> None:
    before = partitions()
    with attaching_held_up():
        child = start(large_file, tmp_path)
        started.append(child)
        backend = attaching_backend(child)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=WAIT_SECONDS)
    wait_until_gone(backend)
    assert child.returncode == -signal.SIGKILL
    assert not ImportBatch.objects.exists()
    assert not Observation.objects.exists() and not Series.objects.exists()
    assert partitions() == before


def command_lines(err: str) -> list[str]:
    """The lines of stderr that are not log records (a record's message may go on over lines
    indented with a tab, as libpq's do: "...unexpectedly\n\tThis probably means ...")."""
    lines: list[str] = []
    in_record = False
    for line in err.strip().splitlines():
        if LOG_RECORD.match(line):
            in_record = True
        elif not (in_record and line.startswith("\t")):
            in_record = False
            lines.append(line)
    return lines


def cut_the_connection(path: Path, data_dir: Path, started: list[Popen[str]]) -> Popen[str]:
    """Start an import, end its database session (pg_terminate_backend) once it has written
    every row, and wait until both the command and the session have ended."""
    with attaching_held_up():
        child = start(path, data_dir)
        started.append(child)
        backend = attaching_backend(child)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [backend])
        child.wait(timeout=WAIT_SECONDS)
    wait_until_gone(backend)
    return child


def test_a_lost_connection_leaves_no_batch_and_no_observation(
    large_file: Path, tmp_path: Path, started: list[Popen[str]]
) -> None:
    before = partitions()
    child = cut_the_connection(large_file, tmp_path, started)
    assert child.returncode != 0
    assert not ImportBatch.objects.exists()
    assert not Observation.objects.exists() and not Series.objects.exists()
    assert partitions() == before


def test_a_lost_connection_is_told_in_one_line(
    large_file: Path, tmp_path: Path, started: list[Popen[str]]
) -> None:
    child = cut_the_connection(large_file, tmp_path, started)
    assert child.stderr is not None
    err = child.stderr.read()
    assert "Traceback" not in err, err[-3000:]
    # Library log records are not the command's message; the message itself is one line.
    message = command_lines(err)
    assert len(message) == 1, message[-5:]
    assert message[0].startswith("mirador") and "database" in message[0]
