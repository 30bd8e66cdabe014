"""The monthly bulletin: its figures are the indicators of the month, computed here from the
rows imported; a withheld figure never appears in the PDF; Spanish and English, accents
included; every edition archived, a month generated again keeps the earlier editions; the
task, the command, and a month without figures."""

from __future__ import annotations

import datetime
import hashlib
import io
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.utils import translation
from django.utils.formats import number_format
from pypdf import PdfReader

from mirador.analytics import bulletins
from mirador.analytics.bulletin_pdf import bulletin_pdf
from mirador.analytics.disclosure import TOTAL
from mirador.analytics.indicators import period_totals, shares, top
from mirador.analytics.models import BulletinEdition, BulletinStatus, BulletinTrigger
from mirador.analytics.selectors import dataset_get, table_query
from mirador.analytics.tests.bulletin_data import Row, import_rows, month_of, region_rows
from mirador.analytics.tests.conftest import (
    cbp_citizenship,
    cbp_demographic,
    cbp_month,
    cbp_rows,
    cbp_totals,
)
from mirador.flows.models import ImportBatch
from mirador.flows.services import batch_rollback
from mirador.flows.tasks import run_pending_tasks

pytestmark = pytest.mark.django_db

MONTH = "2024-03"
YEAR_AGO = "2023-03"
THRESHOLD = 100


@pytest.fixture(autouse=True)
def threshold(settings: Any) -> None:
    settings.MIRADOR_DISCLOSURE_THRESHOLD = THRESHOLD


@pytest.fixture
def rows() -> list[Row]:
    return region_rows(last=MONTH)


@pytest.fixture
def batch(rows: list[Row], tmp_path: Path) -> ImportBatch:
    return import_rows(rows, tmp_path)


def pdf_text(pdf: bytes) -> str:
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    return re.sub(r"[ \u00a0\u202f]+", " ", text)


def numbers_in(text: str) -> set[str]:
    """Every number printed, as written (grouped with spaces or commas, decimals kept)."""
    found = re.findall(r"(?<![\w.,])\d{1,3}(?:[ ,]\d{3})*(?:[.,]\d+)?(?![\w])", text)
    return {number.replace(" ", "").replace(",", "") for number in found}


def grouped(value: int, language: str) -> str:
    with translation.override(language):
        return number_format(value, force_grouping=True).replace("\u00a0", " ")


def total(rows: list[Row], month: str, **only: str) -> int:
    return sum(
        row.value
        for row in rows
        if row.month == month_of(month)
        and all(getattr(row, name) == value for name, value in only.items())
    )


def figures() -> bulletins.BulletinFigures:
    return bulletins.bulletin_figures(month=month_of(MONTH))


def test_the_bulletin_figures_are_the_indicators_of_the_month(
    batch: ImportBatch, rows: list[Row]
) -> None:
    dataset = dataset_get(code="returns-received")
    [series] = figures().series

    # The month, a year earlier, and the 24 months: the rows' sums, as the indicators give them.
    assert series.month.value == total(rows, MONTH)
    assert series.year_ago.value == total(rows, YEAR_AGO)
    monthly, _yearly, _table = period_totals(
        table_query(dataset=dataset, start="2022-04", end=MONTH)
    )
    assert [(f"{month:%Y-%m}", figure.value) for month, figure in series.monthly] == [
        (figure.period, figure.value) for figure in monthly
    ]
    january_to_march = sum(total(rows, f"2024-0{month}") for month in (1, 2, 3))
    assert series.year_to_date.value == january_to_march
    assert series.year_to_date_before.value == sum(
        total(rows, f"2023-0{month}") for month in (1, 2, 3)
    )

    # Shares of the month, as analytics.indicators.shares computes them.
    month_query = table_query(dataset=dataset, start=MONTH, end=MONTH)
    expected_shares = {
        figure.indicator: figure.share
        for figure in shares(month_query)[0]
        if figure.period == TOTAL
    }
    assert {name: share.value for name, share in series.shares.items()} == expected_shares
    women = total(rows, MONTH, sex="F")
    assert series.shares["women"].value == round(women / total(rows, MONTH), 4)

    # Countries: the published ones of the month's table by country, largest first.
    ranked, table = top(month_query, dimension="reporting_country")
    assert [(item.code, item.value) for item in series.top] == [
        (figure.code, figure.value) for figure in ranked
    ]
    assert series.top[0].code == "GT"
    assert series.top[0].value == total(rows, MONTH, reporting_country="GT")


