"""Writing persons: registration, changes, sharing, consent, family links and deletion.

Each service asks `accounts.permissions` first and records what it did in the audit log
(field names and identifiers only, never the values). A refusal is audited before the
transaction opens, so the entry survives the error that follows. A person the actor may not
see is answered with NotFoundError, like the selectors do; one they may see but not change
with PermissionDeniedError.
"""

from __future__ import annotations

import calendar
import datetime
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import router, transaction
from django.db.models import CheckConstraint, ProtectedError, Q, RestrictedError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mirador.accounts import permissions
from mirador.core.audit import audit_record
from mirador.core.errors import (
    ApplicationError,
    NotFoundError,
    PermissionDeniedError,
    ValidationFailedError,
)
from mirador.core.inserts import row_insert, rows_insert
from mirador.core.lookups import country_by_code, subdivision_by_code
from mirador.core.models import AuditAction, Country, Organisation
from mirador.people.models import (
    Consent,
    ContactPoint,
    FamilyLink,
    IdentityDocument,
    Person,
    PersonShare,
    Sex,
)
from mirador.people.selectors import PERSON_OBJECT_TYPE

if TYPE_CHECKING:
    from mirador.accounts.models import User

ADULT_AGE = 18
EARLIEST_BIRTH_YEAR = 1900

MONTH_WITHOUT_YEAR = _("A month of birth needs a year of birth.")
DAY_WITHOUT_MONTH = _("A day of birth needs a month of birth.")
BIRTH_YEAR_TOO_EARLY = _("The year of birth must be %(year)s or later.")
BIRTH_MONTH_OUT_OF_RANGE = _("The month of birth must be between 1 and 12.")
BIRTH_DAY_OUT_OF_RANGE = _("The day of birth must be between 1 and 31.")
BIRTH_DATE_NOT_IN_CALENDAR = _("This date does not exist in the calendar.")
BIRTH_DATE_IN_FUTURE = _("The date of birth is in the future.")
UNKNOWN_COUNTRY = _("Unknown country code.")
UNKNOWN_SUBDIVISION = _("Unknown subdivision code.")
UNKNOWN_FIELD = _("This field cannot be changed here.")
REASON_REQUIRED = _("Say why, for the audit log.")
FAMILY_LINK_TO_SELF = _("A person cannot be their own relative.")
PERSON_NOT_REGISTERABLE = _("You may not register persons in this country.")

# The fields `person_update` may change; the country of the registry is not one of them.
UPDATABLE_FIELDS = frozenset(
    {
        "given_names",
        "first_surname",
        "second_surname",
        "birth_year",
        "birth_month",
        "birth_day",
        "sex",
        "nationality",
        "is_child",
        "is_trafficking_victim",
    }
)
BIRTH_FIELDS = ("birth_year", "birth_month", "birth_day")
# A document's kind, issuing country and number are unique (people.models.IdentityDocument).
DOCUMENT_UNIQUE = ("identity_document_unique",)
NAME_FIELDS = ("given_names", "first_surname", "second_surname")


class AlreadySharedError(ApplicationError):
    code = "already_shared"
    http_status = 409
    default_message = _("This record is already shared with that organisation.")


class FamilyLinkExistsError(ApplicationError):
    code = "family_link_exists"
    http_status = 409
    default_message = _("These two persons are already linked.")


class PersonInUseError(ApplicationError):
    code = "person_in_use"
    http_status = 409
    default_message = _("Other records refer to this person, so it cannot be deleted.")


@dataclass(frozen=True)
class DocumentData:
    kind: str
    number: str
    issuing_country: str  # ISO 3166-1 alpha-2
    issued_on: datetime.date | None = None
    expires_on: datetime.date | None = None


@dataclass(frozen=True)
class ContactData:
    kind: str
    value: str
    subdivision: str | None = None  # ISO 3166-2 code, for addresses


# --- checks -------------------------------------------------------------------------------


def _audit_refusal(*, actor: User, person_id: object, attempted: str) -> None:
    audit_record(
        actor=actor,
        action=AuditAction.DENIED,
        object_type=PERSON_OBJECT_TYPE,
        object_id=person_id,
        details={"attempted": attempted},
    )


