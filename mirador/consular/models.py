"""Consular protection: the cases a country's consulates open for its nationals abroad (held,
facing removal, in hospital, dead, a child alone, a victim of crime or of trafficking, in need
of a document...) and the log of what the consulate did on each.

A case's person is a `people.Person` of the registry of the consulate's country, registered
or reused through people.services, so the registry's identity rules, documents, consent and
access rules apply: a child's or a trafficking victim's case is read only by those who may
read that person (accounts.permissions.persons_visible_filter). Read and written through
consular.selectors and consular.services, which audit.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from mirador.core.models import BaseModel


class CaseType(models.TextChoices):
    DETENTION = "detention", _("Detention")
    REMOVAL = "removal", _("Deportation or removal proceedings")
    HOSPITALISATION = "hospitalisation", _("Hospitalisation")
    DEATH = "death", _("Death")
    MISSING_RELATIVE = "missing-relative", _("Enquiry about a missing relative")
    DOCUMENTS = "documents", _("Document issuance or identification")
    UNACCOMPANIED_CHILD = "unaccompanied-child", _("Unaccompanied child")
    CRIME_VICTIM = "crime-victim", _("Victim of crime")
    TRAFFICKING = "trafficking", _("Victim of trafficking")
    OTHER = "other", pgettext_lazy("consular case type", "Other")


class CaseStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("consular case", "Open")
    IN_PROGRESS = "in-progress", _("In progress")
    REFERRED = "referred", _("Referred")
    CLOSED = "closed", pgettext_lazy("consular case", "Closed")


class CaseOutcome(models.TextChoices):
    ASSISTED = "assisted", _("Assistance given")
    RELEASED = "released", _("Released")
    RETURNED = "returned", _("Returned to the home country")
    REMAINS_REPATRIATED = "remains-repatriated", _("Remains repatriated")
    DOCUMENT_ISSUED = "document-issued", _("Document issued")
    LOCATED = "located", _("Person located")
    TRANSFERRED = "transferred", _("Taken over by another institution")
    DECLINED = "declined", _("Assistance declined")
    LOST_CONTACT = "lost-contact", _("Contact lost")
    OTHER = "other", pgettext_lazy("consular case outcome", "Other")


class ActionKind(models.TextChoices):
    VISIT = "visit", _("Visit")
    CALL = "call", _("Call")
    INTERVIEW = "interview", _("Interview")
    DOCUMENT_REQUESTED = "document-requested", _("Document requested")
    DOCUMENT_ISSUED = "document-issued", _("Document issued")
    LEGAL_ASSISTANCE = "legal-assistance", _("Legal assistance")
    FAMILY_CONTACTED = "family-contacted", _("Family contacted")
    AUTHORITIES_CONTACTED = "authorities-contacted", _("Authorities contacted")
    REFERRAL = "referral", _("Referral made")
    STATUS = "status", _("Status changed")
    OTHER = "other", pgettext_lazy("consular action", "Other")


class ConsularCaseQuerySet(models.QuerySet["ConsularCase"]):
    def open(self) -> ConsularCaseQuerySet:
        return self.exclude(status=CaseStatus.CLOSED)


class ConsularCase(BaseModel):
    """One national assisted by one of their country's consulates. `created_by` opened it;
    `responsible` follows it (told of nothing automatically: match alerts go to the
    missing-person report's officer)."""

    consulate = models.ForeignKey(
        "core.Consulate", on_delete=models.PROTECT, related_name="+", verbose_name=_("consulate")
    )
    person = models.ForeignKey(
        "people.Person",
        on_delete=models.PROTECT,
        related_name="consular_cases",
        verbose_name=_("person"),
    )
    case_type = models.CharField(_("case type"), max_length=20, choices=CaseType)
    status = models.CharField(
        _("status"), max_length=12, choices=CaseStatus, default=CaseStatus.OPEN
    )
    outcome = models.CharField(_("outcome"), max_length=20, choices=CaseOutcome, blank=True)
    outcome_note = models.CharField(_("outcome note"), max_length=500, blank=True)
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    opened_on = models.DateField(_("opened on"))
    place_country = models.ForeignKey(
        "core.Country", on_delete=models.PROTECT, related_name="+", verbose_name=_("country")
    )
    locality = models.CharField(
        _("locality"),
        max_length=200,
        blank=True,
        help_text=_("Town, detention centre, hospital: where the person is."),
    )
    description = models.TextField(_("description"), blank=True)
    responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("responsible officer"),
    )

    objects = ConsularCaseQuerySet.as_manager()

    class Meta:
        verbose_name = _("consular case")
        verbose_name_plural = _("consular cases")
        ordering = ("-opened_on", "-created_at")
        indexes = [
            models.Index(fields=["consulate", "status"], name="consular_case_consulate_status"),
            models.Index(fields=["status", "case_type"], name="consular_case_status_type"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(status="closed") & ~models.Q(outcome=""))
                | (~models.Q(status="closed") & models.Q(outcome="")),
                name="consular_case_outcome_when_closed",
            )
        ]

    def __str__(self) -> str:
        return f"{self.opened_on:%Y-%m-%d} {self.get_case_type_display()} {self.pk}"


class CaseAction(BaseModel):
    """One dated step the consulate took on a case (`created_by` took it). A status change
    is logged here too, as kind "status" with the status it set."""

    case = models.ForeignKey(ConsularCase, on_delete=models.CASCADE, related_name="actions")
    kind = models.CharField(_("action"), max_length=25, choices=ActionKind)
    taken_on = models.DateField(_("date"))
    note = models.TextField(_("note"), blank=True)
    status = models.CharField(_("status set"), max_length=12, choices=CaseStatus, blank=True)

    class Meta:
        verbose_name = _("consular case action")
        verbose_name_plural = _("consular case actions")
        ordering = ("-taken_on", "-created_at")

    def __str__(self) -> str:
        return f"{self.taken_on:%Y-%m-%d} {self.kind}"
