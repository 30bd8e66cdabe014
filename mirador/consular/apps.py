from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_save
from django.utils.translation import gettext_lazy as _


def _consent_saved(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    """Consent to tracing and matching recorded later for the person of an open case (a
    child's, recorded by the protection officer): the person is matched from then on."""
    from mirador.people.models import ConsentPurpose

    if not created or kwargs.get("raw") or not instance.granted:
        return
    if instance.purpose != ConsentPurpose.TRACING_MATCHING:
        return
    from mirador.consular.models import ConsularCase

    if ConsularCase.objects.open().filter(person_id=instance.person_id).exists():
        from mirador.consular.tasks import consular_person_match_task
        from mirador.linkage.missing import match_on_commit

        match_on_commit(consular_person_match_task, instance.person_id)


class ConsularConfig(AppConfig):
    name = "mirador.consular"
    label = "consular"
    verbose_name = _("Consular protection")

    def ready(self) -> None:
        # The persons of open cases are one of the sources missing-person reports are
        # matched against (linkage.missing.SOURCES).
        from mirador.consular import matching  # noqa: F401

        post_save.connect(
            _consent_saved, sender="people.Consent", dispatch_uid="consular-consent-matching"
        )
