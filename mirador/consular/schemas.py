"""What the consular API reads and returns: cases, their person (as the case shows it) and
their actions log."""

from __future__ import annotations

import datetime
import uuid

from ninja import Field, Schema

from mirador.consular.models import (
    ActionKind,
    CaseAction,
    CaseOutcome,
    CaseStatus,
    CaseType,
    ConsularCase,
)
from mirador.people.models import Sex
from mirador.people.schemas import ContactIn, DocumentIn


class CasePersonIn(Schema):
    given_names: str = Field(min_length=1, max_length=120)
    first_surname: str = Field(min_length=1, max_length=80)
    second_surname: str = Field("", max_length=80)
    birth_year: int | None = None
    birth_month: int | None = None
    birth_day: int | None = None
    sex: Sex = Sex.UNKNOWN
    nationality: str | None = Field(
        None, min_length=2, max_length=2, description="The consulate's country when not given."
    )
    documents: list[DocumentIn] = []
    contacts: list[ContactIn] = []


class CaseIn(Schema):
    consulate_id: uuid.UUID
    case_type: CaseType
    person: CasePersonIn | None = Field(None, description="A person registered now…")
    person_id: uuid.UUID | None = Field(None, description="…or one of the registry.")
    opened_on: datetime.date | None = None
    place_country: str | None = Field(
        None, min_length=2, max_length=2, description="The consulate's host country if not given."
    )
    locality: str = Field("", max_length=200)
    description: str = Field("", max_length=4000)
    responsible: str | None = Field(None, description="Username; you when not given.")
    consent_tracing: bool | None = Field(
        None, description="The person's answer to tracing and matching; null when not asked."
    )


class CaseUpdateIn(Schema):
    locality: str | None = Field(None, max_length=200)
    description: str | None = Field(None, max_length=4000)
    place_country: str | None = Field(None, min_length=2, max_length=2)
    responsible: str | None = None


class CaseStatusIn(Schema):
    status: CaseStatus
    outcome: CaseOutcome | None = None
    note: str = Field("", max_length=500)
    on: datetime.date | None = None


class CaseActionIn(Schema):
    kind: ActionKind
    taken_on: datetime.date | None = None
    note: str = Field("", max_length=4000)


class CaseActionOut(Schema):
    id: uuid.UUID
    kind: str
    taken_on: datetime.date
    note: str
    status: str
    by: str

    @staticmethod
    def resolve_by(action: CaseAction) -> str:
        return action.created_by.get_username() if action.created_by else ""


class CaseOut(Schema):
    """A case as its reader may see it: the person's name, date of birth and sex are left
    empty where `hide_person` is set (a restricted case shown to the officer who opened it,
    who may not read the person)."""

    id: uuid.UUID
    consulate_id: uuid.UUID
    consulate: str
    case_type: str
    status: str
    outcome: str
    outcome_note: str
    opened_on: datetime.date
    closed_on: datetime.date | None
    place_country: str = Field(alias="place_country_id")
    locality: str
    description: str
    responsible: str
    person_id: uuid.UUID
    name: str
    birth_date: str
    sex: str
    restricted: bool = Field(description="A child's or trafficking victim's case.")
    actions: list[CaseActionOut] = Field(description="In the detail only; newest first.")
    created_at: datetime.datetime

    @staticmethod
    def resolve_consulate(case: ConsularCase) -> str:
        return str(case.consulate)

    @staticmethod
    def resolve_responsible(case: ConsularCase) -> str:
        return case.responsible.get_username() if case.responsible else ""

    @staticmethod
    def resolve_name(case: ConsularCase) -> str:
        return "" if getattr(case, "hide_person", False) else case.person.full_name

    @staticmethod
    def resolve_birth_date(case: ConsularCase) -> str:
        return "" if getattr(case, "hide_person", False) else case.person.birth_date_display

    @staticmethod
    def resolve_sex(case: ConsularCase) -> str:
        return "" if getattr(case, "hide_person", False) else case.person.sex

    @staticmethod
    def resolve_restricted(case: ConsularCase) -> bool:
        return case.person.is_sensitive

    @staticmethod
    def resolve_actions(case: ConsularCase) -> list[CaseAction]:
        return getattr(case, "actions_log", [])
