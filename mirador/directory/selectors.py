"""Reading the directory (public: providers and services, active ones only) and referrals
(personal data: only through `accounts.permissions.referrals_visible_filter`, audited).
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Count, Min, Prefetch, Q, QuerySet
from django.utils import timezone

from mirador.accounts import permissions
from mirador.core.audit import audit_record
from mirador.core.errors import NotFoundError
from mirador.core.models import AuditAction, Subdivision
from mirador.directory.models import (
    OPEN_STATUSES,
    Provider,
    Referral,
    Service,
)
from mirador.directory.services import REFERRAL_OBJECT_TYPE

if TYPE_CHECKING:
    from mirador.accounts.permissions import AnyUser
    from mirador.people.models import Person

SENT = "sent"
RECEIVED = "received"
BOXES = (SENT, RECEIVED)
FIRST_REFERRAL_CHUNK = 5000


def _key(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


# --- the public directory ---------------------------------------------------------------------


def directory_providers(
    *, country: str | None = None, sector: str | None = None, text: str | None = None
) -> QuerySet[Provider]:
    """Active providers, by country and name."""
    providers = Provider.objects.filter(is_active=True).select_related("country")
    if country:
        providers = providers.filter(country_id=country.upper())
    if sector:
        providers = providers.filter(sector=sector)
    if text and text.strip():
        words = text.strip()
        providers = providers.filter(Q(name__icontains=words) | Q(acronym__icontains=words))
    return providers.order_by("country_id", "name")


def language_filter(code: str) -> Q:
    """Services whose comma-separated `languages` hold `code`."""
    code = code.strip().lower()
    return (
        Q(languages=code)
        | Q(languages__startswith=f"{code},")
        | Q(languages__endswith=f",{code}")
        | Q(languages__contains=f",{code},")
    )


def directory_services(
    *,
    category: str | None = None,
    country: str | None = None,
    subdivision: str | None = None,
    language: str | None = None,
    text: str | None = None,
    provider_id: uuid.UUID | None = None,
) -> QuerySet[Service]:
    """Active services of active providers. A service covers a department if it lists it, or
    lists none (the whole country); free text is looked for in the service's and provider's
    names, in both languages."""
    services = Service.objects.filter(is_active=True, provider__is_active=True)
    if category:
        services = services.filter(category=category)
    if country:
        services = services.filter(provider__country_id=country.upper())
    if subdivision:
        code = subdivision.upper()
        services = services.filter(
            provider__country_id=code.split("-")[0],
        ).filter(Q(subdivisions__code=code) | Q(subdivisions__isnull=True))
    if language and language.strip():
        services = services.filter(language_filter(language))
    if text and text.strip():
        words = text.strip()
        services = services.filter(
            Q(name_es__icontains=words)
            | Q(name_en__icontains=words)
            | Q(provider__name__icontains=words)
            | Q(provider__acronym__icontains=words)
        )
    if provider_id:
        services = services.filter(provider_id=provider_id)
    return (
        services.select_related("provider", "provider__country")
        .prefetch_related(
            Prefetch("subdivisions", queryset=Subdivision.objects.order_by("name_es"))
        )
        .distinct()
        .order_by("provider__country_id", "category", "name_es")
    )


def provider_get(*, provider_id: object, active_only: bool = True) -> Provider:
    key = _key(provider_id)
    providers = Provider.objects.select_related("country", "organisation")
    if active_only:
        providers = providers.filter(is_active=True)
    found = providers.filter(pk=key).first() if key else None
    if found is None:
        raise NotFoundError()
    return found


def service_get(*, service_id: object, active_only: bool = True) -> Service:
    key = _key(service_id)
    services = Service.objects.select_related("provider", "provider__country").prefetch_related(
        "subdivisions"
    )
    if active_only:
        services = services.filter(is_active=True, provider__is_active=True)
    found = services.filter(pk=key).first() if key else None
    if found is None:
        raise NotFoundError()
    return found


def services_for_referral(*, country_id: str) -> QuerySet[Service]:
    """What a case worker of `country_id` refers to: the country's active services."""
    return directory_services(country=country_id).order_by("category", "provider__name", "name_es")


# --- referrals --------------------------------------------------------------------------------


def _referrals(user: AnyUser | None) -> QuerySet[Referral]:
    # Visible referrals by key (the scope filter joins shares, which can repeat rows).
    visible = Referral.objects.filter(permissions.referrals_visible_filter(user)).values("pk")
    return Referral.objects.filter(pk__in=visible).select_related(
        "person",
        "service",
        "service__provider",
        "sender",
        "sender_organisation",
        "answered_by",
        "arrival__centre",
    )


def overdue_filter(*, today: datetime.date | None = None) -> Q:
    return Q(due_date__lt=today or timezone.localdate(), status__in=OPEN_STATUSES)


