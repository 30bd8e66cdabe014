"""Imports endpoints: upload a file to be checked (and stored), follow the job, read its report.

Every job runs in the background: POST answers 202 with the job's id at once; GET follows it.
Who may import, and which countries' figures, is decided by accounts.permissions.
"""

from __future__ import annotations

import uuid

from django.http import FileResponse, HttpRequest
from django.urls import reverse
from ninja import File, Form, Router, Status
from ninja.files import UploadedFile

from mirador.accounts.auth import request_user
from mirador.flows.schemas import ImportJobOut
from mirador.flows.uploads import UploadJob, upload_create, upload_get, upload_store
from mirador.flows.views import report_response

router = Router(tags=["imports"])


def job_out(job: UploadJob) -> dict[str, object]:
    return {
        "id": job.id,
        "status": job.state,
        "finished": not job.running,
        "progress": job.progress,
        "format": job.format_code,
        "file_name": job.file_name,
        "size": job.size,
        "dry_run": not job.store_when_valid,
        "message": job.message,
        "rows_read": job.rows_read,
        "rows_dropped": job.rows_dropped,
        "observations": job.observations,
        "total": job.total,
        "issue_count": job.issue_count,
        "first_issues": job.issues[:20],
        "batch_id": job.batch_id,
        "report_url": reverse("api:import_report", kwargs={"job_id": job.id}),
    }


@router.post("", response={202: ImportJobOut}, summary="Upload a file to import")
def import_create(
    request: HttpRequest,
    file: File[UploadedFile],
    format: Form[str],  # noqa: A002 (the API's field name)
    mapping: File[UploadedFile] | None = None,
    dry_run: Form[bool] = False,
) -> Status[dict[str, object]]:
    """Multipart: `file`, `format` (a format code, or `custom` with a TOML `mapping` file),
    `dry_run`. The file is checked in the background; unless `dry_run` is true, it is then
    stored if, and only if, the whole file is valid."""
    user = request_user(request)
    job = upload_create(
        actor=user,
        format_code=format,
        file=file,
        mapping_file=mapping,
        store_when_valid=not dry_run,
    )
    return Status(202, job_out(job))


@router.get("/{job_id}", response=ImportJobOut, summary="Follow an import")
def import_get(request: HttpRequest, job_id: uuid.UUID) -> dict[str, object]:
    return job_out(upload_get(actor=request_user(request), job_id=str(job_id)))


@router.post("/{job_id}/store", response={202: ImportJobOut}, summary="Store a checked file")
def import_store(request: HttpRequest, job_id: uuid.UUID) -> Status[dict[str, object]]:
    """Store a file whose dry run found nothing wrong (409 otherwise)."""
    job = upload_store(actor=request_user(request), job_id=str(job_id))
    return Status(202, job_out(job))


@router.get(
    "/{job_id}/report.csv",
    url_name="import_report",
    summary="The full validation report (CSV)",
)
def import_report(request: HttpRequest, job_id: uuid.UUID) -> FileResponse:
    """Columns: file, sheet, row, column, value, reason."""
    return report_response(upload_get(actor=request_user(request), job_id=str(job_id)))