def _require(
    *,
    actor: User,
    person: Person,
    allowed: Callable[[Any, Person], bool],
    attempted: str,
) -> None:
    """Refuse, audited: NotFoundError if the actor may not even see the person."""
    if allowed(actor, person):
        return
    _audit_refusal(actor=actor, person_id=person.pk, attempted=attempted)
    if not permissions.can_view_person(actor, person):
        raise NotFoundError()
    raise PermissionDeniedError()


def _validation_error(error: ValidationError, *, prefix: str = "") -> ValidationFailedError:
    fields: dict[str, list[str]] = {}
    for field, messages in error.message_dict.items():
        fields[f"{prefix}{field}"] = [str(message) for message in messages]
    return ValidationFailedError(details={"fields": fields})


def _known_fields(instance: Any) -> set[str]:
    """Fields whose check by full_clean would only ask the database what is already known:
    a foreign key given as a saved instance (the row exists), and a primary key that
    `uuid.uuid4` has just drawn for a new row (it is unused)."""
    known = set()
    for model_field in instance._meta.concrete_fields:
        if model_field.many_to_one and model_field.is_cached(instance):
            related = model_field.get_cached_value(instance)
            if related is not None and not related._state.adding:
                known.add(model_field.name)
    primary_key = instance._meta.pk
    if instance._state.adding and primary_key.default is uuid.uuid4:
        known.add(primary_key.name)
    return known


def _full_clean(
    instance: Any,
    *,
    prefix: str = "",
    exclude: Sequence[str] = (),
    checked: Sequence[str] = (),
    verified: Sequence[str] = (),
) -> None:
    """Model.full_clean, step by step as Django runs it, without the queries whose answer is
    known (`_known_fields`). `checked`: fields whose check constraints the caller has already
    verified in Python, so that the database is not asked again (unique constraints on them
    are still checked). `verified`: names of constraints the caller has just checked against
    the database itself (several rows in one query)."""
    errors: dict[str, Any] = {}
    skipped = set(exclude)
    known = _known_fields(instance)
    try:
        instance.clean_fields(exclude=skipped | known)
    except ValidationError as error:
        errors = error.update_error_dict(errors)
    try:
        instance.clean()
    except ValidationError as error:
        errors = error.update_error_dict(errors)
    skipped |= {name for name in errors if name != NON_FIELD_ERRORS}
    try:
        instance.validate_unique(exclude=skipped | (known & {instance._meta.pk.name}))
    except ValidationError as error:
        errors = error.update_error_dict(errors)
    skipped |= {name for name in errors if name != NON_FIELD_ERRORS}
    try:
        _validate_constraints(
            instance, exclude=skipped | _check_only(instance, checked), verified=set(verified)
        )
    except ValidationError as error:
        errors = error.update_error_dict(errors)
    if errors:
        raise _validation_error(ValidationError(errors), prefix=prefix)


def _validate_constraints(instance: Any, *, exclude: set[str], verified: set[str]) -> None:
    """Model.validate_constraints, skipping the `verified` constraints and without building
    the query of a check constraint that names an excluded field (Django builds it, then
    skips the constraint on the FieldError that the missing field raises: most of the time
    the check of a new person took)."""
    using = router.db_for_write(type(instance), instance=instance)
    errors: dict[str, Any] = {}
    for model_class, constraints in instance.get_constraints():
        for constraint in constraints:
            if constraint.name in verified:
                continue
            if isinstance(constraint, CheckConstraint):
                referenced = getattr(constraint.condition, "referenced_base_fields", None)
                if referenced is not None and referenced & exclude:
                    continue
            try:
                constraint.validate(model_class, instance, exclude=exclude, using=using)
            except ValidationError as error:
                fields: Sequence[str] = getattr(constraint, "fields", ())
                if getattr(error, "code", None) == "unique" and len(fields) == 1:
                    errors.setdefault(fields[0], []).append(error)
                else:
                    errors = error.update_error_dict(errors)
    if errors:
        raise ValidationError(errors)


