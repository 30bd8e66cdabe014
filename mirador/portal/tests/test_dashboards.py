"""The public dashboards (/observatory/): no sign-in, Spanish and English, filters that update
the figures with htmx or by a plain GET, a map of Guatemala's departments from the published
boundary file, every figure after disclosure control and with its sources; bad filters get a
400 page that says why."""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from django.urls import reverse

from conftest import SHARED_DATA
from mirador import config
from mirador.analytics import boundaries
from mirador.analytics.dashboards import DashboardSelection, dashboard_selection
from mirador.analytics.disclosure import disclosure_threshold
from mirador.analytics.selectors import dataset_get
from mirador.core.models import Subdivision
from mirador.flows.models import ImportBatch
from mirador.flows.services import ImportOutcome, batch_import
from mirador.portal.staticfiles import PLOTLY_STATIC_PATH, plotly_package_data

pytestmark = pytest.mark.django_db

GT_BOUNDARIES = SHARED_DATA / "geo" / "geoBoundaries-GTM-ADM1_simplified.geojson"
COLUMNS = "month,reporting_country,from_country,sex,age_group,unaccompanied,means,subdivision"
DATASET = "returns-received"
HTMX = {"HX-Request": "true", "HX-Target": "dashboard-figures"}
SERIES_DATA = re.compile(r'<script id="series-data" type="application/json">(.*?)</script>', re.S)


def returns_rows() -> list[dict[str, Any]]:
    """Returns received by Guatemala (every department, one of them with fewer than the
    disclosure threshold) and by Honduras (no boundary file), over two months."""
    rows: list[dict[str, Any]] = []
    for number in range(1, 23):
        department = f"GT-{number:02d}"
        if number == 2:
            rows.append(_row("2024-01", "GT", "M", department, 2))
            continue
        rows.append(_row("2024-01", "GT", "M", department, 10 + 3 * number))
        rows.append(_row("2024-02", "GT", "F", department, 6 + number, means="land"))
        if number % 5 == 0:
            rows.append(_row("2024-02", "GT", "M", department, 5, minor=True))
    rows.append(_row("2024-01", "HN", "M", "HN-CR", 30))
    rows.append(_row("2024-02", "HN", "F", "HN-FM", 25))
    return rows


def _row(
    month: str,
    country: str,
    sex: str,
    department: str,
    count: int,
    *,
    means: str = "air",
    minor: bool = False,
) -> dict[str, Any]:
    return {
        "month": month,
        "reporting_country": country,
        "from_country": "US" if means == "air" else "MX",
        "sex": sex,
        "age_group": "Y_LT18" if minor else "Y_GE18",
        "unaccompanied": "Y" if minor else "N",
        "means": means,
        "subdivision": department,
        "count": count,
    }


def total_of(key: str, **only: str) -> Counter[str]:
    """Sums of the rows by one column, for the rows matching `only`, computed here."""
    rows = [
        row for row in returns_rows() if all(row[name] == value for name, value in only.items())
    ]
    return total_of_rows(rows, key)


def total_of_rows(rows: list[dict[str, Any]], key: str) -> Counter[str]:
    totals: Counter[str] = Counter()
    for row in rows:
        totals[row[key]] += row["count"]
    return totals


@pytest.fixture
def returns_batch(tmp_path: Path, settings: Any) -> ImportBatch:
    settings.MIRADOR_BOUNDARIES_DIR = str(GT_BOUNDARIES.parent)
    return import_returns(tmp_path / "returns-received-test.csv", returns_rows())


