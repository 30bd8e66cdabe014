"""Users with a role, a country and an organisation; API tokens."""

from __future__ import annotations

import uuid

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMINISTRATOR = "administrator", _("Administrator")
    REGIONAL_ANALYST = "regional-analyst", _("Regional analyst")
    NATIONAL_ANALYST = "national-analyst", _("National analyst")
    RECEPTION_OFFICER = "reception-officer", _("Reception officer")
    CASEWORKER = "caseworker", _("Caseworker")
    CONSULAR_OFFICER = "consular-officer", _("Consular officer")
    PROTECTION_OFFICER = "protection-officer", _("Protection officer")
    EMPLOYER = "employer", _("Employer")


class User(AbstractUser):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    role = models.CharField(_("role"), max_length=30, choices=Role.choices)
    country = models.ForeignKey(
        "core.Country",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The country whose records this user works with."),
    )
    organisation = models.ForeignKey(
        "core.Organisation", on_delete=models.PROTECT, null=True, blank=True, related_name="members"
    )
    preferred_language = models.CharField(
        _("language"), max_length=5, choices=[("es", "Español"), ("en", "English")], default="es"
    )
    is_demo = models.BooleanField(
        _("demo account"),
        default=False,
        help_text=_("Created by `mirador demo`; production refuses to start while one exists."),
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")


class ApiToken(models.Model):
    """A bearer token for programs. Only a hash of the token is stored."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8, help_text=_("First characters, to tell tokens apart."))
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()