def _check_only(instance: Any, fields: Sequence[str]) -> set[str]:
    """`fields`, unless a unique constraint names one of them: excluding a field skips every
    constraint on it, and the unique ones must still be checked."""
    if not fields:
        return set()
    unique = {
        name
        for constraint in instance._meta.constraints
        for name in getattr(constraint, "fields", ())
    }
    return set(fields) - unique


def _today() -> datetime.date:
    return timezone.localdate()


def birth_date_errors(
    *, year: int | None, month: int | None, day: int | None, today: datetime.date | None = None
) -> dict[str, list[str]]:
    """What is wrong with a possibly partial date of birth, by field (empty when valid)."""
    today = today or _today()
    errors: dict[str, list[str]] = {}
    if month is not None and year is None:
        errors["birth_month"] = [str(MONTH_WITHOUT_YEAR)]
    if day is not None and month is None:
        errors["birth_day"] = [str(DAY_WITHOUT_MONTH)]
    if year is not None and year < EARLIEST_BIRTH_YEAR:
        errors["birth_year"] = [str(BIRTH_YEAR_TOO_EARLY % {"year": EARLIEST_BIRTH_YEAR})]
    if month is not None and not 1 <= month <= 12:
        errors["birth_month"] = [str(BIRTH_MONTH_OUT_OF_RANGE)]
    if day is not None and not 1 <= day <= 31:
        errors["birth_day"] = [str(BIRTH_DAY_OUT_OF_RANGE)]
    if errors or year is None:
        return errors
    if month is not None and day is not None:
        try:
            datetime.date(year, month, day)
        except ValueError:
            return {"birth_day": [str(BIRTH_DATE_NOT_IN_CALENDAR)]}
    # The earliest day the person can have been born must not be after today.
    if (year, month or 1, day or 1) > (today.year, today.month, today.day):
        return {"birth_year": [str(BIRTH_DATE_IN_FUTURE)]}
    return errors


def youngest_possible_age(
    *, year: int | None, month: int | None, day: int | None, on: datetime.date
) -> int | None:
    """The age on `on` of someone born on the latest day a partial date allows.

    Children are presumed children when in doubt (born "in 2007" may still be 17), as
    child-protection practice asks."""
    if year is None:
        return None
    latest_month = month or 12
    latest_day = day or calendar.monthrange(year, latest_month)[1]
    age = on.year - year
    if (on.month, on.day) < (latest_month, latest_day):
        age -= 1
    return age


def _is_child_on(person: Person, on: datetime.date) -> bool | None:
    age = youngest_possible_age(
        year=person.birth_year, month=person.birth_month, day=person.birth_day, on=on
    )
    return None if age is None else age < ADULT_AGE


def country_from_code(code: str | None, *, field: str) -> Country | None:
    """The country of an ISO alpha-2 code; ValidationFailedError naming `field` if unknown."""
    if not code:
        return None
    country = country_by_code(code.strip().upper())
    if country is None:
        raise ValidationFailedError(details={"fields": {field: [str(UNKNOWN_COUNTRY)]}})
    return country


def _stored(person: Person, name: str) -> object:
    return person.nationality_id if name == "nationality" else getattr(person, name)


def _key(value: object) -> object:
    return value.pk if isinstance(value, Country) else value


def _check_birth_date(person: Person) -> None:
    errors = birth_date_errors(
        year=person.birth_year, month=person.birth_month, day=person.birth_day
    )
    if errors:
        raise ValidationFailedError(details={"fields": errors})


# --- services -----------------------------------------------------------------------------