def import_returns(path: Path, rows: list[dict[str, Any]]) -> ImportBatch:
    """The rows as a roll-up CSV of the reception centres, imported like any file."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=[*COLUMNS.split(","), "count"])
        writer.writeheader()
        writer.writerows(rows)
    report = batch_import(actor=None, format_code="mirador-returns", path=path)
    assert report.outcome == ImportOutcome.IMPORTED, report.issues[:5]
    assert report.batch is not None
    return report.batch


def _page(
    client: Client, path: str, *, language: str = "en", headers: dict[str, str] | None = None
) -> Any:
    response = client.get(path, headers={"Accept-Language": language, **(headers or {})})
    assert response.status_code == 200, response.content[:800]
    return response


def _dataset_url(query: str = "") -> str:
    url = reverse("portal:dashboard", args=[DATASET])
    return f"{url}?{query}" if query else url


def _chart(html: str) -> dict[str, Any]:
    """The series chart's data, as the page's script reads it."""
    found = SERIES_DATA.search(html)
    assert found is not None
    return json.loads(found[1])


def _series(response: Any) -> dict[str, int | None]:
    return {point.period: point.value for point in response.context["board"].series.points}


# --- the overview ----------------------------------------------------------------------------


def test_the_overview_shows_each_dataset_with_its_figures_without_signing_in(
    client: Client, returns_batch: ImportBatch
) -> None:
    response = _page(client, reverse("portal:dashboards"))
    summaries = {summary.dataset.code: summary for summary in response.context["page"].summaries}
    assert DATASET in summaries and "population" not in summaries
    returns = summaries[DATASET]
    expected = total_of("month")
    assert {point.period: point.value for point in returns.series.points} == dict(expected)
    assert returns.latest_year is not None
    assert returns.latest_year.value == sum(expected.values())
    html = response.content.decode()
    assert f'href="{_dataset_url()}' in html
    assert f"{sum(expected.values()):,}" in html


def test_the_overview_for_one_member_state_counts_its_figures_only(
    client: Client, returns_batch: ImportBatch
) -> None:
    response = _page(client, reverse("portal:dashboards") + "?country=HN&start=2024")
    summary = next(
        entry for entry in response.context["page"].summaries if entry.dataset.code == DATASET
    )
    assert summary.country_dimension.code == "reporting_country"
    assert {point.period: point.value for point in summary.series.points} == dict(
        total_of("month", reporting_country="HN")
    )
    # The dataset page opens with the same selection.
    assert "reporting_country=HN" in summary.link_params and "start=2024" in summary.link_params


def test_the_overview_speaks_spanish_and_english(
    client: Client, returns_batch: ImportBatch
) -> None:
    spanish = _page(client, reverse("portal:dashboards"), language="es").content.decode()
    english = _page(client, reverse("portal:dashboards"), language="en").content.decode()
    assert '<html lang="es">' in spanish and "Observatorio Regional de Migración" in spanish
    assert "Retornos recibidos" in spanish and "Fuentes" in spanish
    assert '<html lang="en">' in english and "Regional Migration Observatory" in english
    assert "Returns received" in english and "Sources" in english


# --- a dataset's page ------------------------------------------------------------------------


def test_a_dataset_page_shows_the_figures_of_the_selection_by_month(
    client: Client, returns_batch: ImportBatch
) -> None:
    response = _page(client, _dataset_url("reporting_country=GT&sex=F"))
    assert _series(response) == dict(total_of("month", reporting_country="GT", sex="F"))
    html = response.content.decode()
    chart = _chart(html)
    assert dict(zip(chart["x"], chart["y"], strict=True)) == _series(response)
    # The chart's table gives the same figures.
    for period, value in _series(response).items():
        assert re.search(rf'data-period="{period}">.*?{value:,}</td>', html, re.S)


def test_the_breakdown_shares_add_up_to_the_selection(
    client: Client, returns_batch: ImportBatch
) -> None:
    response = _page(client, _dataset_url("reporting_country=GT&breakdown=means"))
    breakdown = response.context["board"].breakdown
    expected = total_of("means", reporting_country="GT")
    assert {row.code: row.value for row in breakdown.rows} == dict(expected)
    assert breakdown.total.value == sum(expected.values())
    assert {row.code: row.share for row in breakdown.rows} == {
        code: round(value / sum(expected.values()), 4) for code, value in expected.items()
    }


def test_minors_and_the_yearly_view_are_filters_too(
    client: Client, returns_batch: ImportBatch
) -> None:
    minors = _page(client, _dataset_url("reporting_country=GT&minors=true"))
    assert _series(minors) == dict(total_of("month", reporting_country="GT", age_group="Y_LT18"))
    yearly = _page(client, _dataset_url("period_type=year"))
    assert _series(yearly) == {"2024": sum(total_of("month").values())}


def test_a_filter_change_through_htmx_gets_the_figures_only_and_the_canonical_url(
    client: Client, returns_batch: ImportBatch
) -> None:
    # As the form sends it: every field, most of them empty, in the form's order.
    query = "start=&end=&sex=F&reporting_country=GT&from_country=&breakdown="
    response = _page(client, _dataset_url(query), headers=HTMX)
    html = response.content.decode()
    assert "<html" not in html and 'id="series-data"' in html
    assert "dashboard-filters" not in html  # the form stays on the page
    assert response["HX-Push-Url"] == _dataset_url(
        "reporting_country=GT&sex=F&breakdown=from_country"
    )
    assert "HX-Request" in response["Vary"]
    assert _series(response) == dict(total_of("month", reporting_country="GT", sex="F"))


def test_without_javascript_the_same_url_is_the_whole_page(
    client: Client, returns_batch: ImportBatch
) -> None:
    html = _page(client, _dataset_url("reporting_country=GT&sex=F")).content.decode()
    assert "<html" in html and 'class="dashboard-filters" method="get"' in html
    assert re.search(r'<option value="F" selected>', html)
    restored = _page(
        client,
        _dataset_url("reporting_country=GT"),
        headers={**HTMX, "HX-History-Restore-Request": "true"},
    )
    assert "<html" in restored.content.decode()


def test_a_page_with_several_measures_opens_on_the_dead(client: Client) -> None:
    response = _page(client, reverse("portal:dashboard", args=["missing-migrants"]))
    selection: DashboardSelection = response.context["selection"]
    assert selection.query.filter_dict()["measure"] == ("dead",)
    assert ("measure", "dead") in selection.params


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("sex=Q", "Not codes of sex: Q."),
        ("start=2024-13", "start is out of range"),
        ("start=last-year", "start must be a year (2024) or a month (2024-03)"),
        ("start=2024-06&end=2024-01", "start is after end."),
        ("minors=maybe", "minors is true or false"),
        ("colour=red", "Unknown parameters: colour."),
        ("breakdown=shoe_size", "no dimension “shoe_size” to break down by"),
        ("by=sex", "leave out “by”"),
        ("period_type=week", "period_type is “month” or “year”."),
        ("subdivision=GT-99", "Not codes of subdivision: GT-99."),
        ("breakdown=sex&breakdown=means", "breakdown is given once."),
    ],
)
def test_a_question_that_cannot_be_answered_gets_a_400_page_saying_why(
    client: Client, query: str, message: str
) -> None:
    response = client.get(_dataset_url(query), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html and "<html" in html
    htmx = client.get(_dataset_url(query), headers={"Accept-Language": "en", **HTMX})
    assert htmx.status_code == 400
    assert message in htmx.content.decode() and "<html" not in htmx.content.decode()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("country=ZZ", "“ZZ” is not an ISO 3166-1 country code"),
        ("start=2030&end=2020", "start is after end."),
        ("sex=F", "Unknown parameters: sex."),
    ],
)
def test_the_overview_refuses_bad_filters_with_a_400(
    client: Client, query: str, message: str
) -> None:
    response = client.get(f"{reverse('portal:dashboards')}?{query}", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert message in response.content.decode()


def test_a_refusal_is_said_in_spanish_too(client: Client) -> None:
    response = client.get(_dataset_url("sex=Q"), HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 400
    assert "No son códigos de sex: Q." in response.content.decode()


def test_an_unknown_dataset_is_404(client: Client) -> None:
    response = client.get(reverse("portal:dashboard", args=["no-such-figures"]))
    assert response.status_code == 404


# --- the map ---------------------------------------------------------------------------------


def test_the_map_draws_every_department_of_guatemala_from_the_boundary_file(
    client: Client, returns_batch: ImportBatch
) -> None:
    response = _page(client, _dataset_url("reporting_country=GT"))
    html = response.content.decode()
    svg = re.search(r'<svg class="choropleth".*?</svg>', html, re.S)
    assert svg is not None
    drawn = re.findall(r'<path d="M[^"]+" data-code="(GT-\d\d)"', svg[0])
    departments = set(Subdivision.objects.filter(country_id="GT").values_list("code", flat=True))
    assert len(drawn) == len(departments) == 22
    assert set(drawn) == departments
    (gt_map,) = response.context["board"].maps
    expected = total_of("subdivision", reporting_country="GT")
    published = {area.code: area.value for area in gt_map.areas}
    # Small counts are withheld, on the map as in the table; every other figure is the file's.
    assert published["GT-02"] is None and expected["GT-02"] < disclosure_threshold()
    assert 'data-code="GT-02" data-value="withheld"' in svg[0]
    assert all(published[code] in (None, value) for code, value in expected.items())
    assert sum(value is None for value in published.values()) >= 2  # secondary suppression
    assert f'data-code="GT-13" data-value="{expected["GT-13"]}"' in svg[0]
    assert "geoBoundaries (www.geoboundaries.org), CC BY 4.0" in html


def test_the_crosswalk_turns_every_code_of_the_boundary_file_into_a_department() -> None:
    with GT_BOUNDARIES.open(encoding="utf-8") as handle:
        codes = [feature["properties"]["shapeISO"] for feature in json.load(handle)["features"]]
    crosswalk = boundaries.code_crosswalk()
    departments = set(Subdivision.objects.filter(country_id="GT").values_list("code", flat=True))
    assert {crosswalk[code] for code in codes} == departments
    assert crosswalk["GT-AV"] == "GT-16"


def test_choosing_a_department_on_the_map_filters_the_page_and_keeps_the_map_whole(
    client: Client, returns_batch: ImportBatch
) -> None:
    html = _page(client, _dataset_url("reporting_country=GT")).content.decode()
    link = re.search(r'<a href="([^"]+subdivision=GT-13[^"]*)"', html)
    assert link is not None
    response = _page(client, link[1].replace("&amp;", "&"))
    assert _series(response) == dict(total_of("month", reporting_country="GT", subdivision="GT-13"))
    (gt_map,) = response.context["board"].maps
    assert len([area for area in gt_map.areas if area.value]) > 1
    assert 'data-code="GT-13" data-value' in response.content.decode()
    assert "area-selected" in response.content.decode()


def test_a_country_without_boundaries_shows_its_table_only(
    client: Client, returns_batch: ImportBatch
) -> None:
    response = _page(client, _dataset_url("reporting_country=HN"))
    html = response.content.decode()
    assert "choropleth" not in html and "data-no-boundaries" in html
    (hn_map,) = response.context["board"].maps
    assert {area.code: area.value for area in hn_map.areas if area.value} == dict(
        total_of("subdivision", reporting_country="HN")
    )


def test_without_a_boundaries_directory_the_maps_say_so(
    client: Client, returns_batch: ImportBatch, settings: Any
) -> None:
    settings.MIRADOR_BOUNDARIES_DIR = None
    html = _page(client, _dataset_url("reporting_country=GT")).content.decode()
    assert "choropleth" not in html and "No boundaries of the subdivisions of Guatemala" in html


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    for name in ("MIRADOR_BOUNDARIES_DIR", "MIRADOR_SHARED_DATA"):
        monkeypatch.delenv(name, raising=False)
    yield monkeypatch


def test_the_boundaries_directory_defaults_to_the_shared_data_in_the_demo_only(
    environment: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    base = tmp_path / "checkout"
    assert config.boundaries_dir(base_dir=base, production=False) == (
        tmp_path / "shared" / "data" / "geo"
    )
    assert config.boundaries_dir(base_dir=base, production=True) is None
    environment.setenv("MIRADOR_BOUNDARIES_DIR", str(tmp_path))
    assert config.boundaries_dir(base_dir=base, production=True) == tmp_path.resolve()
    environment.setenv("MIRADOR_BOUNDARIES_DIR", str(tmp_path / "missing"))
    with pytest.raises(config.ConfigurationError, match="is not a directory"):
        config.boundaries_dir(base_dir=base, production=True)


# --- sources, disclosure and charts ----------------------------------------------------------


def test_every_figure_links_to_the_file_it_came_from(
    client: Client, returns_batch: ImportBatch
) -> None:
    html = _page(client, _dataset_url("reporting_country=GT")).content.decode()
    (source,) = re.findall(r'<li id="source-(\d+)" value="\d+" data-batch="([^"]+)"', html)
    number, batch = source
    assert batch == str(returns_batch.pk)
    assert returns_batch.file_name in html
    rows = re.findall(r"<tr data-period=.*?</tr>", html, re.S)
    assert rows and all(f'href="#source-{number}"' in row for row in rows)


def test_the_charts_are_drawn_by_the_installed_plotly_never_a_cdn(
    client: Client, returns_batch: ImportBatch
) -> None:
    assert finders.find(PLOTLY_STATIC_PATH) == str(plotly_package_data() / "plotly.min.js")
    html = _page(client, _dataset_url()).content.decode()
    scripts = re.findall(r'<script src="([^"]+)"', html)
    assert "/static/vendor/plotly/plotly.min.js" in scripts
    assert all(src.startswith("/static/") for src in scripts), scripts
    served = client.get("/static/" + PLOTLY_STATIC_PATH)
    assert served.status_code == 200


def test_the_dashboard_selection_is_the_url_a_view_is_shared_by(
    returns_batch: ImportBatch,
) -> None:
    dataset = dataset_get(code=DATASET)
    selection = dashboard_selection(
        dataset=dataset,
        params={"sex": ["F"], "reporting_country": ["gt"], "start": ["2024-01"], "end": [""]},
    )
    assert selection.query_string() == (
        "start=2024-01&reporting_country=GT&sex=F&breakdown=from_country"
    )
    assert selection.query_string(sex=None, subdivision="GT-13") == (
        "start=2024-01&reporting_country=GT&subdivision=GT-13&breakdown=from_country"
    )


def test_the_demo_has_guatemalan_departments_to_map(
    monkeypatch: pytest.MonkeyPatch, settings: Any, tmp_path: Path
) -> None:
    from mirador.analytics import demo_returns

    settings.DATA_DIR = tmp_path
    monkeypatch.setattr(demo_returns, "DRAWN", 2000)
    report = demo_returns.national_returns_demo_load()
    assert report.outcome == ImportOutcome.IMPORTED, report.issues[:5]
    with next((tmp_path / "demo").glob("*.csv")).open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert {row["reporting_country"] for row in rows} == {"GT", "SV"}
    departments = {row["subdivision"] for row in rows if row["reporting_country"] == "GT"}
    assert departments <= set(
        Subdivision.objects.filter(country_id="GT").values_list("code", flat=True)
    )
    assert len(departments) > 15
    again = demo_returns.national_returns_demo_load()
    assert again.outcome != ImportOutcome.IMPORTED  # the same table is not imported twice


# --- the forecast band -----------------------------------------------------------------------


def monthly_rows(months: int) -> list[dict[str, Any]]:
    """El Salvador's returns over `months` months from January 2022: a yearly season and a
    slow rise, large enough that no month is withheld."""
    rows = []
    for offset in range(months):
        year, month = 2022 + offset // 12, offset % 12 + 1
        count = 200 + 3 * offset + (40 if month in (5, 6, 7) else 0) - (30 if month == 12 else 0)
        rows.append(_row(f"{year}-{month:02d}", "SV", "M", "SV-SS", count))
    return rows


@pytest.fixture
def long_series_batch(tmp_path: Path) -> ImportBatch:
    return import_returns(tmp_path / "returns-received-sv.csv", monthly_rows(48))


def _compute_forecasts() -> None:
    """What the background task does, here in the test's thread."""
    from mirador.analytics import forecasting
    from mirador.analytics.models import Forecast

    forecasting.forecasts_compute(records=list(Forecast.objects.select_related("dataset")))


