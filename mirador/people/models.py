"""Persons and their identity data. Read and written only through this app's services and
selectors, which ask `accounts.permissions` and write the audit log."""

from __future__ import annotations

import datetime

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from mirador.core.models import BaseModel


class Sex(models.TextChoices):
    FEMALE = "F", _("Female")
    MALE = "M", _("Male")
    OTHER = "X", _("Other")
    UNKNOWN = "U", _("Unknown")


class Person(BaseModel):
    # The country whose registry holds this record: its officials see it, nobody else unless
    # it is shared with their organisation (PersonShare).
    country = models.ForeignKey("core.Country", on_delete=models.PROTECT, related_name="+")
    registered_by_organisation = models.ForeignKey(
        "core.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    given_names = models.CharField(_("given names"), max_length=120)
    first_surname = models.CharField(_("first surname"), max_length=80)
    second_surname = models.CharField(_("second surname"), max_length=80, blank=True)
    # A date of birth is often known only in part ("born in 1998", "March 2007").
    birth_year = models.PositiveSmallIntegerField(_("year of birth"), null=True, blank=True)
    birth_month = models.PositiveSmallIntegerField(_("month of birth"), null=True, blank=True)
    birth_day = models.PositiveSmallIntegerField(_("day of birth"), null=True, blank=True)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices, default=Sex.UNKNOWN)
    nationality = models.ForeignKey(
        "core.Country", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    is_child = models.BooleanField(
        _("child"), default=False, help_text=_("Under 18 when registered; restricted access.")
    )
    is_trafficking_victim = models.BooleanField(
        _("trafficking victim"), default=False, help_text=_("Restricted access.")
    )

    class Meta:
        ordering = ["first_surname", "second_surname", "given_names"]
        verbose_name = _("person")
        verbose_name_plural = _("people")
        indexes = [models.Index(fields=["country", "first_surname"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(birth_month__isnull=True)
                | models.Q(birth_month__gte=1, birth_month__lte=12),
                name="person_birth_month_range",
            ),
            models.CheckConstraint(
                condition=models.Q(birth_day__isnull=True)
                | models.Q(birth_day__gte=1, birth_day__lte=31),
                name="person_birth_day_range",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.given_names, self.first_surname, self.second_surname) if p)

    @property
    def sorting_name(self) -> str:
        """Surnames first, as lists sort them: "Zelaya Paz, Carlos" or "Zelaya, Carlos"."""
        surnames = " ".join(p for p in (self.first_surname, self.second_surname) if p)
        return f"{surnames}, {self.given_names}" if self.given_names else surnames

    @property
    def is_sensitive(self) -> bool:
        return self.is_child or self.is_trafficking_victim

    @property
    def birth_date_display(self) -> str:
        """ISO 8601 reduced precision: 1998, 1998-03 or 1998-03-14."""
        if self.birth_year is None:
            return ""
        parts = [f"{self.birth_year:04d}"]
        if self.birth_month:
            parts.append(f"{self.birth_month:02d}")
            if self.birth_day:
                parts.append(f"{self.birth_day:02d}")
        return "-".join(parts)

    def age_on(self, day: datetime.date) -> int | None:
        if self.birth_year is None:
            return None
        age = day.year - self.birth_year
        if self.birth_month and (day.month, day.day) < (self.birth_month, self.birth_day or 1):
            age -= 1
        return age


class PersonShare(BaseModel):
    """The record is shared with an organisation outside its country's officials (a
    civil-society caseworker's organisation, a consulate abroad)."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="shares")
    organisation = models.ForeignKey(
        "core.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=200)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["person", "organisation"], name="person_share_unique")
        ]


class DocumentKind(models.TextChoices):
    BIRTH_CERTIFICATE = "birth-certificate", _("Birth certificate")
    NATIONAL_ID = "national-id", _("National identity card")
    PASSPORT = "passport", _("Passport")
    CONSULAR_ID = "consular-id", _("Consular identity card")
    OTHER = "other", _("Other")


class IdentityDocument(BaseModel):
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(_("kind"), max_length=20, choices=DocumentKind.choices)
    number = models.CharField(_("number"), max_length=60)
    issuing_country = models.ForeignKey("core.Country", on_delete=models.PROTECT, related_name="+")
    issued_on = models.DateField(_("issued on"), null=True, blank=True)
    expires_on = models.DateField(_("expires on"), null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "issuing_country", "number"], name="identity_document_unique"
            )
        ]


class ContactKind(models.TextChoices):
    PHONE = "phone", _("Telephone")
    EMAIL = "email", _("E-mail")
    ADDRESS = "address", _("Address")


class ContactPoint(BaseModel):
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="contacts")
    kind = models.CharField(_("kind"), max_length=10, choices=ContactKind.choices)
    value = models.CharField(_("value"), max_length=300)
    subdivision = models.ForeignKey(
        "core.Subdivision", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )


class Relationship(models.TextChoices):
    PARENT = "parent", _("Parent")
    CHILD = "child", pgettext_lazy("family relationship", "Child")
    SIBLING = "sibling", _("Sibling")
    SPOUSE = "spouse", _("Spouse or partner")
    GUARDIAN = "guardian", _("Legal guardian")
    WARD = "ward", _("Ward (under their legal guardianship)")
    OTHER = "other", _("Other relative")


_INVERSE_RELATIONSHIPS = {
    Relationship.PARENT: Relationship.CHILD,
    Relationship.CHILD: Relationship.PARENT,
    Relationship.GUARDIAN: Relationship.WARD,
    Relationship.WARD: Relationship.GUARDIAN,
}


def relationship_inverse(relationship: str) -> Relationship:
    """If A is `relationship` of B, B is `relationship_inverse(relationship)` of A."""
    value = Relationship(relationship)
    return _INVERSE_RELATIONSHIPS.get(value, value)


class FamilyLink(BaseModel):
    """`person` is the `relationship` of `relative` (e.g. person is the parent of relative).
    One row per pair; each side's record shows it (`family_links`, `family_links_as_relative`)."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="family_links")
    relative = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="family_links_as_relative"
    )
    relationship = models.CharField(_("relationship"), max_length=10, choices=Relationship.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["person", "relative"], name="family_link_unique"),
            models.CheckConstraint(
                condition=~models.Q(person=models.F("relative")), name="family_link_not_self"
            ),
        ]


class ConsentPurpose(models.TextChoices):
    FOLLOW_UP_CONTACT = "follow-up-contact", _("Contact for follow-up")
    TRACING_MATCHING = "tracing-matching", _("Tracing and record matching")


class Consent(BaseModel):
    """The latest row per person and purpose is the one in force."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="consents")
    purpose = models.CharField(_("purpose"), max_length=20, choices=ConsentPurpose.choices)
    granted = models.BooleanField(_("granted"))

    class Meta:
        ordering = ["-created_at"]
