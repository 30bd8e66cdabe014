"""API of consular protection, mounted at /api/v1/consular/: the cases of your country's
consulates (consular and protection officers), each with its person and its actions log.
Every endpoint goes through consular.selectors and consular.services, which ask
accounts.permissions and audit. A case outside your scope answers 404, like one that does not
exist; a role that works no cases gets 403; 422 names each wrong field."""

import uuid

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate

from mirador.accounts.auth import request_user
from mirador.accounts.models import User
from mirador.consular import selectors, services
from mirador.consular.models import CaseAction, CaseStatus, CaseType, ConsularCase
from mirador.consular.schemas import (
    CaseActionIn,
    CaseActionOut,
    CaseIn,
    CaseOut,
    CaseStatusIn,
    CaseUpdateIn,
)
from mirador.core.errors import fields_error
from mirador.people.services import ContactData, DocumentData

router = Router(tags=["consular"])


class CaseFilterIn(Schema):
    status: CaseStatus | None = None
    case_type: CaseType | None = None
    consulate_id: uuid.UUID | None = None


def _detail(user: User, case_id: uuid.UUID) -> ConsularCase:
    case = selectors.case_get(user=user, case_id=case_id)
    case.actions_log = selectors.case_actions(case=case)  # type: ignore[attr-defined]
    return case


def _user_named(username: str | None) -> User | None:
    if not username:
        return None
    found = User.objects.filter(username=username, is_active=True).first()
    if found is None:
        raise fields_error({"responsible": services.RESPONSIBLE_NOT_CASE_WORKER})
    return found


@router.get("/cases", response=list[CaseOut], summary="Consular cases")
@paginate(LimitOffsetPagination)
def case_list(request: HttpRequest, filters: Query[CaseFilterIn]) -> QuerySet[ConsularCase]:
    """The cases of your country's consulates you may read, newest first, by status, type
    and consulate (`limit`, `offset`). A child's or trafficking victim's case is listed for
    protection officers only. Audited as a listing."""
    return selectors.cases_list(
        user=request_user(request),
        status=filters.status.value if filters.status else None,
        case_type=filters.case_type.value if filters.case_type else None,
        consulate_id=filters.consulate_id,
    )


@router.post("/cases", response={201: CaseOut}, summary="Open a consular case")
def case_create(request: HttpRequest, payload: CaseIn) -> Status[ConsularCase]:
    """A case at one of your country's consulates, for a person registered now (`person`)
    or already in your country's registry (`person_id`). Its person is matched against the
    open missing-person reports in the background, with their consent (docs/linkage.md)."""
    user = request_user(request)
    person, contacts = None, []
    if payload.person is not None:
        data = payload.person.dict()
        contacts = [ContactData(**contact) for contact in data.pop("contacts")]
        documents = [DocumentData(**document) for document in data.pop("documents")]
        person = services.PersonData(**data, documents=documents)
    case = services.case_open(
        actor=user,
        consulate_id=payload.consulate_id,
        case_type=payload.case_type.value,
        person=person,
        person_id=payload.person_id,
        contacts=contacts,
        opened_on=payload.opened_on,
        place_country=payload.place_country,
        locality=payload.locality,
        description=payload.description,
        responsible=_user_named(payload.responsible),
        consent_tracing=payload.consent_tracing,
    )
    if not selectors.cases_visible_to(user=user).filter(pk=case.pk).exists():
        # A child's or trafficking victim's case is for protection officers: whoever opened
        # it learns its id, not the person.
        case.hide_person = True  # type: ignore[attr-defined]
        return Status(201, case)
    return Status(201, _detail(user, case.pk))


@router.get("/cases/{case_id}", response=CaseOut, summary="A consular case")
def case_detail(request: HttpRequest, case_id: uuid.UUID) -> ConsularCase:
    return _detail(request_user(request), case_id)


@router.patch("/cases/{case_id}", response=CaseOut, summary="Change a case's details")
def case_change(request: HttpRequest, case_id: uuid.UUID, payload: CaseUpdateIn) -> ConsularCase:
    user = request_user(request)
    services.case_update(
        actor=user,
        case_id=case_id,
        locality=payload.locality,
        description=payload.description,
        place_country=payload.place_country,
        responsible=_user_named(payload.responsible),
    )
    return _detail(user, case_id)


@router.post("/cases/{case_id}/status", response=CaseOut, summary="Change a case's status")
def case_status(request: HttpRequest, case_id: uuid.UUID, payload: CaseStatusIn) -> ConsularCase:
    """open → in-progress, referred or closed; in-progress ↔ referred; either → closed, with
    its `outcome`; closed → in-progress takes it up again."""
    user = request_user(request)
    services.case_status_set(
        actor=user,
        case_id=case_id,
        status=payload.status.value,
        outcome=payload.outcome.value if payload.outcome else "",
        note=payload.note,
        on=payload.on,
    )
    return _detail(user, case_id)


@router.post(
    "/cases/{case_id}/actions", response={201: CaseActionOut}, summary="Log an action on a case"
)
def case_action_create(
    request: HttpRequest, case_id: uuid.UUID, payload: CaseActionIn
) -> Status[CaseAction]:
    action = services.case_action_add(
        actor=request_user(request),
        case_id=case_id,
        kind=payload.kind.value,
        taken_on=payload.taken_on,
        note=payload.note,
    )
    return Status(201, action)
