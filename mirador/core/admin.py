"""The Django admin holds reference data only: countries, subdivisions, organisation types,
organisations, reception centres and consulates. Persons and the audit log are never registered
here; who may enter is decided by `accounts.permissions.can_use_admin`.

Countries, subdivisions and organisation types come from ISO 3166 (pycountry) and
`core.reference_data`, which `mirador load_reference_data` reapplies, so the admin shows them
read-only. Organisations, reception centres and consulates are loaded once from core/data/*.csv
and maintained here.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Model
from django.forms import ModelForm
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from mirador.accounts import permissions
from mirador.core.models import (
    BaseModel,
    Consulate,
    Country,
    Organisation,
    OrganisationType,
    ReceptionCentre,
    Subdivision,
)

SUBDIVISION_OF_ANOTHER_COUNTRY = _("This subdivision belongs to another country.")


def _admin_site_has_permission(request: HttpRequest) -> bool:
    return permissions.can_use_admin(request.user)


# Django's default lets in any active staff member; Mirador's permission module decides instead.
admin.site.has_permission = _admin_site_has_permission  # type: ignore[method-assign]
admin.site.site_header = _("Mirador reference data")
admin.site.site_title = _("Mirador reference data")


class ReferenceDataAdmin(admin.ModelAdmin):
    """Rows maintained in the admin; every permission asks the permission module."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return permissions.can_use_admin(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return permissions.can_use_admin(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return permissions.can_use_admin(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return permissions.can_use_admin(request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        # Rows others point at are protected by the database (on_delete=PROTECT).
        return permissions.can_use_admin(request.user)

    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm, change: bool) -> None:
        if isinstance(obj, BaseModel):
            if not change:
                obj.created_by = request.user  # type: ignore[assignment]
            obj.modified_by = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)


class StandardReferenceAdmin(ReferenceDataAdmin):
    """Rows owned by a standard or by code (reapplied by `load_reference_data`): view only."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


AUDIT_FIELDS = ("created_at", "created_by", "modified_at", "modified_by")


@admin.register(Country)
class CountryAdmin(StandardReferenceAdmin):
    list_display = ("alpha2", "name_en", "name_es", "alpha3", "numeric", "rcm_status")
    list_filter = ("rcm_status",)
    search_fields = ("alpha2", "alpha3", "numeric", "name_en", "name_es")


@admin.register(Subdivision)
class SubdivisionAdmin(StandardReferenceAdmin):
    list_display = ("code", "name_en", "name_es", "category", "country", "parent")
    list_filter = (("country", admin.RelatedOnlyFieldListFilter), "category")
    list_select_related = ("country", "parent")
    search_fields = ("code", "name_en", "name_es")


@admin.register(OrganisationType)
class OrganisationTypeAdmin(StandardReferenceAdmin):
    list_display = ("code", "name_en", "name_es")
    search_fields = ("code", "name_en", "name_es")


@admin.register(Organisation)
class OrganisationAdmin(ReferenceDataAdmin):
    list_display = ("name", "acronym", "kind", "country", "website")
    list_filter = ("kind", ("country", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("kind", "country")
    search_fields = ("name", "acronym", "country__name_en", "country__name_es")
    autocomplete_fields = ("country",)
    readonly_fields = AUDIT_FIELDS


class ReceptionCentreForm(forms.ModelForm):
    class Meta:
        model = ReceptionCentre
        fields = (
            "name",
            "country",
            "subdivision",
            "city",
            "kind",
            "operator",
            "daily_capacity",
            "capacity_is_illustrative",
            "is_active",
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        country, subdivision = cleaned.get("country"), cleaned.get("subdivision")
        if country and subdivision and subdivision.country_id != country.pk:
            self.add_error("subdivision", SUBDIVISION_OF_ANOTHER_COUNTRY)
        return cleaned


@admin.register(ReceptionCentre)
class ReceptionCentreAdmin(ReferenceDataAdmin):
    form = ReceptionCentreForm
    list_display = (
        "name",
        "country",
        "subdivision",
        "city",
        "kind",
        "operator",
        "daily_capacity",
        "capacity_is_illustrative",
        "is_active",
    )
    list_filter = (
        "kind",
        "is_active",
        "capacity_is_illustrative",
        ("country", admin.RelatedOnlyFieldListFilter),
    )
    list_select_related = ("country", "subdivision", "operator")
    search_fields = ("name", "city", "subdivision__name_en", "subdivision__name_es")
    autocomplete_fields = ("country", "subdivision", "operator")
    readonly_fields = AUDIT_FIELDS


class ConsulateForm(forms.ModelForm):
    class Meta:
        model = Consulate
        fields = (
            "sending_country",
            "host_country",
            "city",
            "host_subdivision",
            "is_embassy_section",
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        host, subdivision = cleaned.get("host_country"), cleaned.get("host_subdivision")
        if host and subdivision and subdivision.country_id != host.pk:
            self.add_error("host_subdivision", SUBDIVISION_OF_ANOTHER_COUNTRY)
        if host and host == cleaned.get("sending_country"):
            self.add_error("host_country", _("A consulate is in another country than its own."))
        return cleaned


@admin.register(Consulate)
class ConsulateAdmin(ReferenceDataAdmin):
    form = ConsulateForm
    list_display = (
        "sending_country",
        "host_country",
        "city",
        "host_subdivision",
        "is_embassy_section",
    )
    list_filter = (
        "is_embassy_section",
        ("sending_country", admin.RelatedOnlyFieldListFilter),
        ("host_country", admin.RelatedOnlyFieldListFilter),
    )
    list_select_related = ("sending_country", "host_country", "host_subdivision")
    search_fields = (
        "city",
        "sending_country__name_en",
        "sending_country__name_es",
        "host_country__name_en",
        "host_country__name_es",
    )
    autocomplete_fields = ("sending_country", "host_country", "host_subdivision")
    readonly_fields = AUDIT_FIELDS
