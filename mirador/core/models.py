"""Reference data shared by every app, the common base model, and the audit log."""

from __future__ import annotations

import datetime
import uuid
import zoneinfo
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class BaseModel(models.Model):
    """UUID key, creation and modification times, and who made them."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    modified_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    modified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        abstract = True


class BilingualNameMixin(models.Model):
    """Reference rows named in both of Mirador's languages; `name` follows the active one."""

    name_en = models.CharField(_("name (English)"), max_length=200)
    name_es = models.CharField(_("name (Spanish)"), max_length=200)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.name_es if (get_language() or "es").startswith("es") else self.name_en


class RcmStatus(models.TextChoices):
    MEMBER = "member", _("Member state")
    OBSERVER = "observer", _("Observer state")


class Country(BilingualNameMixin):
    """A country of ISO 3166-1; RCM membership is data, not code."""

    alpha2 = models.CharField(_("ISO alpha-2 code"), max_length=2, primary_key=True)
    alpha3 = models.CharField(_("ISO alpha-3 code"), max_length=3, unique=True)
    numeric = models.CharField(_("ISO numeric code"), max_length=3, unique=True)
    rcm_status = models.CharField(
        _("RCM status"), max_length=10, choices=RcmStatus.choices, blank=True, default=""
    )

    class Meta:
        ordering = ["name_en"]
        verbose_name = _("country")
        verbose_name_plural = _("countries")


class Subdivision(BilingualNameMixin):
    """An ISO 3166-2 subdivision (department, state, province) of a country."""

    code = models.CharField(_("ISO 3166-2 code"), max_length=6, primary_key=True)
    country = models.ForeignKey(Country, on_delete=models.PROTECT, related_name="subdivisions")
    category = models.CharField(_("category"), max_length=80)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )

    class Meta:
        ordering = ["country_id", "name_en"]
        verbose_name = _("subdivision")
        verbose_name_plural = _("subdivisions")


class OrganisationType(BilingualNameMixin):
    """Government, civil society, international organisation, private sector, academia."""

    code = models.SlugField(max_length=40, primary_key=True)

    GOVERNMENT = "government"
    CIVIL_SOCIETY = "civil-society"
    INTERNATIONAL = "international-organisation"
    PRIVATE_SECTOR = "private-sector"
    ACADEMIA = "academia"

    class Meta:
        ordering = ["code"]
        verbose_name = _("organisation type")
        verbose_name_plural = _("organisation types")


