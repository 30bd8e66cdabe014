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


class RunKind(models.TextChoices):
    DEDUPE = "dedupe", _("Deduplication within one file")
    PAIRS = "pairs", _("Linkage between two files")


class RunStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class LinkageRun(BaseModel):
    """One linkage run started through the API, done by a background task. The files (inputs
    and results) are kept under DATA_DIR/linkage/<run id>/, never in the database; the run
    holds their names and SHA-256 digests, the options, the progress and the counts.
    `created_by` is who started it."""

    kind = models.CharField(_("kind"), max_length=10, choices=RunKind.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED
    )
    inputs = models.JSONField(
        _("input files"), default=list, help_text=_("Name, size and SHA-256 of each file.")
    )
    model_name = models.CharField(_("model name"), max_length=100, blank=True)
    model_version = models.PositiveIntegerField(_("model version"), null=True, blank=True)
    threshold = models.FloatField(_("threshold"))
    stage = models.CharField(_("stage"), max_length=40, blank=True)
    progress = models.FloatField(_("progress"), default=0.0)
    rows_read = models.PositiveIntegerField(_("rows read"), default=0)
    rows_skipped = models.PositiveIntegerField(_("rows skipped"), default=0)
    skipped_reasons = models.JSONField(_("reasons rows were skipped"), default=dict, blank=True)
    pairs = models.PositiveIntegerField(_("pairs"), null=True, blank=True)
    clusters = models.PositiveIntegerField(_("clusters"), null=True, blank=True)
    message = models.TextField(_("message"), blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("linkage run")
        verbose_name_plural = _("linkage runs")
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"{self.kind} {self.pk}"
