"""The monthly bulletin's template: its figures (mirador.analytics.bulletins) written as an A4
PDF with reportlab, in the active language.

Page 1: title band (no logo: the observatory belongs to every member state), highlights,
key figures, shares. Then the last 24 months of each series as bar charts (reportlab's own
graphics), the countries with the largest figures, a short table per RCM member state, the
sources (files and their SHA-256) and the note on disclosure control. Fonts: Bitstream Vera,
shipped with reportlab and embedded (subset), so accents render on any machine without a
system font.
"""

from __future__ import annotations

import datetime
import io
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import reportlab
from django.conf import settings
from django.utils import timezone, translation
from django.utils.formats import date_format, number_format
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext
from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.shapes import Drawing, Rect, String
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from mirador.analytics.bulletins import (
    NO_FIGURE_MARK,
    SERIES_MONTHS,
    SHARE_INDICATORS,
    WITHHELD_MARK,
    BulletinFigures,
    Figure,
    SeriesFigures,
    Share,
    change,
    month_code,
    month_label,
    months_label,
    shift_month,
)
from mirador.analytics.exports import source_terms
from mirador.core.models import Country
from mirador.flows.models import Code

NAVY = colors.HexColor("#1f3a5f")
TEAL = colors.HexColor("#3f8f9c")
PALE = colors.HexColor("#b9c9da")
RULE = colors.HexColor("#c7d0db")
SHADE = colors.HexColor("#eef2f7")
GREY = colors.HexColor("#5b6573")
FONT, BOLD, ITALIC = "MiradorSans", "MiradorSans-Bold", "MiradorSans-Oblique"
MARGIN = 18 * mm
WIDTH = A4[0] - 2 * MARGIN


@cache
def _register_fonts() -> None:
    directory = Path(reportlab.__file__).resolve().parent / "fonts"
    for name, file_name in ((FONT, "Vera.ttf"), (BOLD, "VeraBd.ttf"), (ITALIC, "VeraIt.ttf")):
        pdfmetrics.registerFont(TTFont(name, str(directory / file_name)))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=BOLD, italic=ITALIC, boldItalic=BOLD)


def _styles() -> dict[str, ParagraphStyle]:
    body = ParagraphStyle("body", fontName=FONT, fontSize=9, leading=12.5)
    heading = ParagraphStyle("heading", parent=body, fontName=BOLD, textColor=NAVY)
    return {
        "body": body,
        "small": ParagraphStyle("small", parent=body, fontSize=7.5, leading=10, textColor=GREY),
        "cell": ParagraphStyle("cell", parent=body, fontSize=8, leading=10),
        "head": ParagraphStyle("head", parent=heading, fontSize=7.5, leading=9.5),
        "head_right": ParagraphStyle(
            "head_right", parent=heading, fontSize=7.5, leading=9.5, alignment=TA_RIGHT
        ),
        "mono": ParagraphStyle("mono", parent=body, fontName="Courier", fontSize=6, leading=7.5),
        "h2": ParagraphStyle(
            "h2", parent=heading, fontSize=13, leading=16, spaceBefore=10, spaceAfter=6
        ),
        "h3": ParagraphStyle(
            "h3", parent=heading, fontSize=9.5, leading=12, spaceBefore=6, spaceAfter=3
        ),
        "card_title": ParagraphStyle("card_title", parent=heading, fontSize=8.5, leading=11),
        "card_value": ParagraphStyle("card_value", parent=heading, fontSize=20, leading=25),
        "card_note": ParagraphStyle(
            "card_note", parent=body, fontSize=7.5, leading=10, textColor=GREY
        ),
    }


def _escape(text: object) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def count_text(figure: Figure) -> str:
    """A count as printed: grouped digits, "c" when withheld, "–" when there is none."""
    if figure.withheld:
        return WITHHELD_MARK
    if figure.value is None:
        return NO_FIGURE_MARK
    return number_format(figure.value, force_grouping=True)


