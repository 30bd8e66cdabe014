"""Linking person records within and across registries and countries: the Splink-based engine
(`engine.py`), its saved models and runs; the review queue of candidate pairs and the
decisions that make clusters (`review.py`); missing-person reports and unidentified persons,
matched against new records (`missing.py`).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from mirador.core.models import BaseModel
from mirador.people.models import Relationship, Sex
from mirador.returns.models import AlertStatus


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
    # The registry's own records (those with consent to tracing and matching); its pairs go
    # to the review queue.
    REGISTRY = "registry", _("Deduplication of a country's registry")
    # Private linkage (privacy.py): a country encodes its records with the key of its exchange
    # agreement, held by this server; whoever matches compares two encoded files, with no key.
    ENCODE = "encode", _("Private linkage: encoding a file with the agreement's key")
    MATCH_ENCODED = "match_encoded", _("Private linkage: matching two encoded files")


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

    kind = models.CharField(_("kind"), max_length=20, choices=RunKind.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED
    )
    inputs = models.JSONField(
        _("input files"), default=list, help_text=_("Name, size and SHA-256 of each file.")
    )
    model_name = models.CharField(_("model name"), max_length=100, blank=True)
    model_version = models.PositiveIntegerField(_("model version"), null=True, blank=True)
    country = models.ForeignKey(
        "core.Country",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The registry deduplicated, for a registry run."),
    )
    threshold = models.FloatField(_("threshold"))
    stage = models.CharField(_("stage"), max_length=40, blank=True)
    progress = models.FloatField(_("progress"), default=0.0)
    rows_read = models.PositiveIntegerField(_("rows read"), default=0)
    rows_skipped = models.PositiveIntegerField(_("rows skipped"), default=0)
    skipped_reasons = models.JSONField(_("reasons rows were skipped"), default=dict, blank=True)
    pairs = models.PositiveIntegerField(_("pairs"), null=True, blank=True)
    clusters = models.PositiveIntegerField(_("clusters"), null=True, blank=True)
    message = models.TextField(_("message"), blank=True)
    summary = models.JSONField(
        _("summary"),
        default=dict,
        blank=True,
        help_text=_(
            "Figures of a private-linkage run: the key's fingerprint, records encoded, pairs "
            "of encodings compared, the model estimated. Never the key."
        ),
    )
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("linkage run")
        verbose_name_plural = _("linkage runs")
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"{self.kind} {self.pk}"


# --- Review queue, missing persons, unidentified persons (review.py, missing.py) -------------


class UnidentifiedCondition(models.TextChoices):
    ALIVE = "alive", _("Alive (held or sheltered)")
    DECEASED = "deceased", _("Deceased")


class UnidentifiedStatus(models.TextChoices):
    UNIDENTIFIED = "unidentified", _("Not identified")
    IDENTIFIED = "identified", _("Identified")
    CLOSED = "closed", _("Closed")


class UnidentifiedPerson(BaseModel):
    """A person found or held whose identity is not known: remains at a morgue or forensic
    service, someone at a shelter or hospital who cannot or will not say who they are. Holds
    whatever is known, names included where a document or a companion gave them. Seen only by
    the tracing roles of `country` (accounts.permissions.unidentified_visible_filter); read and
    written through mirador.linkage.missing, which audits."""

    country = models.ForeignKey("core.Country", on_delete=models.PROTECT, related_name="+")
    reference = models.CharField(
        _("case reference"), max_length=80, help_text=_("The holding institution's number.")
    )
    condition = models.CharField(_("condition"), max_length=10, choices=UnidentifiedCondition)
    status = models.CharField(
        _("status"),
        max_length=15,
        choices=UnidentifiedStatus,
        default=UnidentifiedStatus.UNIDENTIFIED,
    )
    found_on = models.DateField(_("found on"))
    found_place = models.CharField(_("where found"), max_length=200)
    held_at = models.CharField(_("held at"), max_length=200, blank=True)
    given_names = models.CharField(_("given names"), max_length=120, blank=True)
    first_surname = models.CharField(_("first surname"), max_length=80, blank=True)
    second_surname = models.CharField(_("second surname"), max_length=80, blank=True)
    birth_year = models.PositiveSmallIntegerField(_("year of birth"), null=True, blank=True)
    birth_month = models.PositiveSmallIntegerField(_("month of birth"), null=True, blank=True)
    birth_day = models.PositiveSmallIntegerField(_("day of birth"), null=True, blank=True)
    age_min = models.PositiveSmallIntegerField(_("estimated age, from"), null=True, blank=True)
    age_max = models.PositiveSmallIntegerField(_("estimated age, to"), null=True, blank=True)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices, default=Sex.UNKNOWN)
    document_number = models.CharField(_("document number"), max_length=60, blank=True)
    description = models.TextField(
        _("description"), blank=True, help_text=_("Clothing, belongings, marks, what was said.")
    )
    is_child = models.BooleanField(
        _("child"), default=False, help_text=_("Under 18 or may be; restricted access.")
    )

    class Meta:
        verbose_name = _("unidentified person")
        verbose_name_plural = _("unidentified persons")
        ordering = ("-found_on", "reference")
        indexes = [models.Index(fields=["country", "status"], name="unidentified_country_status")]

    def __str__(self) -> str:
        return self.reference

    @property
    def display_name(self) -> str:
        names = " ".join(
            part for part in (self.given_names, self.first_surname, self.second_surname) if part
        )
        return names or str(_("Unidentified (%(reference)s)") % {"reference": self.reference})


class MissingReportStatus(models.TextChoices):
    OPEN = "open", _("Being searched for")
    FOUND = "found", _("Found")
    CLOSED = "closed", _("Closed")


class MissingPersonReport(BaseModel):
    """A family's report that a migrant is missing, received through a consulate. The missing
    person's identity, as the family knows it, is a `people.Person` registered through
    people.services; this row holds who reported, when, where the person was last known and
    by which route, and who must be told of a match (`responsible`). The report restricts its
    person to the tracing roles (accounts.permissions)."""

    person = models.OneToOneField(
        "people.Person", on_delete=models.CASCADE, related_name="missing_person_report"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=MissingReportStatus, default=MissingReportStatus.OPEN
    )
    reported_on = models.DateField(_("reported on"))
    reporter_name = models.CharField(_("reported by"), max_length=200)
    reporter_relationship = models.CharField(
        _("relationship to the missing person"), max_length=10, choices=Relationship.choices
    )
    reporter_contact = models.CharField(_("how to reach the family"), max_length=200, blank=True)
    consulate = models.ForeignKey(
        "core.Consulate",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("received through the consulate"),
    )
    last_seen_on = models.DateField(_("last known on"), null=True, blank=True)
    last_seen_place = models.CharField(_("last known place"), max_length=200, blank=True)
    last_seen_country = models.ForeignKey(
        "core.Country",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("last known country"),
    )
    route = models.TextField(_("route"), blank=True)
    circumstances = models.TextField(_("circumstances"), blank=True)
    responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("responsible officer"),
    )

    class Meta:
        verbose_name = _("missing-person report")
        verbose_name_plural = _("missing-person reports")
        ordering = ("-reported_on", "-created_at")
        indexes = [models.Index(fields=["status"], name="missing_report_status")]

    def __str__(self) -> str:
        return f"{self.reported_on:%Y-%m-%d} {self.pk}"


class ReviewSource(models.TextChoices):
    LINKAGE_RUN = "linkage-run", _("Linkage run")
    REPEAT_RETURN = "repeat-return", _("Repeat-return search")
    MISSING_PERSON = "missing-person", _("Missing-person search")


class ReviewStatus(models.TextChoices):
    PENDING = "pending", _("To review")
    ACCEPTED = "accepted", _("Same person")
    REJECTED = "rejected", _("Not the same person")


class ReviewPair(BaseModel):
    """Two records that may be one person, with the match weight of each comparison (the
    reasons), for a reviewer to accept or reject. Each side is a registry person or an
    unidentified person (exactly one of the two keys). `pair_key` names both sides in a fixed
    order, so a pair is proposed once whatever source finds it again. Accepted pairs make the
    clusters (review.py)."""

    pair_key = models.CharField(max_length=90, unique=True)
    left_person = models.ForeignKey(
        "people.Person", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    left_unidentified = models.ForeignKey(
        UnidentifiedPerson, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    right_person = models.ForeignKey(
        "people.Person", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    right_unidentified = models.ForeignKey(
        UnidentifiedPerson, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    source = models.CharField(_("found by"), max_length=20, choices=ReviewSource)
    run = models.ForeignKey(
        LinkageRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    report = models.ForeignKey(
        MissingPersonReport,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="review_pairs",
    )
    match_probability = models.FloatField(_("match probability"))
    # None where the two records are identical in every field compared (no model needed).
    match_weight = models.FloatField(_("match weight"), null=True, blank=True)
    reasons = models.JSONField(_("reasons"), default=list, blank=True)
    model_name = models.CharField(_("model"), max_length=100, blank=True)
    model_version = models.PositiveIntegerField(_("model version"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=ReviewStatus, default=ReviewStatus.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("review pair")
        verbose_name_plural = _("review pairs")
        ordering = ("-match_probability", "created_at")
        indexes = [models.Index(fields=["status", "-match_probability"], name="review_status")]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(left_person__isnull=False, left_unidentified__isnull=True)
                    | models.Q(left_person__isnull=True, left_unidentified__isnull=False)
                )
                & (
                    models.Q(right_person__isnull=False, right_unidentified__isnull=True)
                    | models.Q(right_person__isnull=True, right_unidentified__isnull=False)
                ),
                name="review_pair_one_record_each_side",
            )
        ]

    def __str__(self) -> str:
        return self.pair_key


class MatchAlert(BaseModel):
    """A possible match for a missing-person report, raised for the report's responsible
    officer when the matching finds a pair (the pair itself waits in the review queue). The
    same life cycle as the protection alerts of mirador.returns: open, taken in charge,
    closed."""

    report = models.ForeignKey(MissingPersonReport, on_delete=models.CASCADE, related_name="alerts")
    pair = models.OneToOneField(ReviewPair, on_delete=models.CASCADE, related_name="alert")
    country = models.ForeignKey("core.Country", on_delete=models.PROTECT, related_name="+")
    responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=15, choices=AlertStatus.choices, default=AlertStatus.OPEN
    )
    taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    taken_at = models.DateTimeField(_("taken in charge at"), null=True, blank=True)

    class Meta:
        verbose_name = _("missing-person match alert")
        verbose_name_plural = _("missing-person match alerts")
        ordering = ("created_at",)
        indexes = [models.Index(fields=["responsible", "status"], name="match_alert_responsible")]
