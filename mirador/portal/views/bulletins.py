"""The monthly bulletins, public: /observatory/bulletins/ lists the published editions by
month with their PDFs in Spanish and English (earlier editions of a month kept below the
latest), and /observatory/bulletins/<id>.pdf downloads one.

Administrators and regional analysts (accounts.permissions.can_generate_bulletins) also see
a form on the list to have a month generated, and the editions asked for that are not
published yet (queued, being generated, or failed with the reason), refreshed while any is
under way. Everything comes from mirador.analytics.bulletins; the generation itself runs as a
background task.
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from mirador.accounts import permissions
from mirador.accounts.models import User
from mirador.analytics import bulletins
from mirador.core.errors import ApplicationError, NotFoundError

POLL_SECONDS = 3


def _member(request: HttpRequest) -> User | None:
    return permissions.active_user(request.user)


def _page(request: HttpRequest, *, status: int = 200, error: str = "") -> HttpResponse:
    user = _member(request)
    may_generate = permissions.can_generate_bulletins(user)
    in_progress = list(bulletins.editions_in_progress(actor=user))
    suggested = bulletins.latest_month_with_figures()
    context = {
        "months": bulletins.bulletin_months(),
        "may_generate": may_generate,
        "in_progress": in_progress,
        "busy": any(bulletins.is_under_way(edition) for edition in in_progress),
        "poll_seconds": POLL_SECONDS,
        "error": error,
        "month_value": request.POST.get("month", "") or (f"{suggested:%Y-%m}" if suggested else ""),
        "month_max": f"{bulletins.previous_month():%Y-%m}",
        "languages": [
            (code, name, code in request.POST.getlist("language") or not request.POST)
            for code, name in bulletins.BULLETIN_LANGUAGES
        ],
    }
    return render(request, "portal/bulletin_list.html", context, status=status)


@require_GET
def bulletin_list(request: HttpRequest) -> HttpResponse:
    return _page(request)


@login_required
@require_POST
def bulletin_generate(request: HttpRequest) -> HttpResponse:
    user = _member(request)
    if user is None or not permissions.can_generate_bulletins(user):
        raise PermissionDenied
    try:
        editions = bulletins.bulletin_request(
            actor=user,
            month=request.POST.get("month", ""),
            languages=request.POST.getlist("language"),
        )
    except ApplicationError as error:
        return _page(request, status=400, error=error.message)
    messages.success(
        request,
        _(
            "The bulletin of %(month)s is being generated; it is published on this page in a "
            "minute or so."
        )
        % {"month": bulletins.month_label(editions[0].month)},
    )
    return redirect("portal:bulletins")


@require_GET
def bulletin_download(request: HttpRequest, edition_id: uuid.UUID) -> HttpResponse:
    try:
        edition = bulletins.published_edition_get(edition_id=edition_id)
    except NotFoundError:
        raise Http404 from None
    return bulletins.pdf_response(edition)
