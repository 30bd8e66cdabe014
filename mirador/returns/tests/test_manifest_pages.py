"""Importing a manifest on the reception pages: a good file (with its own column names)
stores its passengers exactly as written; a bad one lists the rows and fields in error and
stores nothing, unless the officer stores the valid rows, whose set-aside rest is then
downloadable from the manifest list."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from mirador.accounts.models import User
from mirador.core.models import ReceptionCentre
from mirador.returns.models import Manifest, ManifestPassenger

Users = dict[str, User]
HEADER = ["Nombres", "Apellido1", "Apellido2", "Nacimiento", "Sexo", "Nacionalidad", "Doc"]
MAPPING = (
    "given_names = Nombres\nfirst_surname = Apellido1\nsecond_surname = Apellido2\n"
    "birth_date = Nacimiento\nsex = Sexo\nnationality = Nacionalidad\ndocument_number = Doc"
)


def _file(rows: list[list[str]]) -> SimpleUploadedFile:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    writer.writerows(rows)
    return SimpleUploadedFile("vuelo.csv", buffer.getvalue().encode("utf-8"), "text/csv")


def _post(client: Client, centre: ReceptionCentre, rows: list[list[str]], **extra: str) -> Any:
    data = {
        "file": _file(rows),
        "sending_country": "US",
        "means": "air",
        "kind": "scheduled",
        "reference": "ICE-TEST-1",
        "expected_at": "2026-12-01T15:30",
        "mapping": MAPPING,
        **extra,
    }
    return client.post(reverse("returns:manifest_upload", args=[centre.pk]), data)


GOOD = [
    ["María José", "Núñez", "O'Brien", "1986-03-14", "F", "HN", "F1234567"],
    ["Jean-Pierre", "Ávila-Cruz", "", "1990", "M", "HN", ""],
    ["Ли", "Вэй", "", "1995-07", "M", "HN", ""],
]


def test_a_good_file_stores_its_passengers_exactly_as_written(
    users: Users, client_for: Callable[[User], Client], airport_hn: ReceptionCentre
) -> None:
    client = client_for(users["officer.hn"])
    assert client.get(reverse("returns:manifest_upload", args=[airport_hn.pk])).status_code == 200

    response = _post(client, airport_hn, GOOD)

    manifest = Manifest.objects.get()
    assert response.status_code == 302
    assert response["Location"].endswith("?date=2026-12-01")
    stored = list(
        manifest.passengers.order_by("row_number").values_list(
            "given_names", "first_surname", "second_surname"
        )
    )
    assert stored == [(row[0], row[1], row[2]) for row in GOOD]
    listing = client.get(response["Location"]).content.decode()
    assert "ICE-TEST-1" in listing


def test_a_bad_file_lists_row_and_field_and_stores_nothing(
    users: Users, client_for: Callable[[User], Client], airport_hn: ReceptionCentre
) -> None:
    rows = [*GOOD, ["Ana", "Reyes", "", "1990-13-45", "F", "XX", ""]]
    response = _post(client_for(users["officer.hn"]), airport_hn, rows)

    page = response.content.decode()
    assert response.status_code == 200
    table = page[page.index('class="row-errors"') :]
    assert '<th scope="row">5</th>' in table  # the header is row 1
    assert "1990-13-45" in table and "XX" in table
    assert not Manifest.objects.exists() and not ManifestPassenger.objects.exists()


def test_the_valid_rows_can_be_stored_and_the_rest_downloaded(
    users: Users, client_for: Callable[[User], Client], airport_hn: ReceptionCentre
) -> None:
    client = client_for(users["officer.hn"])
    rows = [*GOOD, ["Ana", "Reyes", "", "1990-13-45", "F", "HN", ""]]
    response = _post(client, airport_hn, rows, keep_valid="on")

    manifest = Manifest.objects.get()
    assert manifest.passengers.count() == len(GOOD)
    listing = client.get(response["Location"]).content.decode()
    download = reverse("api:returns_set_aside", kwargs={"manifest_id": manifest.pk})
    assert download in listing
    set_aside = client.get(download).content.decode()
    assert "1990-13-45" in set_aside and "Reyes" in set_aside


def test_a_mapping_line_naming_an_unknown_field_is_refused(
    users: Users, client_for: Callable[[User], Client], airport_hn: ReceptionCentre
) -> None:
    response = _post(
        client_for(users["officer.hn"]), airport_hn, GOOD, mapping="nombre_completo = Nombres"
    )
    assert response.status_code == 200
    assert "unknown field nombre_completo" in response.content.decode()
    assert not Manifest.objects.exists()


def test_an_officer_of_another_country_cannot_import_at_the_centre(
    users: Users, client_for: Callable[[User], Client], airport_hn: ReceptionCentre
) -> None:
    client = client_for(users["officer.gt"])
    assert client.get(reverse("returns:manifest_upload", args=[airport_hn.pk])).status_code == 404
    assert _post(client, airport_hn, GOOD).status_code == 404
    assert client.get(reverse("returns:manifests", args=[airport_hn.pk])).status_code == 404
    assert not Manifest.objects.exists()


def test_the_import_form_reads_in_the_officers_language(
    users: Users, client_for: Callable[[User], Client], airport_hn: ReceptionCentre
) -> None:
    officer = users["officer.hn"]
    officer.preferred_language = "es"
    officer.save(update_fields=["preferred_language"])
    client = client_for(officer)
    client.cookies["django_language"] = "es"

    page = client.get(reverse("returns:manifest_upload", args=[airport_hn.pk])).content.decode()

    assert '<html lang="es">' in page
    # The mapping's help names the fields; it was formatted, and so frozen, at import.
    assert "Una por línea, campo = columna" in page and "One per line" not in page
    assert ">Importar</button>" in page  # the action, not the noun ("Importación")
    officer.preferred_language = "en"
    officer.save(update_fields=["preferred_language"])
    client.cookies["django_language"] = "en"
    again = client.get(reverse("returns:manifest_upload", args=[airport_hn.pk])).content
    assert b"One per line, field = column" in again and b">Import</button>" in again
