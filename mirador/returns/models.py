"""Return and reception: manifests of expected arrivals, the arrival (return event) of a
person at a reception centre, assistance given there, protection alerts, and the keys by
which a returnee who came back before is recognised.

Identity data of registered persons lives in `people.Person`; an arrival only points to it.
Manifest passengers hold the names a sending authority announced, before anyone is
registered: they are read only through `returns.selectors`, which asks
`accounts.permissions` and audits.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from mirador.core.models import BaseModel
from mirador.people.models import Sex


class Means(models.TextChoices):
    AIR = "air", _("Air")
    LAND = "land", _("Land")
    SEA = "sea", _("Sea")


class ManifestKind(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    EXTRAORDINARY = "extraordinary", _("Extraordinary")


class ManifestStatus(models.TextChoices):
    EXPECTED = "expected", _("Expected")
    ARRIVED = "arrived", _("Arrived")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")


class Manifest(BaseModel):
    """A sending authority's list of persons expected on one flight or bus."""

    sending_country = models.ForeignKey("core.Country", on_delete=models.PROTECT, related_name="+")
    centre = models.ForeignKey(
        "core.ReceptionCentre", on_delete=models.PROTECT, related_name="manifests"
    )
    means = models.CharField(_("means"), max_length=4, choices=Means.choices)
    reference = models.CharField(_("flight or bus reference"), max_length=40)
    kind = models.CharField(
        _("kind"), max_length=15, choices=ManifestKind.choices, default=ManifestKind.SCHEDULED
    )
    expected_at = models.DateTimeField(_("expected arrival"))
    status = models.CharField(
        _("status"), max_length=10, choices=ManifestStatus.choices, default=ManifestStatus.EXPECTED
    )
    source_file_name = models.CharField(_("imported from"), max_length=200, blank=True)
    # Rows the officer chose to set aside when importing the valid ones: row number, the
    # values read and what was wrong, so that they can be downloaded and corrected.
    set_aside_rows = models.JSONField(_("rows set aside"), default=list, blank=True)

    class Meta:
        ordering = ["expected_at"]
        verbose_name = _("manifest")
        verbose_name_plural = _("manifests")
        indexes = [models.Index(fields=["centre", "expected_at"], name="manifest_centre_time")]
        constraints = [
            models.UniqueConstraint(
                fields=["centre", "reference", "expected_at"], name="manifest_unique_trip"
            )
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.expected_at:%Y-%m-%d %H:%M}"


