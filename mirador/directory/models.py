"""The directory of service providers and their services, public without sign-in, and referrals
from a person's case to a service, which the provider accepts, declines or completes.

Providers and services hold no personal data. A referral points to a person: it is read and
written only through this app's selectors and services, which ask `accounts.permissions`
and audit.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from mirador.core.models import BaseModel


def _in_language(spanish: str, english: str) -> str:
    """The text in the active language, falling back to the other when it is empty."""
    if (get_language() or "es").startswith("es"):
        return spanish or english
    return english or spanish


class ProviderSector(models.TextChoices):
    PUBLIC = "public", _("Public")
    CIVIL_SOCIETY = "civil-society", _("Civil society")
    INTERNATIONAL = "international", _("International organisation")
    PRIVATE = "private", _("Private sector")


class ServiceCategory(models.TextChoices):
    HEALTH = "health", _("Health")
    PSYCHOSOCIAL = "psychosocial", _("Psychosocial care")
    SHELTER = "shelter", _("Shelter")
    TRANSPORT_HOME = "transport-home", _("Transport home")
    LEGAL_AID = "legal-aid", _("Legal aid")
    IDENTITY_DOCUMENTS = "identity-documents", _("Identity documents")
    EMPLOYMENT = "employment", _("Employment")
    TRAINING = "training", _("Job training")
    EDUCATION = "education", _("Education")
    CREDIT = "credit", _("Credit")
    HOUSING = "housing", _("Housing")


class Provider(BaseModel):
    """An institution or organisation offering services to returnees."""

    name = models.CharField(_("name"), max_length=200)
    acronym = models.CharField(_("acronym"), max_length=30, blank=True)
    sector = models.CharField(_("sector"), max_length=20, choices=ProviderSector.choices)
    country = models.ForeignKey("core.Country", on_delete=models.PROTECT, related_name="+")
    # Whose staff answer referrals in Mirador; empty when the provider has no users.
    organisation = models.ForeignKey(
        "core.Organisation",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="providers",
        verbose_name=_("organisation answering referrals"),
    )
    phone = models.CharField(_("telephone"), max_length=60, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    website = models.URLField(_("website"), blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    description_es = models.TextField(_("description (Spanish)"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    is_illustrative = models.BooleanField(
        _("illustrative"),
        default=False,
        help_text=_("A demo entry: the kind of provider is real, the details are not confirmed."),
    )

    class Meta:
        ordering = ["country_id", "name"]
        verbose_name = _("provider")
        verbose_name_plural = _("providers")
        constraints = [
            models.UniqueConstraint(fields=["country", "name"], name="provider_unique_name")
        ]

    def __str__(self) -> str:
        return self.acronym or self.name

    @property
    def description(self) -> str:
        return _in_language(self.description_es, self.description_en)


class Service(BaseModel):
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="services")
    category = models.CharField(_("category"), max_length=20, choices=ServiceCategory.choices)
    name_es = models.CharField(_("name (Spanish)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)
    description_es = models.TextField(_("description (Spanish)"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    # The departments (states, provinces) served; none means the whole country.
    subdivisions = models.ManyToManyField(
        "core.Subdivision", blank=True, related_name="+", verbose_name=_("coverage")
    )
    eligibility_es = models.TextField(_("eligibility (Spanish)"), blank=True)
    eligibility_en = models.TextField(_("eligibility (English)"), blank=True)
    # Language codes, comma-separated ("es,en,cab"): ISO 639 where one exists, free otherwise
    # (Garifuna, Miskito and Mayan languages are served by some providers).
    languages = models.CharField(_("languages served"), max_length=200, default="es")
    contact = models.CharField(_("contact"), max_length=300, blank=True)
    opening_hours = models.CharField(_("opening hours"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["category", "name_es"]
        verbose_name = _("service")
        verbose_name_plural = _("services")
        constraints = [
            models.UniqueConstraint(fields=["provider", "name_es"], name="service_unique_name")
        ]
        indexes = [models.Index(fields=["category", "is_active"], name="service_category")]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return _in_language(self.name_es, self.name_en)

    @property
    def description(self) -> str:
        return _in_language(self.description_es, self.description_en)

    @property
    def eligibility(self) -> str:
        return _in_language(self.eligibility_es, self.eligibility_en)

    @property
    def language_codes(self) -> list[str]:
        return [code for code in self.languages.split(",") if code]


class ReferralStatus(models.TextChoices):
    SENT = "sent", _("Sent")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", pgettext_lazy("referral", "Cancelled")


# A referral the provider still has to act on.
OPEN_STATUSES = (ReferralStatus.SENT, ReferralStatus.ACCEPTED)


class Referral(BaseModel):
    """A person's case sent to a service, with a date by which the provider should act."""

    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    # The return at which the referral was made, if it was made at reception.
    arrival = models.ForeignKey(
        "returns.Arrival", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="referrals")
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    sender_organisation = models.ForeignKey(
        "core.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    due_date = models.DateField(_("due date"))
    note = models.TextField(_("note"), blank=True, max_length=2000)
    status = models.CharField(
        _("status"), max_length=10, choices=ReferralStatus.choices, default=ReferralStatus.SENT
    )
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    decline_reason = models.CharField(_("reason for declining"), max_length=500, blank=True)
    completion_note = models.CharField(_("completion note"), max_length=500, blank=True)
    consent_to_share = models.BooleanField(
        _("the person consents to share their record with the provider"), default=False
    )

    class Meta:
        ordering = ["due_date", "created_at"]
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        indexes = [
            models.Index(
                fields=["sender_organisation", "status", "due_date"], name="referral_sent"
            ),
            models.Index(fields=["service", "status"], name="referral_received"),
            models.Index(fields=["arrival", "created_at"], name="referral_arrival"),
        ]
        constraints = [
            # One open referral of a person to a service: a double submission gets the open
            # one back (directory.services.referral_create).
            models.UniqueConstraint(
                fields=["person", "service"],
                condition=models.Q(status__in=["sent", "accepted"]),
                name="referral_one_open_per_service",
            ),
            models.CheckConstraint(
                condition=models.Q(consent_to_share=True), name="referral_consent_required"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service_id} {self.due_date} {self.status}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_overdue(self) -> bool:
        """Past its due date and still waiting for the provider."""
        return self.is_open and self.due_date < timezone.localdate()
