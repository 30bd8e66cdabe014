"""Open data: a public table (after disclosure control) written as CSV, Parquet and SDMX-CSV,
and described by a Frictionless data package.

- CSV and Parquet: one column per breakdown (dimension codes, "period" as 2024-03 or 2024),
  then `value` (empty / null when suppressed), `suppressed` (true or false) and `batches` (the
  ids of the import batches the figure came from, separated by spaces). Totals over a
  dimension carry the SDMX code "_T" in its column.
- SDMX-CSV (version 1.0, for SDMX 2.1): first column DATAFLOW ("MIRADOR:DATASET_CODE(1.0)"),
  then FREQ (M monthly, A annual), the dimensions (their codes upper-cased), TIME_PERIOD,
  OBS_VALUE and the attribute CONF_STATUS (F free, C confidential: the value is left empty).
  Every observation has a period, so the table is always broken down by period, and totals
  over the period are not written.
- datapackage.json (Frictionless Data Package v1, tabular): the three resources with their
  schemas (fields with types and descriptions), the licence, and the sources: every batch
  and file the figures came from.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from django.utils import timezone

from mirador.analytics.disclosure import TOTAL
from mirador.analytics.selectors import PERIOD, PublicTable

SDMX_AGENCY = "MIRADOR"
SDMX_VERSION = "1.0"
VALUE, SUPPRESSED, BATCHES = "value", "suppressed", "batches"
EXTRA = [VALUE, SUPPRESSED, BATCHES]  # the columns after the breakdowns
CONFIDENTIAL, FREE = "C", "F"
LICENSE = {
    "name": "CC-BY-4.0",
    "title": "Creative Commons Attribution 4.0",
    "path": "https://creativecommons.org/licenses/by/4.0/",
}
# The terms of the publishers whose files the figures come from, by format (a prefix).
SOURCE_TERMS: dict[str, dict[str, str]] = {
    "cbp-": {
        "publisher": "U.S. Customs and Border Protection",
        "terms": "Public domain (work of the U.S. federal government)",
        "path": "https://www.cbp.gov/newsroom/stats/southwest-land-border-encounters",
    },
    "undesa-": {
        "publisher": "United Nations, Department of Economic and Social Affairs, Population "
        "Division",
        "terms": "See the publisher's terms of use",
        "path": "https://www.un.org/development/desa/pd/content/international-migrant-stock",
    },
    "iom-": {
        "publisher": "International Organization for Migration, Missing Migrants Project",
        "terms": "See the publisher's terms of use",
        "path": "https://missingmigrants.iom.int/",
    },
    "un-population": {
        "publisher": "United Nations, Department of Economic and Social Affairs, Population "
        "Division (World Population Prospects)",
        "terms": "See the publisher's terms of use",
        "path": "https://population.un.org/wpp/",
    },
    "mirador-returns": {
        "publisher": "Reception centres of the RCM member states (registered in Mirador)",
        "terms": LICENSE["title"],
        "path": "",
    },
}


def _batches_text(batches: tuple[str, ...]) -> str:
    return " ".join(batches)


def table_records(table: PublicTable, *, totals: bool = True) -> list[dict[str, Any]]:
    return [
        {
            **row.codes,
            VALUE: row.value,
            SUPPRESSED: row.suppressed,
            BATCHES: _batches_text(row.batches),
        }
        for row in table.rows(totals=totals)
    ]


def csv_columns(table: PublicTable) -> list[str]:
    return [*table.columns, VALUE, SUPPRESSED, BATCHES]


def to_csv(table: PublicTable, *, totals: bool = True) -> str:
    handle = io.StringIO()
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow(csv_columns(table))
    for record in table_records(table, totals=totals):
        writer.writerow(
            [
                *(record[name] for name in table.columns),
                "" if record[VALUE] is None else record[VALUE],
                "true" if record[SUPPRESSED] else "false",
                record[BATCHES],
            ]
        )
    return handle.getvalue()


def to_parquet(table: PublicTable, *, totals: bool = True) -> bytes:
    records = table_records(table, totals=totals)
    schema = pa.schema(
        [
            *(pa.field(name, pa.string(), nullable=False) for name in table.columns),
            pa.field(VALUE, pa.int64(), nullable=True),
            pa.field(SUPPRESSED, pa.bool_(), nullable=False),
            pa.field(BATCHES, pa.string(), nullable=False),
        ],
        metadata={
            b"dataset": table.query.dataset.code.encode(),
            b"disclosure_threshold": str(table.protected.threshold).encode(),
        },
    )
    columns = {name: [record[name] for record in records] for name in csv_columns(table)}
    arrow = pa.table(columns, schema=schema)
    sink = io.BytesIO()
    pq.write_table(arrow, sink)
    return sink.getvalue()


def sdmx_dataflow(table: PublicTable) -> str:
    identifier = re.sub(r"[^A-Za-z0-9_]", "_", table.query.dataset.code).upper()
    return f"{SDMX_AGENCY}:{identifier}({SDMX_VERSION})"


def sdmx_columns(table: PublicTable) -> list[str]:
    dimensions = [name.upper() for name in table.columns if name != PERIOD]
    return ["DATAFLOW", "FREQ", *dimensions, "TIME_PERIOD", "OBS_VALUE", "CONF_STATUS"]


def to_sdmx_csv(table: PublicTable) -> str:
    """SDMX-CSV 1.0 of a table broken down by period (see the module's docstring)."""
    if PERIOD not in table.columns:
        raise ValueError("an SDMX-CSV table is broken down by period")
    handle = io.StringIO()
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow(sdmx_columns(table))
    dataflow = sdmx_dataflow(table)
    for row in table.rows():
        period = row.codes[PERIOD]
        if period == TOTAL:
            continue
        frequency = "A" if len(period) == 4 else "M"
        writer.writerow(
            [
                dataflow,
                frequency,
                *(code for name, code in row.codes.items() if name != PERIOD),
                period,
                "" if row.value is None else row.value,
                CONFIDENTIAL if row.suppressed else FREE,
            ]
        )
    return handle.getvalue()


def _field_description(name: str, names: Mapping[str, str]) -> str:
    if name == PERIOD:
        return (
            "Period: a month (YYYY-MM) or a year (YYYY); _T is the total over the periods "
            "of the table."
        )
    return f"{names.get(name, name)}: a code of the dimension {name}; _T is the total over it."


def table_schema(table: PublicTable, names: Mapping[str, str]) -> dict[str, Any]:
    fields: list[dict[str, Any]] = [
        {
            "name": name,
            "type": "string",
            "description": _field_description(name, names),
            "constraints": {"required": True},
        }
        for name in table.columns
    ]
    fields += [
        {
            "name": VALUE,
            "type": "integer",
            "description": "The count; empty when suppressed by disclosure control.",
            "constraints": {"minimum": 0},
        },
        {
            "name": SUPPRESSED,
            "type": "boolean",
            "description": (
                "true when the value is withheld: a count from 1 to "
                f"{table.protected.threshold - 1}, or a figure that would let one be worked out."
            ),
            "trueValues": ["true"],
            "falseValues": ["false"],
            "constraints": {"required": True},
        },
        {
            "name": BATCHES,
            "type": "string",
            "description": (
                "Identifiers of the import batches the figure came from, separated by "
                "spaces (see the package's sources)."
            ),
        },
    ]
    return {"fields": fields, "missingValues": [""], "primaryKey": list(table.columns)}


def sdmx_schema(table: PublicTable, names: Mapping[str, str]) -> dict[str, Any]:
    fields: list[dict[str, Any]] = [
        {"name": "DATAFLOW", "type": "string", "description": "SDMX dataflow: AGENCY:ID(VERSION)."},
        {"name": "FREQ", "type": "string", "description": "Frequency: M monthly, A annual."},
    ]
    for name in table.columns:
        if name != PERIOD:
            fields.append(
                {
                    "name": name.upper(),
                    "type": "string",
                    "description": _field_description(name, names),
                }
            )
    fields += [
        {"name": "TIME_PERIOD", "type": "string", "description": "YYYY-MM or YYYY."},
        {
            "name": "OBS_VALUE",
            "type": "integer",
            "description": "The count; empty when confidential.",
        },
        {
            "name": "CONF_STATUS",
            "type": "string",
            "description": "F free; C confidential (withheld by disclosure control).",
            "constraints": {"enum": [FREE, CONFIDENTIAL]},
        },
    ]
    return {"fields": fields, "missingValues": [""]}


def source_terms(format_code: str) -> dict[str, str]:
    for prefix, terms in SOURCE_TERMS.items():
        if format_code.startswith(prefix):
            return terms
    return {"publisher": "", "terms": "See the publisher's terms of use", "path": ""}


def data_package(
    table: PublicTable,
    *,
    urls: Mapping[str, str],
    names: Mapping[str, str],
    title: str,
    description: str,
    sdmx_table: PublicTable | None = None,
) -> dict[str, Any]:
    """A Frictionless tabular data package describing the table's downloads (`urls`: csv,
    parquet, sdmx), after disclosure control."""
    dataset = table.query.dataset
    slug = re.sub(r"[^a-z0-9._-]", "-", dataset.code.lower())
    columns_name = "-".join(table.columns) or "total"
    resources: list[dict[str, Any]] = [
        {
            "name": f"{slug}-{columns_name}-csv",
            "path": urls["csv"],
            "profile": "tabular-data-resource",
            "format": "csv",
            "mediatype": "text/csv",
            "encoding": "utf-8",
            "dialect": {"delimiter": ",", "header": True, "lineTerminator": "\n"},
            "schema": table_schema(table, names),
        },
        {
            "name": f"{slug}-{columns_name}-parquet",
            "path": urls["parquet"],
            "profile": "tabular-data-resource",
            "format": "parquet",
            "mediatype": "application/vnd.apache.parquet",
            "schema": table_schema(table, names),
        },
    ]
    if sdmx_table is not None and "sdmx" in urls:
        resources.append(
            {
                "name": f"{slug}-{columns_name}-sdmx-csv",
                "path": urls["sdmx"],
                "profile": "tabular-data-resource",
                "format": "csv",
                "mediatype": "application/vnd.sdmx.data+csv; version=1.0.0",
                "encoding": "utf-8",
                "schema": sdmx_schema(sdmx_table, names),
            }
        )
    sources = []
    all_sources = {source.id: source for source in table.sources}
    if sdmx_table is not None:
        all_sources.update({source.id: source for source in sdmx_table.sources})
    for source in all_sources.values():
        terms = source_terms(source.format_code)
        sources.append(
            {
                "title": f"{source.file_name} ({source.format_code})",
                "path": terms["path"],
                "publisher": terms["publisher"],
                "terms": terms["terms"],
                "batch": source.id,
                "dataset": source.dataset,
                "file_name": source.file_name,
                "format": source.format_code,
                "sha256": source.sha256,
                "imported_at": source.imported_at.isoformat() if source.imported_at else None,
            }
        )
    query = table.query
    return {
        "profile": "tabular-data-package",
        "name": f"mirador-{slug}-{columns_name}",
        "title": title,
        "description": description,
        "created": timezone.now().isoformat(),
        "licenses": [LICENSE],
        "sources": sources,
        "resources": resources,
        "mirador": {
            "dataset": dataset.code,
            "breakdown": list(query.group_by),
            "period_type": query.period_type,
            "start": f"{query.start:%Y-%m}" if query.start else None,
            "end": f"{query.end:%Y-%m}" if query.end else None,
            "filters": {name: list(codes) for name, codes in query.filters},
            "disclosure_threshold": table.protected.threshold,
            "suppressed": table.suppressed_count,
        },
    }
