"""People endpoints; every one goes through people.selectors and people.services, which
enforce access and audit.

Roles that may not read personal data get 403 on the list and 404 on a single record: a
record outside the caller's scope answers exactly like one that does not exist.
"""

import uuid
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Query, Router, Status
from ninja.pagination import LimitOffsetPagination, paginate

from mirador.accounts import permissions
from mirador.accounts.auth import request_user
from mirador.core.errors import PermissionDeniedError
from mirador.people.models import Person
from mirador.people.schemas import (
    PersonDetailOut,
    PersonFilterIn,
    PersonOut,
    PersonRegisteredOut,
    PersonRegisterIn,
    PersonUpdateIn,
)
from mirador.people.selectors import people_list, person_get, person_get_for_change
from mirador.people.services import (
    ContactData,
    DocumentData,
    country_from_code,
    person_register,
    person_update,
)

router = Router(tags=["people"])


@router.get("", response=list[PersonOut], summary="List the persons you may read")
@paginate(LimitOffsetPagination)
def person_list_endpoint(
    request: HttpRequest, filters: Query[PersonFilterIn], reason: str = ""
) -> QuerySet[Person]:
    """Persons of your scope matching the filters, by surname. Every call is audited with
    the names of the filters used (not their values)."""
    user = request_user(request)
    return people_list(
        user=user,
        surname=filters.surname,
        given_name=filters.given_name,
        birth_year=filters.birth_year,
        sex=filters.sex,
        nationality=filters.nationality,
        is_child=filters.is_child,
        is_trafficking_victim=filters.is_trafficking_victim,
        reason=reason[:200],
    )


@router.get("/{person_id}", response=PersonDetailOut, summary="Read one person's record")
def person_detail_endpoint(request: HttpRequest, person_id: uuid.UUID, reason: str = "") -> Person:
    """The whole record: identity, documents, contacts, relatives, consents. Audited."""
    return person_get(user=request_user(request), person_id=person_id, reason=reason[:200])


@router.post("", response={201: PersonRegisteredOut}, summary="Register a person")
def person_register_endpoint(
    request: HttpRequest, payload: PersonRegisterIn
) -> Status[dict[str, Any]]:
    """Register a person in your country's registry. A record flagged child or trafficking
    victim is registered but not returned to roles that may not read it."""
    user = request_user(request)
    if user.country is None:
        raise PermissionDeniedError()
    person = person_register(
        actor=user,
        country=user.country,
        given_names=payload.given_names,
        first_surname=payload.first_surname,
        second_surname=payload.second_surname,
        birth_year=payload.birth_year,
        birth_month=payload.birth_month,
        birth_day=payload.birth_day,
        sex=payload.sex,
        nationality=country_from_code(payload.nationality, field="nationality"),
        is_child=payload.is_child,
        is_trafficking_victim=payload.is_trafficking_victim,
        documents=[DocumentData(**document.dict()) for document in payload.documents],
        contacts=[ContactData(**contact.dict()) for contact in payload.contacts],
        reason=payload.reason,
    )
    if not permissions.can_view_person(user, person):
        return Status(201, {"id": person.pk, "restricted": True, "person": None})
    record = person_get(user=user, person_id=person.pk, reason=payload.reason)
    return Status(201, {"id": person.pk, "restricted": False, "person": record})


@router.patch(
    "/{person_id}",
    response={200: PersonDetailOut, 204: None},
    summary="Change a person's record",
)
def person_update_endpoint(
    request: HttpRequest, person_id: uuid.UUID, payload: PersonUpdateIn
) -> Status[Person | None]:
    """Change the fields sent; the audit log records which fields changed. Answers 204
    without the record when the change flagged it child or trafficking victim and your role
    may no longer read it."""
    user = request_user(request)
    person = person_get_for_change(user=user, person_id=person_id, reason=payload.reason)
    fields = payload.dict(exclude_unset=True)
    reason = fields.pop("reason", "")
    if "nationality" in fields:
        fields["nationality"] = country_from_code(fields["nationality"], field="nationality")
    person_update(actor=user, person=person, reason=reason, **fields)
    if not permissions.can_view_person(user, person):
        return Status(204, None)
    return Status(200, person_get_for_change(user=user, person_id=person_id, reason=reason))