def person_register(
    *,
    actor: User,
    country: Country,
    given_names: str,
    first_surname: str,
    second_surname: str = "",
    birth_year: int | None = None,
    birth_month: int | None = None,
    birth_day: int | None = None,
    sex: str = Sex.UNKNOWN,
    nationality: Country | None = None,
    is_child: bool = False,
    is_trafficking_victim: bool = False,
    documents: Sequence[DocumentData] = (),
    contacts: Sequence[ContactData] = (),
    reason: str,
    savepoint: bool = True,
) -> Person:
    """Register a person in `country`'s registry. `is_child` is set when the date of birth
    makes the person (possibly) under 18 today; with no date it stays as given.

    `savepoint=False`: the caller's transaction block is rolled back whole if this fails
    (returns.services.arrival_register), so no savepoint of its own is needed."""
    if not permissions.can_register_person(actor, country):
        _audit_refusal(actor=actor, person_id="", attempted="create")
        raise PermissionDeniedError(str(PERSON_NOT_REGISTERABLE))

    person = Person(
        country=country,
        registered_by_organisation=actor.organisation,
        given_names=given_names.strip(),
        first_surname=first_surname.strip(),
        second_surname=second_surname.strip(),
        birth_year=birth_year,
        birth_month=birth_month,
        birth_day=birth_day,
        sex=sex,
        nationality=nationality,
        is_trafficking_victim=is_trafficking_victim,
        created_by=actor,
        modified_by=actor,
    )
    _check_birth_date(person)
    person.is_child = bool(_is_child_on(person, _today())) or is_child
    # The birth date's check constraints are what _check_birth_date verified.
    _full_clean(person, checked=BIRTH_FIELDS)
    # Documents are mostly issued by the registry's country or the nationality: no query.
    countries = {known.pk: known for known in (country, nationality) if known is not None}

    with transaction.atomic(savepoint=savepoint):
        row_insert(person)
        # Nothing points to a record just created: the access rule's checks of one-to-one
        # relations to it (linkage's missing-person report) need no query.
        for relation in Person._meta.related_objects:
            if relation.one_to_one:
                relation.set_cached_value(person, None)
        _documents_add(actor=actor, person=person, documents=documents, countries=countries)
        for index, contact in enumerate(contacts):
            subdivision = None
            if contact.subdivision:
                subdivision = subdivision_by_code(contact.subdivision.upper())
                if subdivision is None:
                    raise ValidationFailedError(
                        details={
                            "fields": {f"contacts.{index}.subdivision": [str(UNKNOWN_SUBDIVISION)]}
                        }
                    )
            contact_row = ContactPoint(
                person=person,
                kind=contact.kind,
                value=contact.value.strip(),
                subdivision=subdivision,
                created_by=actor,
                modified_by=actor,
            )
            _full_clean(contact_row, prefix=f"contacts.{index}.")
            row_insert(contact_row)
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            object_type=PERSON_OBJECT_TYPE,
            object_id=person.pk,
            reason=reason,
            details={
                "fields": sorted(
                    name
                    for name in (*NAME_FIELDS, *BIRTH_FIELDS, "nationality")
                    if getattr(person, name) not in (None, "")
                ),
                "documents": len(documents),
                "contacts": len(contacts),
            },
        )
    return person


def _document_row(
    *,
    actor: User,
    person: Person,
    document: DocumentData,
    index: int,
    countries: dict[str, Country],
) -> IdentityDocument:
    code = (document.issuing_country or "").strip().upper()
    return IdentityDocument(
        person=person,
        kind=document.kind,
        number=document.number.strip(),
        issuing_country=countries.get(code)
        or country_from_code(document.issuing_country, field=f"documents.{index}.issuing_country"),
        issued_on=document.issued_on,
        expires_on=document.expires_on,
        created_by=actor,
        modified_by=actor,
    )


def _documents_checked(
    *,
    actor: User,
    person: Person,
    documents: Sequence[DocumentData],
    countries: dict[str, Country],
) -> list[IdentityDocument] | None:
    """The rows of `documents`, each checked as full_clean checks it, with whether one is
    registered already asked for all of them in one query; None if any is wrong."""
    rows = []
    try:
        for index, document in enumerate(documents):
            row = _document_row(
                actor=actor, person=person, document=document, index=index, countries=countries
            )
            _full_clean(row, prefix=f"documents.{index}.", verified=DOCUMENT_UNIQUE)
            rows.append(row)
    except ValidationFailedError:
        return None
    keys = [(row.kind, row.issuing_country_id, row.number) for row in rows]
    taken = Q(pk__in=[])
    for kind, country_id, number in keys:
        taken |= Q(kind=kind, issuing_country_id=country_id, number=number)
    if len(set(keys)) < len(keys) or IdentityDocument.objects.filter(taken).exists():
        return None
    return rows


