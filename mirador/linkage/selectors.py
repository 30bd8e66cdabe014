"""Reads of the linkage app: saved models (they hold no personal data)."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from mirador.core.errors import NotFoundError
from mirador.linkage.models import LinkageModel

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
