"""Writing the directory and referrals: providers and services (kept by administrators and by
the provider's own staff), and a referral's life: sent, accepted, declined, completed or
cancelled.

Each service asks `accounts.permissions` and records what it did in the audit log
(identifiers and statuses, never names, notes or reasons, which may hold personal data). A
referral whose person the actor may not read answers NotFoundError, like one that does not
exist; one they may read but not act on, PermissionDeniedError.
"""

from __future__ import annotations

import datetime
import re
import uuid
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mirador.accounts import permissions
from mirador.core.audit import audit_record
from mirador.core.errors import (
    ApplicationError,
    NotFoundError,
    PermissionDeniedError,
    ValidationFailedError,
    fields_error,
    validation_failed,
)
from mirador.core.models import AuditAction, Country, Organisation, Subdivision
from mirador.directory.models import (
    OPEN_STATUSES,
    Provider,
    Referral,
    ReferralStatus,
    Service,
)
from mirador.people.models import PersonShare
from mirador.people.services import person_share

if TYPE_CHECKING:
    from mirador.accounts.models import User
    from mirador.people.models import Person
    from mirador.returns.models import Arrival

PROVIDER_OBJECT_TYPE = "directory.Provider"
SERVICE_OBJECT_TYPE = "directory.Service"
REFERRAL_OBJECT_TYPE = "directory.Referral"

CONSENT_REQUIRED = _(
    "The person must consent to their record being shared with the provider before they are "
    "referred."
)
DUE_DATE_IN_PAST = _("The due date cannot be in the past.")
SERVICE_INACTIVE = _("This service is not offered at the moment.")
ARRIVAL_OF_ANOTHER_PERSON = _("This arrival is another person's.")
NO_ORGANISATION = _("Your account belongs to no organisation, so it cannot send referrals.")
SHARING_NOT_ALLOWED = _(
    "Your role may not share this person's record with the provider, which the referral "
    "needs: ask an officer of the person's country to make it."
)
DECLINE_REASON_REQUIRED = _("Say why the referral is declined.")
STATUS_NOT_ALLOWED = _("A referral that is %(status)s cannot be %(action)s.")
UNKNOWN_LANGUAGE_CODE = _("Language codes are 2 or 3 letters, e.g. es, en, cab (Garifuna).")
SUBDIVISION_OF_ANOTHER_COUNTRY = _("%(code)s is not a department of the provider's country.")
UNKNOWN_SUBDIVISION = _("Unknown department code: %(code)s.")
UNKNOWN_FIELD = _("This field cannot be changed here.")

LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{1,8})?$")

# Which statuses each action may start from.
_TRANSITIONS: dict[str, tuple[str, ...]] = {
    ReferralStatus.ACCEPTED: (ReferralStatus.SENT,),
    ReferralStatus.DECLINED: (ReferralStatus.SENT, ReferralStatus.ACCEPTED),
    # A provider that serves the person on the spot completes a referral it never accepted.
    ReferralStatus.COMPLETED: (ReferralStatus.SENT, ReferralStatus.ACCEPTED),
    ReferralStatus.CANCELLED: (ReferralStatus.SENT, ReferralStatus.ACCEPTED),
}
_ACTION_WORDS = {
    ReferralStatus.ACCEPTED: _("accepted"),
    ReferralStatus.DECLINED: _("declined"),
    ReferralStatus.COMPLETED: _("completed"),
    ReferralStatus.CANCELLED: _("cancelled"),
}

PROVIDER_FIELDS = frozenset(
    {
        "name",
        "acronym",
        "sector",
        "organisation",
        "phone",
        "email",
        "website",
        "address",
        "description_es",
        "description_en",
        "is_active",
        "is_illustrative",
    }
)
SERVICE_FIELDS = frozenset(
    {
        "category",
        "name_es",
        "name_en",
        "description_es",
        "description_en",
        "eligibility_es",
        "eligibility_en",
        "languages",
        "contact",
        "opening_hours",
        "is_active",
        "subdivisions",
    }
)


class ConsentRequiredError(ValidationFailedError):
    code = "consent_required"
    default_message = CONSENT_REQUIRED


class ReferralStatusError(ApplicationError):
    code = "referral_status"
    http_status = 409


class SharingNotAllowedError(PermissionDeniedError):
    code = "sharing_not_allowed"
    default_message = SHARING_NOT_ALLOWED


def _full_clean(instance: Any, *, exclude: Sequence[str] = ()) -> None:
    try:
        instance.full_clean(exclude=list(exclude) or None)
    except ValidationError as error:
        raise validation_failed(error) from None


def _today() -> datetime.date:
    return timezone.localdate()


