from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_save
from django.utils.translation import gettext_lazy as _


def _arrival_saved(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    """A return registered with consent to tracing and matching (or given that consent when
    a contingency registration is completed) is matched in the background, queued with the
    registration: linkage reads the returns app, never the other way round."""
    update_fields = kwargs.get("update_fields") or ()
    if not instance.consent_tracing or kwargs.get("raw"):
        return
    if created or "consent_tracing" in update_fields:
        from mirador.linkage.missing import match_on_commit
        from mirador.linkage.tasks import arrival_match_task

        match_on_commit(arrival_match_task, instance.pk)


def _consent_saved(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    """Consent to tracing and matching recorded later (by the protection officer, for a
    child whose consent the reception officer could not record): matched from then on."""
    from mirador.people.models import ConsentPurpose

    if not created or kwargs.get("raw") or not instance.granted:
        return
    if instance.purpose == ConsentPurpose.TRACING_MATCHING:
        from mirador.linkage.missing import match_on_commit
        from mirador.linkage.tasks import person_match_task

        match_on_commit(person_match_task, instance.person_id)


class LinkageConfig(AppConfig):
    name = "mirador.linkage"
    label = "linkage"
    verbose_name = _("Record linkage")

    def ready(self) -> None:
        post_save.connect(
            _arrival_saved, sender="returns.Arrival", dispatch_uid="linkage-arrival-matching"
        )
        post_save.connect(
            _consent_saved, sender="people.Consent", dispatch_uid="linkage-consent-matching"
        )
