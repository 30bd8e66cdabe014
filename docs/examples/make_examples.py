"""Write the example tables of docs/imports.md (run once; the files are committed).

    .venv/bin/python docs/examples/make_examples.py

The figures are invented (a fixed random seed), shaped like the monthly returns tables that
national observatories such as Honduras' CONMIGHO publish: three months of 2024, returns
from the United States, Mexico and Guatemala, by sex, age group, adult or minor, accompanied
or not, means of return and department of origin. The three files hold the same figures:

- returns_hn_2024q1.csv: long, one row per combination, as an office exports it from its
  spreadsheet: Latin-1, semicolons, title lines above the header, a totals row and a source
  note below the table, ages in four groups.
- returns_hn_2024q1.xlsx: a workbook with a title row, a two-row header with merged cells
  (sex over adults and minors), months as date cells, and a "Fuente:" note at the end.
- returns_air_us_by_month.csv: the returns by air from the United States only, one column
  per month ("Ene", "Feb", "Mar") with a "Total" column and a totals row (UTF-8 with BOM,
  commas).
"""

from __future__ import annotations

import csv
import datetime
import random
from collections import Counter
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

HERE = Path(__file__).resolve().parent
YEAR = 2024
MONTHS = ["Enero", "Febrero", "Marzo"]
MONTH_ABBREVIATIONS = ["Ene", "Feb", "Mar"]
# (country as written in the table, means of return it is reached by)
COUNTRIES = {
    "Estados Unidos": ["Aérea"],
    "México": ["Aérea", "Terrestre"],
    "Guatemala": ["Terrestre"],
}
DEPARTMENTS = [
    "Cortés",
    "Francisco Morazán",
    "Yoro",
    "Olancho",
    "Copán",
    "Santa Bárbara",
    "Atlántida",
    "Sin dato",
]
AGE_GROUPS = {  # group -> adult or minor
    "0 a 11 años": "Menor",
    "12 a 17 años": "Menor",
    "18 a 29 años": "Adulto",
    "30 años y más": "Adulto",
}
HEADER = [
    "Año",
    "Mes",
    "País de retorno",
    "Sexo",
    "Grupo de edad",
    "Adulto o menor",
    "Condición",
    "Vía de retorno",
    "Departamento de origen",
    "Retornados",
]


def returns() -> list[dict[str, object]]:
    """The invented figures: one record per combination with at least one return."""
    rng = random.Random(2024)  # noqa: S311 (invented figures, not security)
    records = []
    for month in MONTHS:
        for country, means_list in COUNTRIES.items():
            for means in means_list:
                for department in DEPARTMENTS:
                    for sex in ("Hombre", "Mujer"):
                        for group, adult in AGE_GROUPS.items():
                            if rng.random() < 0.45:
                                continue
                            conditions = (
                                ["No aplica"]
                                if adult == "Adulto"
                                else ["Acompañado", "No acompañado"]
                            )
                            for condition in conditions:
                                scale = 40 if adult == "Adulto" else 6
                                if country == "Estados Unidos":
                                    scale *= 2
                                count = rng.randint(1, scale)
                                if condition == "No acompañado" and rng.random() < 0.5:
                                    continue
                                records.append(
                                    {
                                        "Año": YEAR,
                                        "Mes": month,
                                        "País de retorno": country,
                                        "Sexo": sex,
                                        "Grupo de edad": group,
                                        "Adulto o menor": adult,
                                        "Condición": condition,
                                        "Vía de retorno": means,
                                        "Departamento de origen": department,
                                        "Retornados": count,
                                    }
                                )
    return records


def write_long_csv(records: list[dict[str, object]]) -> None:
    path = HERE / "returns_hn_2024q1.csv"
    total = sum(int(str(record["Retornados"])) for record in records)
    with path.open("w", encoding="latin-1", newline="") as handle:
        writer = csv.writer(handle, delimiter=";", lineterminator="\r\n")
        writer.writerow(["OBSERVATORIO DE MIGRACIÓN (EJEMPLO PARA LA DOCUMENTACIÓN)"])
        writer.writerow(["Personas hondureñas retornadas, enero a marzo de 2024"])
        writer.writerow([])
        writer.writerow(HEADER)
        for record in records:
            writer.writerow([record[name] for name in HEADER])
        writer.writerow(["Total", "", "", "", "", "", "", "", "", total])
        writer.writerow([])
        writer.writerow(["Fuente: cifras inventadas para la guía de importación de Mirador."])


# Value columns of the workbook: (sex, adult or minor, condition) under a two-row header.
WORKBOOK_GROUPS = [
    ("Hombres", "Hombre", "Adultos", "Adulto", "No aplica"),
    ("Hombres", "Hombre", "Menores acompañados", "Menor", "Acompañado"),
    ("Hombres", "Hombre", "Menores no acompañados", "Menor", "No acompañado"),
    ("Mujeres", "Mujer", "Adultos", "Adulto", "No aplica"),
    ("Mujeres", "Mujer", "Menores acompañados", "Menor", "Acompañado"),
    ("Mujeres", "Mujer", "Menores no acompañados", "Menor", "No acompañado"),
]


