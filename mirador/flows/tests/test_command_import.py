"""`mirador import FORMAT FILE`: a summary, or the first problems and the full list as CSV."""

from __future__ import annotations

import csv
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from mirador.flows.models import Observation
from mirador.flows.tests.test_import_bad_input import HEADER, ROWS, write
from mirador.flows.tests.test_import_cbp import CBP_SAMPLE, sample_rows

pytestmark = pytest.mark.django_db
FORMAT = "cbp-sbo-encounters"


def run(*args: str) -> str:
    out = StringIO()
    call_command("import", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_importing_the_sample_prints_a_summary() -> None:
    output = run(FORMAT, str(CBP_SAMPLE))
    assert f"{len(sample_rows())} observations stored" in output
    assert Observation.objects.count() == len(sample_rows())


def test_a_second_import_of_the_same_file_says_nothing_changed() -> None:
    run(FORMAT, str(CBP_SAMPLE))
    assert "nothing changed" in run(FORMAT, str(CBP_SAMPLE))


def test_a_dry_run_stores_nothing() -> None:
    assert "dry run" in run(FORMAT, str(CBP_SAMPLE), "--dry-run")
    assert not Observation.objects.exists()


def test_a_bad_file_prints_its_problems_and_writes_them_as_csv(tmp_path: Path) -> None:
    path = write(tmp_path, [HEADER, ROWS[0].replace("Honduras", "Atlantis"), *ROWS[1:]])
    errors_csv = tmp_path / "errors.csv"
    err = StringIO()
    with pytest.raises(CommandError, match="nothing stored"):
        call_command("import", FORMAT, str(path), "--errors-csv", str(errors_csv), stderr=err)
    assert "row 2" in err.getvalue() and "Atlantis" in err.getvalue()
    with errors_csv.open(encoding="utf-8", newline="") as handle:
        issues = list(csv.DictReader(handle))
    assert [(issue["row"], issue["column"], issue["value"]) for issue in issues] == [
        ("2", "Citizenship Grouping", "Atlantis")
    ]
    assert not Observation.objects.exists()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ((FORMAT, "/nowhere/file.csv"), "does not exist"),
        (("no-such-format", str(CBP_SAMPLE)), "There is no import format"),
    ],
)
def test_unreadable_input_is_one_line(arguments: tuple[str, str], message: str) -> None:
    with pytest.raises(CommandError, match=message) as error:
        run(*arguments)
    assert "\n" not in str(error.value)