# --- providers and services -------------------------------------------------------------------


def _require_provider_editor(
    *, actor: User, organisation_id: object | None, object_id: object
) -> None:
    if permissions.can_edit_provider(actor, organisation_id):
        return
    audit_record(
        actor=actor,
        action=AuditAction.DENIED,
        object_type=PROVIDER_OBJECT_TYPE,
        object_id=object_id,
        details={"attempted": "edit"},
    )
    raise PermissionDeniedError()


def languages_normalised(value: str | Iterable[str]) -> str:
    """ "es, EN; cab" or ["es", "en"] -> "es,en,cab"; unknown shapes are refused."""
    parts = re.split(r"[\s,;]+", value) if isinstance(value, str) else list(value)
    codes: list[str] = []
    for part in parts:
        code = part.strip().lower()
        if not code:
            continue
        if not LANGUAGE_CODE.match(code):
            raise fields_error({"languages": UNKNOWN_LANGUAGE_CODE})
        if code not in codes:
            codes.append(code)
    if not codes:
        raise fields_error({"languages": UNKNOWN_LANGUAGE_CODE})
    return ",".join(codes)


def subdivisions_from_codes(*, country_id: str, codes: Iterable[str]) -> list[Subdivision]:
    wanted = [code.strip().upper() for code in codes if code.strip()]
    found = {s.code: s for s in Subdivision.objects.filter(code__in=wanted)}
    for code in wanted:
        if code not in found:
            raise fields_error({"subdivisions": UNKNOWN_SUBDIVISION % {"code": code}})
        if found[code].country_id != country_id:
            raise fields_error({"subdivisions": SUBDIVISION_OF_ANOTHER_COUNTRY % {"code": code}})
    return [found[code] for code in dict.fromkeys(wanted)]


def provider_create(
    *,
    actor: User,
    name: str,
    sector: str,
    country: Country,
    organisation: Organisation | None = None,
    **fields: Any,
) -> Provider:
    """A new provider. Administrators create any; a provider's own staff only theirs."""
    _require_provider_editor(
        actor=actor, organisation_id=organisation.pk if organisation else None, object_id=""
    )
    unknown = set(fields) - PROVIDER_FIELDS
    if unknown:
        raise fields_error({name_: UNKNOWN_FIELD for name_ in sorted(unknown)})
    provider = Provider(
        name=name.strip(),
        sector=sector,
        country=country,
        organisation=organisation,
        created_by=actor,
        modified_by=actor,
        **fields,
    )
    _full_clean(provider)
    with transaction.atomic():
        provider.save()
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            object_type=PROVIDER_OBJECT_TYPE,
            object_id=provider.pk,
        )
    return provider


def provider_update(*, actor: User, provider: Provider, **fields: Any) -> Provider:
    """Change a provider's entry. Handing it to another organisation needs the right to edit
    both the old and the new one's entries."""
    _require_provider_editor(
        actor=actor, organisation_id=provider.organisation_id, object_id=provider.pk
    )
    unknown = set(fields) - PROVIDER_FIELDS
    if unknown:
        raise fields_error({name: UNKNOWN_FIELD for name in sorted(unknown)})
    if "organisation" in fields:
        new = fields["organisation"]
        _require_provider_editor(
            actor=actor, organisation_id=new.pk if new else None, object_id=provider.pk
        )
    changed = [name for name, value in fields.items() if getattr(provider, name) != value]
    if not changed:
        return provider
    for name in changed:
        setattr(provider, name, fields[name])
    provider.modified_by = actor
    _full_clean(provider)
    with transaction.atomic():
        provider.save(update_fields=[*changed, "modified_by", "modified_at"])
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            object_type=PROVIDER_OBJECT_TYPE,
            object_id=provider.pk,
            details={"fields": sorted(changed)},
        )
    return provider


def service_create(
    *,
    actor: User,
    provider: Provider,
    category: str,
    name_es: str,
    name_en: str,
    subdivisions: Sequence[Subdivision] = (),
    languages: str | Sequence[str] = "es",
    **fields: Any,
) -> Service:
    """A new service of `provider`; no subdivisions means the whole country."""
    _require_provider_editor(
        actor=actor, organisation_id=provider.organisation_id, object_id=provider.pk
    )
    unknown = set(fields) - SERVICE_FIELDS
    if unknown:
        raise fields_error({name: UNKNOWN_FIELD for name in sorted(unknown)})
    service = Service(
        provider=provider,
        category=category,
        name_es=name_es.strip(),
        name_en=name_en.strip(),
        languages=languages_normalised(languages),
        created_by=actor,
        modified_by=actor,
        **fields,
    )
    _full_clean(service)
    for subdivision in subdivisions:
        if subdivision.country_id != provider.country_id:
            raise fields_error(
                {"subdivisions": SUBDIVISION_OF_ANOTHER_COUNTRY % {"code": subdivision.code}}
            )
    with transaction.atomic():
        service.save()
        service.subdivisions.set(subdivisions)
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            object_type=SERVICE_OBJECT_TYPE,
            object_id=service.pk,
            details={"provider": str(provider.pk)},
        )
    return service


