"""The researchers' API (/api/v1/analytics/): public, filterable, paginated, after disclosure
control, with sources; bad parameters get 400 or 422 with a message, never 500."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from mirador.analytics.tests.conftest import cbp_totals
from mirador.flows.models import ImportBatch, Observation

pytestmark = pytest.mark.django_db

API = "/api/v1/analytics"


def get(client: Client, path: str, **params: Any) -> Any:
    response = client.get(f"{API}{path}", params)
    assert response.status_code == 200, response.content[:500]
    return response.json()


def test_datasets_are_listed_with_their_dimensions_without_signing_in(client: Client) -> None:
    datasets = {entry["code"]: entry for entry in get(client, "/datasets")}
    assert {"border-encounters", "returns-received", "population"} <= set(datasets)
    dimensions = [dimension["code"] for dimension in datasets["returns-received"]["dimensions"]]
    assert {"sex", "age_group", "subdivision", "means"} <= set(dimensions)


def test_a_dataset_lists_the_codes_of_each_dimension(
    client: Client, cbp_batch: ImportBatch
) -> None:
    dataset = get(client, "/datasets/border-encounters")
    dimensions = {dimension["code"]: dimension for dimension in dataset["dimensions"]}
    demographic = {code["code"] for code in dimensions["demographic"]["codes"]}
    assert "unaccompanied-minors" in demographic
    citizenship = {code["code"]: code["name_en"] for code in dimensions["citizenship"]["codes"]}
    assert citizenship["HN"] == "Honduras"
    assert dataset["first_period"] == "2021-10-01"


def test_an_unknown_dataset_is_404(client: Client) -> None:
    response = client.get(f"{API}/datasets/nothing-here/observations")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_observations_by_period_for_one_citizenship_equal_the_file(
    client: Client, cbp_batch: ImportBatch
) -> None:
    body = get(
        client,
        "/datasets/border-encounters/observations",
        by="period",
        citizenship="HN",
        start="2023-01",
        end="2023-12",
    )
    months = cbp_totals("month", citizenship="HN")
    values = {item["codes"]["period"]: item["value"] for item in body["items"]}
    assert {period: values[period] for period in values if len(period) == 7} == {
        period: total for period, total in months.items() if period.startswith("2023")
    }
    assert values["2023"] == cbp_totals("year", citizenship="HN")["2023"]
    assert body["query"]["filters"] == {"citizenship": ["HN"]}
    assert body["sources"][0]["file_name"] == cbp_batch.file_name
    assert all(item["batches"] == [str(cbp_batch.pk)] for item in body["items"])


def test_pages_follow_each_other_and_cover_the_table(
    client: Client, cbp_batch: ImportBatch
) -> None:
    params = {"by": ["period", "demographic"], "period_type": "year", "limit": 7}
    first = get(client, "/datasets/border-encounters/observations", **params)
    rows = list(first["items"])
    while len(rows) < first["count"]:
        page = get(client, "/datasets/border-encounters/observations", **params, offset=len(rows))
        assert len(page["items"]) <= 7
        rows += page["items"]
    assert len(first["items"]) == 7
    keys = [tuple(row["codes"].values()) for row in rows]
    assert len(keys) == len(set(keys)) == first["count"]
    assert {len(row["codes"]["period"]) for row in rows} == {4, 2}  # years and _T only


def test_totals_can_be_left_out(client: Client, cbp_batch: ImportBatch) -> None:
    body = get(
        client,
        "/datasets/border-encounters/observations",
        by="citizenship,demographic",
        totals="false",
    )
    assert body["items"]
    assert all("_T" not in item["codes"].values() for item in body["items"])


def test_minors_filter_keeps_minors(client: Client, cbp_batch: ImportBatch) -> None:
    body = get(client, "/datasets/border-encounters/observations", by="demographic", minors="true")
    codes = {item["codes"]["demographic"] for item in body["items"]}
    assert codes == {"accompanied-minors", "unaccompanied-minors", "_T"}


def test_suppressed_cells_never_appear(client: Client, returns_batch: ImportBatch) -> None:
    body = get(
        client,
        "/datasets/returns-received/observations",
        by="period,subdivision,unaccompanied",
        limit=1000,
    )
    assert body["suppressed"] > 0
    threshold = body["disclosure_threshold"]
    suppressed = [item for item in body["items"] if item["suppressed"]]
    assert suppressed and all(item["value"] is None for item in suppressed)
    for item in body["items"]:
        assert item["value"] is None or item["value"] == 0 or item["value"] >= threshold
    # The small figures stored are nowhere in the answer as a cell's value.
    small = Observation.objects.filter(batch=returns_batch, value__gt=0, value__lt=threshold)
    assert small.exists()


def test_indicators_carry_their_sources(
    client: Client, cbp_batch: ImportBatch, population_batch: ImportBatch
) -> None:
    body = get(client, "/datasets/border-encounters/indicators", top_limit=3)
    years = {figure["year"]: figure for figure in body["yearly"]}
    expected = cbp_totals("year")
    assert years["2023"]["value"] == expected["2023"]
    assert years["2023"]["change"] == expected["2023"] - expected["2022"]
    assert len([f for f in body["top"] if f["dimension"] == "citizenship"]) == 3
    assert any(rate["code"] == "HN" for rate in body["rates"])
    files = {source["id"]: source["file_name"] for source in body["sources"]}
    assert files == {
        str(cbp_batch.pk): cbp_batch.file_name,
        str(population_batch.pk): population_batch.file_name,
    }
    shares = {(share["indicator"], share["period"]) for share in body["shares"]}
    assert ("minors", "2023") in shares


BAD_QUERIES = [
    ("/datasets/border-encounters/observations", {"by": "nationality"}, 400),
    ("/datasets/border-encounters/observations", {"by": "period,citizenship,sex,component"}, 400),
    ("/datasets/border-encounters/observations", {"start": "2023-13"}, 400),
    ("/datasets/border-encounters/observations", {"start": "March"}, 422),
    ("/datasets/border-encounters/observations", {"start": "2024", "end": "2023"}, 400),
    ("/datasets/border-encounters/observations", {"citizenship": "ZZ"}, 400),
    ("/datasets/border-encounters/observations", {"sex": "F"}, 400),
    ("/datasets/border-encounters/observations", {"citizenshp": "HN"}, 400),
    ("/datasets/border-encounters/observations", {"limit": "0"}, 422),
    ("/datasets/border-encounters/observations", {"limit": "100000"}, 422),
    ("/datasets/border-encounters/observations", {"limit": "ten"}, 422),
    ("/datasets/border-encounters/observations", {"offset": "-1"}, 422),
    ("/datasets/border-encounters/observations", {"minors": "maybe"}, 422),
    ("/datasets/border-encounters/observations", {"period_type": "week"}, 422),
    ("/datasets/border-encounters/observations", {"totals": "perhaps"}, 422),
    ("/datasets/population/observations", {"period_type": "month"}, 400),
    ("/datasets/missing-migrants/observations", {}, 400),
    ("/datasets/returns-received/observations", {"minors": "true", "by": "x" * 5000}, 400),
    ("/datasets/border-encounters/indicators", {"by": "period"}, 400),
    ("/datasets/border-encounters/indicators", {"top": "sex"}, 400),
    ("/datasets/border-encounters/indicators", {"top_limit": "500"}, 422),
    ("/datasets/border-encounters/indicators", {"start": "1800"}, 400),
]


@pytest.mark.parametrize(("path", "params", "status"), BAD_QUERIES)
def test_bad_parameters_get_a_message_never_a_500(
    client: Client,
    cbp_batch: ImportBatch,
    population_batch: ImportBatch,
    path: str,
    params: dict[str, str],
    status: int,
) -> None:
    response = client.get(f"{API}{path}", params)
    assert response.status_code == status, response.content[:300]
    assert response.json()["error"]["message"]


def test_the_endpoints_are_described_in_the_openapi_schema(client: Client) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    observations = paths["/api/v1/analytics/datasets/{code}/observations"]["get"]
    names = {parameter["name"] for parameter in observations["parameters"]}
    assert {"by", "start", "end", "citizenship", "sex", "minors", "limit", "offset"} <= names
    assert "security" not in observations or observations["security"] == []
