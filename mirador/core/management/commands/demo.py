"""`mirador demo`: set up the embedded database, load the demo region, create the demo accounts,
and serve Mirador.

Safe to run twice: the schema is migrated (nothing to do the second time), the region is loaded
only into a registry without persons, and the accounts are brought back to their demo state.
Everything that could stop the demo half-way (production mode, a malformed or busy port) is
checked before anything is written.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from mirador.core.audit import request_context
from mirador.core.errors import ApplicationError
from mirador.core.management.commands.serve import (
    DEFAULT_THREADS,
    ensure_port_free,
    run_server,
    server_address,
)

DEFAULT_SIZE = 5000
MAXIMUM_SIZE = 1_000_000

REFUSED_IN_PRODUCTION = _(
    "`mirador demo` does not run in production (MIRADOR_MODE=production): it would create demo "
    "accounts with a published password; unset MIRADOR_MODE to try the demo on its own database."
)
SIZE_OUT_OF_RANGE = _("--size must be between 0 and {maximum}.")


class Command(BaseCommand):
    help = gettext(
        "Set up the embedded database, load a synthetic demo region, create the demo accounts "
        "and serve Mirador on MIRADOR_PORT (default 8000)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        from mirador.people.demo import DEFAULT_SEED

        parser.add_argument(
            "--no-serve",
            action="store_true",
            help=gettext("Set everything up, then exit instead of serving (for tests and CI)."),
        )
        parser.add_argument(
            "--size",
            type=int,
            default=DEFAULT_SIZE,
            help=gettext(
                "Returns to generate on first set-up (default %(default)s); persons are a few "
                "fewer, as some came back more than once."
            ),
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=DEFAULT_SEED,
            help=gettext("Seed of the generator: the same seed gives the same region."),
        )

    def handle(self, *args: Any, no_serve: bool, size: int, seed: int, **options: Any) -> None:
        # Everything that can refuse is checked before anything is written.
        if settings.PRODUCTION:
            raise CommandError(str(REFUSED_IN_PRODUCTION))
        if not 0 <= size <= MAXIMUM_SIZE:
            raise CommandError(str(SIZE_OUT_OF_RANGE).format(maximum=MAXIMUM_SIZE))
        host, port = server_address()
        if not no_serve:
            ensure_port_free(host, port, command="demo")

        started = time.monotonic()
        with request_context(ip_address=None, channel="cli"):
            self._migrate()
            self._load_region(size=size, seed=seed)
            users = self._ensure_accounts()
            self._load_returns()
            self._load_reception_work()
            self._load_identification()
            self._load_consular()
            self._load_directory()
            self._load_observatory()
            self._publish_bulletin()
        self._print_accounts(users)
        shown_host = f"[{host}]" if ":" in host else host
        url = f"http://{shown_host}:{port}/"
        self.stdout.write(
            str(_("Ready in {seconds:.1f} s.")).format(seconds=time.monotonic() - started)
        )
        if no_serve:
            self.stdout.write(
                str(_("Serve it with `mirador serve`, then open {url}")).format(url=url)
            )
            return
        self.stdout.write(self.style.SUCCESS(str(_("Open {url}")).format(url=url)))
        run_server(
            host=host, port=port, threads=DEFAULT_THREADS, command="demo", stdout=self.stdout
        )

    def _step(self, text: str) -> float:
        self.stdout.write(text, ending=" ")
        self.stdout.flush()
        return time.monotonic()

    def _done(self, started: float, text: str = "") -> None:
        seconds = time.monotonic() - started
        self.stdout.write(str(_("{text} ({seconds:.1f} s)")).format(text=text, seconds=seconds))

    def _migrate(self) -> None:
        vendor = connection.vendor
        where = settings.DATABASES["default"]["NAME"]
        started = self._step(
            str(_("Database ({vendor}, {where}): migrating…")).format(vendor=vendor, where=where)
        )
        call_command("migrate", interactive=False, verbosity=0)
        self._done(started, str(_("done")))

    def _load_region(self, *, size: int, seed: int) -> None:
        from mirador.people.demo_load import demo_region_is_loaded, demo_region_load
        from mirador.people.models import Person

        if demo_region_is_loaded():
            self.stdout.write(
                str(_("Demo region: already loaded ({persons} persons), nothing added.")).format(
                    persons=Person.objects.count()
                )
            )
            return
        started = self._step(
            str(_("Demo region: generating {size} returns (seed {seed})…")).format(
                size=size, seed=seed
            )
        )
        try:
            result = demo_region_load(
                actor=None, size=size, seed=seed, reference_date=timezone.now().date()
            )
        except ApplicationError as error:
            raise CommandError(error.message) from None
        self._done(
            started,
            str(_("{persons} persons, {links} family links, {shares} shared with PMH")).format(
                persons=result.persons, links=result.family_links, shares=result.shares
            ),
        )

    def _load_returns(self) -> None:
        from mirador.returns.demo import returns_demo_is_loaded, returns_demo_load

        if returns_demo_is_loaded():
            return
        started = self._step(str(_("Demo returns: manifests and arrivals…")))
        result = returns_demo_load()
        self._done(
            started,
            str(_("{manifests} manifests, {passengers} passengers, {arrivals} arrivals")).format(
                manifests=result.manifests, passengers=result.passengers, arrivals=result.arrivals
            ),
        )

    def _load_reception_work(self) -> None:
        from mirador.documents.demo import documents_demo_is_loaded, documents_demo_load
        from mirador.screening.demo import screening_demo_is_loaded, screening_demo_load

        if screening_demo_is_loaded() and documents_demo_is_loaded():
            return
        started = self._step(str(_("Screenings and identity documents…")))
        screened = screening_demo_load()
        documents = documents_demo_load()
        self._done(
            started,
            str(
                _("{screenings} screenings, {flags} open risk flags, {requests} document requests")
            ).format(
                screenings=screened.screenings,
                flags=screened.open_flags,
                requests=documents.requests,
            ),
        )

    def _load_identification(self) -> None:
        from mirador.linkage.demo import linkage_demo_is_loaded, linkage_demo_load

        if linkage_demo_is_loaded():
            return
        started = self._step(str(_("Identification: review pairs and a missing-person report…")))
        result = linkage_demo_load()
        self._done(
            started,
            str(_("{pairs} pairs to review, {alerts} missing-person match alerts")).format(
                pairs=result.pairs, alerts=result.alerts
            ),
        )

    def _load_consular(self) -> None:
        from mirador.consular.demo import consular_demo_is_loaded, consular_demo_load

        if consular_demo_is_loaded():
            return
        started = self._step(str(_("Consular cases…")))
        result = consular_demo_load()
        self._done(
            started,
            str(_("{cases} cases, {alerts} missing-person match alerts")).format(
                cases=result.cases, alerts=result.alerts
            ),
        )

    def _load_directory(self) -> None:
        from mirador.directory.demo import directory_demo_is_loaded, directory_demo_load

        if directory_demo_is_loaded():
            return
        started = self._step(str(_("Services directory: providers, services and referrals…")))
        result = directory_demo_load()
        self._done(
            started,
            str(_("{providers} providers, {services} services, {referrals} referrals")).format(
                providers=result.providers, services=result.services, referrals=result.referrals
            ),
        )

    def _load_observatory(self) -> None:
        from mirador.flows.demo import observatory_demo_load, shared_data_dir

        started = self._step(str(_("Observatory: importing figures…")))
        from mirador.analytics.demo import population_demo_load
        from mirador.analytics.demo_returns import national_returns_demo_load
        from mirador.flows.services import ImportOutcome

        result = observatory_demo_load()
        # Population figures for the rates; Guatemala's and El Salvador's returns by
        # department for the dashboards' maps.
        for report in (population_demo_load(), national_returns_demo_load()):
            if report.outcome == ImportOutcome.IMPORTED:
                result.imported.append(report.file.name)
            elif not report.ok:
                result.failed.append(report.summary())
        imported = len(result.imported)
        self._done(
            started,
            ngettext("{count} file imported", "{count} files imported", imported).format(
                count=imported
            )
            if result.imported
            else str(_("already imported, nothing changed")),
        )
        if result.missing:
            self.stdout.write(
                str(
                    _(
                        "Published samples not found in {directory} (set MIRADOR_SHARED_DATA "
                        "to load them): {files}"
                    )
                ).format(directory=shared_data_dir(), files=", ".join(result.missing))
            )
        for summary in result.failed:
            self.stderr.write(summary)

    def _publish_bulletin(self) -> None:
        """The monthly bulletin of the latest month with figures, in both languages, so that
        the portal's archive shows one; once (a demo run again publishes no new edition)."""
        from mirador.analytics import bulletins

        if bulletins.published_editions().exists():
            return
        month = bulletins.latest_month_with_figures()
        if month is None:
            return
        started = self._step(str(_("Observatory: publishing the monthly bulletin…")))
        try:
            editions = bulletins.bulletin_generate_now(month=f"{month:%Y-%m}")
        except ApplicationError as error:
            self._done(started, error.message)
            return
        self._done(
            started,
            str(_("{month}, {count} languages")).format(
                month=bulletins.month_label(month), count=len(editions)
            ),
        )

    def _ensure_accounts(self) -> list[Any]:
        from mirador.accounts.demo import demo_accounts_ensure

        try:
            return demo_accounts_ensure()
        except ApplicationError as error:
            raise CommandError(error.message) from None

    def _print_accounts(self, users: list[Any]) -> None:
        from mirador.accounts.demo import DEMO_PASSWORD

        rows = [
            (
                user.username,
                str(user.get_role_display()),
                user.country_id or "-",
                str(user.organisation) if user.organisation else "-",
            )
            for user in users
        ]
        header = (str(_("User")), str(_("Role")), str(_("Country")), str(_("Organisation")))
        widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
        self.stdout.write("")
        self.stdout.write(
            str(_("Demo accounts (password: {password}):")).format(password=DEMO_PASSWORD)
        )
        for row in [header, *rows]:
            cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
            self.stdout.write(("  " + "  ".join(cells)).rstrip())
        self.stdout.write("")
