"""Reading consular cases: who may work them, which cases a user sees, one case with its
person and its actions log. Every read is audited (filters and counts, never values).

Who (built on accounts.permissions, which decides every part of it):
- consular and protection officers of a government body (they keep their country's
  registry: `permissions.can_register_person`) work the cases of their country's
  consulates; nobody else, and nobody of another country;
- a case is seen only where its person is (`permissions.persons_visible_filter`): the case
  of a child or of a trafficking victim needs the protection role, as the person's record
  does everywhere in Mirador.
A case outside the reader's scope answers NotFoundError, like one that does not exist.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from mirador.accounts import permissions
from mirador.accounts.models import Role
from mirador.consular.models import CaseAction, CaseStatus, CaseType, ConsularCase
from mirador.core.audit import audit_record
from mirador.core.errors import NotFoundError, PermissionDeniedError, fields_error
from mirador.core.models import AuditAction, Consulate
from mirador.people.selectors import person_get

if TYPE_CHECKING:
    from mirador.accounts.models import User
    from mirador.accounts.permissions import AnyUser

CASE_OBJECT_TYPE = "consular.ConsularCase"
CASE_ROLES: frozenset[str] = frozenset({Role.CONSULAR_OFFICER, Role.PROTECTION_OFFICER})
READ_REASON = "consular case"

UNKNOWN_STATUS = _("Unknown status.")
UNKNOWN_CASE_TYPE = _("Unknown case type.")


def case_worker(user: AnyUser | None) -> User | None:
    """The user if they work consular cases (see the module's docstring), else None."""
    member = permissions.case_user(user)
    if member is None or member.role not in CASE_ROLES or member.country is None:
        return None
    return member if permissions.can_register_person(member, member.country) else None


def can_work_cases(user: AnyUser | None) -> bool:
    return case_worker(user) is not None


def require_case_worker(user: AnyUser | None, *, attempted: str) -> User:
    """The case worker, or PermissionDeniedError (audited)."""
    member = case_worker(user)
    if member is None:
        audit_record(
            actor=permissions.active_user(user),
            action=AuditAction.DENIED,
            object_type=CASE_OBJECT_TYPE,
            details={"attempted": attempted},
        )
        raise PermissionDeniedError()
    return member


def cases_visible_filter(user: AnyUser | None) -> Q:
    """A filter on ConsularCase selecting exactly the cases `user` may read."""
    member = case_worker(user)
    if member is None:
        return Q(pk__in=[])
    return Q(consulate__sending_country_id=member.country_id) & permissions.persons_visible_filter(
        member, prefix="person__"
    )


def cases_visible_to(*, user: AnyUser | None) -> QuerySet[ConsularCase]:
    """The cases `user` may read, with what lists show joined (not audited: callers are)."""
    return (
        ConsularCase.objects.filter(cases_visible_filter(user))
        .select_related(
            "person", "consulate", "consulate__host_country", "place_country", "responsible"
        )
        .distinct()
    )


def consulates_of(*, user: AnyUser | None) -> QuerySet[Consulate]:
    """The consulates whose cases `user` works: those of their country."""
    member = case_worker(user)
    if member is None:
        return Consulate.objects.none()
    return Consulate.objects.filter(sending_country_id=member.country_id).select_related(
        "host_country"
    )


def cases_list(
    *,
    user: AnyUser | None,
    status: str | None = None,
    case_type: str | None = None,
    consulate_id: uuid.UUID | str | None = None,
) -> QuerySet[ConsularCase]:
    """The cases `user` may read, newest first, narrowed by status, type and consulate;
    audited as a listing (which filters were used, never the persons)."""
    member = require_case_worker(user, attempted="list")
    errors: dict[str, object] = {}
    if status and status not in CaseStatus.values:
        errors["status"] = UNKNOWN_STATUS
    if case_type and case_type not in CaseType.values:
        errors["case_type"] = UNKNOWN_CASE_TYPE
    if errors:
        raise fields_error(errors)
    cases = cases_visible_to(user=member)
    if status:
        cases = cases.filter(status=status)
    if case_type:
        cases = cases.filter(case_type=case_type)
    if consulate_id:
        cases = cases.filter(consulate_id=consulate_id)
    audit_record(
        actor=member,
        action=AuditAction.LIST,
        object_type=CASE_OBJECT_TYPE,
        details={
            "status": status or "",
            "case_type": case_type or "",
            "consulate": str(consulate_id or ""),
        },
    )
    return cases.order_by("-opened_on", "-created_at")


def _visible_case(*, user: User, case_id: uuid.UUID | str) -> ConsularCase:
    try:
        key = uuid.UUID(str(case_id))
    except ValueError:
        raise NotFoundError() from None
    case = cases_visible_to(user=user).filter(pk=key).first()
    if case is None:
        audit_record(
            actor=user, action=AuditAction.DENIED, object_type=CASE_OBJECT_TYPE, object_id=key
        )
        raise NotFoundError()
    return case


def case_get(*, user: AnyUser | None, case_id: uuid.UUID | str) -> ConsularCase:
    """One case, its person's whole record (read through people.selectors, audited) and its
    actions; the read is audited. NotFoundError outside the user's scope, as for none."""
    member = require_case_worker(user, attempted="read")
    case = _visible_case(user=member, case_id=case_id)
    case.person = person_get(user=member, person_id=case.person_id, reason=READ_REASON)
    audit_record(
        actor=member, action=AuditAction.READ, object_type=CASE_OBJECT_TYPE, object_id=case.pk
    )
    return case


def case_get_for_change(*, user: AnyUser | None, case_id: uuid.UUID | str) -> ConsularCase:
    """The case about to be changed by a service, which audits what it does."""
    member = require_case_worker(user, attempted="update")
    return _visible_case(user=member, case_id=case_id)


def case_actions(*, case: ConsularCase) -> list[CaseAction]:
    """The actions log of a case already read through `case_get`, newest first."""
    return list(case.actions.select_related("created_by").order_by("-taken_on", "-created_at"))