class ManifestPassenger(BaseModel):
    manifest = models.ForeignKey(Manifest, on_delete=models.CASCADE, related_name="passengers")
    row_number = models.PositiveIntegerField(_("row"))
    given_names = models.CharField(_("given names"), max_length=120)
    first_surname = models.CharField(_("first surname"), max_length=80)
    second_surname = models.CharField(_("second surname"), max_length=80, blank=True)
    birth_year = models.PositiveSmallIntegerField(_("year of birth"), null=True, blank=True)
    birth_month = models.PositiveSmallIntegerField(_("month of birth"), null=True, blank=True)
    birth_day = models.PositiveSmallIntegerField(_("day of birth"), null=True, blank=True)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices, default=Sex.UNKNOWN)
    nationality = models.ForeignKey(
        "core.Country", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    document_number = models.CharField(_("document number"), max_length=60, blank=True)

    class Meta:
        ordering = ["manifest_id", "row_number"]
        verbose_name = _("manifest passenger")
        verbose_name_plural = _("manifest passengers")
        constraints = [
            models.UniqueConstraint(
                fields=["manifest", "row_number"], name="manifest_passenger_unique_row"
            )
        ]

    def __str__(self) -> str:
        return f"{self.manifest_id} #{self.row_number}"


class MigrationReason(models.TextChoices):
    """Reasons for migrating, as coded at the arrival interview."""

    ECONOMIC = "economic", _("Economic")
    FAMILY_REUNIFICATION = "family-reunification", _("Family reunification")
    VIOLENCE = "violence-insecurity", _("Violence or insecurity")
    OTHER = "other", _("Other")


class TimeAbroad(models.TextChoices):
    UNDER_ONE_MONTH = "under-1-month", _("Less than a month")
    ONE_TO_SIX_MONTHS = "1-6-months", _("One to six months")
    SIX_TO_TWELVE_MONTHS = "6-12-months", _("Six to twelve months")
    ONE_TO_FIVE_YEARS = "1-5-years", _("One to five years")
    OVER_FIVE_YEARS = "over-5-years", _("More than five years")
    UNKNOWN = "unknown", _("Unknown")


class Arrival(BaseModel):
    """One return of one person at a reception centre. A person who came back before gets a
    new Arrival on the same Person, which links the history."""

    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="arrivals")
    centre = models.ForeignKey(
        "core.ReceptionCentre", on_delete=models.PROTECT, related_name="arrivals"
    )
    arrived_at = models.DateTimeField(_("arrived at"))
    registered_at = models.DateTimeField(_("registered at"))
    returned_from = models.ForeignKey(
        "core.Country", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    means = models.CharField(_("means"), max_length=4, choices=Means.choices)
    # The department (province, state) the person is going home to: where reintegration
    # happens, and the "department of origin" of national returns statistics.
    home_subdivision = models.ForeignKey(
        "core.Subdivision",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("department of origin"),
    )
    time_abroad = models.CharField(
        _("time abroad"), max_length=15, choices=TimeAbroad.choices, default=TimeAbroad.UNKNOWN
    )
    # Several codes of MigrationReason; a list, since an interview often gives more than one.
    migration_reasons = models.JSONField(_("reasons for migrating"), default=list, blank=True)
    manifest_passenger = models.OneToOneField(
        ManifestPassenger,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="arrival",
    )
    # Arrivals of persons who travelled together share a group; `group_relationship` says
    # what this person is to the companion named at registration (people.Relationship).
    travel_group = models.UUIDField(_("travelling group"), null=True, blank=True, db_index=True)
    group_relationship = models.CharField(_("relationship in group"), max_length=10, blank=True)
    is_minor = models.BooleanField(_("minor"), default=False)
    is_unaccompanied = models.BooleanField(_("unaccompanied minor"), default=False)
    # The answers given at the interview, kept with the return event; people.Consent holds
    # the consent in force for the person.
    consent_follow_up = models.BooleanField(_("consents to follow-up contact"), default=False)
    consent_tracing = models.BooleanField(_("consents to tracing and matching"), default=False)
    is_contingency = models.BooleanField(_("registered in contingency mode"), default=False)
    needs_completion = models.BooleanField(_("to be completed"), default=False)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    idempotency_key = models.CharField(_("idempotency key"), max_length=64, unique=True)

    class Meta:
        ordering = ["-arrived_at"]
        verbose_name = _("arrival")
        verbose_name_plural = _("arrivals")
        indexes = [
            models.Index(fields=["centre", "arrived_at"], name="arrival_centre_time"),
            models.Index(fields=["person", "arrived_at"], name="arrival_person_time"),
        ]

    def __str__(self) -> str:
        return f"{self.centre_id} {self.arrived_at:%Y-%m-%d %H:%M}"


class AssistanceKind(models.TextChoices):
    FOOD = "food", _("Food")
    HYGIENE_KIT = "hygiene-kit", _("Hygiene kit")
    MEDICAL_CARE = "medical-care", _("Medical care")
    PSYCHOSOCIAL = "psychosocial-first-aid", _("Psychosocial first aid")
    LODGING = "lodging", _("Lodging")
    TRANSPORT_HOME = "transport-home", _("Transport home")
    TRAVEL_CASH = "travel-cash", _("Cash for the trip home")


class AssistanceGiven(BaseModel):
    arrival = models.ForeignKey(Arrival, on_delete=models.CASCADE, related_name="assistance")
    kind = models.CharField(_("kind"), max_length=25, choices=AssistanceKind.choices)
    quantity = models.PositiveIntegerField(_("quantity"), default=1)
    given_at = models.DateTimeField(_("given at"))
    given_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["given_at"]
        verbose_name = _("assistance given")
        verbose_name_plural = _("assistance given")
        indexes = [models.Index(fields=["arrival", "given_at"], name="assistance_arrival_time")]


class AlertStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ACKNOWLEDGED = "acknowledged", _("Taken in charge")
    CLOSED = "closed", _("Closed")


class AlertReason(models.TextChoices):
    UNACCOMPANIED_MINOR = "unaccompanied-minor", _("Unaccompanied minor")
    # Raised by screening (mirador.screening) when an answer needs the protection authority.
    TRAFFICKING_INDICATORS = "trafficking-indicators", _("Trafficking indicators")
    PROTECTION_RISK = "protection-risk", _("Protection risk")


class ProtectionAlert(BaseModel):
    """A case that the protection authority of the country must take in charge at once.
    Seen only by protection roles of that country (accounts.permissions)."""

    arrival = models.ForeignKey(Arrival, on_delete=models.CASCADE, related_name="alerts")
    country = models.ForeignKey("core.Country", on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(_("reason"), max_length=25, choices=AlertReason.choices)
    status = models.CharField(
        _("status"), max_length=15, choices=AlertStatus.choices, default=AlertStatus.OPEN
    )
    # The role that must act (a protection officer); who took it in charge, once someone has.
    responsible_role = models.CharField(_("who must act"), max_length=30)
    taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    taken_at = models.DateTimeField(_("taken in charge at"), null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        verbose_name = _("protection alert")
        verbose_name_plural = _("protection alerts")
        indexes = [models.Index(fields=["country", "status"], name="alert_country_status")]


class MatchKey(models.Model):
    """Blocking keys of a person who consented to tracing and matching: the candidate search
    for a returnee looks these up by index instead of scanning the registry. Written when an
    arrival is registered; the keys hold normalised names and document numbers, so they
    follow the person's deletion."""

    id = models.BigAutoField(primary_key=True)
    person = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)

    class Meta:
        indexes = [models.Index(fields=["key"], name="match_key_key")]
        constraints = [
            models.UniqueConstraint(fields=["person", "key"], name="match_key_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} {self.key.split(':', 1)[0]}"


class CandidateDecision(BaseModel):
    """An officer's decision on a repeat-return candidate, kept for audit: confirmed (the
    arrival was registered on that person) or rejected."""

    CONFIRMED = "confirmed"
    REJECTED = "rejected"
    DECISIONS = [(CONFIRMED, _("Confirmed")), (REJECTED, _("Rejected"))]

    candidate = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="+")
    arrival = models.ForeignKey(
        Arrival, null=True, blank=True, on_delete=models.CASCADE, related_name="decisions"
    )
    manifest_passenger = models.ForeignKey(
        ManifestPassenger, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    decision = models.CharField(_("decision"), max_length=10, choices=DECISIONS)
    reasons = models.JSONField(_("reasons matched"), default=list, blank=True)


class ContingencyPeriod(BaseModel):
    """A time during which a centre registers arrivals in contingency mode (D-R4): more
    people than it can register in full, so only the essential fields are asked and each
    record is marked to be completed later. Switched on and off by the centre's officers;
    the periods stay as the centre's history."""

    centre = models.ForeignKey(
        "core.ReceptionCentre", on_delete=models.PROTECT, related_name="contingency_periods"
    )
    started_at = models.DateTimeField(_("started at"))
    reason = models.CharField(_("reason"), max_length=200)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("contingency period")
        verbose_name_plural = _("contingency periods")
        constraints = [
            # At most one period in force per centre, so switching on twice is one switch.
            models.UniqueConstraint(
                fields=["centre"],
                condition=models.Q(ended_at__isnull=True),
                name="contingency_one_open_per_centre",
            )
        ]

    def __str__(self) -> str:
        return f"{self.centre_id} {self.started_at:%Y-%m-%d %H:%M}"
