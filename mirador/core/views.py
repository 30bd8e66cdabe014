from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from ninja.openapi.docs import Swagger

from mirador.accounts import permissions
from mirador.core.models import AuditAction
from mirador.core.selectors import audit_entries_filtered


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "core/home.html")


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return JsonResponse({"status": "unavailable", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


def api_docs(request: HttpRequest) -> HttpResponse:
    """Swagger UI for /api/v1/openapi.json, served from django-ninja's bundled files (no CDN)."""
    from mirador.api import api

    return Swagger().render_page(request, api)


# The audit log page, for administrators --------------------------------------------------

AUDIT_PAGE_SIZE = 50


class AuditFilterForm(forms.Form):
    actor_username = forms.CharField(label=_("User"), required=False, max_length=150)
    action = forms.ChoiceField(
        label=_("Action"), required=False, choices=[("", _("Any"))] + AuditAction.choices
    )
    object_type = forms.CharField(
        label=_("Record type"),
        required=False,
        max_length=60,
        widget=forms.TextInput(attrs={"placeholder": "people.Person"}),
    )
    object_id = forms.CharField(label=_("Record"), required=False, max_length=64)
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        date_from, date_to = cleaned.get("date_from"), cleaned.get("date_to")
        if date_from and date_to and date_from > date_to:
            self.add_error("date_to", _("The end date is before the start date."))
        return cleaned


@login_required
def audit_list(request: HttpRequest) -> HttpResponse:
    """Lists and filters the audit log; an htmx request gets only the results."""
    if not permissions.can_view_audit_log(request.user):
        raise PermissionDenied
    form = AuditFilterForm(request.GET)
    form.is_valid()  # Filters that do not validate are left out and shown with their error.
    entries = audit_entries_filtered(**form.cleaned_data)
    page = Paginator(entries, AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    template = "core/partials/audit_table.html" if getattr(request, "htmx", False) else None
    return render(request, template or "core/audit_list.html", {"form": form, "page": page})
