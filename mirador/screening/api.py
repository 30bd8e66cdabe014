"""API of screening for vulnerability, mounted at /api/v1/screening/: the questionnaire, an
arrival's screening and flags, recording a screening, the open flags at your centres, and
closing a flag.

Every endpoint goes through screening.selectors and screening.services, which ask
accounts.permissions and audit. An arrival or flag the caller may not see answers 404, like
one that does not exist; restricted flags (children, trafficking) are for protection roles.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router

from mirador.accounts.auth import request_user
from mirador.core.errors import ValidationFailedError
from mirador.returns import selectors as returns_selectors
from mirador.screening import selectors, services
from mirador.screening.models import RiskFlag
from mirador.screening.questionnaire import (
    NOT_ASKED,
    NOT_ASKED_LABEL,
    QUESTIONS,
    FlagKind,
    Urgency,
)
from mirador.screening.schemas import (
    FlagCloseIn,
    FlagListedOut,
    FlagOut,
    QuestionnaireOut,
    ScreeningIn,
    ScreeningOut,
    ScreeningRecordedOut,
)

router = Router(tags=["screening"])


@router.get("/questionnaire", response=QuestionnaireOut, summary="The screening questions")
def questionnaire(request: HttpRequest) -> dict[str, Any]:
    """The questions, their answers and the flag each risky answer raises (kind, urgency,
    required action), with labels in the request's language."""
    request_user(request)
    return {
        "not_asked": NOT_ASKED,
        "not_asked_label": str(NOT_ASKED_LABEL),
        "questions": [
            {
                "code": question.code,
                "label": str(question.label),
                "help_text": str(question.help_text),
                "multiple": question.multiple,
                "choices": [
                    {
                        "code": choice.code,
                        "label": str(choice.label),
                        "flag": (
                            {
                                "kind": choice.flag.kind,
                                "urgency": choice.flag.urgency,
                                "action": choice.flag.action.code,
                                "action_text": str(choice.flag.action.text),
                                "alerts_protection": bool(choice.flag.alert),
                            }
                            if choice.flag
                            else None
                        ),
                    }
                    for choice in question.choices
                ],
            }
            for question in QUESTIONS
        ],
        "kinds": [{"code": code, "label": str(label)} for code, label in FlagKind.choices],
        "urgencies": [{"code": code, "label": str(label)} for code, label in Urgency.choices],
    }


def _screening_out(found: selectors.ArrivalScreening) -> dict[str, Any]:
    screening = found.screening
    return {
        "arrival_id": found.arrival.pk,
        "screened": screening is not None,
        "answers": screening.answers if screening else None,
        "screened_by": (
            screening.screened_by.get_username() if screening and screening.screened_by else None
        ),
        "screened_at": screening.screened_at if screening else None,
        "flags": found.flags,
    }


@router.get(
    "/arrivals/{arrival_id}",
    response=ScreeningOut,
    summary="An arrival's screening and the flags you may see",
)
def arrival_screening(request: HttpRequest, arrival_id: uuid.UUID) -> dict[str, Any]:
    """Urgent flags first. Flags about a minor or trafficking indicators are listed for
    protection officers only."""
    found = selectors.arrival_screening(user=request_user(request), arrival_id=arrival_id)
    return _screening_out(found)


def _record(request: HttpRequest, arrival_id: uuid.UUID, payload: ScreeningIn) -> dict[str, Any]:
    user = request_user(request)
    arrival = returns_selectors.arrival_get(user=user, arrival_id=arrival_id, audit=False)
    result = services.screening_record(actor=user, arrival=arrival, answers=payload.answers)
    shown = (
        None
        if result.restricted_from_actor
        else _screening_out(selectors.arrival_screening_of(user=user, arrival=arrival))
    )
    return {
        "arrival_id": arrival.pk,
        "raised": len(result.raised),
        "closed": len(result.closed),
        "referred_to_protection": result.referred_to_protection,
        "restricted": result.restricted_from_actor,
        "message": result.message,
        "screening": shown,
    }


_RECORD_DOC = """Answers are checked against the questionnaire; every error is reported by
question code (422). Recording the same answers again raises nothing new; changed answers
close the open flags that no longer apply and raise new ones. Trafficking indicators send
the case to the protection officers: the record becomes theirs only (`restricted`)."""


@router.put(
    "/arrivals/{arrival_id}",
    response=ScreeningRecordedOut,
    summary="Record (or record again) an arrival's screening",
    description=_RECORD_DOC,
)
def arrival_screening_put(
    request: HttpRequest, arrival_id: uuid.UUID, payload: ScreeningIn
) -> dict[str, Any]:
    return _record(request, arrival_id, payload)


@router.post(
    "/arrivals/{arrival_id}",
    response=ScreeningRecordedOut,
    summary="Record an arrival's screening (same as PUT)",
    description=_RECORD_DOC,
)
def arrival_screening_post(
    request: HttpRequest, arrival_id: uuid.UUID, payload: ScreeningIn
) -> dict[str, Any]:
    return _record(request, arrival_id, payload)


@router.get("/flags", response=list[FlagListedOut], summary="Open flags at your centres")
def flag_list(
    request: HttpRequest,
    centre: uuid.UUID | None = None,
    kind: str | None = None,
    urgency: str | None = None,
) -> list[RiskFlag]:
    """Open flags at the centres you work at, most urgent first; filter by `centre`,
    `kind` and `urgency` (codes of GET /questionnaire). Restricted flags for protection
    officers only."""
    user = request_user(request)
    problems: dict[str, list[str]] = {}
    if kind and kind not in FlagKind.values:
        problems["kind"] = [_("Unknown kind of flag.")]
    if urgency and urgency not in Urgency.values:
        problems["urgency"] = [_("Unknown urgency.")]
    if problems:
        raise ValidationFailedError(details={"fields": problems})
    chosen = returns_selectors.centre_for_work(user=user, centre_id=centre) if centre else None
    return selectors.open_flags(user=user, centre=chosen, kind=kind, urgency=urgency)


@router.get("/flags/{flag_id}", response=FlagOut, summary="One flag")
def flag_detail(request: HttpRequest, flag_id: uuid.UUID) -> RiskFlag:
    return selectors.flag_get(user=request_user(request), flag_id=flag_id)


@router.post("/flags/{flag_id}/close", response=FlagOut, summary="Close a flag: action done")
def flag_close(request: HttpRequest, flag_id: uuid.UUID, payload: FlagCloseIn) -> RiskFlag:
    """The required action was carried out. A restricted flag needs a `note`."""
    user = request_user(request)
    flag = selectors.flag_get(user=user, flag_id=flag_id)
    services.risk_flag_close(actor=user, flag=flag, note=payload.note)
    return selectors.flag_get(user=user, flag_id=flag_id)
