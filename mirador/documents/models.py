"""Identity documents a returnee needs (birth certificate, national identity card, passport):
needed, requested from the civil registry, issued, delivered; children and trafficking
victims first.

Read and written only through this app's selectors and services, which ask
`accounts.permissions` and write the audit log. The person's identity stays in
`people.Person`; a request only points to it.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from mirador.core.models import BaseModel
from mirador.people.models import DocumentKind

# The documents a civil registry issues to a returnee: a subset of people.DocumentKind, so
# that a delivered one is the same kind as the person's identity documents.
REQUESTABLE_KINDS: tuple[DocumentKind, ...] = (
    DocumentKind.BIRTH_CERTIFICATE,
    DocumentKind.NATIONAL_ID,
    DocumentKind.PASSPORT,
)
KIND_CHOICES = [(kind.value, kind.label) for kind in REQUESTABLE_KINDS]


class RequestStatus(models.TextChoices):
    NEEDED = "needed", pgettext_lazy("document request", "Needed")
    REQUESTED = "requested", pgettext_lazy("document request", "Requested")
    ISSUED = "issued", pgettext_lazy("document request", "Issued")
    DELIVERED = "delivered", pgettext_lazy("document request", "Delivered")
    CANCELLED = "cancelled", pgettext_lazy("document request", "Cancelled")


OPEN_STATUSES: tuple[str, ...] = (
    RequestStatus.NEEDED,
    RequestStatus.REQUESTED,
    RequestStatus.ISSUED,
)
# The one step each open status may advance to; cancelling is apart.
NEXT_STATUS: dict[str, str] = {
    RequestStatus.NEEDED: RequestStatus.REQUESTED,
    RequestStatus.REQUESTED: RequestStatus.ISSUED,
    RequestStatus.ISSUED: RequestStatus.DELIVERED,
}


class Priority(models.IntegerChoices):
    """Lower comes first in the queue."""

    FIRST = 1, _("Child or trafficking victim")
    NORMAL = 2, _("Normal")


class DocumentRequest(BaseModel):
    """One document one person needs, from the need noted at reception to its delivery.
    Each step keeps when it happened and who recorded it."""

    # Part of the person's record: it goes when the record is deleted, like their documents.
    person = models.ForeignKey(
        "people.Person", on_delete=models.CASCADE, related_name="document_requests"
    )
    # The return at which the need was noted; empty when noted elsewhere (a consulate).
    arrival = models.ForeignKey(
        "returns.Arrival",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="document_requests",
    )
    kind = models.CharField(_("document"), max_length=20, choices=KIND_CHOICES)
    status = models.CharField(
        _("status"), max_length=10, choices=RequestStatus.choices, default=RequestStatus.NEEDED
    )
    priority = models.PositiveSmallIntegerField(
        _("priority"), choices=Priority.choices, default=Priority.NORMAL
    )
    needed_at = models.DateTimeField(_("need noted at"))
    needed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField(_("requested at"), null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    issued_at = models.DateTimeField(_("issued at"), null=True, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    delivered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    cancel_reason = models.CharField(_("reason for cancelling"), max_length=200, blank=True)
    # Free text: the civil registry's office (in Honduras the Registro Nacional de las
    # Personas) and where the document is handed over (the centre, a municipal office).
    issuing_authority = models.CharField(_("issuing authority"), max_length=200, blank=True)
    delivery_place = models.CharField(_("delivery place"), max_length=200, blank=True)
    note = models.TextField(_("note"), max_length=1000, blank=True)
    # The number of the delivered document. people.services has no way yet to add an identity
    # document to an existing person, so the number is kept here.
    document_number = models.CharField(_("document number"), max_length=60, blank=True)

    class Meta:
        ordering = ["priority", "needed_at", "id"]
        verbose_name = _("document request")
        verbose_name_plural = _("document requests")
        indexes = [
            models.Index(fields=["status", "priority", "needed_at"], name="docrequest_queue"),
            models.Index(fields=["person", "status"], name="docrequest_person_status"),
        ]
        constraints = [
            # One open request per person and document: a second need of the same kind is
            # the same request.
            models.UniqueConstraint(
                fields=["person", "kind"],
                condition=models.Q(status__in=OPEN_STATUSES),
                name="docrequest_one_open_per_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.status}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_priority(self) -> bool:
        return self.priority == Priority.FIRST

    @property
    def next_status(self) -> str | None:
        return NEXT_STATUS.get(self.status)

    @property
    def next_status_label(self) -> str:
        following = self.next_status
        return str(RequestStatus(following).label) if following else ""

    @property
    def closed_at(self) -> datetime.datetime | None:
        return self.delivered_at or self.cancelled_at

    def days_waited(self, now: datetime.datetime | None = None) -> int:
        """Whole days from the need to its delivery or cancellation, or to now while open."""
        end = self.closed_at or now or timezone.now()
        return max(0, (end - self.needed_at).days)

    @property
    def days_waiting(self) -> int:
        return self.days_waited()
