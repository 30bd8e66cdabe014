"""Identity documents pages: the queue of requests of one's country (priority cases first,
filters that work with and without JavaScript), and the actions of the arrival page's
section (record a need, take a request to its next step, cancel it).

A request, arrival or person the user may not read answers 404 like one that does not exist;
roles that read no personal data get the 403 page on the queue. Every read and write goes
through documents.selectors and documents.services, which check the rules and audit.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from mirador.accounts import permissions
from mirador.accounts.models import User
from mirador.core.errors import ApplicationError, NotFoundError, PermissionDeniedError
from mirador.core.models import ReceptionCentre
from mirador.documents import selectors, services
from mirador.documents.forms import AdvanceForm, CancelForm, NeedForm, QueueFilterForm
from mirador.documents.models import KIND_CHOICES, DocumentRequest, RequestStatus
from mirador.returns.models import Arrival
from mirador.returns.selectors import arrival_get

QUEUE_PAGE_SIZE = 50
SECTION_TEMPLATE = "documents/partials/arrival_section.html"
STEP_DONE = {
    RequestStatus.REQUESTED: gettext_lazy("Marked as requested."),
    RequestStatus.ISSUED: gettext_lazy("Marked as issued."),
    RequestStatus.DELIVERED: gettext_lazy("Marked as delivered."),
}


def _signed_in(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User):  # login_required has sent anonymous visitors away
        raise PermissionDenied
    return user


def _with_permissions(user: User, rows: list[DocumentRequest]) -> list[dict[str, Any]]:
    return [
        {"row": row, "may_change": permissions.can_request_identity_document(user, row.person)}
        for row in rows
    ]


def arrival_section_context(
    *, request: HttpRequest | None, user: Any, arrival: Arrival, notice: str = "", error: str = ""
) -> dict[str, Any]:
    """What the arrival page's documents section shows (also re-rendered alone for htmx)."""
    rows = selectors.document_requests_for_arrival(user=user, arrival=arrival)
    return {
        "request": request,
        "arrival": arrival,
        "rows": _with_permissions(user, rows) if isinstance(user, User) else [],
        "may_record": permissions.can_request_identity_document(user, arrival.person),
        "kinds": KIND_CHOICES,
        "next_url": reverse("returns:arrival", args=[arrival.pk]),
        "notice": notice,
        "error": error,
    }


def _centres(user: User) -> Any:
    # Reference data: the country's centres, to filter the queue by where a need was noted.
    return ReceptionCentre.objects.filter(country_id=user.country_id, is_active=True).order_by(
        "name"
    )


@login_required
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    """Open requests by default; children and trafficking victims first, then the longest
    waiting. The filters are a GET form (they hold no personal data) that htmx submits on
    change; without JavaScript, its button does."""
    user = _signed_in(request)
    if not permissions.can_read_personal_data(user):
        raise PermissionDenied
    form = QueueFilterForm(request.GET or None, centres=_centres(user))
    result = None
    if not form.is_bound or form.is_valid():
        data = form.cleaned_data if form.is_bound else {}
        page = data.get("page") or 1
        centre = data.get("centre")
        try:
            result = selectors.document_queue(
                user=user,
                status=data.get("status") or None,
                kind=data.get("kind") or None,
                centre_id=centre.pk if centre else None,
                limit=QUEUE_PAGE_SIZE,
                offset=(page - 1) * QUEUE_PAGE_SIZE,
            )
        except PermissionDeniedError:
            raise PermissionDenied from None
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "queue": result,
        "rows": _with_permissions(user, result.rows) if result else [],
        "counts": [(RequestStatus(value).label, count) for value, count in result.counts.items()]
        if result
        else [],
        "page_number": (result.offset // QUEUE_PAGE_SIZE + 1) if result else 1,
        "filter_query": query.urlencode(),
        "next_url": request.get_full_path(),
    }
    template = (
        "documents/partials/queue_results.html"
        if getattr(request, "htmx", False)
        else "documents/queue.html"
    )
    return render(request, template, context)


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("documents:queue")


