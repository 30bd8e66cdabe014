"""Reading and checking the passenger rows of a manifest, from a CSV or XLSX file or from the
API, so that both paths give the same errors.

A column mapping says which column holds which field: `{"given_names": "Nombres", ...}`;
fields it leaves out are read from a column of the field's own name. Every problem is an
`RowError` naming file, sheet, row, column, field, value and reason. Rows are numbered as a
spreadsheet shows them (the header is row 1); rows sent through the API by their position,
from 1.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass

from django.utils.translation import gettext as _

from mirador.people.services import birth_date_errors
from mirador.returns.matching import normalise_document, normalise_name

FIELDS = (
    "given_names",
    "first_surname",
    "second_surname",
    "birth_date",
    "sex",
    "nationality",
    "document_number",
)
REQUIRED_FIELDS = ("given_names", "first_surname", "birth_date", "sex", "nationality")
MAX_LENGTHS = {
    "given_names": 120,
    "first_surname": 80,
    "second_surname": 80,
    "document_number": 60,
}
SEX_CODES = {
    "F": "F",
    "FEMALE": "F",
    "FEMENINO": "F",
    "MUJER": "F",
    "M": "M",
    "MALE": "M",
    "MASCULINO": "M",
    "HOMBRE": "M",
    "X": "X",
    "U": "U",
}
_ISO_DATE = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")
_DAY_FIRST_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")

XLSX_SIGNATURE = b"PK\x03\x04"


@dataclass(frozen=True)
class RowError:
    file: str
    sheet: str
    row: int
    column: str
    field: str
    value: str
    reason: str

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class PassengerRow:
    row_number: int
    given_names: str
    first_surname: str
    second_surname: str
    birth_year: int | None
    birth_month: int | None
    birth_day: int | None
    sex: str
    nationality: str | None  # ISO alpha-2
    document_number: str


@dataclass
class RawRow:
    """The cells of one row, by field, as read."""

    row_number: int
    values: dict[str, object]


@dataclass
class RawTable:
    file: str
    sheet: str
    columns: dict[str, str]  # field -> column name as the file names it
    rows: list[RawRow]
    errors: list[RowError]


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def read_table(
    *, file_name: str, content: bytes, mapping: Mapping[str, str] | None = None
) -> RawTable:
    """The rows of the first sheet of an XLSX file, or of a CSV file (UTF-8, with or without
    BOM, or Latin-1; comma or semicolon), keyed by field through `mapping`."""
    mapping = dict(mapping or {})
    errors: list[RowError] = []
    unknown = sorted(set(mapping) - set(FIELDS))
    for field in unknown:
        errors.append(
            RowError(file_name, "", 1, mapping[field], field, field, _("Not a manifest field."))
        )
    sheet = ""
    if content.startswith(XLSX_SIGNATURE):
        sheet, records = _xlsx_records(content)
    else:
        records = _csv_records(content)
    header = [_text(cell).strip() for cell in (records[0] if records else [])]
    columns = {field: mapping.get(field, field) for field in FIELDS}
    position: dict[str, int] = {}
    for field, column in columns.items():
        if column in header:
            position[field] = header.index(column)
        elif field in REQUIRED_FIELDS:
            errors.append(
                RowError(
                    file_name,
                    sheet,
                    1,
                    column,
                    field,
                    "",
                    _("Missing column: the header has no column named “%(column)s”.")
                    % {"column": column},
                )
            )
    rows: list[RawRow] = []
    for index, record in enumerate(records[1:], start=2):
        if not any(_text(cell).strip() for cell in record):
            continue
        values = {
            field: (record[place] if place < len(record) else None)
            for field, place in position.items()
        }
        rows.append(RawRow(row_number=index, values=values))
    if not records:
        errors.append(RowError(file_name, sheet, 1, "", "", "", _("The file is empty.")))
    return RawTable(file=file_name, sheet=sheet, columns=columns, rows=rows, errors=errors)


def _csv_records(content: bytes) -> list[list[object]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = content.decode("latin-1")
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    return [list(row) for row in csv.reader(io.StringIO(text), delimiter=delimiter)]


def _xlsx_records(content: bytes) -> tuple[str, list[list[object]]]:
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    try:
        worksheet = workbook.worksheets[0]
        return worksheet.title, [list(row) for row in worksheet.iter_rows(values_only=True)]
    finally:
        workbook.close()


def _parse_birth_date(value: object) -> tuple[int | None, int | None, int | None] | None:
    """(year, month, day), any of them unknown; None when the value is not a date."""
    if isinstance(value, datetime.datetime):
        return value.year, value.month, value.day
    if isinstance(value, datetime.date):
        return value.year, value.month, value.day
    text = _text(value).strip()
    if not text:
        return (None, None, None)
    iso = _ISO_DATE.match(text)
    if iso:
        year, month, day = iso.groups()
        return int(year), int(month) if month else None, int(day) if day else None
    day_first = _DAY_FIRST_DATE.match(text)
    if day_first:
        day, month, year = day_first.groups()
        return int(year), int(month), int(day)
    return None


def check_rows(
    table: RawTable, *, countries: Mapping[str, str]
) -> tuple[list[PassengerRow], list[RowError]]:
    """Valid passengers and the errors of the others; `countries` maps alpha-2 and alpha-3
    codes (upper case) to alpha-2. A row whose person already appears in an earlier row (same
    document number, or same names and date of birth) is an error naming that row."""
    passengers: list[PassengerRow] = []
    errors: list[RowError] = list(table.errors)
    seen_documents: dict[str, int] = {}
    seen_people: dict[tuple[object, ...], int] = {}

    for raw in table.rows:
        row_errors: list[RowError] = []

        def fail(
            field: str,
            value: object,
            reason: str,
            raw: RawRow = raw,
            row_errors: list[RowError] = row_errors,
        ) -> None:
            row_errors.append(
                RowError(
                    table.file,
                    table.sheet,
                    raw.row_number,
                    table.columns.get(field, field),
                    field,
                    _text(value),
                    reason,
                )
            )

        values = raw.values
        texts = {field: _text(values.get(field)).strip() for field in FIELDS}
        for field in REQUIRED_FIELDS:
            if field in values and not texts[field]:
                fail(field, "", _("This value is required."))
        for field, limit in MAX_LENGTHS.items():
            if len(texts[field]) > limit:
                fail(
                    field,
                    texts[field],
                    _("Longer than %(limit)s characters.") % {"limit": limit},
                )
        birth = _parse_birth_date(values.get("birth_date"))
        year = month = day = None
        if birth is None:
            fail(
                "birth_date",
                values.get("birth_date"),
                _("Not a date: write YYYY-MM-DD, YYYY-MM, YYYY or DD/MM/YYYY."),
            )
        elif texts["birth_date"]:
            year, month, day = birth
            for messages in birth_date_errors(year=year, month=month, day=day).values():
                for message in messages:
                    fail("birth_date", values.get("birth_date"), message)
        sex = SEX_CODES.get(texts["sex"].upper()) if texts["sex"] else None
        if texts["sex"] and sex is None:
            fail("sex", texts["sex"], _("Unknown sex: use F, M, X or U."))
        nationality = None
        if texts["nationality"]:
            nationality = countries.get(texts["nationality"].upper())
            if nationality is None:
                fail(
                    "nationality",
                    texts["nationality"],
                    _("Unknown country code: use ISO 3166 alpha-2 or alpha-3."),
                )
        document = normalise_document(texts["document_number"])
        if document and document in seen_documents:
            fail(
                "document_number",
                texts["document_number"],
                _("Duplicated person: the same document number is on row %(row)s.")
                % {"row": seen_documents[document]},
            )
        person_key = (
            normalise_name(texts["given_names"]),
            normalise_name(texts["first_surname"]),
            normalise_name(texts["second_surname"]),
            year,
            month,
            day,
        )
        if person_key in seen_people and not row_errors:
            fail(
                "given_names",
                texts["given_names"],
                _("Duplicated person: the same names and date of birth are on row %(row)s.")
                % {"row": seen_people[person_key]},
            )
        if row_errors:
            errors.extend(row_errors)
            continue
        if document:
            seen_documents[document] = raw.row_number
        seen_people[person_key] = raw.row_number
        # Names are stored exactly as written (accents, apostrophes, hyphens, any script),
        # only the surrounding spaces removed.
        passengers.append(
            PassengerRow(
                row_number=raw.row_number,
                given_names=_text(values.get("given_names")).strip(),
                first_surname=_text(values.get("first_surname")).strip(),
                second_surname=_text(values.get("second_surname")).strip(),
                birth_year=year,
                birth_month=month,
                birth_day=day,
                sex=sex or "U",
                nationality=nationality,
                document_number=texts["document_number"],
            )
        )
    return passengers, errors


def rows_from_records(
    records: Iterable[Mapping[str, object]], *, file_name: str = "api"
) -> RawTable:
    """The passenger rows sent through the API, numbered from 1, checked like a file's."""
    rows = [
        RawRow(row_number=index, values={field: record.get(field) for field in FIELDS})
        for index, record in enumerate(records, start=1)
    ]
    return RawTable(
        file=file_name,
        sheet="",
        columns={field: f"passengers.{field}" for field in FIELDS},
        rows=rows,
        errors=[],
    )


def set_aside_csv(rows: list[dict[str, object]]) -> str:
    """The rows set aside at import, with what was wrong, as CSV for correction."""
    output = io.StringIO()
    writer = csv.writer(output)
    writer.writerow(["row", *FIELDS, "errors"])
    for row in rows:
        values = row.get("values")
        if not isinstance(values, dict):
            values = {}
        writer.writerow(
            [row.get("row"), *(values.get(field, "") for field in FIELDS), row.get("errors")]
        )
    return output.getvalue()
