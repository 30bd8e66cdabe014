"""Manifests entered through the service or imported from CSV and XLSX files: stored
exactly, checked row by row, all or nothing unless the officer keeps the valid rows."""

from __future__ import annotations

import datetime
import io
from collections.abc import Callable
from typing import Any

import pytest
from openpyxl import Workbook

from mirador.accounts.models import User
from mirador.core.errors import PermissionDeniedError
from mirador.core.models import AuditEntry, Country, ReceptionCentre
from mirador.people.demo import generate_returnees
from mirador.returns.models import Manifest, ManifestPassenger
from mirador.returns.services import ManifestInvalidError, manifest_import
from mirador.returns.tests.conftest import PASSENGER_COLUMNS, csv_bytes, passenger, today_at

pytestmark = pytest.mark.django_db

HARD_NAMES = [
    passenger("José-María", "O'Brien", "Núñez", document_number="P-001"),
    passenger("Ngozi", "Ñáñez", "D'Ávila", document_number="P-002"),
    passenger("Владимир", "Петров", "", sex="M", nationality="MX", document_number="P-003"),
    passenger("阿明", "王", "", sex="M", nationality="US", birth_date="1998"),
]


def _import(users: dict[str, User], centre: ReceptionCentre, content: bytes, **extra: Any) -> Any:
    return manifest_import(
        actor=extra.pop("actor", users["officer.hn"]),
        centre=centre,
        sending_country=Country.objects.get(pk="US"),
        means="air",
        reference=extra.pop("reference", "AAL123"),
        expected_at=today_at(14),
        file_name=extra.pop("file_name", "manifest.csv"),
        content=content,
        **extra,
    )


def _errors(error: ManifestInvalidError) -> list[dict[str, Any]]:
    errors = error.details["errors"]
    assert isinstance(errors, list)
    return errors


def test_names_with_accents_apostrophes_hyphens_and_other_scripts_are_stored_exactly(
    users: dict[str, User], airport_hn: ReceptionCentre, make_manifest: Callable[..., Manifest]
) -> None:
    manifest = make_manifest(airport_hn, HARD_NAMES)

    stored = list(manifest.passengers.order_by("row_number"))
    assert [(p.given_names, p.first_surname, p.second_surname) for p in stored] == [
        (row["given_names"], row["first_surname"], row["second_surname"]) for row in HARD_NAMES
    ]
    assert (stored[3].birth_year, stored[3].birth_month) == (1998, None)
    assert stored[2].nationality_id == "MX"


def test_a_csv_manifest_with_a_column_mapping_is_imported_whole(
    users: dict[str, User], airport_hn: ReceptionCentre
) -> None:
    returnees = list(generate_returnees(40, seed=7))
    rows = [
        {
            "Nombres": r.person.given_names,
            "Primer apellido": r.person.first_surname,
            "Segundo apellido": r.person.second_surname,
            "Nacimiento": f"{r.person.birth_year}",
            "Sexo": r.person.sex,
            "Nacionalidad": r.person.nationality,
            "Pasaporte": r.person.passport,
        }
        for r in returnees
        if not r.is_repeat
    ]
    mapping = {
        "given_names": "Nombres",
        "first_surname": "Primer apellido",
        "second_surname": "Segundo apellido",
        "birth_date": "Nacimiento",
        "sex": "Sexo",
        "nationality": "Nacionalidad",
        "document_number": "Pasaporte",
    }
    content = csv_bytes(rows, columns=list(rows[0]))

    result = _import(users, airport_hn, content, mapping=mapping)

    assert result.stored == len(rows)
    stored = list(result.manifest.passengers.order_by("row_number"))
    assert [p.first_surname for p in stored] == [row["Primer apellido"] for row in rows]
    assert stored[0].row_number == 2  # the header is row 1, as a spreadsheet shows it
    assert AuditEntry.objects.filter(object_id=str(result.manifest.pk), action="create").exists()


def test_an_xlsx_manifest_is_read_with_its_dates(
    users: dict[str, User], airport_hn: ReceptionCentre
) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Pasajeros"
    sheet.append(list(PASSENGER_COLUMNS))
    sheet.append(["Ana Lucía", "Pérez", "Gómez", datetime.date(1991, 3, 5), "F", "HND", "X1"])
    sheet.append(["Luis", "Zelaya", "", "2001-11", "M", "HN", ""])
    buffer = io.BytesIO()
    workbook.save(buffer)

    result = _import(users, airport_hn, buffer.getvalue(), file_name="manifest.xlsx")

    first, second = result.manifest.passengers.order_by("row_number")
    assert (first.birth_year, first.birth_month, first.birth_day) == (1991, 3, 5)
    assert first.nationality_id == "HN"  # alpha-3 accepted
    assert (second.birth_year, second.birth_month, second.birth_day) == (2001, 11, None)