def _section_arrival(request: HttpRequest, user: User) -> Arrival | None:
    """The arrival whose section an htmx request came from, to render it again."""
    if not getattr(request, "htmx", False) or not request.POST.get("arrival"):
        return None
    try:
        return arrival_get(user=user, arrival_id=request.POST["arrival"], audit=False)
    except NotFoundError:
        return None


def _answer(request: HttpRequest, user: User, *, notice: str = "", error: str = "") -> HttpResponse:
    """The section again for htmx; otherwise back where the form was, with a message."""
    arrival = _section_arrival(request, user)
    if arrival is not None:
        context = arrival_section_context(
            request=request, user=user, arrival=arrival, notice=notice, error=error
        )
        return render(request, SECTION_TEMPLATE, context)
    if error:
        messages.error(request, error)
    elif notice:
        messages.success(request, notice)
    return redirect(_next_url(request))


def _error_text(error: ApplicationError) -> str:
    fields = error.details.get("fields")
    if isinstance(fields, dict) and fields:
        return " ".join(str(message) for values in fields.values() for message in values)
    return error.message


@login_required
@require_POST
def need_add(request: HttpRequest, arrival_id: uuid.UUID) -> HttpResponse:
    user = _signed_in(request)
    try:
        arrival = arrival_get(user=user, arrival_id=arrival_id, audit=False)
    except NotFoundError:
        raise Http404 from None
    form = NeedForm(request.POST)
    if not form.is_valid():
        return _answer(request, user, error=_("Choose the document the person needs."))
    try:
        row, created = services.document_need_record(
            actor=user,
            person=arrival.person,
            kind=form.cleaned_data["kind"],
            arrival=arrival,
            note=form.cleaned_data["note"],
        )
    except (NotFoundError, PermissionDeniedError):
        raise Http404 from None
    except ApplicationError as error:
        return _answer(request, user, error=_error_text(error))
    label = row.get_kind_display()
    if created:
        notice = _("Recorded: the person needs a %(document)s.") % {"document": label}
    else:
        notice = _("A request for a %(document)s is already open.") % {"document": label}
    return _answer(request, user, notice=notice)


def _request_for_change(user: User, request_id: uuid.UUID) -> DocumentRequest:
    try:
        return selectors.document_request_get(user=user, request_id=request_id, audit=False)
    except NotFoundError:
        raise Http404 from None


@login_required
@require_POST
def request_advance(request: HttpRequest, request_id: uuid.UUID) -> HttpResponse:
    user = _signed_in(request)
    row = _request_for_change(user, request_id)
    form = AdvanceForm(request.POST)
    if not form.is_valid():
        return _answer(request, user, error=_error_text_form(form))
    data = form.cleaned_data
    # Only the fields the form showed are changed; the others stay as they are.
    texts = {
        name: data[name] if name in request.POST else None
        for name in ("issuing_authority", "delivery_place")
    }
    try:
        services.document_request_advance(
            actor=user,
            document_request=row,
            to_status=data["status"],
            document_number=data["document_number"] or "",
            **texts,
        )
    except NotFoundError:
        raise Http404 from None
    except PermissionDeniedError:
        raise PermissionDenied from None
    except ApplicationError as error:
        return _answer(request, user, error=_error_text(error))
    return _answer(request, user, notice=str(STEP_DONE[RequestStatus(data["status"])]))


def _error_text_form(form: AdvanceForm | CancelForm) -> str:
    return " ".join(str(message) for values in form.errors.values() for message in values)


@login_required
@require_POST
def request_cancel(request: HttpRequest, request_id: uuid.UUID) -> HttpResponse:
    user = _signed_in(request)
    row = _request_for_change(user, request_id)
    form = CancelForm(request.POST)
    if not form.is_valid():
        return _answer(request, user, error=_("Say why the request is cancelled."))
    try:
        services.document_request_cancel(
            actor=user, document_request=row, reason=form.cleaned_data["reason"]
        )
    except NotFoundError:
        raise Http404 from None
    except PermissionDeniedError:
        raise PermissionDenied from None
    except ApplicationError as error:
        return _answer(request, user, error=_error_text(error))
    return _answer(request, user, notice=_("The request was cancelled."))
