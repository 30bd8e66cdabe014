"""Reading persons. Every function here asks `accounts.permissions` and writes the audit log;
nothing else in Mirador reads identity fields from the tables.

An id that does not exist and an id the user may not see give the same NotFoundError, so a
user cannot learn that a record exists outside their scope; both attempts are audited.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from django.db.models import OuterRef, Prefetch, Q, QuerySet, Subquery

from mirador.accounts import permissions
from mirador.core.audit import audit_record
from mirador.core.errors import NotFoundError, PermissionDeniedError
from mirador.core.models import AuditAction
from mirador.people.models import (
    Consent,
    ConsentPurpose,
    ContactPoint,
    FamilyLink,
    IdentityDocument,
    Person,
    PersonShare,
    Relationship,
    relationship_inverse,
)

if TYPE_CHECKING:
    from mirador.accounts.permissions import AnyUser

PERSON_OBJECT_TYPE = "people.Person"  # Person._meta.label

# Outcomes of a refused read, kept in the audit entry's details for whoever reviews the log.
DENIED_MISSING = "missing"
DENIED_OUT_OF_SCOPE = "out-of-scope"
DENIED_NO_ACCESS = "no-personal-data-access"

# The filters `people_list` accepts; the audit log records which were used, never their values.
LIST_FILTERS = (
    "surname",
    "given_name",
    "birth_year",
    "sex",
    "nationality",
    "is_child",
    "is_trafficking_victim",
)


def people_visible_to(*, user: AnyUser | None) -> QuerySet[Person]:
    """Exactly the persons `user` may read, with what lists show already joined."""
    return (
        Person.objects.filter(permissions.persons_visible_filter(user))
        .select_related("country", "nationality")
        .distinct()
    )


def _with_record_details(queryset: QuerySet[Person]) -> QuerySet[Person]:
    return queryset.prefetch_related(
        Prefetch(
            "documents",
            queryset=IdentityDocument.objects.select_related("issuing_country").order_by(
                "kind", "number"
            ),
        ),
        Prefetch("contacts", queryset=ContactPoint.objects.select_related("subdivision")),
        Prefetch("family_links", queryset=FamilyLink.objects.select_related("relative")),
        Prefetch("family_links_as_relative", queryset=FamilyLink.objects.select_related("person")),
        Prefetch("consents", queryset=Consent.objects.select_related("created_by")),
        Prefetch("shares", queryset=PersonShare.objects.select_related("organisation")),
    )


def _deny(*, user: AnyUser | None, person_id: object, outcome: str, reason: str) -> NotFoundError:
    audit_record(
        actor=permissions.active_user(user),
        action=AuditAction.DENIED,
        object_type=PERSON_OBJECT_TYPE,
        object_id=person_id,
        reason=reason,
        details={"outcome": outcome},
    )
    return NotFoundError()


def _find_visible(*, user: AnyUser | None, person_id: uuid.UUID | str, reason: str) -> Person:
    """The person if `user` may read it; otherwise the refusal is audited and NotFoundError
    raised. Writes no read entry: callers audit what they do with the record."""
    try:
        key = uuid.UUID(str(person_id))
    except ValueError:
        raise _deny(
            user=user, person_id=str(person_id)[:64], outcome=DENIED_MISSING, reason=reason
        ) from None
    if not permissions.can_read_personal_data(user):
        raise _deny(user=user, person_id=key, outcome=DENIED_NO_ACCESS, reason=reason)
    person = _with_record_details(people_visible_to(user=user)).filter(pk=key).first()
    if person is None:
        outcome = DENIED_OUT_OF_SCOPE if Person.objects.filter(pk=key).exists() else DENIED_MISSING
        raise _deny(user=user, person_id=key, outcome=outcome, reason=reason)
    return person


def person_get(*, user: AnyUser | None, person_id: uuid.UUID | str, reason: str = "") -> Person:
    """One person's whole record (documents, contacts, family, consents loaded); audited."""
    person = _find_visible(user=user, person_id=person_id, reason=reason)
    audit_record(
        actor=permissions.active_user(user),
        action=AuditAction.READ,
        object_type=PERSON_OBJECT_TYPE,
        object_id=person.pk,
        reason=reason,
    )
    return person


