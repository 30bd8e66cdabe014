"""`mirador bulletin [--month YYYY-MM] [--language es|en] [--now]`: new editions of the
observatory's monthly bulletin, by default of the previous month in both languages, queued
for the worker (`mirador worker`, or the demo's own thread). Meant for cron: django-tasks
has no scheduler of its own, so the schedule is the operator's (docs/bulletins.md).

A month without figures, or that has not ended, is refused in one sentence with exit code 1,
and nothing is queued. `--now` generates the editions in this process instead (a machine with
no worker running) and prints their SHA-256."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from mirador.analytics import bulletins
from mirador.analytics.models import BulletinStatus, BulletinTrigger
from mirador.core.audit import request_context
from mirador.core.errors import ApplicationError


class Command(BaseCommand):
    help = "Generate the monthly bulletin (PDF, Spanish and English) of a month that has ended."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--month",
            default="",
            help="the month, YYYY-MM (default: the previous month)",
        )
        parser.add_argument(
            "--language",
            action="append",
            choices=bulletins.LANGUAGES,
            default=[],
            help="es or en (repeatable; default: both)",
        )
        parser.add_argument(
            "--now",
            action="store_true",
            help="generate in this process instead of queuing for the worker",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        month = options["month"] or f"{bulletins.previous_month():%Y-%m}"
        languages = options["language"] or list(bulletins.LANGUAGES)
        try:
            with request_context(ip_address=None, channel="cli"):
                if options["now"]:
                    editions = bulletins.bulletin_generate_now(month=month, languages=languages)
                else:
                    editions = bulletins.bulletin_request(
                        actor=None,
                        month=month,
                        languages=languages,
                        trigger=BulletinTrigger.SCHEDULE,
                    )
        except ApplicationError as error:
            raise CommandError(error.message) from None
        label = bulletins.month_label(editions[0].month)
        if not options["now"]:
            self.stdout.write(
                _(
                    "The bulletin of %(month)s (%(languages)s) is queued: the worker generates "
                    "it and publishes it on the portal."
                )
                % {"month": label, "languages": ", ".join(languages)}
            )
            return
        failed = [edition for edition in editions if edition.status != BulletinStatus.PUBLISHED]
        for edition in editions:
            if edition.status == BulletinStatus.PUBLISHED:
                self.stdout.write(
                    _("%(month)s, %(language)s, edition %(number)d: published, SHA-256 %(sha)s")
                    % {
                        "month": label,
                        "language": edition.language,
                        "number": edition.number,
                        "sha": edition.sha256,
                    }
                )
        if failed:
            raise CommandError(
                "; ".join(f"{edition.language}: {edition.message}" for edition in failed)
            )