def service_update(*, actor: User, service: Service, **fields: Any) -> Service:
    """Change a service; `subdivisions` (a list) replaces its coverage."""
    provider = service.provider
    _require_provider_editor(
        actor=actor, organisation_id=provider.organisation_id, object_id=provider.pk
    )
    unknown = set(fields) - SERVICE_FIELDS
    if unknown:
        raise fields_error({name: UNKNOWN_FIELD for name in sorted(unknown)})
    subdivisions = fields.pop("subdivisions", None)
    if subdivisions is not None:
        for subdivision in subdivisions:
            if subdivision.country_id != provider.country_id:
                raise fields_error(
                    {"subdivisions": SUBDIVISION_OF_ANOTHER_COUNTRY % {"code": subdivision.code}}
                )
    if "languages" in fields:
        fields["languages"] = languages_normalised(fields["languages"])
    changed = [name for name, value in fields.items() if getattr(service, name) != value]
    for name in changed:
        setattr(service, name, fields[name])
    coverage_changed = subdivisions is not None and {s.pk for s in subdivisions} != set(
        service.subdivisions.values_list("pk", flat=True)
    )
    if not changed and not coverage_changed:
        return service
    service.modified_by = actor
    _full_clean(service)
    with transaction.atomic():
        service.save(update_fields=[*changed, "modified_by", "modified_at"])
        if coverage_changed:
            service.subdivisions.set(subdivisions)
            changed.append("subdivisions")
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            object_type=SERVICE_OBJECT_TYPE,
            object_id=service.pk,
            details={"fields": sorted(changed)},
        )
    return service


# --- referrals --------------------------------------------------------------------------------


def _audit_denied(*, actor: User, object_id: object, attempted: str) -> None:
    audit_record(
        actor=actor,
        action=AuditAction.DENIED,
        object_type=REFERRAL_OBJECT_TYPE,
        object_id=object_id,
        details={"attempted": attempted},
    )


def referral_create(
    *,
    actor: User,
    person: Person,
    service: Service,
    due_date: datetime.date,
    consent_to_share: bool,
    arrival: Arrival | None = None,
    note: str = "",
) -> Referral:
    """Refer `person` to `service`, with the date by which the provider should act.

    The person must have consented to their record being shared with the provider: it is
    shared with the provider's organisation (people.services.person_share, audited), unless
    that is the sender's own. Submitting the same referral again while it is still open gives
    back the open referral, not a second one."""
    if not permissions.can_refer_person(actor, person):
        audit_record(
            actor=actor,
            action=AuditAction.DENIED,
            object_type=REFERRAL_OBJECT_TYPE,
            details={"attempted": "refer", "person": str(person.pk)},
        )
        raise NotFoundError()
    if actor.organisation_id is None:
        raise PermissionDeniedError(str(NO_ORGANISATION))
    if arrival is not None and arrival.person_id != person.pk:
        raise fields_error({"arrival": ARRIVAL_OF_ANOTHER_PERSON})
    if not consent_to_share:
        raise ConsentRequiredError(
            details={"fields": {"consent_to_share": [str(CONSENT_REQUIRED)]}}
        )
    if due_date < _today():
        raise fields_error({"due_date": DUE_DATE_IN_PAST})
    provider = service.provider
    if not (service.is_active and provider.is_active):
        raise fields_error({"service": SERVICE_INACTIVE})
    existing = _open_referral(person=person, service=service)
    if existing is not None:
        return existing
    share_with = provider.organisation
    if share_with is not None and (
        share_with.pk == actor.organisation_id
        or PersonShare.objects.filter(person=person, organisation=share_with).exists()
    ):
        share_with = None
    if share_with is not None and not permissions.can_share_for_referral(actor, person):
        audit_record(
            actor=actor,
            action=AuditAction.DENIED,
            object_type=REFERRAL_OBJECT_TYPE,
            details={"attempted": "refer-share", "person": str(person.pk)},
        )
        raise SharingNotAllowedError()
    referral = Referral(
        person=person,
        arrival=arrival,
        service=service,
        sender=actor,
        sender_organisation_id=actor.organisation_id,
        due_date=due_date,
        note=note.strip(),
        consent_to_share=True,
        created_by=actor,
        modified_by=actor,
    )
    _full_clean(referral, exclude=["person", "arrival", "service", "sender_organisation"])
    try:
        with transaction.atomic():
            referral.save()
            if share_with is not None:
                person_share(
                    actor=actor,
                    person=person,
                    organisation=share_with,
                    reason=f"Referral {referral.pk}",
                    for_referral=True,
                )
            audit_record(
                actor=actor,
                action=AuditAction.CREATE,
                object_type=REFERRAL_OBJECT_TYPE,
                object_id=referral.pk,
                details={
                    "person": str(person.pk),
                    "service": str(service.pk),
                    "arrival": str(arrival.pk) if arrival else "",
                    "shared_with": str(share_with.pk) if share_with else "",
                },
            )
    except IntegrityError:
        # Two submissions at once: the other one's referral is the open one.
        existing = _open_referral(person=person, service=service)
        if existing is None:
            raise
        return existing
    return referral


