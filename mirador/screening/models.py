"""Screening of returnees for vulnerability at reception: health, psychosocial state, protection
risks (threats, violence, trafficking indicators), disability, pregnancy and special needs.
Each answer that signals a risk raises a flag with a required action.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from mirador.core.models import BaseModel
from mirador.screening.questionnaire import FlagKind, Urgency, action_text


class Screening(BaseModel):
    """The answers given at an arrival's screening, keyed by question code (see
    `questionnaire`). One per arrival: a second screening replaces the answers, and the audit
    log keeps which questions changed and which flags were raised and closed."""

    arrival = models.OneToOneField(
        "returns.Arrival", on_delete=models.CASCADE, related_name="screening"
    )
    answers = models.JSONField(_("answers"), default=dict)
    screened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    screened_at = models.DateTimeField(_("screened at"))

    class Meta:
        verbose_name = _("screening")
        verbose_name_plural = _("screenings")

    def __str__(self) -> str:
        return f"{self.arrival_id} {self.screened_at:%Y-%m-%d %H:%M}"


class FlagStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")


class RiskFlag(BaseModel):
    """A risk a screening answer signalled, and the action it requires. Restricted flags
    (about a minor, or trafficking indicators) are for protection roles only
    (accounts.permissions.screening_flags_visible_filter)."""

    arrival = models.ForeignKey(
        "returns.Arrival", on_delete=models.CASCADE, related_name="risk_flags"
    )
    screening = models.ForeignKey(Screening, on_delete=models.CASCADE, related_name="flags")
    question = models.CharField(_("question"), max_length=40)
    kind = models.CharField(_("kind"), max_length=15, choices=FlagKind.choices)
    urgency = models.CharField(_("urgency"), max_length=10, choices=Urgency.choices)
    action = models.CharField(_("required action"), max_length=40)
    is_restricted = models.BooleanField(_("restricted to protection roles"), default=False)
    status = models.CharField(
        _("status"), max_length=5, choices=FlagStatus.choices, default=FlagStatus.OPEN
    )
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    # Closed because a later screening's answers no longer signal the risk (not because the
    # action was carried out); the same risk signalled again raises a new flag.
    no_longer_applies = models.BooleanField(_("no longer applies"), default=False)

    class Meta:
        ordering = ["created_at"]
        verbose_name = _("risk flag")
        verbose_name_plural = _("risk flags")
        indexes = [
            models.Index(fields=["arrival", "status"], name="risk_flag_arrival_status"),
            models.Index(fields=["status", "created_at"], name="risk_flag_status_time"),
        ]

    def __str__(self) -> str:
        return f"{self.arrival_id} {self.kind} {self.action}"

    @property
    def action_text(self) -> str:
        return action_text(self.action)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.question, self.action, self.urgency)
