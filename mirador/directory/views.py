"""Directory pages: the public directory of services (no sign-in), the referrals a case
user's organisation sent and received, the provider's answers, and a referral made from an
arrival's page (the section itself is rendered by templatetags/directory_sections.py).

A referral or arrival the user may not read answers 404 like one that does not exist. Every
read and write goes through directory.selectors and directory.services.
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
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from mirador.accounts import permissions
from mirador.accounts.models import User
from mirador.core.errors import ApplicationError, NotFoundError
from mirador.core.models import Country, Subdivision
from mirador.directory import selectors, services
from mirador.directory.forms import (
    CompleteForm,
    DeclineForm,
    DirectoryFilterForm,
    ReferralForm,
    language_name,
)
from mirador.directory.models import Provider, Referral, Service
from mirador.returns.models import Arrival, AssistanceKind
from mirador.returns.selectors import arrival_get

SERVICES_PER_PAGE = 50
REFERRALS_PER_PAGE = 50


def _signed_in(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User):  # login_required has sent anonymous visitors away
        raise PermissionDenied
    return user


def _page(request: HttpRequest) -> int:
    try:
        return max(1, int(request.GET.get("page", "1")))
    except ValueError:
        return 1


# --- the public directory ---------------------------------------------------------------------


def _directory_choices() -> dict[str, Any]:
    """Countries, departments and languages that the active services have."""
    providers = Provider.objects.filter(is_active=True)
    country_codes = set(providers.values_list("country_id", flat=True))
    services = Service.objects.filter(is_active=True, provider__is_active=True)
    languages: list[str] = []
    for value in services.values_list("languages", flat=True).distinct():
        for code in value.split(","):
            if code and code not in languages:
                languages.append(code)
    return {
        "countries": Country.objects.filter(pk__in=country_codes).order_by("name_es"),
        "subdivisions": Subdivision.objects.filter(country_id__in=country_codes)
        .select_related("country")
        .order_by("country_id", "name_es"),
        "languages": sorted(languages, key=lambda code: (code not in ("es", "en"), code)),
    }


@require_GET
def directory_index(request: HttpRequest) -> HttpResponse:
    """The public directory: services with their provider, contact, coverage, eligibility and
    languages, filtered by kind, country, department, language and words. With htmx only the
    results are swapped; without JavaScript the Search button submits the same form."""
    form = DirectoryFilterForm(request.GET or None, **_directory_choices())
    filters: dict[str, str] = {}
    if form.is_bound and form.is_valid():
        filters = {name: value for name, value in form.cleaned_data.items() if value}
    page = _page(request)
    offset = (page - 1) * SERVICES_PER_PAGE
    found = list(
        selectors.directory_services(
            category=filters.get("category"),
            country=filters.get("country"),
            subdivision=filters.get("subdivision"),
            language=filters.get("language"),
            text=filters.get("q"),
        )[offset : offset + SERVICES_PER_PAGE + 1]
    )
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "services": [
            {"service": s, "languages": [language_name(c) for c in s.language_codes]}
            for s in found[:SERVICES_PER_PAGE]
        ],
        "page": page,
        "has_next_page": len(found) > SERVICES_PER_PAGE,
        "query": query.urlencode(),
    }
    template = (
        "directory/partials/service_results.html"
        if getattr(request, "htmx", False)
        else "directory/directory.html"
    )
    return render(request, template, context)


# --- referrals --------------------------------------------------------------------------------


@login_required
@require_GET
def referral_list(request: HttpRequest) -> HttpResponse:
    """The referrals the user's organisation sent (overdue ones marked and counted) or
    received (to accept, decline with a reason, or complete)."""
    user = _signed_in(request)
    if permissions.case_user(user) is None or user.organisation_id is None:
        raise PermissionDenied
    box = request.GET.get("box", selectors.SENT)
    if box not in selectors.BOXES:
        box = selectors.SENT
    overdue = request.GET.get("overdue") == "1"
    page = _page(request)
    offset = (page - 1) * REFERRALS_PER_PAGE
    rows = list(
        selectors.referrals_list(user=user, box=box, overdue=overdue)[
            offset : offset + REFERRALS_PER_PAGE + 1
        ]
    )
    return render(
        request,
        "directory/referral_list.html",
        {
            "box": box,
            "overdue": overdue,
            "referrals": rows[:REFERRALS_PER_PAGE],
            "counts": selectors.referral_counts(user=user),
            "page": page,
            "has_next_page": len(rows) > REFERRALS_PER_PAGE,
            "may_answer": box == selectors.RECEIVED,
            "decline_form": DeclineForm(auto_id=False),
            "complete_form": CompleteForm(auto_id=False),
        },
    )


def _referral(user: User, referral_id: uuid.UUID) -> Referral:
    try:
        return selectors.referral_get(user=user, referral_id=referral_id)
    except NotFoundError:
        raise Http404 from None


def _back_to_list(request: HttpRequest, box: str) -> HttpResponse:
    return redirect(reverse("directory:referrals") + f"?box={box}")


@login_required
@require_POST
def referral_answer(request: HttpRequest, referral_id: uuid.UUID, action: str) -> HttpResponse:
    """Accept, decline (with a reason) or complete a referral received; cancel one sent."""
    user = _signed_in(request)
    referral = _referral(user, referral_id)
    box = selectors.SENT if action == "cancel" else selectors.RECEIVED
    try:
        if action == "accept":
            services.referral_accept(actor=user, referral=referral)
            done = _("Accepted: %(service)s.")
        elif action == "decline":
            decline = DeclineForm(request.POST)
            if not decline.is_valid():
                messages.error(request, _("Say why the referral is declined."))
                return _back_to_list(request, box)
            services.referral_decline(
                actor=user, referral=referral, reason=decline.cleaned_data["reason"]
            )
            done = _("Declined: %(service)s.")
        elif action == "complete":
            complete = CompleteForm(request.POST)
            note = complete.cleaned_data["note"] if complete.is_valid() else ""
            services.referral_complete(actor=user, referral=referral, note=note)
            done = _("Completed: %(service)s.")
        elif action == "cancel":
            services.referral_cancel(actor=user, referral=referral)
            done = _("Cancelled: %(service)s.")
        else:
            raise Http404
    except NotFoundError:
        raise Http404 from None
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, done % {"service": referral.service.name})
    return _back_to_list(request, box)


# --- a referral from an arrival -----------------------------------------------------------------


def referral_form_for(arrival: Arrival, data: Any = None) -> ReferralForm:
    return ReferralForm(
        data, services=selectors.services_for_referral(country_id=arrival.centre.country_id)
    )


@login_required
@require_POST
def referral_new(request: HttpRequest, arrival_id: uuid.UUID) -> HttpResponse:
    """Refer the person of an arrival to a service; back to the arrival's page with a
    confirmation, or the page again with the form's errors."""
    user = _signed_in(request)
    try:
        arrival = arrival_get(user=user, arrival_id=arrival_id, audit=False)
    except NotFoundError:
        raise Http404 from None
    if not permissions.can_refer_person(user, arrival.person):
        raise Http404
    form = referral_form_for(arrival, request.POST)
    if form.is_valid():
        service = form.chosen_service()
        try:
            referral = services.referral_create(
                actor=user,
                person=arrival.person,
                service=service,
                arrival=arrival,
                due_date=form.cleaned_data["due_date"],
                note=form.cleaned_data["note"],
                consent_to_share=form.cleaned_data["consent_to_share"],
            )
        except NotFoundError:
            raise Http404 from None
        except ApplicationError as error:
            fields = error.details.get("fields")
            if isinstance(fields, dict) and fields:
                for field, field_messages in fields.items():
                    for message in field_messages:
                        form.add_error(field if field in form.fields else None, message)
            else:
                form.add_error(None, error.message)
        else:
            messages.success(
                request,
                _("Referred to %(service)s (%(provider)s), due %(date)s.")
                % {
                    "service": service.name,
                    "provider": service.provider,
                    "date": date_format(referral.due_date, "DATE_FORMAT"),
                },
            )
            return redirect(reverse("returns:arrival", args=[arrival.pk]) + "#referrals")
    return render(
        request,
        "returns/arrival_detail.html",
        {
            "arrival": arrival,
            "assistance_kinds": AssistanceKind.choices,
            "day": timezone.localtime(arrival.arrived_at).date(),
            "referral_form": form,
        },
    )