def _documents_add(
    *,
    actor: User,
    person: Person,
    documents: Sequence[DocumentData],
    countries: dict[str, Country],
) -> None:
    """Save the documents of a person just registered, each checked as full_clean checks it.

    Several are checked first and written in one INSERT, whether one is registered already
    (the unique constraint on kind, issuing country and number) asked in one query. If any
    is wrong (taken, given twice, an unknown country, a bad value), nothing has been written
    yet, and they are checked and saved one at a time in order, as a single one is, so that
    the error is the first one's, exactly as before."""
    if len(documents) > 1:
        rows = _documents_checked(
            actor=actor, person=person, documents=documents, countries=countries
        )
        if rows is not None:
            rows_insert(rows)
            return
    for index, document in enumerate(documents):
        row = _document_row(
            actor=actor, person=person, document=document, index=index, countries=countries
        )
        _full_clean(row, prefix=f"documents.{index}.")
        row_insert(row)


def person_update(*, actor: User, person: Person, reason: str = "", **fields: Any) -> Person:
    """Change identity fields or flags. Nationality is a Country (or None). When the date of
    birth changes and `is_child` is not given, it is worked out again as of registration."""
    unknown = sorted(set(fields) - UPDATABLE_FIELDS)
    if unknown:
        raise ValidationFailedError(
            details={"fields": {name: [str(UNKNOWN_FIELD)] for name in unknown}}
        )
    _require(actor=actor, person=person, allowed=permissions.can_change_person, attempted="update")

    for name in NAME_FIELDS:
        if isinstance(fields.get(name), str):
            fields[name] = fields[name].strip()
    changed = [name for name, value in fields.items() if _stored(person, name) != _key(value)]
    if not changed:
        return person
    for name in changed:
        setattr(person, name, fields[name])
    if any(name in BIRTH_FIELDS for name in changed):
        _check_birth_date(person)
        if "is_child" not in fields:
            registered_on = timezone.localdate(person.created_at)
            child = _is_child_on(person, registered_on)
            if child is not None and child != person.is_child:
                person.is_child = child
                changed.append("is_child")
    _full_clean(person)
    person.modified_by = actor

    with transaction.atomic():
        person.save(update_fields=[*changed, "modified_at", "modified_by"])
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            object_type=PERSON_OBJECT_TYPE,
            object_id=person.pk,
            reason=reason,
            details={"fields": sorted(changed)},
        )
    return person


def person_share(
    *,
    actor: User,
    person: Person,
    organisation: Organisation,
    reason: str,
    for_referral: bool = False,
) -> PersonShare:
    """Let `organisation`'s case workers read the record. `for_referral`: the record goes to
    the provider of a service the person consented to be referred to, which whoever may
    refer them may do (accounts.permissions.can_share_for_referral)."""
    allowed = permissions.can_share_for_referral if for_referral else permissions.can_share_person
    _require(actor=actor, person=person, allowed=allowed, attempted="share")
    if not reason.strip():
        raise ValidationFailedError(details={"fields": {"reason": [str(REASON_REQUIRED)]}})
    if PersonShare.objects.filter(person=person, organisation=organisation).exists():
        raise AlreadySharedError()
    share = PersonShare(
        person=person,
        organisation=organisation,
        reason=reason.strip(),
        created_by=actor,
        modified_by=actor,
    )
    _full_clean(share)
    with transaction.atomic():
        share.save()
        audit_record(
            actor=actor,
            action=AuditAction.SHARE,
            object_type=PERSON_OBJECT_TYPE,
            object_id=person.pk,
            reason=reason,
            details={"organisation": str(organisation.pk)},
        )
    return share


def consent_record(*, actor: User, person: Person, purpose: str, granted: bool) -> Consent:
    """Record that the person granted or withdrew consent for `purpose`; the latest row per
    purpose is the one in force."""
    _require(
        actor=actor, person=person, allowed=permissions.can_record_consent, attempted="consent"
    )
    consent = Consent(
        person=person, purpose=purpose, granted=granted, created_by=actor, modified_by=actor
    )
    _full_clean(consent)
    with transaction.atomic():
        consent.save(force_insert=True)
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            object_type=PERSON_OBJECT_TYPE,
            object_id=person.pk,
            details={"fields": ["consent"], "purpose": purpose, "granted": granted},
        )
    return consent


