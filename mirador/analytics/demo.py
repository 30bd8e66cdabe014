"""The observatory's demo population figures, so that the demo shows rates per 100,000
inhabitants. The figures are rounded ones close to the UN's estimates, for the demo and the
tests only (analytics/data/population_sample.csv says so); loading again changes nothing."""

from __future__ import annotations

from mirador.analytics.indicators import POPULATION_MAPPING, POPULATION_SAMPLE
from mirador.flows.services import ImportReport, batch_import


def population_demo_load() -> ImportReport:
    return batch_import(
        actor=None, format_code="", path=POPULATION_SAMPLE, mapping_path=POPULATION_MAPPING
    )
