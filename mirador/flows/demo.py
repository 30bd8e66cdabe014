"""Observatory figures for the demo: the published sample files where they are kept beside
the checkout (US CBP encounters, IOM Missing Migrants incidents, UN DESA migrant stock; see
../shared/data/README.md), the import guide's example returns table, and the returns
registered in the demo's reception centres rolled up (events, and persons). Every one goes
through the same imports as real files; loading again changes nothing (the same file is not
imported twice)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

from mirador.core.models import Country
from mirador.flows.services import ImportOutcome, ImportReport, batch_import

# (format, path under the shared data directory)
PUBLISHED_SAMPLES = (
    ("cbp-sbo-encounters", "cbp/sbo-encounters-fy22-fy25-aug.csv"),
    ("iom-mmp", "iom_mmp/mmp_global_2014_2023jul_kaggle.csv"),
    ("undesa-migrant-stock", "undesa/UN_MigrantStockByOriginAndDestination_2019_clean.csv"),
)
# The import guide's example (a): Honduran returns of January to March 2024.
EXAMPLE_RETURNS = ("returns_hn_2024q1.csv", "returns_hn_2024q1.toml")


@dataclass
class ObservatoryDemoResult:
    imported: list[str] = field(default_factory=list)  # file names
    missing: list[str] = field(default_factory=list)  # samples not found
    failed: list[str] = field(default_factory=list)  # summaries of imports that failed


def shared_data_dir() -> Path:
    """Where the published samples are kept: MIRADOR_SHARED_DATA, else ../shared/data."""
    configured = os.environ.get("MIRADOR_SHARED_DATA")
    return Path(configured) if configured else Path(settings.BASE_DIR).parent / "shared" / "data"


def observatory_demo_load() -> ObservatoryDemoResult:
    from mirador.returns.models import Arrival
    from mirador.returns.persons_returned import returns_persons_rollup
    from mirador.returns.services import returns_received_rollup

    result = ObservatoryDemoResult()
    shared = shared_data_dir()
    for format_code, relative in PUBLISHED_SAMPLES:
        path = shared / relative
        if not path.is_file():
            result.missing.append(relative)
            continue
        _keep(result, batch_import(actor=None, format_code=format_code, path=path))
    examples = Path(settings.BASE_DIR) / "docs" / "examples"
    table, mapping = (examples / name for name in EXAMPLE_RETURNS)
    if table.is_file() and mapping.is_file():
        _keep(result, batch_import(actor=None, format_code="", path=table, mapping_path=mapping))
    countries = Arrival.objects.values_list("centre__country_id", flat=True).distinct()
    for country in Country.objects.filter(pk__in=set(countries)):
        _keep(result, returns_received_rollup(actor=None, country=country))
        _keep(result, returns_persons_rollup(actor=None, country=country))
    return result


def _keep(result: ObservatoryDemoResult, report: ImportReport) -> None:
    if report.outcome == ImportOutcome.IMPORTED:
        result.imported.append(report.file.name)
    elif not report.ok:
        result.failed.append(report.summary())
