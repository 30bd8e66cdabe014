"""What the imports API returns."""

from __future__ import annotations

import datetime

from ninja import Field, Schema


class ImportIssueOut(Schema):
    file: str
    sheet: str
    row: int | None
    column: str
    value: str
    reason: str


class RevisionBatchOut(Schema):
    id: str
    file_name: str
    observations: int


class RevisionOut(Schema):
    observations: int
    periods: str
    batches: list[RevisionBatchOut]


class ImportJobOut(Schema):
    id: str
    status: str = Field(
        description=(
            "queued, validating, valid, invalid, already_imported, store_queued, storing, "
            "stored or failed."
        )
    )
    finished: bool
    progress: int = Field(description="Per cent of the current step done.")
    format: str
    file_name: str
    size: int
    dry_run: bool
    message: str
    rows_read: int
    rows_dropped: int
    observations: int
    total: int = Field(
        description="Sum of the counts of the observations read (for a dataset with a measure "
        "dimension, such as missing-migrants, this adds up different measures: use the totals "
        "by measure of the page instead)."
    )
    issue_count: int
    first_issues: list[ImportIssueOut]
    batch_id: str
    report_url: str
    step: str = Field(description="What the progress is of: validation or storing.")
    replace: bool = Field(description="Stored as a corrected revision of its source.")
    keep_valid: bool = Field(description="The valid rows are stored, the others set aside.")
    revision: RevisionOut | None = Field(
        description=(
            "The current figures of the same source that storing the file replaces (only "
            "with replace=true): how many, which periods, from which batches."
        )
    )
    rows_with_problems: int
    file_problems: int = Field(
        description="Problems of the file itself: then no row can be stored."
    )
    valid_rows_storable: bool = Field(
        description="store with keep_valid=true would store the valid rows."
    )
    set_aside_count: int
    replaced_count: int


class RollbackOut(Schema):
    batch_id: str
    status: str
    file_name: str
    observations_removed: int
    rolled_back_at: datetime.datetime | None
