"""Accounts in the admin: administrators create users and give each a role, a country and an
organisation, which decide what they see (accounts.permissions). Entry is decided by
`permissions.can_use_admin`, like every other admin page; only a superuser may grant superuser
or staff status, so an administrator cannot raise their own powers."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.db.models import Model
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from mirador.accounts import permissions
from mirador.accounts.models import User

# Mirador's access comes from roles, not from Django's groups and model permissions.
admin.site.unregister(Group)

SUPERUSER_ONLY_FIELDS = ("is_superuser", "is_staff", "groups", "user_permissions")


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "role", "country", "organisation", "is_active", "is_demo")
    list_filter = ("role", "is_active", "is_demo", ("country", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("country", "organisation")
    search_fields = ("username", "first_name", "last_name", "email")
    autocomplete_fields = ("country", "organisation")
    readonly_fields = ("last_login", "date_joined", "is_demo")
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Scope"), {"fields": ("role", "country", "organisation")}),
        (
            _("Personal info"),
            {"fields": ("first_name", "last_name", "email", "preferred_language")},
        ),
        (_("Status"), {"fields": ("is_active", "is_staff", "is_superuser", "is_demo")}),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "username",
                    "password1",
                    "password2",
                    "role",
                    "country",
                    "organisation",
                    "preferred_language",
                ),
            },
        ),
    )

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> Any:
        fields = tuple(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields += SUPERUSER_ONLY_FIELDS
        return fields

    def has_module_permission(self, request: HttpRequest) -> bool:
        return permissions.can_use_admin(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return permissions.can_use_admin(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return permissions.can_use_admin(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        if isinstance(obj, User) and obj.is_superuser and not request.user.is_superuser:
            return False
        return permissions.can_use_admin(request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self.has_change_permission(request, obj)