def test_a_forecast_not_yet_computed_is_asked_for_and_said_to_be_coming(
    client: Client, long_series_batch: ImportBatch
) -> None:
    from mirador.analytics.models import Forecast

    html = _page(client, _dataset_url("reporting_country=SV")).content.decode()
    assert 'data-forecast="pending"' in html and "being computed" in html
    assert _chart(html)["forecast"] == []
    assert Forecast.objects.filter(dataset__code=DATASET).count() == 1


def test_the_chart_draws_the_forecast_band_with_its_backtest(
    client: Client, long_series_batch: ImportBatch
) -> None:
    from mirador.analytics import forecasting

    _page(client, _dataset_url("reporting_country=SV"))
    _compute_forecasts()
    response = _page(client, _dataset_url("reporting_country=SV&horizon=12"))
    html = response.content.decode()
    selection = response.context["selection"]
    found = forecasting.forecast_get(query=selection.query)
    assert found is not None and found.status == "ok" and found.backtest is not None
    band = _chart(html)["forecast"]
    assert [point["x"] for point in band] == [f"{p.period:%Y-%m}" for p in found.points[:12]]
    assert all(p["lo95"] <= p["lo80"] <= p["mean"] <= p["hi80"] <= p["hi95"] for p in band)
    ensemble = found.backtest.mase["ensemble"]
    naive = found.backtest.mase["seasonal_naive"]
    assert ensemble is not None and naive is not None
    assert f'<span data-mase="ensemble">{ensemble:.2f}</span>' in html
    assert f'<span data-mase="seasonal_naive">{naive:.2f}</span>' in html
    assert 'data-table="forecast"' in html
    # The short term: three months.
    short = _page(client, _dataset_url("reporting_country=SV&horizon=3")).content.decode()
    assert len(_chart(short)["forecast"]) == 3


def test_a_series_too_short_to_forecast_says_so_and_draws_no_line(
    client: Client, returns_batch: ImportBatch
) -> None:
    _page(client, _dataset_url("reporting_country=GT"))
    _compute_forecasts()
    html = _page(client, _dataset_url("reporting_country=GT")).content.decode()
    assert 'data-forecast="too_short"' in html
    assert "a forecast needs at least" in html
    assert _chart(html)["forecast"] == []


def test_a_horizon_that_is_not_offered_is_refused(client: Client) -> None:
    response = client.get(_dataset_url("horizon=7"), headers={"Accept-Language": "en"})
    assert response.status_code == 400
    assert "horizon is the number of months forecast: 3, 12, 36." in response.content.decode()


def test_a_new_import_is_on_the_page_at_once(
    client: Client, returns_batch: ImportBatch, tmp_path: Path
) -> None:
    before = _series(_page(client, _dataset_url("reporting_country=SV")))
    assert before == {}
    import_returns(tmp_path / "returns-sv.csv", monthly_rows(3))
    after = _series(_page(client, _dataset_url("reporting_country=SV")))
    assert after == dict(total_of_rows(monthly_rows(3), "month"))
