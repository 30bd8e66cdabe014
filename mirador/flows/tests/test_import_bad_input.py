"""Files that cannot be stored as they are: nothing is stored, and the report names file, row,
column, value and reason. And files that differ from the sample but are fine (encodings,
delimiters, totals rows) import."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from mirador.flows.engine import ImportFileError, UnknownFormatError
from mirador.flows.models import BatchStatus, ImportBatch, Observation
from mirador.flows.services import ImportOutcome, ImportReport, batch_import

pytestmark = pytest.mark.django_db

FORMAT = "cbp-sbo-encounters"
HEADER = (
    "Fiscal Year,Month Grouping,Month (abbv),Component,Demographic,Citizenship Grouping,"
    "Title of Authority,Encounter Type,Encounter Count"
)
ROWS = [
    "2023,FYTD,OCT,U.S. Border Patrol,Single Adults,Honduras,Title 8,Apprehensions,120",
    "2023,FYTD,OCT,U.S. Border Patrol,UAC,Guatemala,Title 8,Apprehensions,45",
    "2025 (FYTD),FYTD,JAN,Office of Field Operations,FMUA,Other,Title 8,Inadmissibles,7",
]


def write(tmp_path: Path, lines: list[str], *, name: str = "cbp.csv", **encode: str) -> Path:
    path = tmp_path / name
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(**encode))
    return path


def import_lines(tmp_path: Path, lines: list[str], **encode: str) -> ImportReport:
    return batch_import(actor=None, format_code=FORMAT, path=write(tmp_path, lines, **encode))


def assert_nothing_stored(report: ImportReport) -> None:
    assert report.outcome == ImportOutcome.FAILED
    assert not Observation.objects.exists()
    assert not ImportBatch.objects.filter(status=BatchStatus.IMPORTED).exists()


def only_issue(report: ImportReport) -> tuple[str, int | None, str, str, str]:
    assert len(report.issues) == 1, report.issues
    issue = report.issues[0]
    return issue.file, issue.row, issue.column, issue.value, issue.reason


def test_a_valid_small_file_imports(tmp_path: Path) -> None:
    report = import_lines(tmp_path, [HEADER, *ROWS])
    assert report.outcome == ImportOutcome.IMPORTED
    assert Observation.objects.count() == 3
    assert Observation.objects.get(source_row=4).citizenship == "_O"


def test_an_unknown_citizenship_stores_nothing_and_names_the_cell(tmp_path: Path) -> None:
    bad = ROWS[1].replace("Guatemala", "Atlantis")
    report = import_lines(tmp_path, [HEADER, ROWS[0], bad, ROWS[2]])
    assert_nothing_stored(report)
    file, row, column, value, reason = only_issue(report)
    assert (file, row, column, value) == ("cbp.csv", 3, "Citizenship Grouping", "Atlantis")
    assert "country" in reason


def test_a_negative_count_stores_nothing(tmp_path: Path) -> None:
    report = import_lines(tmp_path, [HEADER, ROWS[0].replace(",120", ",-120")])
    assert_nothing_stored(report)
    _file, row, column, value, reason = only_issue(report)
    assert (row, column, value) == (2, "Encounter Count", "-120")
    assert "negative" in reason


def test_a_non_numeric_count_stores_nothing(tmp_path: Path) -> None:
    report = import_lines(tmp_path, [HEADER, *ROWS[:2], ROWS[2].replace(",7", ",seven")])
    assert_nothing_stored(report)
    _file, row, column, value, reason = only_issue(report)
    assert (row, column, value) == (4, "Encounter Count", "seven")
    assert "whole number" in reason


def test_a_missing_column_stores_nothing_and_names_it(tmp_path: Path) -> None:
    header = HEADER.replace(",Encounter Type", "")
    rows = [row.replace(",Apprehensions", "").replace(",Inadmissibles", "") for row in ROWS]
    report = import_lines(tmp_path, [header, *rows])
    assert_nothing_stored(report)
    _file, row, column, value, reason = only_issue(report)
    assert (row, column, value) == (1, "Encounter Type", "")
    assert "missing" in reason


def test_a_duplicated_coordinate_stores_nothing(tmp_path: Path) -> None:
    again = ROWS[0].replace(",120", ",3")
    report = import_lines(tmp_path, [HEADER, *ROWS, again])
    assert_nothing_stored(report)
    _file, row, _column, value, reason = only_issue(report)
    assert row == 5
    assert "2022-10" in value and "citizenship=HN" in value
    assert "Duplicated coordinate" in reason and "row 2" in reason


def test_a_failed_import_keeps_its_error_report_on_a_failed_batch(tmp_path: Path) -> None:
    report = import_lines(tmp_path, [HEADER, ROWS[0].replace(",120", ",x")])
    batch = ImportBatch.objects.get()
    assert batch == report.batch
    assert batch.status == BatchStatus.FAILED
    assert batch.error_count == 1
    assert batch.error_report[0]["value"] == "x"


def test_every_bad_row_is_reported_not_only_the_first(tmp_path: Path) -> None:
    rows = [row.replace("Title 8", "Title 99") for row in ROWS]
    report = import_lines(tmp_path, [HEADER, *rows])
    assert_nothing_stored(report)
    assert [issue.row for issue in report.issues] == [2, 3, 4]


def test_an_empty_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(ImportFileError, match="empty"):
        batch_import(actor=None, format_code=FORMAT, path=path)
    assert not ImportBatch.objects.exists()


def test_a_file_with_only_blank_lines_has_no_header(tmp_path: Path) -> None:
    report = import_lines(tmp_path, ["", ""])
    assert_nothing_stored(report)
    assert "header" in only_issue(report)[4]


def test_a_binary_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "picture.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    with pytest.raises(ImportFileError, match="binary"):
        batch_import(actor=None, format_code=FORMAT, path=path)


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ImportFileError, match="does not exist"):
        batch_import(actor=None, format_code=FORMAT, path=tmp_path / "nowhere.csv")


def test_an_unknown_format_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UnknownFormatError, match="cbp-sbo-encounters"):
        batch_import(actor=None, format_code="cbp-typo", path=write(tmp_path, [HEADER]))


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "latin-1", "utf-16"])
def test_the_usual_encodings_are_recognised(tmp_path: Path, encoding: str) -> None:
    rows = [ROWS[0].replace("Honduras", "Perú"), *ROWS[1:]]
    report = import_lines(tmp_path, [HEADER, *rows], encoding=encoding)
    assert report.outcome == ImportOutcome.IMPORTED, report.issues
    assert Observation.objects.filter(citizenship="PE").count() == 1


def test_a_byte_order_mark_does_not_hide_the_first_column(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes(codecs.BOM_UTF8 + "\n".join([HEADER, *ROWS]).encode())
    report = batch_import(actor=None, format_code=FORMAT, path=path)
    assert report.outcome == ImportOutcome.IMPORTED, report.issues


def test_semicolons_are_recognised_as_the_delimiter(tmp_path: Path) -> None:
    lines = [line.replace(",", ";") for line in [HEADER, *ROWS]]
    report = import_lines(tmp_path, lines)
    assert report.outcome == ImportOutcome.IMPORTED, report.issues
    assert report.result.delimiter == ";"


def test_a_totals_row_is_left_out(tmp_path: Path) -> None:
    total = "2023,FYTD,Total,,,,,,172"
    report = import_lines(tmp_path, [HEADER, *ROWS, total])
    assert report.outcome == ImportOutcome.IMPORTED, report.issues
    assert report.result.rows_dropped == 1
    assert Observation.objects.count() == 3


def test_a_mapping_that_does_not_fit_its_dataset_is_refused(tmp_path: Path) -> None:
    shipped = Path(__file__).resolve().parents[1] / "formats" / "cbp_sbo_encounters.toml"
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(shipped.read_text().replace('reporting_country = "US"', 'sex = "F"'))
    with pytest.raises(Exception, match="does not fit the dataset border-encounters"):
        batch_import(
            actor=None, format_code=FORMAT, path=write(tmp_path, [HEADER]), mapping_path=mapping
        )