def test_the_pdf_prints_the_figures_and_never_a_withheld_one(
    batch: ImportBatch, rows: list[Row]
) -> None:
    computed = figures()
    dataset = dataset_get(code="returns-received")
    _ranked, by_country = top(
        table_query(dataset=dataset, start=MONTH, end=MONTH), dimension="reporting_country"
    )
    withheld = {key: by_country.protected.values[key] for key in by_country.protected.suppressed}
    # Belize's 47 returns, under the threshold, and the smallest other country with them.
    assert withheld == {
        ("BZ",): 47,
        ("HN",): total(rows, MONTH, reporting_country="HN"),
    }

    for language in ("es", "en"):
        text = pdf_text(bulletin_pdf(computed, language=language, number=1, generated_at=_now()))
        printed = numbers_in(text)
        assert grouped(total(rows, MONTH), language) in text
        assert grouped(total(rows, MONTH, reporting_country="GT"), language) in text
        for value in withheld.values():
            assert str(value) not in printed, (language, value)
        # Honduras' and Belize's rows say "c" for the month.
        assert computed.series[0].by_country["HN"][0].withheld
        assert computed.series[0].by_country["BZ"][0].withheld
        assert re.search(r"\bc\b", text)
        if language == "es":
            assert "cifras de este boletín están reservadas" in text


def _now() -> Any:
    """A fixed time of generation: the clock's minute, printed on the PDF, could be a withheld
    figure (47 at 01:47)."""
    return datetime.datetime(2025, 3, 10, 8, 0, tzinfo=datetime.UTC)


def test_spanish_and_english_bulletins_render_their_accents(batch: ImportBatch) -> None:
    computed = figures()
    spanish = pdf_text(bulletin_pdf(computed, language="es", number=1, generated_at=_now()))
    english = pdf_text(bulletin_pdf(computed, language="en", number=1, generated_at=_now()))

    assert "Boletín mensual de migración" in spanish
    assert "Marzo de 2024" in spanish
    assert "Observatorio Regional de Migración" in spanish
    assert "México" in spanish or "Belice" in spanish  # RCM member states, in Spanish
    assert "Panamá" in spanish
    assert "Monthly migration bulletin" in english
    assert "March 2024" in english
    assert "Panama" in english and "Panamá" not in english
    assert grouped(6323, "es") == "6 323" and "6 323" in spanish
    assert "6,323" in english


def test_a_request_is_generated_by_the_task_archived_and_a_second_one_keeps_the_first(
    batch: ImportBatch, make_user: Any
) -> None:
    analyst = make_user(username="analyst.regional", role="regional-analyst", country=None)
    first = bulletins.bulletin_request(actor=analyst, month=MONTH)
    assert {edition.status for edition in first} == {BulletinStatus.QUEUED}
    assert not bulletins.published_editions().exists()

    assert run_pending_tasks() == 1
    published = {edition.language: edition for edition in bulletins.published_editions()}
    assert set(published) == {"es", "en"}
    for edition in published.values():
        stored = BulletinEdition.objects.get(pk=edition.pk)
        assert stored.number == 1
        assert stored.month == month_of(MONTH)
        assert stored.sha256 == hashlib.sha256(bytes(stored.pdf)).hexdigest()
        assert stored.size == len(bytes(stored.pdf))
        assert bytes(stored.pdf).startswith(b"%PDF")
        assert list(stored.batches.all()) == [batch]
        assert stored.created_by == analyst
        assert stored.published_at is not None

    bulletins.bulletin_request(actor=analyst, month=MONTH, languages=["es"])
    run_pending_tasks()
    spanish = list(bulletins.published_editions().filter(language="es"))
    assert [edition.number for edition in spanish] == [2, 1]
    assert spanish[0].sha256 != spanish[1].sha256
    [month] = bulletins.bulletin_months()
    assert month.latest["es"].number == 2 and month.latest["en"].number == 1
    assert [edition.number for edition in month.earlier] == [1]
    assert "Edición 2" in pdf_text(bytes(BulletinEdition.objects.get(pk=spanish[0].pk).pdf))


