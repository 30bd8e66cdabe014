"""What the imports API returns."""

from __future__ import annotations

from ninja import Field, Schema


class ImportIssueOut(Schema):
    file: str
    sheet: str
    row: int | None
    column: str
    value: str
    reason: str


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
    total: int = Field(description="Sum of the counts of the observations read.")
    issue_count: int
    first_issues: list[ImportIssueOut]
    batch_id: str
    report_url: str
