"""What the directory API reads and returns. Countries are ISO 3166-1 alpha-2 codes,
departments ISO 3166-2 codes, languages lower-case codes (ISO 639 where one exists)."""

from __future__ import annotations

import datetime
import uuid

from ninja import Field, Schema

from mirador.directory.models import ProviderSector, ReferralStatus, ServiceCategory


class ProviderFilterIn(Schema):
    country: str | None = Field(None, min_length=2, max_length=2)
    sector: ProviderSector | None = None
    q: str | None = Field(None, max_length=100, description="Words of the name or acronym.")


class ServiceFilterIn(Schema):
    category: ServiceCategory | None = None
    country: str | None = Field(None, min_length=2, max_length=2)
    subdivision: str | None = Field(
        None, max_length=6, description="A department: services listing it or none."
    )
    language: str | None = Field(None, max_length=12)
    provider: uuid.UUID | None = None
    q: str | None = Field(None, max_length=100, description="Words of a service's name.")


class ProviderOut(Schema):
    id: uuid.UUID
    name: str
    acronym: str
    sector: ProviderSector
    country: str = Field(alias="country_id")
    organisation_id: uuid.UUID | None
    phone: str
    email: str
    website: str
    address: str
    description_es: str
    description_en: str
    is_active: bool
    is_illustrative: bool


class ProviderCreateIn(Schema):
    name: str = Field(min_length=1, max_length=200)
    acronym: str = Field("", max_length=30)
    sector: ProviderSector
    country: str = Field(min_length=2, max_length=2)
    organisation_id: uuid.UUID | None = None
    phone: str = Field("", max_length=60)
    email: str = Field("", max_length=254)
    website: str = Field("", max_length=200)
    address: str = Field("", max_length=300)
    description_es: str = ""
    description_en: str = ""
    is_active: bool = True
    is_illustrative: bool = False


class ProviderUpdateIn(Schema):
    name: str | None = Field(None, min_length=1, max_length=200)
    acronym: str | None = Field(None, max_length=30)
    sector: ProviderSector | None = None
    organisation_id: uuid.UUID | None = None
    phone: str | None = Field(None, max_length=60)
    email: str | None = Field(None, max_length=254)
    website: str | None = Field(None, max_length=200)
    address: str | None = Field(None, max_length=300)
    description_es: str | None = None
    description_en: str | None = None
    is_active: bool | None = None
    is_illustrative: bool | None = None


class ServiceProviderOut(Schema):
    id: uuid.UUID
    name: str
    acronym: str
    sector: ProviderSector
    country: str = Field(alias="country_id")
    phone: str
    email: str
    website: str
    is_illustrative: bool


class ServiceOut(Schema):
    id: uuid.UUID
    provider: ServiceProviderOut
    category: ServiceCategory
    name_es: str
    name_en: str
    description_es: str
    description_en: str
    subdivisions: list[str] = Field(
        description="Departments covered (ISO 3166-2); empty: the whole country."
    )
    eligibility_es: str
    eligibility_en: str
    languages: list[str] = Field(alias="language_codes")
    contact: str
    opening_hours: str
    is_active: bool

    @staticmethod
    def resolve_subdivisions(obj: object) -> list[str]:
        return [subdivision.code for subdivision in obj.subdivisions.all()]  # type: ignore[attr-defined]


class ServiceCreateIn(Schema):
    provider_id: uuid.UUID
    category: ServiceCategory
    name_es: str = Field(min_length=1, max_length=200)
    name_en: str = Field(min_length=1, max_length=200)
    description_es: str = ""
    description_en: str = ""
    subdivisions: list[str] = Field(default_factory=list, description="ISO 3166-2 codes.")
    eligibility_es: str = ""
    eligibility_en: str = ""
    languages: list[str] = Field(default_factory=lambda: ["es"])
    contact: str = Field("", max_length=300)
    opening_hours: str = Field("", max_length=200)
    is_active: bool = True


class ServiceUpdateIn(Schema):
    category: ServiceCategory | None = None
    name_es: str | None = Field(None, min_length=1, max_length=200)
    name_en: str | None = Field(None, min_length=1, max_length=200)
    description_es: str | None = None
    description_en: str | None = None
    subdivisions: list[str] | None = None
    eligibility_es: str | None = None
    eligibility_en: str | None = None
    languages: list[str] | None = None
    contact: str | None = Field(None, max_length=300)
    opening_hours: str | None = Field(None, max_length=200)
    is_active: bool | None = None


class ReferralCreateIn(Schema):
    person_id: uuid.UUID
    service_id: uuid.UUID
    arrival_id: uuid.UUID | None = None
    due_date: datetime.date
    note: str = Field("", max_length=2000)
    consent_to_share: bool = Field(
        description="The person consents to their record being shared with the provider."
    )


class ReferralFilterIn(Schema):
    box: str = Field("sent", pattern="^(sent|received)$")
    overdue: bool = False
    status: ReferralStatus | None = None


class ReferralDeclineIn(Schema):
    reason: str = Field(min_length=1, max_length=500)


class ReferralCompleteIn(Schema):
    note: str = Field("", max_length=500)


class ReferralPersonOut(Schema):
    id: uuid.UUID
    full_name: str


class ReferralOut(Schema):
    id: uuid.UUID
    person: ReferralPersonOut
    arrival_id: uuid.UUID | None
    service_id: uuid.UUID
    service_name: str
    provider_id: uuid.UUID
    provider_name: str
    sender_organisation_id: uuid.UUID
    sender_organisation: str
    due_date: datetime.date
    is_overdue: bool
    note: str
    status: ReferralStatus
    created_at: datetime.datetime
    answered_at: datetime.datetime | None
    decline_reason: str
    completion_note: str

    @staticmethod
    def resolve_service_name(obj: object) -> str:
        return obj.service.name  # type: ignore[attr-defined]

    @staticmethod
    def resolve_provider_id(obj: object) -> uuid.UUID:
        return obj.service.provider_id  # type: ignore[attr-defined]

    @staticmethod
    def resolve_provider_name(obj: object) -> str:
        return str(obj.service.provider)  # type: ignore[attr-defined]

    @staticmethod
    def resolve_sender_organisation(obj: object) -> str:
        return str(obj.sender_organisation)  # type: ignore[attr-defined]

    @staticmethod
    def resolve_is_overdue(obj: object) -> bool:
        return bool(getattr(obj, "is_overdue", False))


class ReferralCountsOut(Schema):
    sent_open: int
    sent_overdue: int
    received_open: int
    received_overdue: int
