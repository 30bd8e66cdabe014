"""Screening pages: the arrival page's screening section (the questionnaire as a compact form,
then the flags with their required actions) and the open flags at the user's centres, with
closing a flag.

An arrival or flag the user may not see answers 404, like one that does not exist. Every read
and write goes through screening.selectors and screening.services (and returns.selectors for
the arrival), which check the permission rules and audit.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from mirador.accounts import permissions
from mirador.accounts.models import User
from mirador.core.errors import ApplicationError, NotFoundError, PermissionDeniedError
from mirador.returns import selectors as returns_selectors
from mirador.returns.models import Arrival
from mirador.screening import selectors, services
from mirador.screening.forms import answers_from_post, form_questions
from mirador.screening.models import FlagStatus
from mirador.screening.questionnaire import NONE_LABEL, NOT_ASKED_LABEL, FlagKind, Urgency

SECTION_TEMPLATE = "screening/partials/arrival_section.html"
FILTERS = ("centre", "kind", "urgency")


def _signed_in(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User):  # login_required has sent anonymous visitors away
        raise PermissionDenied
    return user


def section_context(
    request: HttpRequest,
    arrival: Arrival,
    *,
    answers: dict[str, Any] | None = None,
    errors: dict[str, list[str]] | None = None,
    message: str = "",
) -> dict[str, Any]:
    """What the arrival page's screening section shows (used by the inclusion tag and by
    the save view, which re-renders it for htmx or with errors)."""
    user = getattr(request, "user", None)
    may_screen = permissions.can_screen_arrival(
        user, centre_country_id=arrival.centre.country_id, person=arrival.person
    )
    context: dict[str, Any] = {"request": request, "arrival": arrival, "may_screen": may_screen}
    if not may_screen:
        return context
    found = selectors.arrival_screening_of(user=user, arrival=arrival)
    stored = found.screening.answers if found.screening else None
    context.update(
        {
            "screening": found.screening,
            "open_flags": found.open_flags,
            "done_flags": [flag for flag in found.flags if flag.status == FlagStatus.DONE],
            "has_urgent": found.has_urgent,
            "questions": form_questions(answers if answers is not None else stored, errors),
            "errors": errors or {},
            "message": message,
            "not_asked_label": NOT_ASKED_LABEL,
            "none_label": NONE_LABEL,
        }
    )
    return context


def _arrival(user: User, arrival_id: uuid.UUID) -> Arrival:
    try:
        return returns_selectors.arrival_get(user=user, arrival_id=arrival_id, audit=False)
    except NotFoundError:
        raise Http404 from None


@login_required
@require_POST
def screening_save(request: HttpRequest, arrival_id: uuid.UUID) -> HttpResponse:
    """Save the arrival's screening; back to the arrival page with the flags (htmx: the
    section alone). A record that became restricted to protection roles is not shown
    again: the officer gets the confirmation that the case went to protection."""
    user = _signed_in(request)
    arrival = _arrival(user, arrival_id)
    answers = answers_from_post(request.POST)
    try:
        result = services.screening_record(actor=user, arrival=arrival, answers=answers)
    except (NotFoundError, PermissionDeniedError):
        raise Http404 from None
    except ApplicationError as error:
        fields = error.details.get("fields")
        errors = fields if isinstance(fields, dict) else {}
        context = section_context(
            request, arrival, answers=answers, errors=errors, message=error.message
        )
        if getattr(request, "htmx", False):
            # htmx swaps only successful responses: the section with its errors is one.
            return HttpResponse(render_to_string(SECTION_TEMPLATE, context, request))
        return render(request, "screening/screening_form.html", context, status=422)
    if result.restricted_from_actor:
        messages.success(request, result.message)
        target = reverse("returns:centre", args=[arrival.centre_id])
        if getattr(request, "htmx", False):
            return HttpResponse(status=204, headers={"HX-Redirect": target})
        return redirect(target)
    if getattr(request, "htmx", False):
        context = section_context(request, arrival, message=result.message)
        return HttpResponse(render_to_string(SECTION_TEMPLATE, context, request))
    messages.success(request, result.message)
    return redirect(reverse("returns:arrival", args=[arrival.pk]) + "#screening")


def _filters(data: Any) -> dict[str, str]:
    return {name: data.get(name, "") for name in FILTERS if data.get(name, "")}


@login_required
@require_GET
def flag_list(request: HttpRequest) -> HttpResponse:
    """Open flags at the centres the user works at, most urgent first; filter by centre,
    kind and urgency."""
    user = _signed_in(request)
    centres = list(returns_selectors.centres_worked_by(user=user).order_by("name"))
    chosen = _filters(request.GET)
    centre = next((c for c in centres if str(c.pk) == chosen.get("centre")), None)
    kind = chosen.get("kind") if chosen.get("kind") in FlagKind.values else None
    urgency = chosen.get("urgency") if chosen.get("urgency") in Urgency.values else None
    flags = selectors.open_flags(user=user, centre=centre, kind=kind, urgency=urgency)
    return render(
        request,
        "screening/flag_list.html",
        {
            "flags": flags,
            "centres": centres,
            "kinds": FlagKind.choices,
            "urgencies": Urgency.choices,
            "chosen": chosen,
            "query": urlencode(chosen),
            "today": timezone.localdate(),
        },
    )


@login_required
@require_POST
def flag_close(request: HttpRequest, flag_id: uuid.UUID) -> HttpResponse:
    """Close a flag with a note; back to the arrival page or the list of open flags."""
    user = _signed_in(request)
    try:
        flag = selectors.flag_get(user=user, flag_id=flag_id)
        services.risk_flag_close(actor=user, flag=flag, note=request.POST.get("note", ""))
    except (NotFoundError, PermissionDeniedError):
        raise Http404 from None
    except ApplicationError as error:
        fields = error.details.get("fields")
        problems = (
            [str(m) for messages_ in fields.values() for m in messages_]
            if isinstance(fields, dict)
            else [error.message]
        )
        for problem in problems:
            messages.error(request, problem)
    else:
        messages.success(request, _("Done: %(action)s") % {"action": flag.action_text})
    if request.POST.get("back") == "arrival":
        return redirect(reverse("returns:arrival", args=[flag.arrival_id]) + "#screening")
    query = urlencode(_filters(request.POST))
    return redirect(reverse("screening:flags") + (f"?{query}" if query else ""))
