"""Linking person records within and across registries and countries: the Splink-based engine
(`engine.py`), its saved models, and (later) privacy-preserving encodings and the review queue.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from mirador.core.models import BaseModel


class LinkageModel(BaseModel):
    """One trained version of a named linkage model: Splink's JSON settings (comparisons,
    blocking rules, m and u probabilities), what it was trained on and how it scored. A run
    names the model and version it used; a new training of the same name is a new version."""

    name = models.SlugField(_("name"), max_length=100)
    version = models.PositiveIntegerField(_("version"))
    settings = models.JSONField(_("Splink settings"))
    engine_version = models.PositiveSmallIntegerField(_("engine version"), default=1)
    training_data = models.TextField(
        _("training data"),
        blank=True,
        help_text=_("What the model was trained on: file, number of records, date (no names)."),
    )
    metrics = models.JSONField(_("metrics"), default=dict, blank=True)

    class Meta:
        verbose_name = _("linkage model")
        verbose_name_plural = _("linkage models")
        ordering = ("name", "-version")
        constraints = [
            models.UniqueConstraint(fields=("name", "version"), name="linkage_model_name_version")
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"
