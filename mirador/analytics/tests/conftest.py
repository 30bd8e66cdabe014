"""Fixtures of the analytics tests: the real samples imported through the flows service, and
the illustrative population figures through this app's mapping."""

from __future__ import annotations

import csv
import datetime
from collections import Counter
from pathlib import Path

import pytest

from conftest import SHARED_DATA
from mirador.analytics.indicators import POPULATION_MAPPING, POPULATION_SAMPLE
from mirador.flows.country_names import resolve_country
from mirador.flows.models import ImportBatch
from mirador.flows.services import ImportOutcome, batch_import

APP = Path(__file__).resolve().parents[1]
CBP_SAMPLE = SHARED_DATA / "cbp" / "sbo-encounters-fy22-fy25-aug.csv"
EXAMPLES = APP.parents[1] / "docs" / "examples"
RETURNS_EXAMPLE = EXAMPLES / "returns_hn_2024q1.csv"
RETURNS_MAPPING = EXAMPLES / "returns_hn_2024q1.toml"
MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
CBP_DEMOGRAPHIC = {
    "Single Adults": "single-adults",
    "Accompanied Minors": "accompanied-minors",
    "FMUA": "family-units",
    "UAC": "unaccompanied-minors",
}


def _imported(**kwargs: object) -> ImportBatch:
    report = batch_import(actor=None, **kwargs)  # type: ignore[arg-type]
    assert report.outcome == ImportOutcome.IMPORTED, report.issues[:5]
    assert report.batch is not None
    return report.batch


@pytest.fixture
def cbp_batch(db: None) -> ImportBatch:
    return _imported(format_code="cbp-sbo-encounters", path=CBP_SAMPLE)


@pytest.fixture
def population_batch(db: None) -> ImportBatch:
    return _imported(format_code="", path=POPULATION_SAMPLE, mapping_path=POPULATION_MAPPING)


@pytest.fixture
def returns_batch(db: None) -> ImportBatch:
    return _imported(format_code="", path=RETURNS_EXAMPLE, mapping_path=RETURNS_MAPPING)


# --- the CBP file read here, independently of the import engine -------------------------------


def cbp_rows() -> list[dict[str, str]]:
    with CBP_SAMPLE.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def cbp_month(row: dict[str, str]) -> datetime.date:
    """October to December of fiscal year N are in calendar year N - 1."""
    fiscal_year = int(row["Fiscal Year"][:4])
    month = MONTHS.index(row["Month (abbv)"]) + 1
    return datetime.date(fiscal_year - 1 if month >= 10 else fiscal_year, month, 1)


def cbp_citizenship(row: dict[str, str]) -> str:
    name = row["Citizenship Grouping"]
    return "_O" if name == "Other" else resolve_country(name) or name


def cbp_demographic(row: dict[str, str]) -> str:
    return CBP_DEMOGRAPHIC[row["Demographic"]]


def cbp_totals(key: str, **only: str) -> Counter[str]:
    """Totals of the file by "month" (2024-03), "year" or "citizenship", for rows whose
    citizenship (ISO code) or demographic (Mirador code) is the one given."""
    totals: Counter[str] = Counter()
    for row in cbp_rows():
        if "citizenship" in only and cbp_citizenship(row) != only["citizenship"]:
            continue
        if "demographic" in only and cbp_demographic(row) != only["demographic"]:
            continue
        month = cbp_month(row)
        label = {
            "month": f"{month:%Y-%m}",
            "year": f"{month:%Y}",
            "citizenship": cbp_citizenship(row),
        }[key]
        totals[label] += int(row["Encounter Count"])
    return totals
