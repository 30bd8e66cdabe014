"""What the linkage API returns: runs (status, progress, counts) and saved models."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from ninja import Schema


class RunInputOut(Schema):
    name: str
    size: int | None = None
    sha256: str = ""


class RunOut(Schema):
    id: uuid.UUID
    kind: str
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
