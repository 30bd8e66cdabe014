"""A small monthly returns table for the bulletin tests, written as a CSV and imported through
the flows service with its own mapping, so that every figure the tests expect is computed
from rows the test chose."""

from __future__ import annotations

import csv
import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from mirador.flows.models import ImportBatch
from mirador.flows.services import ImportOutcome, batch_import

MAPPING = """
[format]
code = "test-bulletin-returns"
name = "Returns received by month (bulletin tests)"
dataset = "returns-received"

[reader]
type = "csv"
encoding = "utf-8"
delimiter = ","

[period]
rule = "calendar-month"
month = "month"

[constants]
means = "air"
subdivision = "_U"

[dimensions.reporting_country]
column = "reporting_country"
[dimensions.from_country]
column = "from_country"
[dimensions.sex]
column = "sex"
[dimensions.age_group]
column = "age_group"
[dimensions.unaccompanied]
column = "unaccompanied"

[value]
column = "value"
"""
COLUMNS = ["month", "reporting_country", "from_country", "sex", "age_group", "unaccompanied"]


@dataclass(frozen=True)
class Row:
    month: datetime.date
    reporting_country: str
    sex: str
    age_group: str
    unaccompanied: str
    value: int
    from_country: str = "US"


def month_of(text: str) -> datetime.date:
    year, month = text.split("-")
    return datetime.date(int(year), int(month), 1)


def months(first: str, last: str) -> list[datetime.date]:
    start, end = month_of(first), month_of(last)
    found = []
    while start <= end:
        found.append(start)
        start = datetime.date(start.year + start.month // 12, start.month % 12 + 1, 1)
    return found


def import_rows(rows: Iterable[Row], directory: Path, *, name: str = "returns.csv") -> ImportBatch:
    directory.mkdir(parents=True, exist_ok=True)
    table, mapping = directory / name, directory / "returns.toml"
    mapping.write_text(MAPPING, encoding="utf-8")
    with table.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([*COLUMNS, "value"])
        for row in rows:
            writer.writerow(
                [
                    f"{row.month:%Y-%m}",
                    row.reporting_country,
                    row.from_country,
                    row.sex,
                    row.age_group,
                    row.unaccompanied,
                    row.value,
                ]
            )
    report = batch_import(actor=None, format_code="", path=table, mapping_path=mapping)
    assert report.outcome == ImportOutcome.IMPORTED, report.issues[:5]
    assert report.batch is not None
    return report.batch


def region_rows(*, last: str = "2024-03") -> list[Row]:
    """24 months of returns to Honduras and Guatemala (every cell well above a threshold of
    100), and in the last month 47 returns to Belize: with a threshold of 100, Belize's
    figure is withheld in the month's table by country, and Honduras' with it (the smallest
    other figure), so that Belize's cannot be worked out from the total."""
    rows: list[Row] = []
    for index, month in enumerate(months("2022-04", last)):
        for country, base in (("HN", 1000), ("GT", 2000)):
            adults = base + 13 * index
            rows += [
                Row(month, country, "M", "Y_GE18", "N", adults),
                Row(month, country, "F", "Y_GE18", "N", adults // 2 + 101),
                Row(month, country, "M", "Y_LT18", "Y", 150 + index),
                Row(month, country, "F", "Y_LT18", "N", 120 + 2 * index),
            ]
    rows.append(Row(month_of(last), "BZ", "M", "Y_GE18", "N", 47))
    return rows