def consents_record(
    *,
    actor: User,
    person: Person,
    consents: Sequence[tuple[str, bool]],
    savepoint: bool = True,
) -> list[Consent]:
    """`consent_record` for several purposes at once (a registration asks for each): the
    same check, rows and audit entries, written in one INSERT. `savepoint` as for
    `person_register`."""
    _require(
        actor=actor, person=person, allowed=permissions.can_record_consent, attempted="consent"
    )
    rows = [
        Consent(
            person=person, purpose=purpose, granted=granted, created_by=actor, modified_by=actor
        )
        for purpose, granted in consents
    ]
    for row in rows:
        _full_clean(row)
    with transaction.atomic(savepoint=savepoint):
        rows_insert(rows)
        for row in rows:
            audit_record(
                actor=actor,
                action=AuditAction.UPDATE,
                object_type=PERSON_OBJECT_TYPE,
                object_id=person.pk,
                details={"fields": ["consent"], "purpose": row.purpose, "granted": row.granted},
            )
    return rows


def family_link_add(
    *, actor: User, person: Person, relative: Person, relationship: str
) -> FamilyLink:
    """Record that `person` is the `relationship` of `relative` (e.g. the parent of)."""
    _require(
        actor=actor, person=person, allowed=permissions.can_change_person, attempted="family-link"
    )
    _require(
        actor=actor, person=relative, allowed=permissions.can_view_person, attempted="family-link"
    )
    if person.pk == relative.pk:
        raise ValidationFailedError(details={"fields": {"relative": [str(FAMILY_LINK_TO_SELF)]}})
    if FamilyLink.objects.filter(
        Q(person=person, relative=relative) | Q(person=relative, relative=person)
    ).exists():
        raise FamilyLinkExistsError()
    link = FamilyLink(
        person=person,
        relative=relative,
        relationship=relationship,
        created_by=actor,
        modified_by=actor,
    )
    _full_clean(link)
    with transaction.atomic():
        link.save()
        # Both records changed: each one's audit trail shows it.
        for changed, other in ((person, relative), (relative, person)):
            audit_record(
                actor=actor,
                action=AuditAction.UPDATE,
                object_type=PERSON_OBJECT_TYPE,
                object_id=changed.pk,
                details={"fields": ["family_links"], "relative": str(other.pk)},
            )
    return link


def person_delete(*, actor: User, person: Person, reason: str) -> None:
    """Delete the record with its documents, contacts, family links, consents and shares."""
    _require(actor=actor, person=person, allowed=permissions.can_delete_person, attempted="delete")
    if not reason.strip():
        raise ValidationFailedError(details={"fields": {"reason": [str(REASON_REQUIRED)]}})
    person_id = person.pk
    try:
        with transaction.atomic():
            person.delete()
            audit_record(
                actor=actor,
                action=AuditAction.DELETE,
                object_type=PERSON_OBJECT_TYPE,
                object_id=person_id,
                reason=reason,
            )
    except (ProtectedError, RestrictedError):
        raise PersonInUseError() from None


@transaction.atomic
def identity_document_add(
    *,
    actor: User,
    person: Person,
    kind: str,
    number: str,
    issuing_country: Country | None = None,
    issued_on: datetime.date | None = None,
) -> IdentityDocument:
    """Add a document issued to a registered person (e.g. the identity card delivered at a
    reception centre). Issued by the person's registry country unless another is given.
    The same kind and number given again changes nothing."""
    _require(
        actor=actor, person=person, allowed=permissions.can_change_person, attempted="document"
    )
    number = number.strip()
    country = issuing_country or person.country
    existing = IdentityDocument.objects.filter(
        person=person, kind=kind, number=number, issuing_country=country
    ).first()
    if existing is not None:
        return existing
    document = IdentityDocument(
        person=person,
        kind=kind,
        number=number,
        issuing_country=country,
        issued_on=issued_on,
        created_by=actor,
        modified_by=actor,
    )
    _full_clean(document, prefix="document.")
    document.save(force_insert=True)
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type=PERSON_OBJECT_TYPE,
        object_id=person.pk,
        details={"fields": ["documents"], "document_kind": kind},
    )
    return document
