"""Reading screenings and their flags: an arrival's screening with the flags the user may see,
the open flags at the centres the user works at (most urgent first), one flag, and the open
flags counted per centre and day.

Which flags a user sees is `accounts.permissions.screening_flags_visible_filter`: flags about
a minor or about trafficking indicators are for protection roles only. Reads of an arrival's
screening and listings of flags are audited; counts are aggregates and are not.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db.models import Case, Count, IntegerField, QuerySet, Value, When

from mirador.accounts import permissions
from mirador.core.audit import audit_record
from mirador.core.errors import NotFoundError
from mirador.core.models import AuditAction, ReceptionCentre
from mirador.returns.models import Arrival
from mirador.returns.selectors import arrival_get
from mirador.screening.models import FlagStatus, RiskFlag, Screening
from mirador.screening.questionnaire import URGENCY_RANK, Urgency
from mirador.screening.services import FLAG_OBJECT_TYPE, SCREENING_OBJECT_TYPE

if TYPE_CHECKING:
    from mirador.accounts.permissions import AnyUser


def _actor(user: AnyUser | None) -> object:
    return permissions.active_user(user)


def _key(value: uuid.UUID | str) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def flags_visible_to(*, user: AnyUser | None) -> QuerySet[RiskFlag]:
    """Flags `user` may see, most urgent first, then oldest first."""
    return (
        RiskFlag.objects.filter(permissions.screening_flags_visible_filter(user))
        .annotate(
            urgency_rank=Case(
                *(
                    When(urgency=urgency, then=Value(rank))
                    for urgency, rank in URGENCY_RANK.items()
                ),
                default=Value(len(URGENCY_RANK)),
                output_field=IntegerField(),
            )
        )
        .order_by("urgency_rank", "created_at", "pk")
    )


@dataclass
class ArrivalScreening:
    arrival: Arrival
    screening: Screening | None
    flags: list[RiskFlag] = field(default_factory=list)

    @property
    def open_flags(self) -> list[RiskFlag]:
        return [flag for flag in self.flags if flag.status == FlagStatus.OPEN]

    @property
    def has_urgent(self) -> bool:
        return any(flag.urgency == Urgency.NOW for flag in self.open_flags)


def arrival_screening(
    *, user: AnyUser | None, arrival_id: uuid.UUID | str, audit: bool = True
) -> ArrivalScreening:
    """An arrival's screening (None before the first) and the flags `user` may see;
    NotFoundError (audited) when `user` may not read the arrival."""
    arrival = arrival_get(user=user, arrival_id=arrival_id, audit=False)
    return arrival_screening_of(user=user, arrival=arrival, audit=audit)


def arrival_screening_of(
    *, user: AnyUser | None, arrival: Arrival, audit: bool = True
) -> ArrivalScreening:
    """Like `arrival_screening`, for an arrival already read through returns.selectors."""
    if not permissions.can_screen_arrival(
        user, centre_country_id=arrival.centre.country_id, person=arrival.person
    ):
        raise NotFoundError()
    screening = Screening.objects.filter(arrival=arrival).select_related("screened_by").first()
    flags = list(flags_visible_to(user=user).filter(arrival=arrival).select_related("closed_by"))
    if audit and screening is not None:
        audit_record(
            actor=_actor(user),  # type: ignore[arg-type]
            action=AuditAction.READ,
            object_type=SCREENING_OBJECT_TYPE,
            object_id=screening.pk,
            details={"arrival": str(arrival.pk), "flags": len(flags)},
        )
    return ArrivalScreening(arrival=arrival, screening=screening, flags=flags)


def open_flags(
    *,
    user: AnyUser | None,
    centre: ReceptionCentre | None = None,
    kind: str | None = None,
    urgency: str | None = None,
) -> list[RiskFlag]:
    """Open flags at the centres `user` works at (or at `centre`), most urgent first, with
    their arrival, person and centre loaded; audited as a listing."""
    queryset = (
        flags_visible_to(user=user)
        .filter(status=FlagStatus.OPEN)
        .filter(
            arrival__centre__in=ReceptionCentre.objects.filter(
                permissions.centres_worked_filter(user)
            )
        )
        .select_related("arrival", "arrival__person", "arrival__centre")
    )
    if centre is not None:
        queryset = queryset.filter(arrival__centre=centre)
    if kind:
        queryset = queryset.filter(kind=kind)
    if urgency:
        queryset = queryset.filter(urgency=urgency)
    flags = list(queryset)
    audit_record(
        actor=_actor(user),  # type: ignore[arg-type]
        action=AuditAction.LIST,
        object_type=FLAG_OBJECT_TYPE,
        details={
            "centre": str(centre.pk) if centre else "",
            "kind": kind or "",
            "urgency": urgency or "",
            "count": len(flags),
        },
    )
    return flags


def flag_get(*, user: AnyUser | None, flag_id: uuid.UUID | str) -> RiskFlag:
    """One flag `user` may see; NotFoundError (audited) for any other."""
    key = _key(flag_id)
    flag = (
        RiskFlag.objects.filter(permissions.screening_flags_visible_filter(user), pk=key)
        .select_related("arrival", "arrival__person", "arrival__centre", "closed_by")
        .order_by()
        .first()
        if key
        else None
    )
    if flag is None:
        audit_record(
            actor=_actor(user),  # type: ignore[arg-type]
            action=AuditAction.DENIED,
            object_type=FLAG_OBJECT_TYPE,
            object_id=key or "",
        )
        raise NotFoundError()
    return flag


@dataclass(frozen=True)
class FlagCounts:
    """Open flags of a centre's arrivals of one day that the user may see."""

    total: int = 0
    by_urgency: dict[str, int] = field(default_factory=dict)
    by_kind: dict[str, int] = field(default_factory=dict)

    @property
    def now(self) -> int:
        return self.by_urgency.get(Urgency.NOW, 0)


def open_flag_counts(
    *, user: AnyUser | None, centre: ReceptionCentre, day: datetime.date
) -> FlagCounts:
    """How many flags are still open among the arrivals of `day` at `centre`, by urgency and
    kind (for the centre's page). Zero for a centre `user` does not work at."""
    if not permissions.can_work_at_centre(user, centre.country_id):
        return FlagCounts()
    start, end = centre.day_bounds(day)
    rows = (
        RiskFlag.objects.filter(
            permissions.screening_flags_visible_filter(user),
            status=FlagStatus.OPEN,
            arrival__centre=centre,
            arrival__arrived_at__gte=start,
            arrival__arrived_at__lt=end,
        )
        .values("urgency", "kind")
        .annotate(count=Count("id"))
        .order_by()
    )
    by_urgency: dict[str, int] = {}
    by_kind: dict[str, int] = {}
    total = 0
    for row in rows:
        by_urgency[row["urgency"]] = by_urgency.get(row["urgency"], 0) + row["count"]
        by_kind[row["kind"]] = by_kind.get(row["kind"], 0) + row["count"]
        total += row["count"]
    return FlagCounts(total=total, by_urgency=by_urgency, by_kind=by_kind)