def person_get_for_change(
    *, user: AnyUser | None, person_id: uuid.UUID | str, reason: str = ""
) -> Person:
    """The person about to be changed by a service, which writes its own audit entry; a
    refusal is audited here like any other."""
    return _find_visible(user=user, person_id=person_id, reason=reason)


def people_list(
    *,
    user: AnyUser | None,
    surname: str | None = None,
    given_name: str | None = None,
    birth_year: int | None = None,
    sex: str | None = None,
    nationality: str | None = None,
    is_child: bool | None = None,
    is_trafficking_victim: bool | None = None,
    reason: str = "",
) -> QuerySet[Person]:
    """The persons `user` may read that match the filters; the listing is audited with its
    size and the names of the filters used (the searched names themselves are not logged).

    Roles that may not read personal data at all get PermissionDeniedError (and an audited
    refusal) rather than an empty list, so a client can tell "not allowed" from "none"."""
    used = {
        "surname": surname,
        "given_name": given_name,
        "birth_year": birth_year,
        "sex": sex,
        "nationality": nationality,
        "is_child": is_child,
        "is_trafficking_victim": is_trafficking_victim,
    }
    filter_names = [name for name in LIST_FILTERS if used[name] not in (None, "")]
    if not permissions.can_read_personal_data(user):
        audit_record(
            actor=permissions.active_user(user),
            action=AuditAction.DENIED,
            object_type=PERSON_OBJECT_TYPE,
            reason=reason,
            details={"outcome": DENIED_NO_ACCESS, "filters": filter_names},
        )
        raise PermissionDeniedError()

    queryset = people_visible_to(user=user)
    if surname:
        term = surname.strip()
        queryset = queryset.filter(
            Q(first_surname__icontains=term) | Q(second_surname__icontains=term)
        )
    if given_name:
        queryset = queryset.filter(given_names__icontains=given_name.strip())
    if birth_year is not None:
        queryset = queryset.filter(birth_year=birth_year)
    if sex:
        queryset = queryset.filter(sex=sex)
    if nationality:
        queryset = queryset.filter(nationality_id=nationality.upper())
    if is_child is not None:
        queryset = queryset.filter(is_child=is_child)
    if is_trafficking_victim is not None:
        queryset = queryset.filter(is_trafficking_victim=is_trafficking_victim)

    audit_record(
        actor=permissions.active_user(user),
        action=AuditAction.LIST,
        object_type=PERSON_OBJECT_TYPE,
        reason=reason,
        details={"count": queryset.count(), "filters": filter_names},
    )
    return queryset


@dataclass(frozen=True)
class Relative:
    """One family link as seen from a person's record. `name` is empty when the relative's
    own record is outside the reader's scope (a child's record read by a reception officer)."""

    person_id: uuid.UUID
    relationship: Relationship
    name: str

    @property
    def relationship_label(self) -> str:
        return str(self.relationship.label)


def person_relatives(*, user: AnyUser | None, person: Person) -> list[Relative]:
    """The relatives of a person fetched by `person_get`, named only where `user` may read
    them (each name shown is audited as a read of that relative's record). `relationship` is
    what the relative is to the person."""
    pairs: list[tuple[Person, Relationship]] = [
        # person is `relationship` of relative, so the relative is its inverse to person.
        (link.relative, relationship_inverse(link.relationship))
        for link in person.family_links.all()
    ] + [
        (link.person, Relationship(link.relationship))
        for link in person.family_links_as_relative.all()
    ]
    if not pairs:
        return []
    readable = set(
        people_visible_to(user=user)
        .filter(pk__in=[relative.pk for relative, _ in pairs])
        .values_list("pk", flat=True)
    )
    # A relative's name is their personal data: showing it is a read of their record too.
    for relative_id in sorted(readable, key=str):
        audit_record(
            actor=permissions.active_user(user),
            action=AuditAction.READ,
            object_type=PERSON_OBJECT_TYPE,
            object_id=relative_id,
            details={"fields": ["name"], "via": str(person.pk)},
        )
    return [
        Relative(
            person_id=relative.pk,
            relationship=relationship,
            name=relative.full_name if relative.pk in readable else "",
        )
        for relative, relationship in pairs
    ]


