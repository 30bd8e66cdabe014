"""What the people API reads and returns. Countries are ISO 3166-1 alpha-2 codes."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from ninja import Field, Schema

from mirador.people.models import ContactKind, DocumentKind, Person, Sex
from mirador.people.selectors import Relative, person_relatives


class PersonFilterIn(Schema):
    surname: str | None = Field(None, max_length=80, description="Part of either surname.")
    given_name: str | None = Field(None, max_length=120, description="Part of the given names.")
    birth_year: int | None = Field(None, ge=1, le=9999)
    sex: Sex | None = None
    nationality: str | None = Field(None, min_length=2, max_length=2)
    is_child: bool | None = None
    is_trafficking_victim: bool | None = None


class DocumentIn(Schema):
    kind: DocumentKind
    number: str = Field(min_length=1, max_length=60)
    issuing_country: str = Field(min_length=2, max_length=2)
    issued_on: datetime.date | None = None
    expires_on: datetime.date | None = None


class ContactIn(Schema):
    kind: ContactKind
    value: str = Field(min_length=1, max_length=300)
    subdivision: str | None = Field(None, max_length=6)


class PersonRegisterIn(Schema):
    given_names: str = Field(min_length=1, max_length=120)
    first_surname: str = Field(min_length=1, max_length=80)
    second_surname: str = Field("", max_length=80)
    birth_year: int | None = None
    birth_month: int | None = None
    birth_day: int | None = None
    sex: Sex = Sex.UNKNOWN
    nationality: str | None = Field(None, min_length=2, max_length=2)
    is_child: bool = False
    is_trafficking_victim: bool = False
    documents: list[DocumentIn] = []
    contacts: list[ContactIn] = []
    reason: str = Field("", max_length=200, description="Why, for the audit log.")


class PersonUpdateIn(Schema):
    """Only the fields sent are changed."""

    given_names: str | None = Field(None, min_length=1, max_length=120)
    first_surname: str | None = Field(None, min_length=1, max_length=80)
    second_surname: str | None = Field(None, max_length=80)
    birth_year: int | None = None
    birth_month: int | None = None
    birth_day: int | None = None
    sex: Sex | None = None
    nationality: str | None = Field(None, min_length=2, max_length=2)
    is_child: bool | None = None
    is_trafficking_victim: bool | None = None
    reason: str = Field("", max_length=200, description="Why, for the audit log.")


class PersonOut(Schema):
    id: uuid.UUID
    country: str
    given_names: str
    first_surname: str
    second_surname: str
    birth_date: str = Field(description="ISO 8601, as precise as known: 1998, 1998-03, 1998-03-14.")
    birth_year: int | None
    birth_month: int | None
    birth_day: int | None
    sex: str
    nationality: str | None
    is_child: bool
    is_trafficking_victim: bool

    @staticmethod
    def resolve_country(obj: Person) -> str:
        return obj.country_id

    @staticmethod
    def resolve_nationality(obj: Person) -> str | None:
        return obj.nationality_id

    @staticmethod
    def resolve_birth_date(obj: Person) -> str:
        return obj.birth_date_display


class DocumentOut(Schema):
    id: uuid.UUID
    kind: str
    number: str
    issuing_country: str = Field(alias="issuing_country_id")
    issued_on: datetime.date | None
    expires_on: datetime.date | None


class ContactOut(Schema):
    id: uuid.UUID
    kind: str
    value: str
    subdivision: str | None = Field(alias="subdivision_id")


class RelativeOut(Schema):
    person_id: uuid.UUID
    relationship: str = Field(description="What the relative is to this person.")
    name: str | None = Field(description="Empty when the relative's record is outside your scope.")

    @staticmethod
    def resolve_name(obj: Relative) -> str | None:
        return obj.name or None


class ConsentOut(Schema):
    purpose: str
    granted: bool
    recorded_at: datetime.datetime = Field(alias="created_at")


class PersonDetailOut(PersonOut):
    registered_at: datetime.datetime = Field(alias="created_at")
    documents: list[DocumentOut]
    contacts: list[ContactOut]
    relatives: list[RelativeOut]
    consents: list[ConsentOut]

    @staticmethod
    def resolve_documents(obj: Person) -> Any:
        return obj.documents.all()

    @staticmethod
    def resolve_contacts(obj: Person) -> Any:
        return obj.contacts.all()

    @staticmethod
    def resolve_consents(obj: Person) -> Any:
        return obj.consents.all()

    @staticmethod
    def resolve_relatives(obj: Person, context: dict[str, Any]) -> list[Relative]:
        # Relatives are named only where the caller may read them too.
        request = context["request"]
        return person_relatives(user=getattr(request, "auth", None), person=obj)


class PersonRegisteredOut(Schema):
    id: uuid.UUID
    restricted: bool = Field(
        description="True when the record is flagged child or trafficking victim and your role "
        "may not read it: it was registered, and protection officers take it from here."
    )
    person: PersonDetailOut | None