def excel_date(month: int) -> datetime.datetime:
    """The first of a month as a workbook's date cell holds it (Excel dates have no zone)."""
    return datetime.datetime(YEAR, month, 1)  # noqa: DTZ001


def write_workbook(records: list[dict[str, object]]) -> None:
    totals: Counter[tuple[object, ...]] = Counter()
    for record in records:
        key = (
            record["Mes"],
            record["País de retorno"],
            record["Vía de retorno"],
            record["Departamento de origen"],
            record["Sexo"],
            record["Adulto o menor"],
            record["Condición"],
        )
        totals[key] += int(str(record["Retornados"]))
    workbook = Workbook()
    notes = workbook.active
    assert notes is not None  # noqa: S101 (a new workbook has its sheet)
    notes.title = "Notas"
    notes["A1"] = "Cifras inventadas para la guía de importación de Mirador."
    sheet = workbook.create_sheet("Retornos 2024")
    sheet["A1"] = "Personas hondureñas retornadas por mes, país, vía y departamento (ejemplo)"
    sheet["A1"].font = Font(bold=True)
    row_names = ["Mes", "País de retorno", "Vía de retorno", "Departamento de origen"]
    for column, name in enumerate(row_names, start=1):
        sheet.cell(row=3, column=column, value=name)
        sheet.merge_cells(start_row=3, start_column=column, end_row=4, end_column=column)
    first = len(row_names) + 1
    for offset, (top, _sex, below, _adult, _condition) in enumerate(WORKBOOK_GROUPS):
        column = first + offset
        if offset % 3 == 0:
            sheet.cell(row=3, column=column, value=top)
            sheet.merge_cells(start_row=3, start_column=column, end_row=3, end_column=column + 2)
        sheet.cell(row=4, column=column, value=below)
    for cells in sheet.iter_rows(min_row=3, max_row=4):
        for cell in cells:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(horizontal="center", wrap_text=True)
    row = 5
    for month_number, month in enumerate(MONTHS, start=1):
        for country, means_list in COUNTRIES.items():
            for means in means_list:
                for department in DEPARTMENTS:
                    counts = [
                        totals[(month, country, means, department, sex, adult, condition)]
                        for _top, sex, _below, adult, condition in WORKBOOK_GROUPS
                    ]
                    if not any(counts):
                        continue
                    month_cell = sheet.cell(row=row, column=1, value=excel_date(month_number))
                    month_cell.number_format = "mmm-yy"
                    sheet.cell(row=row, column=2, value=country)
                    sheet.cell(row=row, column=3, value=means)
                    sheet.cell(row=row, column=4, value=department)
                    for offset, count in enumerate(counts):
                        # An empty cell where there were none, as such workbooks leave them.
                        sheet.cell(row=row, column=first + offset, value=count or None)
                    row += 1
    sheet.cell(row=row + 1, column=1, value="Fuente: cifras inventadas (ejemplo).")
    sheet.cell(row=row + 2, column=1, value="Nota: las celdas vacías son ceros.")
    workbook.active = 1
    workbook.properties.creator = "Mirador"
    fixed = datetime.datetime(2024, 4, 1)  # noqa: DTZ001 (workbook properties are naive)
    workbook.properties.created = fixed
    workbook.properties.modified = fixed
    workbook.save(HERE / "returns_hn_2024q1.xlsx")


def write_wide_csv(records: list[dict[str, object]]) -> None:
    totals: Counter[tuple[object, object]] = Counter()
    for record in records:
        if record["País de retorno"] == "Estados Unidos" and record["Vía de retorno"] == "Aérea":
            totals[(record["Departamento de origen"], record["Mes"])] += int(
                str(record["Retornados"])
            )
    path = HERE / "returns_air_us_by_month.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(["Retornos por vía aérea desde Estados Unidos, 2024 (ejemplo)"])
        writer.writerow(["Departamento de origen", *MONTH_ABBREVIATIONS, "Total"])
        for department in DEPARTMENTS:
            counts = [totals[(department, month)] for month in MONTHS]
            writer.writerow([department, *counts, sum(counts)])
        column_totals = [sum(totals[(d, month)] for d in DEPARTMENTS) for month in MONTHS]
        writer.writerow(["Total", *column_totals, sum(column_totals)])


def main() -> None:
    records = returns()
    write_long_csv(records)
    write_workbook(records)
    write_wide_csv(records)
    print(f"{len(records)} rows, {sum(int(str(r['Retornados'])) for r in records)} returns")


if __name__ == "__main__":
    main()