# Where a matching read takes the tracing consent in force into account (linkage.missing).
CONSENT_GRANTED = "granted"  # the latest tracing-and-matching consent was granted
CONSENT_NOT_REFUSED = "not-refused"  # none recorded, or the latest was granted


def people_for_matching(
    *,
    country_id: str,
    consent: str,
    person_ids: Sequence[uuid.UUID] | QuerySet[Any] | None = None,
    reason: str,
) -> list[Person]:
    """Identity records of `country_id`'s registry for a background matching task (no user:
    the task acts for the institution, under the tracing consent in force), with their
    documents. `consent` says which records qualify (CONSENT_GRANTED, CONSENT_NOT_REFUSED);
    `person_ids` (ids, or a query of one column of them) narrows to those records. What the
    task then shows goes to reviewers through the ordinary, scoped selectors. The read is
    audited as one listing, with `reason` and the number of records read."""
    latest = Subquery(
        Consent.objects.filter(person=OuterRef("pk"), purpose=ConsentPurpose.TRACING_MATCHING)
        .order_by("-created_at")
        .values("granted")[:1]
    )
    queryset = Person.objects.filter(country_id=country_id).annotate(tracing_consent=latest)
    if consent == CONSENT_GRANTED:
        queryset = queryset.filter(tracing_consent=True)
    elif consent == CONSENT_NOT_REFUSED:
        queryset = queryset.filter(Q(tracing_consent__isnull=True) | Q(tracing_consent=True))
    else:
        raise ValueError(f"unknown consent rule {consent!r}")
    if person_ids is not None:
        queryset = queryset.filter(pk__in=person_ids)
    persons: list[Person] = list(
        queryset.prefetch_related(
            Prefetch("documents", queryset=IdentityDocument.objects.order_by("kind", "number"))
        )
    )
    audit_record(
        actor=None,
        action=AuditAction.LIST,
        object_type=PERSON_OBJECT_TYPE,
        reason=reason,
        details={"count": len(persons), "country": country_id, "consent": consent},
    )
    return persons


@dataclass(frozen=True)
class IdentityFields:
    """What matching compares of a record: names, date of birth, sex, document numbers."""

    given_names: str
    first_surname: str
    second_surname: str
    birth_year: int | None
    birth_month: int | None
    birth_day: int | None
    sex: str
    document_numbers: tuple[str, ...]


def identity_fields_visible_to(
    *, user: AnyUser | None, person_ids: Sequence[uuid.UUID] | set[uuid.UUID]
) -> dict[uuid.UUID, IdentityFields]:
    """The identity fields of those of `person_ids` that `user` may read, by id, in one
    query (a row per document), for a search to choose which records it reads: nothing here
    is shown, so nothing is audited. The records a search shows are read through
    `people_visible_to` and audited there."""
    if not person_ids or not permissions.can_read_personal_data(user):
        return {}
    rows = (
        Person.objects.filter(permissions.persons_visible_filter(user))
        .filter(pk__in=list(person_ids))
        .order_by()
        .values_list(
            "pk",
            "given_names",
            "first_surname",
            "second_surname",
            "birth_year",
            "birth_month",
            "birth_day",
            "sex",
            "documents__number",
        )
    )
    found: dict[uuid.UUID, IdentityFields] = {}
    numbers: dict[uuid.UUID, dict[str, None]] = {}
    for pk, given, first, second, year, month, day, sex, number in rows:
        if pk not in found:
            found[pk] = IdentityFields(given, first, second, year, month, day, sex, ())
        # The rule's filter through shares can repeat a row; each number is kept once.
        kept = numbers.setdefault(pk, {})
        if number is not None:
            kept[number] = None
    return {
        pk: replace(fields, document_numbers=tuple(numbers[pk])) for pk, fields in found.items()
    }