class Organisation(BaseModel):
    name = models.CharField(_("name"), max_length=200)
    acronym = models.CharField(_("acronym"), max_length=30, blank=True)
    kind = models.ForeignKey(OrganisationType, on_delete=models.PROTECT, related_name="+")
    country = models.ForeignKey(
        Country,
        on_delete=models.PROTECT,
        related_name="organisations",
        help_text=_("Country where it works; empty for regional or international bodies."),
        null=True,
        blank=True,
    )
    website = models.URLField(_("website"), blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        constraints = [
            models.UniqueConstraint(fields=["name", "country"], name="organisation_unique_name")
        ]

    def __str__(self) -> str:
        return self.acronym or self.name

    @property
    def is_government(self) -> bool:
        return self.kind_id == OrganisationType.GOVERNMENT


class ReceptionCentreKind(models.TextChoices):
    AIRPORT = "airport", _("Airport")
    LAND_BORDER = "land-border", _("Land border")
    SEAPORT = "seaport", _("Seaport")


@lru_cache(maxsize=64)
def time_zone_named(name: str) -> zoneinfo.ZoneInfo:
    """The IANA time zone `name` (ZoneInfoNotFoundError, a KeyError, if there is none)."""
    return zoneinfo.ZoneInfo(name)


def validate_time_zone(value: str) -> None:
    try:
        time_zone_named(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            _("Not an IANA time zone, such as America/Tegucigalpa."), code="invalid"
        ) from None


class ReceptionCentre(BaseModel):
    """A centre's days (its capacity, arrivals, expected passengers and intake figures) are
    calendar days in its own time zone; times are stored in UTC."""

    name = models.CharField(_("name"), max_length=200)
    country = models.ForeignKey(Country, on_delete=models.PROTECT, related_name="reception_centres")
    subdivision = models.ForeignKey(Subdivision, on_delete=models.PROTECT, related_name="+")
    city = models.CharField(_("city"), max_length=120)
    kind = models.CharField(_("kind"), max_length=20, choices=ReceptionCentreKind.choices)
    operator = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    daily_capacity = models.PositiveIntegerField(_("daily capacity"))
    capacity_is_illustrative = models.BooleanField(
        _("capacity is illustrative"),
        default=True,
        help_text=_("True until the operating authority confirms the figure."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        default="UTC",
        validators=[validate_time_zone],
        help_text=_(
            "IANA time zone of the centre, e.g. America/Tegucigalpa: its days are counted in it."
        ),
    )

    class Meta:
        ordering = ["country_id", "name"]
        verbose_name = _("reception centre")
        verbose_name_plural = _("reception centres")
        constraints = [
            models.UniqueConstraint(fields=["country", "name"], name="reception_centre_unique_name")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return time_zone_named(self.time_zone)

    def today(self) -> datetime.date:
        """The calendar day it is now at the centre."""
        return timezone.localdate(timezone=self.zone)

    def day_of(self, moment: datetime.datetime) -> datetime.date:
        """The centre's calendar day of `moment` (an aware time)."""
        return timezone.localtime(moment, timezone=self.zone).date()

    def day_bounds(self, day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
        """When the centre's calendar day `day` starts and the next one starts, as aware
        times (23 or 25 hours apart on a daylight-saving change)."""
        start = datetime.datetime.combine(day, datetime.time.min, tzinfo=self.zone)
        end = datetime.datetime.combine(
            day + datetime.timedelta(days=1), datetime.time.min, tzinfo=self.zone
        )
        return start, end


class Consulate(BaseModel):
    """A consular office of `sending_country` in `host_country`."""

    sending_country = models.ForeignKey(
        Country, on_delete=models.PROTECT, related_name="consulates"
    )
    host_country = models.ForeignKey(Country, on_delete=models.PROTECT, related_name="+")
    city = models.CharField(_("city"), max_length=120)
    host_subdivision = models.ForeignKey(
        Subdivision, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    is_embassy_section = models.BooleanField(_("consular section of an embassy"), default=False)

    class Meta:
        ordering = ["sending_country_id", "host_country_id", "city"]
        verbose_name = _("consulate")
        verbose_name_plural = _("consulates")
        constraints = [
            models.UniqueConstraint(
                fields=["sending_country", "host_country", "city"], name="consulate_unique_place"
            )
        ]

    def __str__(self) -> str:
        return f"{self.sending_country_id} – {self.city} ({self.host_country_id})"


class AuditAction(models.TextChoices):
    READ = "read", _("Read")
    LIST = "list", _("List")
    CREATE = "create", _("Create")
    UPDATE = "update", _("Change")
    DELETE = "delete", _("Delete")
    EXPORT = "export", _("Export")
    DENIED = "denied", _("Access denied")
    SHARE = "share", _("Share")


class AuditEntry(models.Model):
    """One access to personal data. Append-only: the model refuses changes and the database
    refuses UPDATE and DELETE (triggers in the migration)."""

    id = models.BigAutoField(primary_key=True)
    at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    actor_username = models.CharField(_("who"), max_length=150)
    action = models.CharField(_("action"), max_length=10, choices=AuditAction.choices)
    object_type = models.CharField(_("record type"), max_length=60, db_index=True)
    object_id = models.CharField(_("record"), max_length=64, blank=True, db_index=True)
    reason = models.CharField(_("why"), max_length=200, blank=True)
    ip_address = models.GenericIPAddressField(_("from address"), null=True, blank=True)
    channel = models.CharField(_("channel"), max_length=20, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_username} {self.action} {self.object_type}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise RuntimeError("Audit entries are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise RuntimeError("Audit entries are append-only.")