@pytest.mark.parametrize(
    ("bad_row", "field", "reason_part"),
    [
        (passenger("Rosa", "Mejía", birth_date="1990-13-05"), "birth_date", "month"),
        (passenger("Rosa", "Mejía", birth_date="12 de abril"), "birth_date", "Not a date"),
        (passenger("Rosa", "Mejía", nationality="ZZ"), "nationality", "Unknown country"),
        (passenger("Ana", "Pérez", document_number="P 1"), "document_number", "row 2"),
        (passenger("Ana", "Pérez"), "given_names", "row 2"),
    ],
    ids=["impossible-date", "malformed-date", "unknown-country", "same-document", "same-person"],
)
def test_a_bad_row_rejects_the_whole_file_naming_row_and_field(
    users: dict[str, User],
    airport_hn: ReceptionCentre,
    bad_row: dict[str, str],
    field: str,
    reason_part: str,
) -> None:
    rows = [passenger("Ana", "Pérez", document_number="P1"), passenger("Juan", "López"), bad_row]

    with pytest.raises(ManifestInvalidError) as raised:
        _import(users, airport_hn, csv_bytes(rows))

    errors = _errors(raised.value)
    assert [(e["row"], e["field"]) for e in errors] == [(4, field)]
    assert reason_part in errors[0]["reason"]
    assert errors[0]["file"] == "manifest.csv"
    assert Manifest.objects.count() == 0
    assert ManifestPassenger.objects.count() == 0


def test_a_missing_column_is_named_and_nothing_is_stored(
    users: dict[str, User], airport_hn: ReceptionCentre
) -> None:
    columns = [c for c in PASSENGER_COLUMNS if c != "nationality"]
    content = csv_bytes([passenger("Ana", "Pérez")], columns=columns)

    with pytest.raises(ManifestInvalidError) as raised:
        _import(users, airport_hn, content, keep_valid=True)

    (error,) = _errors(raised.value)
    assert (error["row"], error["field"], error["column"]) == (1, "nationality", "nationality")
    assert "Missing column" in error["reason"]
    assert Manifest.objects.count() == 0


def test_keep_valid_stores_the_valid_rows_and_sets_the_others_aside(
    users: dict[str, User], airport_hn: ReceptionCentre
) -> None:
    rows = [
        passenger("Ana", "Pérez"),
        passenger("Rosa", "Mejía", nationality="ZZ"),
        passenger("Juan", "López", birth_date="1990-02-30"),
        passenger("Marta", "Díaz"),
    ]

    result = _import(users, airport_hn, csv_bytes(rows), keep_valid=True)

    assert result.stored == 2
    assert [row["row"] for row in result.set_aside] == [3, 4]
    values = result.set_aside[0]["values"]
    assert isinstance(values, dict) and values["nationality"] == "ZZ"
    assert [p.given_names for p in result.manifest.passengers.order_by("row_number")] == [
        "Ana",
        "Marta",
    ]


def test_an_officer_of_another_country_may_not_import_for_a_honduran_centre(
    users: dict[str, User], airport_hn: ReceptionCentre
) -> None:
    with pytest.raises(PermissionDeniedError):
        _import(
            users, airport_hn, csv_bytes([passenger("Ana", "Pérez")]), actor=users["officer.gt"]
        )
    assert Manifest.objects.count() == 0


def test_an_unreadable_file_is_refused_with_its_name(
    users: dict[str, User], airport_hn: ReceptionCentre
) -> None:
    with pytest.raises(ManifestInvalidError) as raised:
        _import(users, airport_hn, b"PK\x03\x04 not really a workbook", file_name="broken.xlsx")
    (error,) = _errors(raised.value)
    assert error["file"] == "broken.xlsx"


def test_a_cancelled_manifest_leaves_the_expected_list_and_a_registered_one_cannot_be_cancelled(
    users: dict[str, User], airport_hn: ReceptionCentre, make_manifest: Callable[..., Manifest]
) -> None:
    from mirador.returns.models import ManifestStatus
    from mirador.returns.selectors import centre_capacity, expected_passengers
    from mirador.returns.services import (
        ManifestNotCancellableError,
        arrival_register,
        manifest_cancel,
    )

    officer = users["officer.hn"]
    called_off = make_manifest(airport_hn, HARD_NAMES[:2], expected_at=today_at(20))
    landed = make_manifest(airport_hn, HARD_NAMES[2:], expected_at=today_at(21))
    arrival_register(
        actor=officer,
        centre=airport_hn,
        idempotency_key="landed-1",
        manifest_passenger=landed.passengers.order_by("row_number")[0],
    )
    landed.refresh_from_db()
    assert landed.status == ManifestStatus.ARRIVED

    manifest_cancel(actor=officer, manifest=called_off, reason="flight cancelled by ICE")

    day = today_at(20).date()
    remaining = expected_passengers(user=officer, centre=airport_hn, day=day)
    assert [p.manifest_id for p in remaining] == [landed.pk]
    assert centre_capacity(user=officer, centre=airport_hn, start=day, days=1)[0].load == len(
        HARD_NAMES[2:]
    )
    with pytest.raises(ManifestNotCancellableError):
        manifest_cancel(actor=officer, manifest=landed, reason="too late")