def referrals_list(
    *,
    user: AnyUser | None,
    box: str = SENT,
    overdue: bool = False,
    status: str | None = None,
) -> QuerySet[Referral]:
    """Referrals sent by the user's organisation (`box="sent"`) or made to its services
    (`"received"`), whose person the user may read; overdue ones only if asked. Audited as a
    listing (box and filters, never persons)."""
    member = permissions.case_user(user)
    referrals = _referrals(user)
    if member is None or member.organisation_id is None:
        return referrals.none()
    organisation_id = member.organisation_id
    if box == RECEIVED:
        referrals = referrals.filter(service__provider__organisation_id=organisation_id)
    else:
        referrals = referrals.filter(sender_organisation_id=organisation_id)
    if overdue:
        referrals = referrals.filter(overdue_filter())
    if status:
        referrals = referrals.filter(status=status)
    audit_record(
        actor=member,
        action=AuditAction.LIST,
        object_type=REFERRAL_OBJECT_TYPE,
        details={"box": box, "overdue": overdue, "status": status or ""},
    )
    return referrals.order_by("due_date", "created_at")


@dataclass(frozen=True)
class ReferralCounts:
    sent_open: int
    sent_overdue: int
    received_open: int
    received_overdue: int


def referral_counts(*, user: AnyUser | None) -> ReferralCounts:
    """How many referrals are open and overdue in each box (figures: not audited)."""
    member = permissions.case_user(user)
    if member is None or member.organisation_id is None:
        return ReferralCounts(0, 0, 0, 0)
    overdue = overdue_filter()
    open_ = Q(status__in=OPEN_STATUSES)
    sent = Q(sender_organisation_id=member.organisation_id)
    received = Q(service__provider__organisation_id=member.organisation_id)
    counts = (
        Referral.objects.filter(
            pk__in=Referral.objects.filter(permissions.referrals_visible_filter(member)).values(
                "pk"
            )
        )
        .order_by()
        .aggregate(
            sent_open=Count("pk", filter=sent & open_),
            sent_overdue=Count("pk", filter=sent & overdue),
            received_open=Count("pk", filter=received & open_),
            received_overdue=Count("pk", filter=received & overdue),
        )
    )
    return ReferralCounts(**counts)


def referral_get(*, user: AnyUser | None, referral_id: object) -> Referral:
    """One referral; NotFoundError (audited) if it does not exist or the user may not read
    it."""
    key = _key(referral_id)
    found = _referrals(user).filter(pk=key).first() if key else None
    actor = permissions.active_user(user)
    if found is None:
        audit_record(
            actor=actor,
            action=AuditAction.DENIED,
            object_type=REFERRAL_OBJECT_TYPE,
            object_id=key or "",
        )
        raise NotFoundError()
    audit_record(
        actor=actor, action=AuditAction.READ, object_type=REFERRAL_OBJECT_TYPE, object_id=found.pk
    )
    return found


def person_referrals(*, user: AnyUser | None, person: Person) -> list[Referral]:
    """The person's referrals the user may read (made or received by their organisation),
    newest first."""
    if not permissions.can_view_person(user, person):
        return []
    referrals = list(_referrals(user).filter(person=person).order_by("-created_at"))
    if referrals:
        audit_record(
            actor=permissions.active_user(user),
            action=AuditAction.LIST,
            object_type=REFERRAL_OBJECT_TYPE,
            details={"person": str(person.pk), "count": len(referrals)},
        )
    return referrals


def first_referral_times(*, arrival_ids: Iterable[object]) -> dict[uuid.UUID, datetime.datetime]:
    """When the first referral was made at each arrival (arrivals without one are left
    out), for the intake figure "time from arrival to first referral". Figures only: no
    persons, no access check. `arrival_ids` may be a queryset of arrival keys, which the
    database then reads as a subquery."""
    if isinstance(arrival_ids, QuerySet):
        rows = (
            Referral.objects.filter(arrival_id__in=arrival_ids)
            .order_by()
            .values("arrival_id")
            .annotate(first=Min("created_at"))
        )
        return {row["arrival_id"]: row["first"] for row in rows}
    keys = list(dict.fromkeys(key for key in map(_key, arrival_ids) if key is not None))
    times: dict[uuid.UUID, datetime.datetime] = {}
    # In chunks, so that a year of arrivals stays under SQLite's limit of query parameters.
    for start in range(0, len(keys), FIRST_REFERRAL_CHUNK):
        rows = (
            Referral.objects.filter(arrival_id__in=keys[start : start + FIRST_REFERRAL_CHUNK])
            .order_by()
            .values("arrival_id")
            .annotate(first=Min("created_at"))
        )
        times.update((row["arrival_id"], row["first"]) for row in rows)
    return times
