"""Open data: CSV, Parquet and SDMX-CSV downloads (public) read back to the published table,
after disclosure control, and the data package describes them."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pyarrow.parquet as pq
import pytest
from django.test import Client

from mirador.analytics import exports
from mirador.analytics.selectors import dataset_get, public_table, table_query
from mirador.analytics.tests.conftest import cbp_totals
from mirador.flows.models import ImportBatch

pytestmark = pytest.mark.django_db

DATA = "/observatory/data"
RETURNS_BREAKDOWN = {"by": ["period", "subdivision", "unaccompanied"]}


def download(client: Client, path: str, params: dict[str, Any] | None = None) -> Any:
    response = client.get(f"{DATA}{path}", params or {})
    assert response.status_code == 200, response.content[:300]
    return response


def returns_table(returns_batch: ImportBatch) -> Any:
    query = table_query(
        dataset=dataset_get(code="returns-received"),
        group_by=RETURNS_BREAKDOWN["by"],
    )
    return public_table(query)


def expected_records(table: Any) -> list[dict[str, str]]:
    return [
        {
            **row.codes,
            "value": "" if row.value is None else str(row.value),
            "suppressed": "true" if row.suppressed else "false",
            "batches": " ".join(row.batches),
        }
        for row in table.rows()
    ]


def test_the_csv_download_parses_back_to_the_published_table(
    client: Client, returns_batch: ImportBatch
) -> None:
    response = download(client, "/returns-received.csv", RETURNS_BREAKDOWN)
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    records = list(csv.DictReader(io.StringIO(response.content.decode())))
    table = returns_table(returns_batch)
    assert records == expected_records(table)
    assert any(record["suppressed"] == "true" for record in records)
    for record in records:
        if record["suppressed"] == "true":
            assert record["value"] == ""
        else:
            assert record["value"] == "0" or int(record["value"]) >= table.protected.threshold


def test_the_parquet_download_reads_back_with_pyarrow(
    client: Client, returns_batch: ImportBatch
) -> None:
    response = download(client, "/returns-received.parquet", RETURNS_BREAKDOWN)
    arrow = pq.read_table(io.BytesIO(response.content))
    table = returns_table(returns_batch)
    assert arrow.column_names == ["period", "subdivision", "unaccompanied", *exports.EXTRA]
    assert str(arrow.schema.field("value").type) == "int64"
    rows = arrow.to_pylist()
    assert rows == [
        {
            **row.codes,
            "value": row.value,
            "suppressed": row.suppressed,
            "batches": " ".join(row.batches),
        }
        for row in table.rows()
    ]
    assert arrow.schema.metadata[b"disclosure_threshold"] == b"5"


def test_sdmx_csv_has_the_dataflow_first_then_dimensions_and_obs_value(
    client: Client, cbp_batch: ImportBatch
) -> None:
    response = download(
        client, "/border-encounters.sdmx.csv", {"by": "citizenship", "citizenship": "HN"}
    )
    lines = list(csv.reader(io.StringIO(response.content.decode())))
    assert lines[0] == [
        "DATAFLOW",
        "FREQ",
        "CITIZENSHIP",
        "TIME_PERIOD",
        "OBS_VALUE",
        "CONF_STATUS",
    ]
    rows = [dict(zip(lines[0], line, strict=True)) for line in lines[1:]]
    assert {row["DATAFLOW"] for row in rows} == {"MIRADOR:BORDER_ENCOUNTERS(1.0)"}
    honduras = [row for row in rows if row["CITIZENSHIP"] == "HN"]
    months = {row["TIME_PERIOD"]: int(row["OBS_VALUE"]) for row in honduras if row["FREQ"] == "M"}
    years = {row["TIME_PERIOD"]: row for row in honduras if row["FREQ"] == "A"}
    assert months == dict(cbp_totals("month", citizenship="HN"))
    assert {row["CITIZENSHIP"] for row in rows} == {"HN", "_T"}
    assert int(years["2023"]["OBS_VALUE"]) == cbp_totals("year", citizenship="HN")["2023"]
    assert all(row["TIME_PERIOD"] != "_T" for row in rows)
    assert {row["CONF_STATUS"] for row in rows} == {"F"}


def test_sdmx_csv_marks_suppressed_values_confidential(
    client: Client, returns_batch: ImportBatch
) -> None:
    response = download(client, "/returns-received.sdmx.csv", RETURNS_BREAKDOWN)
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    confidential = [row for row in rows if row["CONF_STATUS"] == "C"]
    assert confidential and all(row["OBS_VALUE"] == "" for row in confidential)
    assert {row["FREQ"] for row in rows} == {"M", "A"}


def _check_value(field: dict[str, Any], value: str) -> None:
    """A value against its Frictionless field: type, missing values, constraints."""
    constraints = field.get("constraints", {})
    if value == "":
        assert not constraints.get("required"), field["name"]
        return
    if field["type"] == "integer":
        number = int(value)
        assert number >= constraints.get("minimum", number)
    elif field["type"] == "boolean":
        assert value in field["trueValues"] + field["falseValues"]
    if "enum" in constraints:
        assert value in constraints["enum"]


def test_the_data_package_describes_each_download_and_its_sources(
    client: Client, returns_batch: ImportBatch
) -> None:
    package = json.loads(
        download(client, "/returns-received/datapackage.json", RETURNS_BREAKDOWN).content
    )
    assert package["profile"] == "tabular-data-package"
    assert package["licenses"][0]["name"] == "CC-BY-4.0"
    assert [source["file_name"] for source in package["sources"]] == [returns_batch.file_name]
    assert package["sources"][0]["batch"] == str(returns_batch.pk)
    assert package["sources"][0]["sha256"] == returns_batch.sha256
    assert package["mirador"]["disclosure_threshold"] == 5
    formats = {resource["format"]: resource for resource in package["resources"]}
    assert set(formats) == {"csv", "parquet"}
    assert len(package["resources"]) == 3
    for resource in package["resources"]:
        fields = resource["schema"]["fields"]
        assert all(field["description"] for field in fields)
        response = client.get(resource["path"])
        assert response.status_code == 200
        if resource["format"] == "parquet":
            names = pq.read_table(io.BytesIO(response.content)).column_names
            assert names == [field["name"] for field in fields]
            continue
        reader = csv.DictReader(io.StringIO(response.content.decode()))
        assert reader.fieldnames == [field["name"] for field in fields]
        for record in reader:
            for field in fields:
                _check_value(field, record[field["name"]])


def test_downloads_need_no_sign_in_and_refuse_bad_parameters_with_a_reason(
    client: Client, cbp_batch: ImportBatch
) -> None:
    response = client.get(f"{DATA}/border-encounters.csv", {"by": "nationality"})
    assert response.status_code == 400
    assert "nationality" in response.content.decode()
    assert client.get(f"{DATA}/border-encounters.csv", {"totals": "perhaps"}).status_code == 400
    assert client.get(f"{DATA}/border-encounters.parquet", {"start": "2024-13"}).status_code == 400
    assert client.get(f"{DATA}/nothing.csv").status_code == 404
    assert client.get(f"{DATA}/border-encounters.csv").status_code == 200


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_open_data_page_lists_every_dataset_and_its_downloads(
    client: Client, language: str
) -> None:
    response = client.get(f"{DATA}/", headers={"accept-language": language})
    assert response.status_code == 200
    page = response.content.decode()
    assert f'lang="{language}"' in page
    assert "border-encounters.sdmx.csv?by=period" in page
    assert "returns-received/datapackage.json?by=period&amp;by=sex" in page
    assert "missing-migrants.csv?by=period&amp;by=measure" in page


def test_sdmx_tables_are_always_by_period_and_csv_may_leave_totals_out(
    client: Client, cbp_batch: ImportBatch
) -> None:
    sdmx = download(client, "/border-encounters.sdmx.csv", {"by": "demographic"})
    header = next(csv.reader(io.StringIO(sdmx.content.decode())))
    assert header[:4] == ["DATAFLOW", "FREQ", "DEMOGRAPHIC", "TIME_PERIOD"]
    cells = download(client, "/border-encounters.csv", {"by": "demographic", "totals": "false"})
    records = list(csv.DictReader(io.StringIO(cells.content.decode())))
    assert {record["demographic"] for record in records} == {
        "single-adults",
        "family-units",
        "accompanied-minors",
        "unaccompanied-minors",
    }
    assert sum(int(record["value"]) for record in records) == sum(cbp_totals("year").values())
