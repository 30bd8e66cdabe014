"""Demo screenings, loaded after the demo returns (mirador.returns.demo) and stored through the
real services as the demo's reception officer, so that they are validated, flagged and audited
like real work.

The last days' arrivals at San Pedro Sula were screened when they were registered: most
answered no to every question; one person who needed urgent medical care was seen at the
centre (the flag is done); one afraid to go home and one with a chronic illness still have
open flags, so that the risk-flag list, the day's count and the protection officer's alert are
not empty. Loaded once: nothing is added when a screening exists.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass

from django.utils import timezone

from mirador.accounts.models import User
from mirador.returns.demo import recent_adult_arrivals
from mirador.screening.models import FlagStatus, RiskFlag, Screening
from mirador.screening.services import risk_flag_close, screening_record

RECEPTION_OFFICER = "officer.hn"
NOTHING_TO_REPORT = {
    "medical_care": "no",
    "distress": "no",
    "violence": "no",
    "fear_of_return": "no",
}
# In the order of the arrivals screened (oldest first); None: seen and done at the centre.
WITH_RISKS: tuple[tuple[dict[str, object], str | None], ...] = (
    ({**NOTHING_TO_REPORT, "medical_care": "urgent"}, "Atendido por el personal de salud."),
    ({**NOTHING_TO_REPORT, "fear_of_return": "fear"}, None),
    ({**NOTHING_TO_REPORT, "health_conditions": ["chronic-illness"]}, None),
)
SCREENED_WITHOUT_RISK = 9
# Screened a few minutes after being registered.
SCREENED_AFTER = datetime.timedelta(minutes=8)
CARED_FOR_AFTER = datetime.timedelta(minutes=35)


@dataclass(frozen=True)
class ScreeningDemoResult:
    screenings: int
    open_flags: int


def screening_demo_is_loaded() -> bool:
    return Screening.objects.exists()


def screening_demo_load(*, today: datetime.date | None = None) -> ScreeningDemoResult:
    officer = User.objects.filter(username=RECEPTION_OFFICER).first()
    if officer is None or screening_demo_is_loaded():
        return ScreeningDemoResult(0, 0)
    today = today or timezone.localdate()
    # Adults: a child's screening is a protection officer's, and the demo keeps it simple.
    arrivals = list(recent_adult_arrivals(today=today)[: len(WITH_RISKS) + SCREENED_WITHOUT_RISK])
    plans: list[tuple[Mapping[str, object], str | None]] = [
        *WITH_RISKS,
        *[(NOTHING_TO_REPORT, None)] * SCREENED_WITHOUT_RISK,
    ]
    for arrival, (answers, done_note) in zip(arrivals, plans, strict=False):
        result = screening_record(actor=officer, arrival=arrival, answers=answers)
        screened_at = arrival.registered_at + SCREENED_AFTER
        # Stamped when it was done, not when the demo ran (the service stamps that moment).
        Screening.objects.filter(pk=result.screening.pk).update(
            screened_at=screened_at, created_at=screened_at, modified_at=screened_at
        )
        RiskFlag.objects.filter(screening=result.screening).update(
            created_at=screened_at, modified_at=screened_at
        )
        if done_note is not None:
            for flag in RiskFlag.objects.filter(screening=result.screening):
                risk_flag_close(actor=officer, flag=flag, note=done_note)
            RiskFlag.objects.filter(screening=result.screening).update(
                closed_at=screened_at + CARED_FOR_AFTER
            )
    return ScreeningDemoResult(
        screenings=Screening.objects.count(),
        open_flags=RiskFlag.objects.filter(status=FlagStatus.OPEN).count(),
    )
