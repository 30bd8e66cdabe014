"""Writing screenings: recording an arrival's answers (raising and closing the flags they call
for, alerting protection) and closing a flag once its action is done.

Each service asks `accounts.permissions`, is atomic, and records what it did in the audit log
(question codes and identifiers, never the answers). The person is changed only through
`people.services`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mirador.accounts import permissions
from mirador.accounts.models import Role
from mirador.core.audit import audit_record
from mirador.core.errors import NotFoundError, ValidationFailedError, validation_failed
from mirador.core.models import AuditAction
from mirador.people.services import person_update
from mirador.returns.models import Arrival, ProtectionAlert
from mirador.returns.services import ALERT_OBJECT_TYPE, ARRIVAL_OBJECT_TYPE
from mirador.screening.models import FlagStatus, RiskFlag, Screening
from mirador.screening.questionnaire import FlagKind, answer_errors, flags_for

if TYPE_CHECKING:
    from mirador.accounts.models import User

SCREENING_OBJECT_TYPE = "screening.Screening"
FLAG_OBJECT_TYPE = "screening.RiskFlag"

NOTE_REQUIRED = _("Write a note: what was done, and by whom.")
TRAFFICKING_REASON = _("Screening: trafficking indicators")
SCREENING_SAVED = _("Screening saved.")
SCREENING_SAVED_PROTECTION_ALERTED = _(
    "Screening saved. The protection officers were alerted and must assess the case."
)
# What the officer who screened sees instead of the record once it is restricted.
SCREENING_SAVED_CASE_WITH_PROTECTION = _(
    "Screening saved. The case went to the protection officers, who were alerted; only "
    "they can open this record now."
)


@dataclass
class ScreeningResult:
    screening: Screening
    raised: list[RiskFlag] = field(default_factory=list)
    closed: list[RiskFlag] = field(default_factory=list)
    # The answers call for the protection officers (trafficking indicators, fear of return
    # or threats): a protection alert is open or was raised.
    referred_to_protection: bool = False
    # The record is now restricted to protection roles and the actor may no longer read it.
    restricted_from_actor: bool = False

    @property
    def message(self) -> str:
        if self.restricted_from_actor:
            return str(SCREENING_SAVED_CASE_WITH_PROTECTION)
        if self.referred_to_protection:
            return str(SCREENING_SAVED_PROTECTION_ALERTED)
        return str(SCREENING_SAVED)


def _refuse(*, actor: User, object_type: str, object_id: object, attempted: str) -> NotFoundError:
    audit_record(
        actor=permissions.active_user(actor),
        action=AuditAction.DENIED,
        object_type=object_type,
        object_id=object_id,
        details={"attempted": attempted},
    )
    return NotFoundError()


def _require_screener(*, actor: User, arrival: Arrival, attempted: str) -> None:
    if not permissions.can_screen_arrival(
        actor, centre_country_id=arrival.centre.country_id, person=arrival.person
    ):
        raise _refuse(
            actor=actor, object_type=ARRIVAL_OBJECT_TYPE, object_id=arrival.pk, attempted=attempted
        )


def _full_clean(instance: Screening | RiskFlag) -> None:
    try:
        instance.full_clean()
    except ValidationError as error:
        raise validation_failed(error) from None


def _alert(*, actor: User, arrival: Arrival, reason: str) -> bool:
    """Raise a protection alert of `reason` for the arrival unless it has one already."""
    if ProtectionAlert.objects.filter(arrival=arrival, reason=reason).exists():
        return False
    alert = ProtectionAlert.objects.create(
        arrival=arrival,
        country_id=arrival.centre.country_id,
        reason=reason,
        responsible_role=Role.PROTECTION_OFFICER,
        created_by=actor,
        modified_by=actor,
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type=ALERT_OBJECT_TYPE,
        object_id=alert.pk,
        details={"arrival": str(arrival.pk), "reason": reason, "source": "screening"},
    )
    return True


def screening_record(
    *, actor: User, arrival: Arrival, answers: Mapping[str, object]
) -> ScreeningResult:
    """Record the screening of an arrival and raise the flags its answers call for.

    Every answer is checked against the questionnaire; all errors are reported at once, by
    question code. A second screening of the same arrival replaces the answers: a flag
    already raised (open, or done) is not raised again; an open flag the new answers no
    longer call for is closed as no longer applying; new risks raise new flags.

    Trafficking indicators raise a restricted flag and a protection alert, and mark the
    person as a possible trafficking victim, which restricts the record to protection roles.
    Fear of return or threats raise a protection-risk alert. A minor's flags are restricted.
    """
    _require_screener(actor=actor, arrival=arrival, attempted="screening")
    clean, errors = answer_errors(answers)
    if errors:
        raise ValidationFailedError(
            details={"fields": {code: [message] for code, message in errors.items()}}
        )
    wanted = flags_for(clean)
    person = arrival.person
    now = timezone.now()
    with transaction.atomic():
        # The screening row is locked (or, the first time, its unique arrival makes a
        # concurrent insert wait), so that two saves of one arrival read each other's flags
        # and raise each risk once.
        screening, created = Screening.objects.select_for_update().get_or_create(
            arrival=arrival,
            defaults={
                "answers": clean,
                "screened_by": actor,
                "screened_at": now,
                "created_by": actor,
                "modified_by": actor,
            },
        )
        before = {} if created else dict(screening.answers)
        changed = sorted(code for code, value in clean.items() if before.get(code) != value)
        if not created:
            screening.answers = clean
            screening.screened_by = actor
            screening.screened_at = now
            screening.modified_by = actor
            _full_clean(screening)
            screening.save(
                update_fields=[
                    "answers",
                    "screened_by",
                    "screened_at",
                    "modified_at",
                    "modified_by",
                ]
            )

        existing = list(RiskFlag.objects.filter(arrival=arrival, no_longer_applies=False))
        known = {flag.key for flag in existing}
        wanted_keys = {entry.key for entry in wanted}
        minor = arrival.is_minor or person.is_child
        raised = []
        for entry in wanted:
            if entry.key in known:
                continue
            flag = RiskFlag(
                arrival=arrival,
                screening=screening,
                question=entry.question,
                kind=entry.flag.kind,
                urgency=entry.flag.urgency,
                action=entry.flag.action.code,
                is_restricted=minor or entry.flag.kind == FlagKind.TRAFFICKING,
                created_by=actor,
                modified_by=actor,
            )
            _full_clean(flag)
            flag.save(force_insert=True)
            raised.append(flag)
        closed = []
        for flag in existing:
            if flag.status == FlagStatus.OPEN and flag.key not in wanted_keys:
                flag.status = FlagStatus.DONE
                flag.no_longer_applies = True
                flag.closed_by = actor
                flag.closed_at = now
                flag.modified_by = actor
                flag.save(
                    update_fields=[
                        "status",
                        "no_longer_applies",
                        "closed_by",
                        "closed_at",
                        "modified_at",
                        "modified_by",
                    ]
                )
                closed.append(flag)

        reasons = sorted({entry.flag.alert for entry in wanted if entry.flag.alert})
        for reason in reasons:
            _alert(actor=actor, arrival=arrival, reason=reason)
        trafficking = any(entry.flag.kind == FlagKind.TRAFFICKING for entry in wanted)
        if trafficking and not person.is_trafficking_victim:
            person_update(
                actor=actor,
                person=person,
                reason=str(TRAFFICKING_REASON),
                is_trafficking_victim=True,
            )
        audit_record(
            actor=actor,
            action=AuditAction.CREATE if created else AuditAction.UPDATE,
            object_type=SCREENING_OBJECT_TYPE,
            object_id=screening.pk,
            details={
                "arrival": str(arrival.pk),
                "questions": changed,
                "raised": [str(flag.pk) for flag in raised],
                "closed": [str(flag.pk) for flag in closed],
                "alerts": reasons,
            },
        )
    return ScreeningResult(
        screening=screening,
        raised=raised,
        closed=closed,
        referred_to_protection=bool(reasons),
        restricted_from_actor=not permissions.can_view_person(actor, person),
    )


def risk_flag_close(*, actor: User, flag: RiskFlag, note: str = "") -> RiskFlag:
    """The required action was carried out (or handed on): the flag is done. A restricted
    flag needs a note saying what was done. Closing a closed flag changes nothing."""
    visible = RiskFlag.objects.filter(
        permissions.screening_flags_visible_filter(actor), pk=flag.pk
    ).exists()
    arrival = flag.arrival
    if not visible or not permissions.can_screen_arrival(
        actor, centre_country_id=arrival.centre.country_id, person=arrival.person
    ):
        raise _refuse(
            actor=actor, object_type=FLAG_OBJECT_TYPE, object_id=flag.pk, attempted="close"
        )
    note = note.strip()
    if flag.is_restricted and not note:
        raise ValidationFailedError(details={"fields": {"note": [str(NOTE_REQUIRED)]}})
    if flag.status == FlagStatus.DONE:
        return flag
    flag.status = FlagStatus.DONE
    flag.closed_by = actor
    flag.closed_at = timezone.now()
    flag.note = note
    flag.modified_by = actor
    _full_clean(flag)
    with transaction.atomic():
        flag.save(
            update_fields=["status", "closed_by", "closed_at", "note", "modified_at", "modified_by"]
        )
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            object_type=FLAG_OBJECT_TYPE,
            object_id=flag.pk,
            details={"arrival": str(arrival.pk), "status": flag.status},
        )
    return flag