def _open_referral(*, person: Person, service: Service) -> Referral | None:
    return (
        Referral.objects.filter(person=person, service=service, status__in=OPEN_STATUSES)
        .order_by("created_at")
        .first()
    )


def _visible_referral(*, actor: User, referral_id: uuid.UUID, attempted: str) -> Referral:
    """The referral if the actor may read it; NotFoundError (audited) otherwise."""
    found = (
        Referral.objects.filter(permissions.referrals_visible_filter(actor), pk=referral_id)
        .select_related("service__provider")
        .first()
    )
    if found is None:
        _audit_denied(actor=actor, object_id=referral_id, attempted=attempted)
        raise NotFoundError()
    return found


def _transition(
    *,
    actor: User,
    referral: Referral,
    to: ReferralStatus,
    fields: dict[str, Any] | None = None,
) -> Referral:
    # Refusals are checked, and audited, before the transaction opens, so that their audit
    # entries survive the error that follows.
    visible = _visible_referral(actor=actor, referral_id=referral.pk, attempted=str(to))
    if to == ReferralStatus.CANCELLED:
        allowed = actor.organisation_id == visible.sender_organisation_id
    else:
        allowed = permissions.can_answer_referral(actor, visible.service.provider.organisation_id)
    if not allowed:
        _audit_denied(actor=actor, object_id=visible.pk, attempted=str(to))
        raise PermissionDeniedError()
    with transaction.atomic():
        # Locked by its key alone: two answers at once are taken one after the other, and the
        # second sees the first one's status.
        current = Referral.objects.select_for_update().get(pk=visible.pk)
        if current.status not in _TRANSITIONS[to]:
            raise ReferralStatusError(
                str(STATUS_NOT_ALLOWED)
                % {
                    "status": ReferralStatus(current.status).label.lower(),
                    "action": _ACTION_WORDS[to],
                },
                details={"status": current.status},
            )
        previous = current.status
        current.status = to
        current.modified_by = actor
        changed = ["status", "modified_by", "modified_at"]
        if to != ReferralStatus.CANCELLED:
            current.answered_by = actor
            current.answered_at = timezone.now()
            changed += ["answered_by", "answered_at"]
        for name, value in (fields or {}).items():
            setattr(current, name, value)
            changed.append(name)
        _full_clean(current, exclude=["person", "arrival", "service", "sender_organisation"])
        current.save(update_fields=changed)
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            object_type=REFERRAL_OBJECT_TYPE,
            object_id=current.pk,
            details={"from": previous, "to": str(to)},
        )
    current.service = visible.service
    return current


def referral_accept(*, actor: User, referral: Referral) -> Referral:
    """The provider takes the referral on."""
    return _transition(actor=actor, referral=referral, to=ReferralStatus.ACCEPTED)


def referral_decline(*, actor: User, referral: Referral, reason: str) -> Referral:
    """The provider cannot take the person on, and says why (the sender reads it)."""
    if not reason.strip():
        raise fields_error({"reason": DECLINE_REASON_REQUIRED})
    return _transition(
        actor=actor,
        referral=referral,
        to=ReferralStatus.DECLINED,
        fields={"decline_reason": reason.strip()},
    )


def referral_complete(*, actor: User, referral: Referral, note: str = "") -> Referral:
    """The service was given."""
    return _transition(
        actor=actor,
        referral=referral,
        to=ReferralStatus.COMPLETED,
        fields={"completion_note": note.strip()},
    )


def referral_cancel(*, actor: User, referral: Referral) -> Referral:
    """The sender's organisation withdraws a referral still open."""
    return _transition(actor=actor, referral=referral, to=ReferralStatus.CANCELLED)
