"""The demo's national returns tables of Guatemala and El Salvador: returns received by month,
country returned from, sex, age group, unaccompanied minors, means and department of origin.

The demo's reception centres are Honduran (mirador/returns/demo.py), so without these the
observatory would have no departments of origin outside Honduras, and no map: Mirador keeps
boundaries only of Guatemala's departments in the shared data. The counts are drawn by the
demo region's generator (mirador/people/demo.py, whose weights follow the shape of published
returns statistics), aggregated, written as a CSV under DATA_DIR/demo/ and imported through
the mapping formats/demo_national_returns.toml like any national table, with its provenance.
Synthetic, for the demo only. Honduras is left out: its figures come from its own example
table and from the roll-up of its reception centres, and would otherwise be counted twice.

Loading again in the same month changes nothing (the same file is not imported twice); in a
later month the table ends later, and is imported as a corrected revision of its source.
"""

from __future__ import annotations

import datetime
import hashlib
from collections import Counter
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from mirador.flows.services import ImportReport, batch_import
from mirador.people.demo import DEFAULT_SEED, generate_returnees
from mirador.returns.services import ROLLUP_COLUMNS

MAPPING = Path(__file__).resolve().parent / "formats" / "demo_national_returns.toml"
COUNTRIES = ("GT", "SV")
# Returns drawn for the whole region (Honduras' are drawn and left out): enough for monthly
# series that can be forecast and departments above the disclosure threshold over a year.
DRAWN = 60_000


def national_returns_table(*, today: datetime.date) -> bytes:
    """The CSV of the counts up to the last whole month before `today`."""
    until = today.replace(day=1) - datetime.timedelta(days=1)
    counts: Counter[tuple[str, ...]] = Counter()
    for returnee in generate_returnees(DRAWN, seed=DEFAULT_SEED, reference_date=until):
        event, person = returnee.event, returnee.person
        if event.receiving_country not in COUNTRIES:
            continue
        counts[
            (
                f"{event.date:%Y-%m}",
                event.receiving_country,
                event.sending_country,
                person.sex,
                "Y_LT18" if person.is_child else "Y_GE18",
                "Y" if person.is_unaccompanied else "N",
                event.means,
                person.subdivision or "_U",
            )
        ] += 1
    lines = [",".join(ROLLUP_COLUMNS)]  # the layout of the reception centres' roll-up
    lines += [",".join((*key, str(count))) for key, count in sorted(counts.items())]
    return ("\n".join(lines) + "\n").encode("utf-8")


def national_returns_demo_load() -> ImportReport:
    content = national_returns_table(today=timezone.now().date())
    directory = Path(settings.DATA_DIR) / "demo"
    directory.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(content).hexdigest()[:12]
    path = directory / f"national-returns-{'-'.join(COUNTRIES)}-{digest}.csv"
    if not path.exists():
        path.write_bytes(content)
    return batch_import(actor=None, format_code="", path=path, mapping_path=MAPPING, replace=True)
