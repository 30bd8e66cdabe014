"""Reads of the linkage app: saved models (they hold no personal data) and linkage runs (their
names, options and counts; the files stay on disk)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from mirador.accounts import permissions
from mirador.core.errors import NotFoundError, PermissionDeniedError
from mirador.linkage.models import LinkageModel, LinkageRun

if TYPE_CHECKING:
    from mirador.accounts.models import User

MODEL_NOT_FOUND = _("There is no linkage model named “%(name)s”.")
MODEL_VERSION_NOT_FOUND = _("There is no version %(version)s of the linkage model “%(name)s”.")


def linkage_models() -> QuerySet[LinkageModel]:
    return LinkageModel.objects.order_by("name", "-version")


def linkage_model_get(*, name: str, version: int | None = None) -> LinkageModel:
    """The model of that name: the given version, or the latest."""
    models = LinkageModel.objects.filter(name=name)
    if version is not None:
        models = models.filter(version=version)
    found = models.order_by("-version").first()
    if found is None:
        if version is None:
            raise NotFoundError(str(MODEL_NOT_FOUND) % {"name": name})
        raise NotFoundError(str(MODEL_VERSION_NOT_FOUND) % {"name": name, "version": version})
    return found


def linkage_runs_of(*, actor: User) -> QuerySet[LinkageRun]:
    """The runs `actor` started, latest first."""
    if not permissions.can_run_linkage(actor):
        raise PermissionDeniedError()
    return LinkageRun.objects.filter(created_by=actor).order_by("-created_at")


def linkage_run_get(*, actor: User, run_id: uuid.UUID) -> LinkageRun:
    """A run `actor` started; NotFoundError for anyone else's, as for one that does not exist."""
    run = linkage_runs_of(actor=actor).filter(pk=run_id).first()
    if run is None:
        raise NotFoundError()
    return run