def test_a_month_whose_figures_were_taken_back_before_the_task_ran_fails_with_the_reason(
    batch: ImportBatch,
) -> None:
    editions = bulletins.bulletin_request(actor=None, month=MONTH, languages=["en"])
    batch_rollback(actor=None, batch=batch)
    run_pending_tasks()
    edition = BulletinEdition.objects.get(pk=editions[0].pk)
    assert edition.status == BulletinStatus.FAILED
    # Asked for by the schedule (no user): said in Mirador's default language, Spanish.
    with translation.override(settings.LANGUAGE_CODE):
        assert edition.message == bulletins.no_data_message(month_of(MONTH))
    assert settings.LANGUAGE_CODE == "es" and edition.message.startswith("No hay cifras")
    assert not edition.pdf and edition.number is None


@pytest.mark.parametrize(
    ("month", "message"),
    [
        ("2019-05", "There are no figures for May 2019"),
        ("2999-01", "has not"),
        (f"{bulletins.current_month():%Y-%m}", "has not"),
        ("March", "YYYY-MM"),
        ("2024-13", "YYYY-MM"),
    ],
)
def test_a_month_without_figures_or_not_ended_or_malformed_is_refused_at_once(
    batch: ImportBatch, month: str, message: str
) -> None:
    with pytest.raises(bulletins.BulletinError) as raised:
        bulletins.bulletin_request(actor=None, month=month)
    assert message in raised.value.message
    assert not BulletinEdition.objects.exists()


def test_the_command_queues_the_month_for_the_worker_or_generates_it_now(
    batch: ImportBatch, capsys: Any
) -> None:
    call_command("bulletin", "--month", MONTH)
    assert "queued" in capsys.readouterr().out
    queued = BulletinEdition.objects.get(language="es")
    assert queued.status == BulletinStatus.QUEUED
    assert queued.trigger == BulletinTrigger.SCHEDULE
    run_pending_tasks()
    assert bulletins.published_editions().count() == 2

    call_command("bulletin", "--month", MONTH, "--language", "en", "--now")
    out = capsys.readouterr().out
    latest = bulletins.published_editions().filter(language="en").first()
    assert latest is not None and latest.number == 2
    assert latest.sha256 in out


def test_the_command_says_when_a_month_has_no_figures(batch: ImportBatch) -> None:
    with pytest.raises(CommandError, match="There are no figures for May 2019"):
        call_command("bulletin", "--month", "2019-05")
    assert not BulletinEdition.objects.exists()


def test_a_country_that_reports_only_some_months_shows_no_figure_rather_than_zero(
    tmp_path: Path, rows: list[Row]
) -> None:
    import_rows(rows, tmp_path)
    computed = figures()
    by_country = computed.series[0].by_country
    # Costa Rica never reported: no figure, not zero; Belize reported the month only.
    assert by_country["CR"] == (bulletins.NO_FIGURE, bulletins.NO_FIGURE)
    assert by_country["BZ"][1] == bulletins.NO_FIGURE
    totals: dict[str, int] = defaultdict(int)
    for row in rows:
        if row.month == month_of(YEAR_AGO):
            totals[row.reporting_country] += row.value
    assert by_country["GT"][1].value == totals["GT"]


def test_on_the_published_cbp_file_the_bulletin_figures_are_the_files(
    cbp_batch: ImportBatch,
) -> None:
    computed = bulletins.bulletin_figures(month=month_of(MONTH))
    [series] = [item for item in computed.series if item.dataset.code == "border-encounters"]
    months = cbp_totals("month")
    assert series.month.value == months[MONTH]
    assert series.year_ago.value == months[YEAR_AGO]
    assert series.year_to_date.value == sum(months[f"2024-0{month}"] for month in (1, 2, 3))

    in_month = [row for row in cbp_rows() if f"{cbp_month(row):%Y-%m}" == MONTH]
    by_demographic: dict[str, int] = defaultdict(int)
    by_citizenship: dict[str, int] = defaultdict(int)
    for row in in_month:
        by_demographic[cbp_demographic(row)] += int(row["Encounter Count"])
        by_citizenship[cbp_citizenship(row)] += int(row["Encounter Count"])
    minors = by_demographic["accompanied-minors"] + by_demographic["unaccompanied-minors"]
    assert series.shares["minors"].value == round(minors / months[MONTH], 4)
    assert series.shares["unaccompanied_minors"].value == round(
        by_demographic["unaccompanied-minors"] / months[MONTH], 4
    )
    largest = max(
        (code for code in by_citizenship if not code.startswith("_")),
        key=lambda code: by_citizenship[code],
    )
    assert (series.top[0].code, series.top[0].value) == (largest, by_citizenship[largest])
    assert [source.id for source in computed.sources] == [str(cbp_batch.pk)]
