"""Identification pages: the review queue (accept or reject pairs, with htmx and from the
keyboard), missing-person reports and unidentified persons, and the match alerts. Thin: each
view validates, calls one service or selector of review.py or missing.py, renders.

Roles that review nothing get the 403 page; a pair, report or record outside the user's scope
gets 404, like one that does not exist.
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
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from mirador.accounts import permissions
from mirador.accounts.models import User
from mirador.core.errors import (
    ApplicationError,
    NotFoundError,
    PermissionDeniedError,
    ValidationFailedError,
)
from mirador.linkage import missing, review
from mirador.linkage.forms import DecisionForm, MissingReportForm, UnidentifiedForm
from mirador.linkage.models import ReviewSource, ReviewStatus
from mirador.people.models import DocumentKind
from mirador.people.services import DocumentData

STATUS_TABS = (
    (ReviewStatus.PENDING, ReviewStatus.PENDING.label),
    (ReviewStatus.ACCEPTED, ReviewStatus.ACCEPTED.label),
    (ReviewStatus.REJECTED, ReviewStatus.REJECTED.label),
)


def _signed_in(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User):  # login_required has sent anonymous visitors away
        raise PermissionDenied
    return user


def _int(value: str | None, default: int) -> int:
    try:
        return int(value or default)
    except ValueError:
        return default


@login_required
@require_GET
def review_queue(request: HttpRequest) -> HttpResponse:
    user = _signed_in(request)
    status = request.GET.get("status") or ReviewStatus.PENDING
    source = request.GET.get("source") or None
    try:
        page = review.review_queue(
            user=user,
            status=status,
            source=source,
            offset=_int(request.GET.get("offset"), 0),
        )
        alerts = (
            missing.match_alerts_for(user=user)
            if permissions.can_trace_missing_persons(user)
            else []
        )
    except PermissionDeniedError:
        raise PermissionDenied from None
    except ValidationFailedError:
        return redirect("linkage:queue")
    return render(
        request,
        "linkage/review_queue.html",
        {
            "page": page,
            "status": status,
            "source": source or "",
            "tabs": STATUS_TABS,
            "sources": ReviewSource.choices,
            "alerts": alerts,
            "next_offset": (
                page.offset + page.limit if page.offset + page.limit < page.total else None
            ),
            "previous_offset": max(0, page.offset - page.limit) if page.offset else None,
            "may_trace": permissions.can_trace_missing_persons(user),
        },
    )


def _pair_or_404(user: User, pair_id: uuid.UUID) -> Any:
    try:
        return review.review_pair_get(user=user, pair_id=pair_id)
    except PermissionDeniedError:
        raise PermissionDenied from None
    except NotFoundError:
        raise Http404 from None


def _after_decision(request: HttpRequest, user: User, pair: Any, error: str = "") -> HttpResponse:
    view = review.review_pair_view(user=user, pair=pair)
    if getattr(request, "htmx", False):
        return render(request, "linkage/partials/review_pair.html", {"item": view, "error": error})
    if error:
        messages.error(request, error)
    return redirect(f"{reverse('linkage:queue')}#pair-{pair.pk}")


@login_required
@require_POST
def pair_decide(request: HttpRequest, pair_id: uuid.UUID) -> HttpResponse:
    user = _signed_in(request)
    pair = _pair_or_404(user, pair_id)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        return _after_decision(request, user, pair, str(review.UNKNOWN_DECISION))
    try:
        pair = review.review_pair_decide(
            actor=user,
            pair=pair,
            decision=form.cleaned_data["decision"],
            note=form.cleaned_data["note"],
        )
    except ApplicationError as error:
        return _after_decision(request, user, pair, error.message)
    return _after_decision(request, user, pair)


@login_required
@require_POST
def pair_reopen(request: HttpRequest, pair_id: uuid.UUID) -> HttpResponse:
    user = _signed_in(request)
    pair = _pair_or_404(user, pair_id)
    try:
        pair = review.review_pair_reopen(
            actor=user, pair=pair, note=request.POST.get("note", "")[:300]
        )
    except ApplicationError as error:
        return _after_decision(request, user, pair, error.message)
    return _after_decision(request, user, pair)


@login_required
@require_POST
def alert_take(request: HttpRequest, alert_id: uuid.UUID) -> HttpResponse:
    user = _signed_in(request)
    try:
        missing.match_alert_take(actor=user, alert_id=alert_id)
    except PermissionDeniedError:
        raise PermissionDenied from None
    except NotFoundError:
        raise Http404 from None
    messages.success(request, _("You took the alert in charge."))
    return redirect("linkage:queue")


# --- Missing persons ------------------------------------------------------------------------


def _tracer(request: HttpRequest) -> User:
    user = _signed_in(request)
    if not permissions.can_trace_missing_persons(user):
        raise PermissionDenied
    return user


def _add_errors(form: Any, error: ApplicationError) -> None:
    fields = error.details.get("fields")
    if isinstance(fields, dict) and fields:
        for name, field_messages in fields.items():
            target = name if name in form.fields else None
            for message in field_messages:
                form.add_error(target, message)
    else:
        form.add_error(None, error.message)


@login_required
@require_GET
def report_list(request: HttpRequest) -> HttpResponse:
    user = _tracer(request)
    reports = missing.missing_reports_list(user=user)
    return render(request, "linkage/report_list.html", {"reports": reports})


@login_required
@require_http_methods(["GET", "POST"])
def report_new(request: HttpRequest) -> HttpResponse:
    user = _tracer(request)
    form = MissingReportForm(request.POST or None, country_id=user.country_id)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        nationality = data.pop("nationality")
        document = data.pop("document_number")
        consulate = data.pop("consulate")
        seen_in = data.pop("last_seen_country")
        documents = []
        if document and nationality:
            documents.append(
                DocumentData(
                    kind=DocumentKind.PASSPORT, number=document, issuing_country=nationality.pk
                )
            )
        try:
            report = missing.missing_report_file(
                actor=user,
                nationality=nationality.pk if nationality else None,
                documents=documents,
                consulate_id=consulate.pk if consulate else None,
                last_seen_country=seen_in.pk if seen_in else None,
                **data,
            )
        except ApplicationError as error:
            _add_errors(form, error)
        else:
            if permissions.can_view_person(user, report.person):
                messages.success(
                    request,
                    _(
                        "The report was filed; new returns and unidentified persons are "
                        "matched against it."
                    ),
                )
                return redirect("linkage:report", report_id=report.pk)
            messages.success(
                request,
                _(
                    "The report was filed. The missing person is a child, so only protection "
                    "officers can open it; they are told of any match."
                ),
            )
            return redirect("linkage:reports")
    return render(request, "linkage/report_form.html", {"form": form})


@login_required
@require_GET
def report_detail(request: HttpRequest, report_id: uuid.UUID) -> HttpResponse:
    user = _tracer(request)
    try:
        report = missing.missing_report_get(user=user, report_id=report_id)
    except NotFoundError:
        raise Http404 from None
    pairs = []
    if permissions.can_review_linkage(user):
        visible = review.review_pairs_visible_to(user=user).filter(report=report)
        pairs = review._pair_views(user=user, pairs=list(visible.order_by("-match_probability")))
    return render(
        request,
        "linkage/report_detail.html",
        {"report": report, "person": report.person, "pairs": pairs},
    )


@login_required
@require_GET
def unidentified_list(request: HttpRequest) -> HttpResponse:
    user = _tracer(request)
    return render(
        request,
        "linkage/unidentified_list.html",
        {"records": missing.unidentified_list(user=user)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def unidentified_new(request: HttpRequest) -> HttpResponse:
    user = _tracer(request)
    form = UnidentifiedForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            record = missing.unidentified_record(actor=user, **form.cleaned_data)
        except ApplicationError as error:
            _add_errors(form, error)
        else:
            messages.success(
                request, _("The record was saved; it is matched against the open reports.")
            )
            if record.is_child and not permissions.can_read_sensitive_records(user):
                return redirect("linkage:unidentified_list")
            return redirect("linkage:unidentified", record_id=record.pk)
    return render(request, "linkage/unidentified_form.html", {"form": form})


@login_required
@require_GET
def unidentified_detail(request: HttpRequest, record_id: uuid.UUID) -> HttpResponse:
    user = _tracer(request)
    try:
        record = missing.unidentified_get(user=user, record_id=record_id)
    except NotFoundError:
        raise Http404 from None
    return render(
        request,
        "linkage/unidentified_detail.html",
        {"record": record, "links": review.same_person_links(user=user, record=record)},
    )
