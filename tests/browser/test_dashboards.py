"""The public dashboards in Debian's chromium: the regional overview, a dataset page with its
chart (drawn by the plotly.js Mirador serves) and the map of Guatemala's 22 departments, a
filter change that updates the chart and the table without reloading the page, the same pages
in Spanish, and on a phone's screen."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from mirador.core.models import Subdivision
from mirador.portal.tests.test_dashboards import (
    GT_BOUNDARIES,
    import_returns,
    returns_rows,
    total_of,
)
from tests.browser.conftest import Chromium, Screenshot

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

DATASET = "returns-received"
PHONE = {"width": 390, "height": 844}


def _page(browser: Browser, language: str, **options: Any) -> Page:
    context = browser.new_context(
        locale=language, extra_http_headers={"Accept-Language": language}, **options
    )
    page = context.new_page()
    # Nothing may come from outside Mirador (no CDN): every other request is refused.
    page.route(
        lambda url: not url.startswith("http://localhost") and not url.startswith("http://127."),
        lambda route: route.abort(),
    )
    return page


def _drawn(page: Page, selector: str) -> None:
    """The chart's plotly SVG is on the page."""
    expect(page.locator(f"{selector}[data-drawn=true] .main-svg").first).to_be_attached()


def test_the_dashboards_in_a_browser(
    live_server: LiveServer,
    chromium: Chromium,
    screenshot: Screenshot,
    settings: Any,
    tmp_path: Path,
) -> None:
    settings.MIRADOR_BOUNDARIES_DIR = str(GT_BOUNDARIES.parent)
    import_returns(tmp_path / "returns.csv", returns_rows())
    departments = Subdivision.objects.filter(country_id="GT").count()
    women = total_of("month", reporting_country="GT", sex="F")
    everyone = total_of("month", reporting_country="GT")
    base = live_server.url
    dataset_url = base + reverse("portal:dashboard", args=[DATASET]) + "?reporting_country=GT"
    outside: list[str] = []

    with chromium() as browser:
        page = _page(browser, "en")
        page.on(
            "request",
            lambda request: (
                outside.append(request.url) if not request.url.startswith(base) else None
            ),
        )
        page.goto(base + reverse("portal:dashboards"))
        expect(page.locator("h1")).to_have_text("Regional Migration Observatory")
        _drawn(page, f"#chart-{DATASET}")
        screenshot(page, "overview")

        page.goto(dataset_url)
        expect(page.locator("h1")).to_have_text("Returns received")
        _drawn(page, "#series-chart")
        paths = page.locator("svg.choropleth path[data-code]")
        expect(paths).to_have_count(departments)
        assert departments == 22
        expect(page.locator("svg.choropleth path[data-value=withheld]").first).to_be_attached()
        screenshot(page, "dataset")

        # A filter change: the figures change in place, the page is not loaded again.
        page.evaluate("window.stillTheSamePage = true")
        with page.expect_response(lambda response: "sex=F" in response.url):
            page.select_option("#filter-sex", "F")
        first_month = min(women)
        row = page.locator(f"table[data-table=series] tr[data-period='{first_month}'] td").first
        expect(row).to_have_text(f"{women[first_month]:,}")
        expect(page).to_have_url(dataset_url.replace("GT", "GT&sex=F") + "&breakdown=from_country")
        assert page.evaluate("window.stillTheSamePage") is True
        _drawn(page, "#series-chart")
        observed = page.evaluate(
            "() => { const data = document.getElementById('series-chart').data;"
            " return data[data.length - 1].y; }"
        )
        assert [value for value in observed if value is not None] == [
            women[month] for month in sorted(women)
        ]
        assert women != everyone
        expect(page.locator("#dashboard-status")).to_contain_text("Sex: Female")
        screenshot(page, "dataset-women")

        # A department chosen on the map filters the page, still without a reload.
        with page.expect_response(lambda response: "subdivision=GT-13" in response.url):
            page.locator("svg.choropleth a:has(path[data-code='GT-13'])").click()
        expect(page.locator("svg.choropleth path.area-selected")).to_have_attribute(
            "data-code", "GT-13"
        )
        expect(page.locator("#filter-subdivision")).to_have_value("GT-13")
        assert page.evaluate("window.stillTheSamePage") is True
        page.close()

        spanish = _page(browser, "es")
        spanish.goto(dataset_url)
        expect(spanish.locator("html")).to_have_attribute("lang", "es")
        expect(spanish.locator("h1")).to_have_text("Retornos recibidos")
        expect(spanish.locator("#sources-title")).to_have_text("Fuentes")
        expect(spanish.locator("svg.choropleth path[data-code]")).to_have_count(departments)
        _drawn(spanish, "#series-chart")
        screenshot(spanish, "dataset-es")
        spanish.close()

        phone = _page(browser, "es", viewport=PHONE, is_mobile=True, has_touch=True)
        phone.goto(dataset_url)
        _drawn(phone, "#series-chart")
        expect(phone.locator("svg.choropleth path[data-code]")).to_have_count(departments)
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"the page is {width}px wide on a 390px screen"
        chart_box = phone.locator("#series-chart").bounding_box()
        map_box = phone.locator("svg.choropleth").bounding_box()
        assert chart_box is not None and map_box is not None
        assert chart_box["width"] <= PHONE["width"] and map_box["width"] <= PHONE["width"]
        screenshot(phone, "dataset-phone")
        phone.close()

    assert outside == []
