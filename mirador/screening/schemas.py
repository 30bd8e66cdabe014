"""What the screening API reads and returns. Answers are keyed by question code (GET
/questionnaire lists them): a single-choice question takes one choice's code, a checklist a
list of item codes (an empty list: none applies); "not-asked" is valid everywhere."""

from __future__ import annotations

import datetime
import uuid

from ninja import Field, Schema

from mirador.returns.schemas import PersonBriefOut


class FlagSpecOut(Schema):
    kind: str
    urgency: str
    action: str
    action_text: str
    alerts_protection: bool


class ChoiceOut(Schema):
    code: str
    label: str
    flag: FlagSpecOut | None = Field(None, description="The flag this answer raises, if any.")


class QuestionOut(Schema):
    code: str
    label: str
    help_text: str
    multiple: bool = Field(description="A checklist: answer with a list of item codes.")
    choices: list[ChoiceOut]


class LabelOut(Schema):
    code: str
    label: str


class QuestionnaireOut(Schema):
    not_asked: str = Field(description="The answer code for 'not asked / declined to answer'.")
    not_asked_label: str
    questions: list[QuestionOut]
    kinds: list[LabelOut]
    urgencies: list[LabelOut]


class ScreeningIn(Schema):
    answers: dict[str, str | list[str]] = Field(
        description="Answers by question code; questions left out are 'not asked'."
    )


class FlagOut(Schema):
    id: uuid.UUID
    arrival_id: uuid.UUID
    centre_id: uuid.UUID
    question: str
    kind: str
    urgency: str
    action: str
    action_text: str
    is_restricted: bool
    status: str
    no_longer_applies: bool
    raised_at: datetime.datetime = Field(alias="created_at")
    closed_at: datetime.datetime | None
    closed_by: str | None
    note: str

    @staticmethod
    def resolve_centre_id(obj: object) -> uuid.UUID:
        return obj.arrival.centre_id  # type: ignore[attr-defined]

    @staticmethod
    def resolve_closed_by(obj: object) -> str | None:
        user = obj.closed_by  # type: ignore[attr-defined]
        return user.get_username() if user is not None else None


class FlagListedOut(FlagOut):
    person: PersonBriefOut

    @staticmethod
    def resolve_person(obj: object) -> object:
        return obj.arrival.person  # type: ignore[attr-defined]


class ScreeningOut(Schema):
    arrival_id: uuid.UUID
    screened: bool
    answers: dict[str, str | list[str]] | None
    screened_by: str | None
    screened_at: datetime.datetime | None
    flags: list[FlagOut]


class ScreeningRecordedOut(Schema):
    arrival_id: uuid.UUID
    raised: int = Field(description="Flags raised by these answers (not raised before).")
    closed: int = Field(description="Open flags closed because they no longer apply.")
    referred_to_protection: bool = Field(
        description="The answers call for the protection officers, who were alerted."
    )
    restricted: bool = Field(
        description=(
            "The record is now restricted to protection roles: `screening` is null and the "
            "case is with protection."
        )
    )
    message: str
    screening: ScreeningOut | None


class FlagCloseIn(Schema):
    note: str = Field("", max_length=2000, description="Required for restricted flags.")
