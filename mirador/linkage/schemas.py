"""What the linkage API reads and returns: runs (status, progress, counts), saved models, the
review queue's pairs and decisions, missing-person reports, unidentified persons and match
alerts."""

from __future__ import annotations

import datetime
import uuid
from typing import Any, Literal

from ninja import Field, Schema

from mirador.linkage.models import MissingReportStatus, UnidentifiedCondition
from mirador.people.models import Relationship, Sex
from mirador.people.schemas import DocumentIn


class RunInputOut(Schema):
    name: str
    size: int | None = None
    sha256: str = ""


class RunOut(Schema):
    id: uuid.UUID
    kind: str
    country: str | None = Field(None, description="The registry, for a registry run.")
    status: str
    stage: str
    progress: float
    inputs: list[RunInputOut]
    model_name: str
    model_version: int | None
    threshold: float
    rows_read: int
    rows_skipped: int
    skipped_reasons: dict[str, int]
    pairs: int | None
    clusters: int | None
    message: str
    summary: dict[str, Any] = Field(
        default_factory=dict,
        description="Private linkage: the key's fingerprint (never the key) and the run's figures.",
    )
    created_at: datetime.datetime
    started_at: datetime.datetime | None
    finished_at: datetime.datetime | None
    results: dict[str, str]


class LinkageModelOut(Schema):
    name: str
    version: int
    created_at: datetime.datetime
    training_data: str
    metrics: dict[str, Any]


# --- Review queue -----------------------------------------------------------------------------


class RegistryRunIn(Schema):
    country: str = Field(min_length=2, max_length=2, description="ISO 3166-1 alpha-2.")
    model: str = Field("", description="A saved model, NAME or NAME:VERSION; else trained.")
    threshold: float = Field(0.9, gt=0, le=1)


class ReasonOut(Schema):
    comparison: str
    comparison_label: str
    level: str
    level_label: str
    weight: float | None = Field(description="Match weight (log2 of m/u); None: identical.")


class RecordOut(Schema):
    key: str = Field(
        description="p:<uuid> for a registry person, u:<uuid> for an unidentified one."
    )
    kind: str
    kind_label: str
    name: str
    birth_date: str
    sex: str
    documents: list[str]
    registry: str
    details: list[tuple[str, str]]
    url: str


class PairOut(Schema):
    id: uuid.UUID
    status: str
    source: str
    match_probability: float
    match_weight: float | None
    model_name: str
    model_version: int | None
    report_id: uuid.UUID | None
    left: RecordOut
    right: RecordOut
    reasons: list[ReasonOut]
    decided_at: datetime.datetime | None
    note: str
    created_at: datetime.datetime


class DecisionIn(Schema):
    decision: Literal["accept", "reject"]
    note: str = Field("", max_length=300)


class ReopenIn(Schema):
    note: str = Field("", max_length=300)


# --- Missing persons --------------------------------------------------------------------------


class MissingReportIn(Schema):
    given_names: str = Field(min_length=1, max_length=120)
    first_surname: str = Field(min_length=1, max_length=80)
    second_surname: str = Field("", max_length=80)
    birth_year: int | None = None
    birth_month: int | None = None
    birth_day: int | None = None
    sex: Sex = Sex.UNKNOWN
    nationality: str | None = Field(None, min_length=2, max_length=2)
    documents: list[DocumentIn] = []
    reporter_name: str = Field(min_length=1, max_length=200)
    reporter_relationship: Relationship
    reporter_contact: str = Field("", max_length=200)
    reported_on: datetime.date | None = None
    consulate_id: uuid.UUID | None = None
    last_seen_on: datetime.date | None = None
    last_seen_place: str = Field("", max_length=200)
    last_seen_country: str | None = Field(None, min_length=2, max_length=2)
    route: str = Field("", max_length=2000)
    circumstances: str = Field("", max_length=4000)


class MissingReportOut(Schema):
    id: uuid.UUID
    person_id: uuid.UUID
    status: str
    name: str
    birth_date: str
    sex: str
    reported_on: datetime.date
    reporter_name: str
    reporter_relationship: str
    reporter_contact: str
    consulate: str
    last_seen_on: datetime.date | None
    last_seen_place: str
    last_seen_country: str | None
    route: str
    circumstances: str
    responsible: str


class StatusIn(Schema):
    status: MissingReportStatus


class UnidentifiedIn(Schema):
    reference: str = Field(min_length=1, max_length=80)
    condition: UnidentifiedCondition
    found_on: datetime.date
    found_place: str = Field(min_length=1, max_length=200)
    held_at: str = Field("", max_length=200)
    given_names: str = Field("", max_length=120)
    first_surname: str = Field("", max_length=80)
    second_surname: str = Field("", max_length=80)
    birth_year: int | None = None
    birth_month: int | None = None
    birth_day: int | None = None
    age_min: int | None = Field(None, ge=0, le=120)
    age_max: int | None = Field(None, ge=0, le=120)
    sex: Sex = Sex.UNKNOWN
    document_number: str = Field("", max_length=60)
    description: str = Field("", max_length=4000)
    is_child: bool = False


class UnidentifiedOut(Schema):
    id: uuid.UUID
    country: str = Field(alias="country_id")
    reference: str
    condition: str
    status: str
    found_on: datetime.date
    found_place: str
    held_at: str
    given_names: str
    first_surname: str
    second_surname: str
    birth_year: int | None
    birth_month: int | None
    birth_day: int | None
    age_min: int | None
    age_max: int | None
    sex: str
    document_number: str
    description: str
    is_child: bool


class MatchAlertOut(Schema):
    id: uuid.UUID
    report_id: uuid.UUID
    pair_id: uuid.UUID
    status: str
    match_probability: float
    created_at: datetime.datetime
    taken_at: datetime.datetime | None

    @staticmethod
    def resolve_match_probability(obj: Any) -> float:
        return float(obj.pair.match_probability)