def percent_text(value: float | None, *, signed: bool = False) -> str:
    if value is None:
        return NO_FIGURE_MARK
    text = number_format(abs(value), 1, force_grouping=True)
    sign = ("+" if value > 0 else "−" if value < 0 else "±") if signed else ""
    return _("%(number)s%%") % {"number": f"{sign}{text}"}


def share_text(share: Share | None) -> str:
    if share is None:
        return NO_FIGURE_MARK
    if share.withheld:
        return WITHHELD_MARK
    return percent_text(None if share.value is None else 100 * share.value)


def short_month(month: datetime.date) -> str:
    return date_format(month, "M y")


def country_phrase(dimension: str) -> str:
    """What a series' figure for a country counts."""
    return {
        "citizenship": _("citizens of the country"),
        "reporting_country": _("reported by the country"),
        "from_country": _("returned from the country"),
        "to_country": _("going to the country"),
    }.get(dimension, "")


def share_label(indicator: str) -> str:
    return {
        "women": _("Women"),
        "minors": _("Minors"),
        "unaccompanied_minors": _("Unaccompanied minors"),
    }[indicator]


def _numbered_canvas(draw: Callable[[Canvas, int, int], None]) -> type[Canvas]:
    """A canvas that draws each page's frame once the number of pages is known."""

    class NumberedCanvas(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:  # noqa: N802 (reportlab's name)
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            for number, state in enumerate(self._pages, start=1):
                self.__dict__.update(state)
                draw(self, number, len(self._pages))
                super().showPage()
            super().save()

    return NumberedCanvas


class _Bulletin:
    """One bulletin written in the active language."""

    def __init__(
        self, figures: BulletinFigures, *, number: int, generated_at: datetime.datetime
    ) -> None:
        _register_fonts()
        self.figures = figures
        self.number = number
        self.generated_at = timezone.localtime(generated_at, datetime.UTC)
        self.styles = _styles()
        self.month = figures.month
        self.year_ago = shift_month(figures.month, -12)
        codes = {code for series in figures.series for code in series.by_country} | {
            item.code for series in figures.series for item in series.top
        }
        self.country_names = {
            country.alpha2: country.name for country in Country.objects.filter(alpha2__in=codes)
        }
        self.measure_names = {
            code.code: code.name for code in Code.objects.filter(code_list__code="measure")
        }

    # --- words ---

    def p(self, text: str, style: str = "body") -> Paragraph:
        return Paragraph(text, self.styles[style])

    def title_of(self, series: SeriesFigures) -> str:
        if series.measure:
            return _("%(dataset)s: %(measure)s") % {
                "dataset": series.dataset.name,
                "measure": self.measure_names.get(series.measure, series.measure),
            }
        return series.dataset.name

    def short_title_of(self, series: SeriesFigures) -> str:
        """The measure alone for a series of a dataset of several (the tables' rows)."""
        if series.measure:
            return self.measure_names.get(series.measure, series.measure)
        return series.dataset.name

    def country(self, code: str) -> str:
        return self.country_names.get(code, code)

    def heading(self) -> str:
        return _("Monthly migration bulletin")

    def observatory(self) -> str:
        return _("Regional Migration Observatory · Regional Conference on Migration (RCM)")

    def edition_line(self) -> str:
        return _("Edition %(number)d · generated on %(date)s at %(time)s UTC") % {
            "number": self.number,
            "date": date_format(self.generated_at, "DATE_FORMAT"),
            "time": self.generated_at.strftime("%H:%M"),
        }

    def year_to_date(self) -> str:
        return months_label(self.month.replace(month=1), self.month)

    def year_to_date_before(self) -> str:
        return months_label(shift_month(self.month.replace(month=1), -12), self.year_ago)

    def compared(self, now: Figure, before: Figure, *, when: str) -> str:
        """ "+4,5 % on marzo de 2023 (1 234)", or why there is no change."""
        if before.withheld:
            return _("%(when)s: withheld (c)") % {"when": capfirst(when)}
        if before.value is None:
            return _("No figure for %(when)s") % {"when": when}
        percent = change(now, before)
        if percent is None:
            return _("%(when)s: %(value)s") % {"when": capfirst(when), "value": count_text(before)}
        return _("%(change)s on %(when)s (%(value)s)") % {
            "change": percent_text(percent, signed=True),
            "when": when,
            "value": count_text(before),
        }

    # --- the page frame ---

    def draw_frame(self, canvas: Canvas, page: int, pages: int) -> None:
        width, height = A4
        canvas.saveState()
        if page == 1:
            canvas.setFillColor(NAVY)
            canvas.rect(0, height - 56 * mm, width, 56 * mm, stroke=0, fill=1)
            canvas.setFillColor(TEAL)
            canvas.rect(0, height - 57.5 * mm, width, 1.5 * mm, stroke=0, fill=1)
            canvas.setFillColor(colors.white)
            canvas.setFont(FONT, 8.5)
            canvas.drawString(MARGIN, height - 14 * mm, self.observatory().upper())
            canvas.setFont(BOLD, 24)
            canvas.drawString(MARGIN, height - 29 * mm, self.heading())
            canvas.setFont(FONT, 17)
            canvas.drawString(MARGIN, height - 39 * mm, capfirst(month_label(self.month)))
            canvas.setFont(FONT, 8)
            canvas.drawString(MARGIN, height - 49 * mm, self.edition_line())
        else:
            canvas.setFont(FONT, 7.5)
            canvas.setFillColor(GREY)
            canvas.drawString(MARGIN, height - 12 * mm, self.observatory())
            canvas.drawRightString(
                width - MARGIN, height - 12 * mm, f"{self.heading()} · {month_label(self.month)}"
            )
            canvas.setStrokeColor(NAVY)
            canvas.setLineWidth(0.8)
            canvas.line(MARGIN, height - 14 * mm, width - MARGIN, height - 14 * mm)
        canvas.setStrokeColor(RULE)
        canvas.setLineWidth(0.5)
        canvas.line(MARGIN, 14 * mm, width - MARGIN, 14 * mm)
        canvas.setFont(FONT, 7)
        canvas.setFillColor(GREY)
        canvas.drawString(MARGIN, 9.5 * mm, f"Mirador · {self.edition_line()}")
        canvas.drawRightString(
            width - MARGIN,
            9.5 * mm,
            _("Page %(page)d of %(pages)d") % {"page": page, "pages": pages},
        )
        canvas.restoreState()

    # --- building blocks ---

    def table(
        self, rows: list[list[Any]], widths: Sequence[float], *, numbers_from: int = 1
    ) -> Table:
        """A table with a header row; columns from `numbers_from` on are right-aligned."""
        header = [
            self.p(_escape(text), "head" if index < numbers_from else "head_right")
            if isinstance(text, str)
            else text
            for index, text in enumerate(rows[0])
        ]
        table = Table([header, *rows[1:]], colWidths=list(widths), repeatRows=1)
        table.setStyle(
            TableStyle(
                [
                    ("FONT", (0, 0), (-1, -1), FONT, 8),
                    ("BACKGROUND", (0, 0), (-1, 0), SHADE),
                    ("LINEBELOW", (0, 0), (-1, 0), 0.8, NAVY),
                    ("LINEBELOW", (0, 1), (-1, -1), 0.3, RULE),
                    ("ALIGN", (numbers_from, 0), (-1, -1), "RIGHT"),
                    ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                    ("TOPPADDING", (0, 0), (-1, -1), 2.5),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
                    ("LEFTPADDING", (0, 0), (-1, -1), 4),
                    ("RIGHTPADDING", (0, 0), (-1, -1), 4),
                ]
            )
        )
        return table

    def two_columns(self, blocks: list[list[Flowable]]) -> list[Flowable]:
        rows = [blocks[index : index + 2] for index in range(0, len(blocks), 2)]
        grids: list[Flowable] = []
        for row in rows:
            cells: list[Any] = [*row, *([""] * (2 - len(row)))]
            grid = Table([cells], colWidths=[WIDTH / 2] * 2)
            grid.setStyle(
                TableStyle(
                    [
                        ("VALIGN", (0, 0), (-1, -1), "TOP"),
                        ("LEFTPADDING", (0, 0), (-1, -1), 0),
                        ("RIGHTPADDING", (0, 0), (0, -1), 10),
                        ("RIGHTPADDING", (1, 0), (1, -1), 0),
                        ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
                    ]
                )
            )
            grids.append(grid)
        return grids

    # --- sections ---

    def summary(self) -> list[Flowable]:
        parts: list[Flowable] = [
            self.p(
                _(
                    "This bulletin of the Regional Migration Observatory brings together the "
                    "migration figures of %(month)s reported to the observatory by the member "
                    "states of the Regional Conference on Migration and by international sources, "
                    "as they stood when it was generated. Every figure is published after "
                    "disclosure control."
                )
                % {"month": month_label(self.month)}
            ),
            self.p(_("Highlights"), "h2"),
        ]
        for series in self.figures.series:
            sentence = _("%(series)s: %(value)s in %(month)s") % {
                "series": f"<b>{_escape(self.title_of(series))}</b>",
                "value": count_text(series.month),
                "month": month_label(self.month),
            }
            percent = change(series.month, series.year_ago)
            if percent is not None:
                sentence += " " + _("(%(change)s on %(year_ago)s)") % {
                    "change": percent_text(percent, signed=True),
                    "year_ago": month_label(self.year_ago),
                }
            if series.top:
                leader = series.top[0]
                sentence += "; " + _("largest figure: %(country)s (%(value)s)") % {
                    "country": _escape(self.country(leader.code)),
                    "value": number_format(leader.value, force_grouping=True),
                }
            parts.append(self.p(f"• {sentence}."))
        for missing in self.figures.not_reported:
            parts.append(
                self.p(
                    "• "
                    + _("%(dataset)s: no figures for %(month)s yet (latest: %(latest)s).")
                    % {
                        "dataset": f"<b>{_escape(missing.dataset.name)}</b>",
                        "month": month_label(self.month),
                        "latest": month_label(missing.last_month),
                    }
                )
            )
        return parts

    def key_figures(self) -> list[Flowable]:
        cards: list[Any] = []
        for series in self.figures.series:
            year_to_date = _("%(months)s: %(value)s") % {
                "months": capfirst(self.year_to_date()),
                "value": count_text(series.year_to_date),
            }
            if change(series.year_to_date, series.year_to_date_before) is not None:
                year_to_date += " " + _("(%(change)s on %(year_ago)s)") % {
                    "change": percent_text(
                        change(series.year_to_date, series.year_to_date_before), signed=True
                    ),
                    "year_ago": self.year_to_date_before(),
                }
            cards.append(
                [
                    self.p(_escape(self.title_of(series)), "card_title"),
                    self.p(count_text(series.month), "card_value"),
                    self.p(
                        self.compared(
                            series.month, series.year_ago, when=month_label(self.year_ago)
                        ),
                        "card_note",
                    ),
                    self.p(year_to_date, "card_note"),
                ]
            )
        columns = min(3, max(len(cards), 1))
        rows = [cards[index : index + columns] for index in range(0, len(cards), columns)]
        rows = [[*row, *([""] * (columns - len(row)))] for row in rows]
        table = Table(rows, colWidths=[WIDTH / columns] * columns)
        table.setStyle(
            TableStyle(
                [
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("BACKGROUND", (0, 0), (-1, -1), SHADE),
                    ("LINEBEFORE", (1, 0), (-1, -1), 4, colors.white),
                    ("LINEABOVE", (0, 1), (-1, -1), 4, colors.white),
                    ("LEFTPADDING", (0, 0), (-1, -1), 8),
                    ("RIGHTPADDING", (0, 0), (-1, -1), 8),
                    ("TOPPADDING", (0, 0), (-1, -1), 6),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 8),
                ]
            )
        )
        return [
            self.p(_("Key figures of %(month)s") % {"month": month_label(self.month)}, "h2"),
            table,
        ]

    def shares(self) -> list[Flowable]:
        rows: list[list[Any]] = [
            [pgettext("bulletin", "Series"), *(share_label(name) for name in SHARE_INDICATORS)]
        ]
        for series in self.figures.series:
            if series.shares:
                rows.append(
                    [
                        self.p(_escape(self.title_of(series)), "cell"),
                        *(share_text(series.shares.get(name)) for name in SHARE_INDICATORS),
                    ]
                )
        if len(rows) == 1:
            return []
        first = 72 * mm
        rest = (WIDTH - first) / len(SHARE_INDICATORS)
        return [
            self.p(_("Who: shares in %(month)s") % {"month": month_label(self.month)}, "h2"),
            self.table(rows, [first, *([rest] * len(SHARE_INDICATORS))]),
            Spacer(1, 3),
            self.p(
                _(
                    "Shares of the figures whose sex or age is known; minors are under 18. "
                    "–: the source does not give that breakdown; c: withheld."
                ),
                "small",
            ),
        ]

    def chart(self, series: SeriesFigures) -> Drawing:
        height = 124
        drawing = Drawing(WIDTH, height)
        chart = VerticalBarChart()
        chart.x, chart.y = 44, 24
        chart.width, chart.height = WIDTH - 52, height - 34
        values = [figure.value for _month, figure in series.monthly]
        chart.data = [values]
        chart.barSpacing = 1
        chart.groupSpacing = 3
        chart.bars[0].fillColor = PALE
        chart.bars[0].strokeColor = None
        for index, (month, _figure) in enumerate(series.monthly):
            if month == self.month:
                chart.bars[(0, index)].fillColor = NAVY
            elif month == self.year_ago:
                chart.bars[(0, index)].fillColor = TEAL
        last = len(series.monthly) - 1
        chart.categoryAxis.categoryNames = [
            short_month(month) if (last - index) % 3 == 0 else ""
            for index, (month, _figure) in enumerate(series.monthly)
        ]
        chart.categoryAxis.labels.fontName = FONT
        chart.categoryAxis.labels.fontSize = 6.5
        chart.categoryAxis.labels.dy = -2
        chart.categoryAxis.strokeColor = GREY
        chart.categoryAxis.tickDown = 0
        chart.valueAxis.valueMin = 0
        chart.valueAxis.labels.fontName = FONT
        chart.valueAxis.labels.fontSize = 6.5
        chart.valueAxis.labelTextFormat = lambda value: number_format(
            int(value), force_grouping=True
        )
        chart.valueAxis.strokeColor = None
        chart.valueAxis.visibleGrid = True
        chart.valueAxis.gridStrokeColor = RULE
        chart.valueAxis.gridStrokeWidth = 0.3
        if not any(values):
            chart.valueAxis.valueMax = 1
        drawing.add(chart)
        x = 44.0
        legend = [
            (NAVY, month_label(self.month)),
            (TEAL, month_label(self.year_ago)),
            (PALE, _("other months")),
        ]
        for colour, text in legend:
            drawing.add(Rect(x, 3, 7, 7, fillColor=colour, strokeColor=None))
            drawing.add(String(x + 10, 4, text, fontName=FONT, fontSize=7, fillColor=GREY))
            x += 22 + pdfmetrics.stringWidth(text, FONT, 7)
        if any(figure.value is None for _month, figure in series.monthly):
            note = _("no bar: no figure, or withheld")
            drawing.add(String(x, 4, note, fontName=ITALIC, fontSize=7, fillColor=GREY))
        return drawing

    def charts(self) -> list[Flowable]:
        parts: list[Flowable] = [
            CondPageBreak(190),
            self.p(_("The last %(count)d months") % {"count": SERIES_MONTHS}, "h2"),
        ]
        for series in self.figures.series:
            parts.append(
                KeepTogether(
                    [self.p(_escape(self.title_of(series)), "h3"), self.chart(series), Spacer(1, 4)]
                )
            )
        return parts

    def top_countries(self) -> list[Flowable]:
        blocks: list[list[Flowable]] = []
        width = WIDTH / 2 - 10
        for series in self.figures.series:
            if not series.top and not series.top_withheld:
                continue
            rows: list[list[Any]] = [
                [
                    pgettext("bulletin", "Country"),
                    pgettext("bulletin", "Figure"),
                    pgettext("bulletin", "Share of the total"),
                ]
            ]
            rows += [
                [
                    self.p(_escape(self.country(item.code)), "cell"),
                    number_format(item.value, force_grouping=True),
                    percent_text(
                        None if item.share_of_total is None else 100 * item.share_of_total
                    ),
                ]
                for item in series.top
            ]
            if series.top_withheld:
                rows.append([self.p(_("Withheld (disclosure control)"), "cell"), WITHHELD_MARK, ""])
            blocks.append(
                [
                    self.p(_escape(self.title_of(series)), "h3"),
                    self.p(country_phrase(series.country_dimension), "small"),
                    self.table(rows, [width - 48 * mm, 24 * mm, 24 * mm]),
                ]
            )
        if not blocks:
            return []
        return [
            CondPageBreak(120),
            self.p(
                _("Countries with the largest figures in %(month)s")
                % {"month": month_label(self.month)},
                "h2",
            ),
            *self.two_columns(blocks),
        ]

    def countries(self) -> list[Flowable]:
        series_with_countries = [series for series in self.figures.series if series.by_country]
        if not series_with_countries:
            return []
        phrases = {
            series.dataset.name: country_phrase(series.country_dimension)
            for series in series_with_countries
        }
        counted = "; ".join(f"{_escape(name)}: {phrase}" for name, phrase in phrases.items())
        width = WIDTH / 2 - 10
        blocks: list[list[Flowable]] = []
        for country in sorted(self.figures.countries, key=lambda country: country.name):
            rows: list[list[Any]] = [
                [
                    "",
                    short_month(self.month),
                    short_month(self.year_ago),
                    pgettext("bulletin", "Change"),
                ]
            ]
            for series in series_with_countries:
                now, before = series.by_country[country.alpha2]
                rows.append(
                    [
                        self.p(_escape(self.short_title_of(series)), "cell"),
                        count_text(now),
                        count_text(before),
                        percent_text(change(now, before), signed=True),
                    ]
                )
            blocks.append(
                [
                    self.p(_escape(country.name), "h3"),
                    self.table(rows, [width - 48 * mm, 16 * mm, 16 * mm, 16 * mm]),
                ]
            )
        return [
            CondPageBreak(260),
            self.p(_("RCM member states"), "h2"),
            self.p(
                _(
                    "Each member state's figures for %(month)s and %(year_ago)s (%(counted)s). "
                    "c: withheld (disclosure control); –: no figure."
                )
                % {
                    "month": month_label(self.month),
                    "year_ago": month_label(self.year_ago),
                    "counted": counted,
                },
                "small",
            ),
            Spacer(1, 4),
            *self.two_columns(blocks),
        ]

    def sources(self) -> list[Flowable]:
        rows: list[list[Any]] = [
            [
                pgettext("bulletin", "Dataset"),
                _("File and SHA-256"),
                pgettext("bulletin", "Publisher"),
                pgettext("bulletin", "Imported"),
            ]
        ]
        names = {series.dataset.code: series.dataset.name for series in self.figures.series}
        for source in self.figures.sources:
            imported = (
                date_format(
                    timezone.localtime(source.imported_at, datetime.UTC), "SHORT_DATE_FORMAT"
                )
                if source.imported_at
                else NO_FIGURE_MARK
            )
            publisher = source_terms(source.format_code)["publisher"] or source.source
            rows.append(
                [
                    self.p(_escape(names.get(source.dataset, source.dataset)), "cell"),
                    [self.p(_escape(source.file_name), "cell"), self.p(source.sha256, "mono")],
                    self.p(_escape(publisher), "cell"),
                    imported,
                ]
            )
        table = self.table(rows, [30 * mm, 84 * mm, 38 * mm, WIDTH - 152 * mm], numbers_from=3)
        table.setStyle(TableStyle([("VALIGN", (0, 1), (-1, -1), "TOP")]))
        return [
            CondPageBreak(140),
            self.p(_("Sources"), "h2"),
            self.p(
                _(
                    "The files (import batches) the figures of this bulletin come from, with the "
                    "SHA-256 digest of each file as it was imported."
                ),
                "small",
            ),
            Spacer(1, 3),
            table,
        ]

    def notes(self) -> list[Flowable]:
        figures = self.figures
        example = figures.series[0]
        query = (
            f"/api/v1/analytics/datasets/{example.dataset.code}/indicators?"
            f"start={month_code(self.month)}&amp;end={month_code(self.month)}"
            + (f"&amp;measure={example.measure}" if example.measure else "")
        )
        withheld = figures.withheld_count
        if figures.threshold <= 1:
            control = _(
                "The disclosure threshold is set to 1: no figure of this bulletin is withheld."
            )
        else:
            control = _(
                "Every figure in this bulletin is a published figure of the observatory after "
                "disclosure control: counts from 1 to %(below)d are withheld, and so are as many "
                "other figures as needed so that no withheld figure can be worked out from the "
                "totals published with it, here or in the other tables of the bulletin. "
                "Withheld figures are marked “c”; zeros are published."
            ) % {"below": figures.threshold - 1}
            control += " " + (
                ngettext(
                    "%(count)d figure of this bulletin is withheld.",
                    "%(count)d figures of this bulletin are withheld.",
                    withheld,
                )
                % {"count": withheld}
                if withheld
                else _("No figure of this bulletin is withheld.")
            )
        return [
            KeepTogether([self.p(_("Disclosure control"), "h2"), self.p(control)]),
            self.p(_("About these figures"), "h2"),
            self.p(
                _(
                    "Figures are as reported by each source when the bulletin was generated and "
                    "may be revised; a later edition of the same month takes in the revisions. "
                    "Some sources count events rather than persons (a person returned twice is "
                    "counted twice). Every figure can be read again, with its sources, from the "
                    "observatory's open data, for instance %(query)s."
                )
                % {"query": f'<font name="Courier" size="7">{query}</font>'}
            ),
        ]

    def story(self) -> list[Flowable]:
        return [
            Spacer(1, 38 * mm),
            *self.summary(),
            *self.key_figures(),
            *self.shares(),
            *self.charts(),
            *self.top_countries(),
            *self.countries(),
            *self.sources(),
            *self.notes(),
        ]

    def render(self) -> bytes:
        buffer = io.BytesIO()
        document = SimpleDocTemplate(
            buffer,
            pagesize=A4,
            leftMargin=MARGIN,
            rightMargin=MARGIN,
            topMargin=20 * mm,
            bottomMargin=20 * mm,
            title=f"{self.heading()} · {month_label(self.month)}",
            author=_("Regional Migration Observatory"),
            subject=self.observatory(),
            creator="Mirador",
            lang=translation.get_language() or settings.LANGUAGE_CODE,
        )
        document.build(self.story(), canvasmaker=_numbered_canvas(self.draw_frame))
        return buffer.getvalue()


def bulletin_pdf(
    figures: BulletinFigures, *, language: str, number: int, generated_at: datetime.datetime
) -> bytes:
    """The bulletin's PDF in `language`: edition `number`, generated at `generated_at`."""
    with translation.override(language):
        return _Bulletin(figures, number=number, generated_at=generated_at).render()
